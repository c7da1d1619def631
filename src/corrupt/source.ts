/**
 * The clean images `hfss corrupt` reads. Any dataset layout hfss knows (class
 * folders keep their names in the output: `<corruption>/<severity>/<wnid>/`),
 * and, since corrupting needs no labels, a flat folder of images too (files
 * go straight under `<corruption>/<severity>/`). A flat folder is taken only
 * when layout detection is automatic and the root holds image files and no
 * folders or labels.csv (junk such as `.DS_Store` ignored, symbolic links followed once).
 */
import { join } from "node:path";
import {
  type DatasetLayout,
  describeDataset,
  isImageName,
  listDir,
  openDataset,
} from "../data/dataset.ts";
import { UserError } from "../errors.ts";
import type { ExportSample } from "./export.ts";

/** The clean images of a run. */
export interface CorruptSource {
  root: string;
  /** The dataset layout, or `flat` for a folder of unlabelled images. */
  layout: DatasetLayout | "flat";
  samples: ExportSample[];
  notes: string[];
  /** One line for stderr: layout, classes, images. */
  description: string;
}

/** The image files directly in `root` when it is a flat folder, else null. */
function flatImages(root: string): string[] | null {
  let list;
  try {
    list = listDir(root);
  } catch {
    return null; // openDataset reports an unreadable root
  }
  if (list.dirs.length > 0 || list.files.includes("labels.csv")) return null;
  const images = list.files.filter(isImageName);
  return images.length > 0 ? images : null;
}

/** Open the clean images under `root`. */
export async function openCorruptSource(
  root: string,
  o: { layout?: DatasetLayout; classes?: (string | number)[] } = {},
): Promise<CorruptSource> {
  const layout = o.layout ?? "auto";
  const flat = layout === "auto" ? flatImages(root) : null;
  if (flat) {
    if (o.classes !== undefined) {
      throw new UserError(
        `Cannot select classes of "${root}": it is a flat folder of ${flat.length} images without classes`,
      );
    }
    return {
      root,
      layout: "flat",
      samples: flat.map((name) => ({ path: join(root, name), folder: "" })),
      notes: [],
      description:
        `flat (detected: image files and no class folders or labels.csv): ${flat.length} images, written under <corruption>/<severity>/`,
    };
  }
  const ds = await openDataset(root, {
    layout,
    ...(o.classes !== undefined ? { classes: o.classes } : {}),
  });
  if (ds.layout === "imagenet-c") {
    throw new UserError(
      `Cannot corrupt "${root}": it is already an ImageNet-C folder; give the clean images`,
    );
  }
  const folderOf = new Map(
    ds.classes.map((c) => [c.index, c.wnid ?? c.folder ?? String(c.index)]),
  );
  return {
    root: ds.root,
    layout: ds.layout,
    samples: ds.samples.map((s) => ({
      path: s.path,
      folder: folderOf.get(s.label)!,
    })),
    notes: ds.notes,
    description: describeDataset(ds),
  };
}
