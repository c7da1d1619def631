/**
 * Datasets: image folders in the layouts ImageNet-robustness users have, read
 * into a list of `{ path, label }` samples (paths only: nothing is decoded).
 *
 * Labels are ImageNet-1k class indices (sorted-wnid order) for every
 * ImageNet-style layout, so one model output index means one class everywhere:
 *
 * | layout | folders | label |
 * |---|---|---|
 * | `imagenet` (train/val), `imagenet-sketch` | `<root>/<wnid>/*` | index of the wnid |
 * | `imagenet-v2` | `<root>/<0..999>/*` | `int(folder)` (numeric order, never string order) |
 * | `imagenet-c` | `<root>/<corruption>/<severity>/<wnid>/*` (or `<root>/<severity>/<wnid>/*`) | index of the wnid; `subset` = `corruption/severity` |
 * | `imagenet-r`, `imagenet-a` | `<root>/<wnid>/*`, 200 wnids | index of the wnid; `validLabels` = the 200 indices |
 * | `labels-csv` | `<root>/labels.csv` with `file,label` (optional `label_name` or `name`) | the integer label (or a wnid); -1 = no class, skipped |
 * | `folders` | `<root>/<class>/*` any names | position in natural sort order |
 *
 * `labels-csv` class names: the `label_name` (else `name`) column when the
 * file has one (the first non-empty value of each label); without such a
 * column, the ImageNet-1k name (and wnid) of labels 0..999 or given as wnids,
 * `#<label>` above. A label given as a wnid always keeps its wnid.
 *
 * Class folders are walked recursively; files are sorted with a natural key;
 * hidden entries are skipped. Finding no images is an error that lists the
 * supported extensions; empty class folders are reported in `notes`.
 */
import { join } from "node:path";
import { UserError } from "../errors.ts";
import type { Rng } from "../rng.ts";
import { parseCsv } from "../io/csv.ts";
import { kImageExtensions } from "./decode.ts";
import {
  className,
  isWnid,
  kImagenetAIndices,
  kImagenetRIndices,
  kImagenetWnids,
  wnidToClassIndex,
} from "./labels.ts";

/** Dataset layouts; `auto` detects one of the others. */
export type DatasetLayout =
  | "auto"
  | "imagenet"
  | "imagenet-v2"
  | "imagenet-c"
  | "imagenet-sketch"
  | "imagenet-r"
  | "imagenet-a"
  | "labels-csv"
  | "folders";

/** All layout names, for CLI choices. */
export const kDatasetLayouts: readonly DatasetLayout[] = [
  "auto",
  "imagenet",
  "imagenet-v2",
  "imagenet-c",
  "imagenet-sketch",
  "imagenet-r",
  "imagenet-a",
  "labels-csv",
  "folders",
];

/** One image and its class. */
export interface Sample {
  /** Absolute or root-joined file path. */
  path: string;
  /** Class index (ImageNet-1k index for ImageNet layouts). */
  label: number;
  /** ImageNet-C subset `corruption/severity`, when the layout has subsets. */
  subset?: string;
}

/** One class present in a dataset. */
export interface ClassInfo {
  /** The label samples of this class carry. */
  index: number;
  /** Human-readable name (ImageNet short name or folder name). */
  name: string;
  /** WordNet id, for ImageNet layouts. */
  wnid?: string;
  /** Folder name (relative to the root or the subset folder). */
  folder?: string;
  /** Number of images found. */
  count: number;
}

/** An ImageNet-C (corruption, severity) subset. */
export interface DatasetSubset {
  /** `corruption/severity`, as in `Sample.subset`. */
  name: string;
  corruption: string;
  severity: number;
  /** Number of samples in it. */
  count: number;
}

/** A scanned dataset. */
export interface Dataset {
  root: string;
  /** The layout used (never `auto`). */
  layout: Exclude<DatasetLayout, "auto">;
  /** Classes present, by ascending index (after the `classes` filter). */
  classes: ClassInfo[];
  /** Samples, grouped by subset then class, natural file order. */
  samples: Sample[];
  /**
   * When predictions must be restricted to some logits (ImageNet-R/-A: the
   * 200 classes), their indices, ascending. Undefined = all logits.
   */
  validLabels?: number[];
  /** ImageNet-C subsets, in corruption then severity order. */
  subsets?: DatasetSubset[];
  /** Things the user should know (empty folders, skipped rows). */
  notes: string[];
}

/** Options for `openDataset()`. */
export interface OpenDatasetOptions {
  /** Layout, or `auto` to detect it. @default "auto" */
  layout?: DatasetLayout;
  /**
   * Keep only these classes: class indices, wnids or folder names (a
   * `parseClassList()` result). Undefined = all.
   */
  classes?: readonly (string | number)[];
  /** ImageNet-C only: keep these subsets (`corruption`, `corruption/severity` or `severity`). */
  subsets?: readonly string[];
}

/** Natural sort comparison ("2" < "10"; digits compared by value). */
export function naturalCompare(a: string, b: string): number {
  const ax = a.match(/\d+|\D+/g) ?? [];
  const bx = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ax.length, bx.length); i++) {
    const x = ax[i]!;
    const y = bx[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return ax.length - bx.length;
}

function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  return kImageExtensions.some((e) => lower.endsWith(e));
}

interface DirEntries {
  dirs: string[];
  files: string[];
}

function listDir(path: string): DirEntries {
  const dirs: string[] = [];
  const files: string[] = [];
  let entries: Iterable<Deno.DirEntry>;
  try {
    entries = Deno.readDirSync(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "folder not found"
      : e instanceof Deno.errors.NotADirectory
      ? "not a folder"
      : (e as Error).message;
    throw new UserError(`Cannot open dataset "${path}": ${why}`);
  }
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    let isDir = e.isDirectory;
    let isFile = e.isFile;
    if (e.isSymlink) {
      try {
        const st = Deno.statSync(join(path, e.name));
        isDir = st.isDirectory;
        isFile = st.isFile;
      } catch {
        continue; // dangling link
      }
    }
    if (isDir) dirs.push(e.name);
    else if (isFile) files.push(e.name);
  }
  dirs.sort(naturalCompare);
  files.sort(naturalCompare);
  return { dirs, files };
}

/** Image files under a folder, recursively, natural order. */
function imagesUnder(dir: string): string[] {
  const { dirs, files } = listDir(dir);
  const out = files.filter(isImageName).map((f) => join(dir, f));
  for (const d of dirs) out.push(...imagesUnder(join(dir, d)));
  return out;
}

const isInt = (s: string) => /^\d+$/.test(s);

function sameSet(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}

/** Detect the layout of a dataset root (see the module table). */
export function detectLayout(root: string): Exclude<DatasetLayout, "auto"> {
  const { dirs, files } = listDir(root);
  if (files.includes("labels.csv")) return "labels-csv";
  if (dirs.length === 0) {
    throw new UserError(
      `Cannot detect the layout of dataset "${root}": no class folders and no labels.csv`,
    );
  }
  if (dirs.every(isInt)) {
    // <root>/<severity>/<wnid>/* (one ImageNet-C corruption) or <root>/<0..999>/*.
    const inner = listDir(join(root, dirs[0]!));
    if (
      inner.dirs.length > 0 && inner.dirs.every(isWnid)
    ) {
      return "imagenet-c";
    }
    if (dirs.every((d) => Number(d) < 1000)) return "imagenet-v2";
    return "folders";
  }
  if (
    dirs.every(isWnid) && dirs.every((d) => wnidToClassIndex(d) !== undefined)
  ) {
    const idx = dirs.map((d) => wnidToClassIndex(d)!);
    if (sameSet(idx, kImagenetRIndices)) return "imagenet-r";
    if (sameSet(idx, kImagenetAIndices)) return "imagenet-a";
    const base = root.replace(/\/+$/, "").split("/").at(-1)!.toLowerCase();
    const inR = new Set(kImagenetRIndices);
    const inA = new Set(kImagenetAIndices);
    if (
      /imagenet[-_]?r$|^in[-_]?r$/.test(base) && idx.every((i) => inR.has(i))
    ) {
      return "imagenet-r";
    }
    if (
      /imagenet[-_]?a$|^in[-_]?a$/.test(base) && idx.every((i) => inA.has(i))
    ) {
      return "imagenet-a";
    }
    if (/sketch/.test(base)) return "imagenet-sketch";
    return "imagenet";
  }
  // <root>/<corruption>/<severity>/<wnid>/*
  const first = listDir(join(root, dirs[0]!));
  if (
    first.dirs.length > 0 &&
    first.dirs.every((d) => isInt(d) && Number(d) >= 1)
  ) {
    const deeper = listDir(join(root, dirs[0]!, first.dirs[0]!));
    if (deeper.dirs.length > 0 && deeper.dirs.every(isWnid)) {
      return "imagenet-c";
    }
  }
  return "folders";
}

/**
 * Parse a class list (option `classes`): comma-separated class indices,
 * ranges `a-b`, wnids or folder names.
 *
 * @example
 * ```ts
 * parseClassList("0-2,n01530575,7"); // [0, 1, 2, "n01530575", 7]
 * ```
 */
export function parseClassList(spec: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const raw of spec.split(",")) {
    const s = raw.trim();
    if (!s) continue;
    const range = /^(\d+)-(\d+)$/.exec(s);
    if (range) {
      const a = Number(range[1]);
      const b = Number(range[2]);
      if (b < a) {
        throw new UserError(
          `Cannot parse class range "${s}": end is before start`,
          { exitCode: 2 },
        );
      }
      for (let i = a; i <= b; i++) out.push(i);
    } else if (isInt(s)) {
      out.push(Number(s));
    } else {
      out.push(s);
    }
  }
  return out;
}

interface Scan {
  classes: Map<number, ClassInfo>;
  samples: Sample[];
  notes: string[];
  validLabels?: number[];
  subsets?: DatasetSubset[];
}

function wnidClass(wnid: string, folder: string, count: number): ClassInfo {
  const index = wnidToClassIndex(wnid)!;
  return { index, name: className(index), wnid, folder, count };
}

/** `<dir>/<wnid>/*` folders, labels = ImageNet indices. */
function scanWnidFolders(
  dir: string,
  scan: Scan,
  prefix: string,
  subset?: string,
): void {
  const { dirs } = listDir(dir);
  for (const d of dirs) {
    if (!isWnid(d) || wnidToClassIndex(d) === undefined) {
      scan.notes.push(
        `skipped folder "${join(dir, d)}": not an ImageNet-1k wnid`,
      );
      continue;
    }
    const files = imagesUnder(join(dir, d));
    const index = wnidToClassIndex(d)!;
    const prev = scan.classes.get(index);
    if (prev) prev.count += files.length;
    else scan.classes.set(index, wnidClass(d, prefix + d, files.length));
    if (files.length === 0) {
      scan.notes.push(`class folder "${join(dir, d)}" has no images`);
    }
    for (const path of files) {
      scan.samples.push(
        subset === undefined
          ? { path, label: index }
          : { path, label: index, subset },
      );
    }
  }
}

function scanImagenetV2(root: string, scan: Scan): void {
  const { dirs } = listDir(root);
  // Numeric order: folder "10" is class 10, never the third in string order.
  const ints = dirs.filter(isInt).sort((a, b) => Number(a) - Number(b));
  for (const d of dirs) {
    if (!isInt(d)) {
      scan.notes.push(`skipped folder "${join(root, d)}": not a class index`);
    }
  }
  for (const d of ints) {
    const index = Number(d);
    if (index >= 1000) {
      scan.notes.push(
        `skipped folder "${join(root, d)}": class index above 999`,
      );
      continue;
    }
    const files = imagesUnder(join(root, d));
    if (files.length === 0) {
      scan.notes.push(`class folder "${join(root, d)}" has no images`);
    }
    scan.classes.set(index, {
      index,
      name: className(index),
      wnid: kImagenetWnids[index]!,
      folder: d,
      count: files.length,
    });
    for (const path of files) scan.samples.push({ path, label: index });
  }
}

function scanImagenetC(
  root: string,
  scan: Scan,
  keep?: readonly string[],
): void {
  const { dirs } = listDir(root);
  const subsets: DatasetSubset[] = [];
  const single = dirs.every(isInt); // <root>/<severity>/<wnid>
  const corruptions = single ? [""] : dirs;
  const want = (c: string, s: number) =>
    !keep || keep.length === 0 ||
    keep.some((k) => k === c || k === `${c}/${s}` || k === String(s));
  for (const c of corruptions) {
    const cdir = c ? join(root, c) : root;
    const sev = listDir(cdir).dirs.filter(isInt).sort((a, b) =>
      Number(a) - Number(b)
    );
    if (sev.length === 0) {
      scan.notes.push(`skipped folder "${cdir}": no severity folders`);
      continue;
    }
    const cname = c || root.replace(/\/+$/, "").split("/").at(-1)!;
    for (const s of sev) {
      const severity = Number(s);
      if (!want(cname, severity)) continue;
      const name = `${cname}/${severity}`;
      const before = scan.samples.length;
      scanWnidFolders(join(cdir, s), scan, `${c ? c + "/" : ""}${s}/`, name);
      subsets.push({
        name,
        corruption: cname,
        severity,
        count: scan.samples.length - before,
      });
    }
  }
  scan.subsets = subsets;
}

function scanFolders(root: string, scan: Scan): void {
  const { dirs } = listDir(root);
  dirs.forEach((d, index) => {
    const files = imagesUnder(join(root, d));
    if (files.length === 0) {
      scan.notes.push(`class folder "${join(root, d)}" has no images`);
    }
    scan.classes.set(index, { index, name: d, folder: d, count: files.length });
    for (const path of files) scan.samples.push({ path, label: index });
  });
}

async function scanLabelsCsv(root: string, scan: Scan): Promise<void> {
  const csvPath = join(root, "labels.csv");
  let text: string;
  try {
    text = await Deno.readTextFile(csvPath);
  } catch (e) {
    throw new UserError(`Cannot read "${csvPath}": ${(e as Error).message}`);
  }
  let rows: string[][];
  try {
    // blank lines are no records
    rows = parseCsv(text).filter((r) => !(r.length === 1 && r[0] === ""));
  } catch (e) {
    throw new UserError(`Cannot read "${csvPath}": ${(e as Error).message}`);
  }
  const header = rows[0]?.map((h) => h.trim().toLowerCase()) ?? [];
  const fileCol = header.indexOf("file");
  const labelCol = header.indexOf("label");
  if (fileCol < 0 || labelCol < 0) {
    throw new UserError(
      `Cannot read "${csvPath}": expected a header with columns file,label`,
    );
  }
  const nameCol = header.indexOf("label_name") >= 0
    ? header.indexOf("label_name")
    : header.indexOf("name");
  let skipped = 0;
  const named = new Set<number>();
  const conflicts = new Set<number>();
  const missing: string[] = [];
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r]!;
    const file = row[fileCol]?.trim();
    const raw = row[labelCol]?.trim() ?? "";
    if (!file) continue;
    let label: number;
    let byWnid = false;
    if (/^-?\d+$/.test(raw)) label = Number(raw);
    else if (isWnid(raw) && wnidToClassIndex(raw) !== undefined) {
      label = wnidToClassIndex(raw)!;
      byWnid = true;
    } else {
      throw new UserError(
        `Cannot read "${csvPath}": row ${
          r + 1
        } has label "${raw}", expected an integer or a wnid`,
      );
    }
    if (label < 0) {
      skipped++;
      continue;
    }
    if (!isImageName(file)) {
      scan.notes.push(
        `skipped "${file}" in labels.csv: not a ${
          kImageExtensions.join("/")
        } file`,
      );
      continue;
    }
    const path = join(root, file);
    try {
      Deno.statSync(path);
    } catch {
      missing.push(file);
      continue;
    }
    const given = nameCol >= 0 ? row[nameCol]?.trim() || undefined : undefined;
    const prev = scan.classes.get(label);
    if (prev) {
      prev.count++;
      if (given !== undefined && !named.has(label)) {
        prev.name = given;
        named.add(label);
      } else if (given !== undefined && given !== prev.name) {
        conflicts.add(label);
      }
    } else {
      // ImageNet names and wnids only when the file names no classes, or
      // when the label itself is a wnid.
      const imagenet = byWnid || (nameCol < 0 && label < 1000);
      const name = given ?? (imagenet ? className(label) : `#${label}`);
      const info: ClassInfo = { index: label, name, count: 1 };
      if (imagenet) info.wnid = kImagenetWnids[label]!;
      scan.classes.set(label, info);
      if (given !== undefined) named.add(label);
    }
    scan.samples.push({ path, label });
  }
  if (conflicts.size > 0) {
    const first = [...conflicts][0]!;
    scan.notes.push(
      `${conflicts.size} label(s) of "${csvPath}" have several names; the first is used (label ${first}: "${
        scan.classes.get(first)!.name
      }")`,
    );
  }
  if (skipped > 0) {
    scan.notes.push(
      `skipped ${skipped} row(s) of "${csvPath}" with label -1 (no ImageNet-1k class)`,
    );
  }
  if (missing.length > 0) {
    scan.notes.push(
      `skipped ${missing.length} row(s) of "${csvPath}" whose file is missing (first: "${
        missing[0]
      }")`,
    );
  }
}

function matchesClass(c: ClassInfo, key: string | number): boolean {
  if (typeof key === "number") return c.index === key;
  return c.wnid === key || c.folder === key || c.name === key;
}

/**
 * Scan a dataset folder.
 *
 * @param root The dataset root folder.
 * @param options Layout (default `auto`), class filter, ImageNet-C subsets.
 * @returns The classes and samples found; nothing is decoded.
 * @throws {UserError} when the folder is missing, the layout does not fit, or no images are found.
 *
 * @example
 * ```ts
 * const ds = await openDataset("imagenetv2-matched-frequency-format-val", { layout: "auto" });
 * console.log(ds.layout, ds.classes.length, ds.samples.length);
 * ```
 */
export async function openDataset(
  root: string,
  options: OpenDatasetOptions = {},
): Promise<Dataset> {
  const requested = options.layout ?? "auto";
  const layout = requested === "auto" ? detectLayout(root) : requested;
  const scan: Scan = { classes: new Map(), samples: [], notes: [] };
  switch (layout) {
    case "imagenet":
    case "imagenet-sketch":
      scanWnidFolders(root, scan, "");
      break;
    case "imagenet-r":
    case "imagenet-a": {
      scanWnidFolders(root, scan, "");
      const allowed = layout === "imagenet-r"
        ? kImagenetRIndices
        : kImagenetAIndices;
      const ok = new Set(allowed);
      const outside = [...scan.classes.values()].filter((c) =>
        !ok.has(c.index)
      );
      if (outside.length > 0) {
        throw new UserError(
          `Cannot open "${root}" as ${layout}: folder "${
            outside[0]!.wnid
          }" is not one of its 200 classes`,
        );
      }
      scan.validLabels = [...allowed];
      break;
    }
    case "imagenet-v2":
      scanImagenetV2(root, scan);
      break;
    case "imagenet-c":
      scanImagenetC(root, scan, options.subsets);
      break;
    case "labels-csv":
      listDir(root); // clear error when the root is missing
      await scanLabelsCsv(root, scan);
      break;
    case "folders":
      scanFolders(root, scan);
      break;
    default:
      throw new UserError(
        `Cannot open dataset "${root}": unknown layout "${layout as string}"`,
        { exitCode: 2 },
      );
  }
  let classes = [...scan.classes.values()].sort((a, b) => a.index - b.index);
  let samples = scan.samples;
  if (options.classes && options.classes.length > 0) {
    const keys = options.classes;
    const unknown = keys.filter((k) =>
      !classes.some((c) => matchesClass(c, k))
    );
    if (unknown.length === keys.length) {
      throw new UserError(
        `Cannot select classes ${
          keys.slice(0, 5).join(",")
        } in "${root}": none of them is in the dataset`,
      );
    }
    if (unknown.length > 0) {
      scan.notes.push(
        `classes not in the dataset: ${unknown.slice(0, 10).join(",")}`,
      );
    }
    classes = classes.filter((c) => keys.some((k) => matchesClass(c, k)));
    const keep = new Set(classes.map((c) => c.index));
    samples = samples.filter((s) => keep.has(s.label));
    if (scan.subsets) {
      for (const sub of scan.subsets) {
        sub.count = samples.filter((s) => s.subset === sub.name).length;
      }
    }
  }
  if (samples.length === 0) {
    throw new UserError(
      `Cannot use dataset "${root}" (${layout}): no images found (supported extensions: ${
        kImageExtensions.join(", ")
      }, any case)`,
    );
  }
  const ds: Dataset = { root, layout, classes, samples, notes: scan.notes };
  if (scan.validLabels) ds.validLabels = scan.validLabels;
  if (scan.subsets) ds.subsets = scan.subsets;
  return ds;
}

function byLabel(samples: readonly Sample[]): Map<number, Sample[]> {
  const groups = new Map<number, Sample[]>();
  for (const s of samples) {
    const g = groups.get(s.label);
    if (g) g.push(s);
    else groups.set(s.label, [s]);
  }
  return groups;
}

/**
 * A seeded stratified subset: from every class, `max(1, round(fraction * n))`
 * samples (at most n), chosen with a per-class stream `rng.fork("split", label)`
 * so a class's pick does not depend on the other classes. Output keeps the
 * input order.
 *
 * @example
 * ```ts
 * const subset = stratifiedSplit(ds.samples, 0.05, new Rng(42));
 * ```
 */
export function stratifiedSplit(
  samples: readonly Sample[],
  fraction: number,
  rng: Rng,
): Sample[] {
  if (!(fraction > 0 && fraction <= 1)) {
    throw new UserError(
      `Cannot split the dataset: fraction ${fraction} is not in (0, 1]`,
      { exitCode: 2 },
    );
  }
  const chosen = new Set<Sample>();
  for (const [label, group] of byLabel(samples)) {
    const k = Math.min(
      group.length,
      Math.max(1, Math.round(fraction * group.length)),
    );
    for (const i of rng.fork("split", label).sample(group.length, k)) {
      chosen.add(group[i]!);
    }
  }
  return samples.filter((s) => chosen.has(s));
}

/**
 * Seeded per-class sampling: at most `n` samples of every class (all of a
 * class with fewer), with a per-class stream `rng.fork("per-class", label)`.
 * Output keeps the input order.
 */
export function perClass(
  samples: readonly Sample[],
  n: number,
  rng: Rng,
): Sample[] {
  if (!(n >= 1 && Number.isInteger(n))) {
    throw new UserError(
      `Cannot sample ${n} images per class: expected a positive integer`,
      { exitCode: 2 },
    );
  }
  const chosen = new Set<Sample>();
  for (const [label, group] of byLabel(samples)) {
    const k = Math.min(n, group.length);
    for (const i of rng.fork("per-class", label).sample(group.length, k)) {
      chosen.add(group[i]!);
    }
  }
  return samples.filter((s) => chosen.has(s));
}

/** One-line summary: `imagenet-v2: 1000 classes, 10000 images`. */
export function describeDataset(ds: Dataset): string {
  let s =
    `${ds.layout}: ${ds.classes.length} classes, ${ds.samples.length} images`;
  if (ds.subsets) s += `, ${ds.subsets.length} subsets`;
  if (ds.validLabels) {
    s += ` (predictions restricted to ${ds.validLabels.length} classes)`;
  }
  return s;
}
