/**
 * Out-of-distribution sets as evaluation parts: one part per ImageNet-C
 * corruption/severity (grouped by corruption), one per ImageNet-v2 subset
 * folder when a root holds several (sorted by name), else one part. Layout
 * `imagenet-c-generate`: ImageNet-C generated on the fly from clean images
 * (src/corrupt/generated.ts), parts as for the released layout.
 */
import { join } from "node:path";
import {
  type Dataset,
  type DatasetLayout,
  kDatasetLayouts,
  openDataset,
  type Sample,
} from "./dataset.ts";
import { generatedOodParts } from "../corrupt/generated.ts";

/** OOD layouts: the dataset layouts, and ImageNet-C generated from clean images. */
export type OodLayout = DatasetLayout | "imagenet-c-generate";
export const kOodLayouts: readonly OodLayout[] = [
  ...kDatasetLayouts,
  "imagenet-c-generate",
];

/** One image of a part: its file and class. */
export interface OodSample {
  path: string;
  label: number;
}

/** A named slice of an OOD set; `group` pools parts (an IN-C corruption). */
export interface OodPart {
  name: string;
  group?: string;
  samples: OodSample[];
}

/** Options of {@linkcode resolveOodParts}. */
export interface OodPartsOptions {
  layout: OodLayout;
  /** Class ids to keep. */
  classes: number[];
  /** ImageNet-C subsets to keep (`corruption[/severity]`). */
  subsets?: string[] | undefined;
  /** imagenet-c-generate: frost textures are given (frost is generated). */
  frost?: boolean;
  /** Subsample a part's samples (`key` = part name). */
  limit?: (s: Sample[], key: string) => Sample[];
}

/** The parts of an OOD set, its logit restriction and what was noted. */
export interface OodParts {
  parts: OodPart[];
  /** Labels the predictions are restricted to (ImageNet-R/-A). */
  validLabels?: number[];
  /** The layout used (auto resolved). */
  layout: string;
  notes: string[];
}

/** Samples as `{path, label}` only. */
export function toOodSamples(s: readonly Sample[]): OodSample[] {
  return s.map((x) => ({ path: x.path, label: x.label }));
}

/** Subset folders of an ImageNet-v2 root (each holding numeric class folders). */
export async function imagenetV2Subsets(root: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(root)) {
    if (e.isDirectory && !/^\d+$/.test(e.name)) names.push(e.name);
  }
  const out: string[] = [];
  for (const n of names.sort()) {
    for await (const e of Deno.readDir(join(root, n))) {
      if (e.isDirectory && /^\d+$/.test(e.name)) {
        out.push(n);
        break;
      }
    }
  }
  return out;
}

/**
 * The OOD parts of a dataset: one per ImageNet-C corruption/severity (group =
 * corruption), one per ImageNet-v2 subset folder when the root holds several
 * (sorted by name), else one part. `limit` subsamples each part.
 */
export async function resolveOodParts(
  root: string,
  options: OodPartsOptions,
): Promise<OodParts> {
  const { layout, classes, subsets } = options;
  const limit = options.limit ?? ((s: Sample[]) => s);
  if (layout === "imagenet-c-generate") {
    return await generatedOodParts(root, {
      classes,
      subsets,
      limit,
      frost: options.frost ?? false,
    });
  }
  const opts = { classes, ...(subsets ? { subsets } : {}) };
  if (layout === "imagenet-v2") {
    const subs = await imagenetV2Subsets(root);
    if (subs.length > 0) {
      const parts: OodPart[] = [];
      const notes: string[] = [];
      for (const s of subs) {
        const ds = await openDataset(join(root, s), {
          layout: "imagenet-v2",
          classes,
        });
        notes.push(...ds.notes);
        parts.push({ name: s, samples: toOodSamples(limit(ds.samples, s)) });
      }
      return { parts, layout: "imagenet-v2", notes };
    }
  }
  const ds: Dataset = await openDataset(root, { layout, ...opts });
  if (ds.layout === "imagenet-c") {
    const groups = new Map<string, Sample[]>();
    for (const s of ds.samples) {
      const k = s.subset ?? "";
      const g = groups.get(k);
      if (g) g.push(s);
      else groups.set(k, [s]);
    }
    const order = ds.subsets?.map((x) => x.name) ?? [...groups.keys()];
    const parts = order.filter((n) => groups.has(n)).map((n) => ({
      name: n,
      group: n.includes("/") ? n.slice(0, n.lastIndexOf("/")) : n,
      samples: toOodSamples(limit(groups.get(n)!, n)),
    }));
    return { parts, layout: ds.layout, notes: ds.notes };
  }
  return {
    parts: [{
      name: ds.layout,
      samples: toOodSamples(limit(ds.samples, "ood")),
    }],
    ...(ds.validLabels ? { validLabels: ds.validLabels } : {}),
    layout: ds.layout,
    notes: ds.notes,
  };
}
