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
 * `auto` detection ignores known junk (`__MACOSX`, dot-entries, `Thumbs.db`,
 * ...) and refuses a root that fits an ImageNet layout only in part or fits
 * two layouts, naming them: guessing would silently relabel every class.
 *
 * Class folders are walked recursively; files are sorted with a natural key;
 * hidden and junk entries are skipped. Links are followed by real path: a
 * link looping back to a folder above it is not followed, and a file reached
 * twice is kept once (where it is reached without a link). Finding no images
 * is an error that lists the supported extensions; a class with no images is
 * left out; everything skipped is reported in `notes` and counted in
 * `counts`. labels.csv paths must stay inside the root.
 */
import { basename, isAbsolute, join, normalize } from "node:path";
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
  /** Why this layout: what detection saw, or "given" when it was chosen. */
  layoutReason: string;
  /** Things the user should know (empty folders, skipped rows): print them all. */
  notes: string[];
  /** What the scan left out, counted by kind (for the outputs). */
  counts: DatasetCounts;
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

/** True for a file name with a supported image extension. */
export function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  return kImageExtensions.some((e) => lower.endsWith(e));
}

/**
 * Entries that archivers, file managers and operating systems leave in
 * folders (macOS `__MACOSX`, Windows `Thumbs.db`, Synology `@eaDir`, ...):
 * never classes, never images. Dot-entries are skipped too.
 */
const kJunkNames: ReadonlySet<string> = new Set([
  "__macosx",
  "thumbs.db",
  "desktop.ini",
  "@eadir",
  "$recycle.bin",
  "system volume information",
  "lost+found",
  "icon\r",
]);

/** True for a name `listDir()` never reports (dot-entries and known junk). */
export function isJunkEntry(name: string): boolean {
  return name.startsWith(".") || kJunkNames.has(name.toLowerCase());
}

/** Counts of what a scan left out, by kind (snake_case keys: written as-is to outputs). */
export interface DatasetCounts {
  /** labels.csv rows with a negative label (no class). */
  negative_labels: number;
  /** labels.csv rows whose file does not exist. */
  missing_files: number;
  /** labels.csv rows naming a file that is not a supported image. */
  not_images: number;
  /** labels.csv rows naming a file already listed. */
  duplicate_rows: number;
  /** Class folders without images (left out of `classes`). */
  empty_classes: number;
  /** Folders that are not classes of the layout (skipped). */
  stray_folders: number;
  /** Links that point back to a folder above them (not followed). */
  link_loops: number;
  /** Files reached twice through links (kept once). */
  duplicate_files: number;
  /** Dangling links. */
  broken_links: number;
  /** Known junk entries (`__MACOSX`, `Thumbs.db`, ...) ignored at the root. */
  junk_entries: number;
}

function zeroCounts(): DatasetCounts {
  return {
    negative_labels: 0,
    missing_files: 0,
    not_images: 0,
    duplicate_rows: 0,
    empty_classes: 0,
    stray_folders: 0,
    link_loops: 0,
    duplicate_files: 0,
    broken_links: 0,
    junk_entries: 0,
  };
}

/** A folder's entries, junk left out, symbolic links resolved once. */
export interface DirEntries {
  dirs: string[];
  files: string[];
  /** Entries that are symbolic links (subset of dirs and files). */
  links: Set<string>;
  /** Known junk names seen (dot-entries not included). */
  junk: string[];
  /** Dangling links. */
  broken: string[];
}

/**
 * The folders and files of `path`, junk left out, symbolic links followed
 * once (dangling ones listed apart), both sorted naturally.
 *
 * @throws {UserError} when `path` is missing or not a folder.
 */
export function listDir(path: string): DirEntries {
  const dirs: string[] = [];
  const files: string[] = [];
  const links = new Set<string>();
  const junk: string[] = [];
  const broken: string[] = [];
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
    if (isJunkEntry(e.name)) {
      if (!e.name.startsWith(".")) junk.push(e.name);
      continue;
    }
    let isDir = e.isDirectory;
    let isFile = e.isFile;
    if (e.isSymlink) {
      try {
        const st = Deno.statSync(join(path, e.name));
        isDir = st.isDirectory;
        isFile = st.isFile;
        links.add(e.name);
      } catch {
        broken.push(e.name);
        continue;
      }
    }
    if (isDir) dirs.push(e.name);
    else if (isFile) files.push(e.name);
  }
  dirs.sort(naturalCompare);
  files.sort(naturalCompare);
  return { dirs, files, links, junk, broken };
}

/** Real path of a folder, or the path itself when it cannot be resolved. */
function realDir(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

/** One image found by a walk, with the file it really is. */
interface Found {
  path: string;
  /** Resolved path: two samples with one `real` are one file. */
  real: string;
  /** Reached through a symbolic link (file or folder). */
  viaLink: boolean;
}

/**
 * Image files under a folder, recursively, natural order. Links are followed
 * by real path: a link back to a folder above it (a loop) is not followed and
 * is noted; a folder reached twice is walked twice, and the duplicate files
 * are removed later by `dedupeSamples()`.
 */
function imagesUnder(
  dir: string,
  scan: Scan,
  viaLink = false,
  ancestors: readonly string[] = [],
): Found[] {
  const real = realDir(dir);
  const chain = [...ancestors, real];
  const { dirs, files, links, broken } = listDir(dir);
  for (const b of broken) {
    scan.counts.broken_links++;
    scan.notes.push(`skipped link "${join(dir, b)}": its target is missing`);
  }
  const out: Found[] = [];
  for (const f of files) {
    if (!isImageName(f)) continue;
    const path = join(dir, f);
    const link = links.has(f);
    out.push({
      path,
      real: link ? realDir(path) : join(real, f),
      viaLink: viaLink || link,
    });
  }
  for (const d of dirs) {
    const sub = join(dir, d);
    const link = links.has(d);
    if (link) {
      const target = realDir(sub);
      if (chain.includes(target)) {
        scan.counts.link_loops++;
        scan.notes.push(
          `skipped link "${sub}": it loops back to "${target}" (not followed)`,
        );
        continue;
      }
    }
    out.push(...imagesUnder(sub, scan, viaLink || link, chain));
  }
  return out;
}

/**
 * Keep one sample per real file: the one reached without links when there
 * is one (so a link never moves an image to another class), else the first.
 */
function dedupeSamples(scan: Scan): void {
  const keep = new Map<string, number>();
  const reals = scan.reals;
  scan.samples.forEach((_, i) => {
    const r = reals[i]!;
    const prev = keep.get(r.real);
    if (prev === undefined || (reals[prev]!.viaLink && !r.viaLink)) {
      keep.set(r.real, i);
    }
  });
  if (keep.size === scan.samples.length) return;
  const kept = new Set(keep.values());
  const dropped = scan.samples.filter((_, i) => !kept.has(i));
  const firstIndex = scan.samples.findIndex((_, i) => !kept.has(i));
  const twin = scan.samples[keep.get(reals[firstIndex]!.real)!]!;
  scan.counts.duplicate_files += dropped.length;
  scan.notes.push(
    `skipped ${dropped.length} file(s) reached twice through links, kept once (first: "${
      dropped[0]!.path
    }" is "${twin.path}")`,
  );
  scan.samples = scan.samples.filter((_, i) => kept.has(i));
  // recount the classes
  for (const c of scan.classes.values()) c.count = 0;
  for (const s of scan.samples) {
    const c = scan.classes.get(s.label);
    if (c) c.count++;
  }
}

const isInt = (s: string) => /^\d+$/.test(s);
const isImagenetWnid = (s: string) =>
  isWnid(s) && wnidToClassIndex(s) !== undefined;

function sameSet(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}

/** A detected layout and why it was chosen. */
export interface LayoutDetection {
  layout: Exclude<DatasetLayout, "auto">;
  /** What in the folder decided it ("1000 numeric class folders"). */
  reason: string;
}

function plural(n: number, word: string): string {
  if (n === 1) return `${n} ${word}`;
  if (word.endsWith("y")) return `${n} ${word.slice(0, -1)}ies`;
  return `${n} ${word}${/(s|sh|ch|x)$/.test(word) ? "es" : "s"}`;
}

/** ImageNet-1k wnid folders: which of the wnid layouts, and why. */
function wnidLayout(root: string, dirs: string[]): LayoutDetection {
  const idx = dirs.map((d) => wnidToClassIndex(d)!);
  const n = plural(dirs.length, "ImageNet wnid folder");
  if (sameSet(idx, kImagenetRIndices)) {
    return { layout: "imagenet-r", reason: `${n}, the ImageNet-R classes` };
  }
  if (sameSet(idx, kImagenetAIndices)) {
    return { layout: "imagenet-a", reason: `${n}, the ImageNet-A classes` };
  }
  const base = basename(root.replace(/\/+$/, "")).toLowerCase();
  const inR = new Set(kImagenetRIndices);
  const inA = new Set(kImagenetAIndices);
  if (
    /imagenet[-_]?r$|^in[-_]?r$/.test(base) && idx.every((i) => inR.has(i))
  ) {
    return { layout: "imagenet-r", reason: `${n} in a folder named "${base}"` };
  }
  if (
    /imagenet[-_]?a$|^in[-_]?a$/.test(base) && idx.every((i) => inA.has(i))
  ) {
    return { layout: "imagenet-a", reason: `${n} in a folder named "${base}"` };
  }
  if (/sketch/.test(base)) {
    return {
      layout: "imagenet-sketch",
      reason: `${n} in a folder named "${base}"`,
    };
  }
  return { layout: "imagenet", reason: n };
}

/** True when `dir` holds severity folders of ImageNet wnid folders. */
function hasSeverities(dir: string): boolean {
  const { dirs } = listDir(dir);
  const sev = dirs.filter(isInt);
  if (sev.length === 0 || sev.length !== dirs.length) return false;
  const inner = listDir(join(dir, sev[0]!)).dirs;
  return inner.length > 0 && inner.some(isImagenetWnid);
}

/**
 * Detect the layout of a dataset root (see the module table), saying why.
 * Known junk (`__MACOSX`, dot-folders, `Thumbs.db`, ...) is ignored. A root
 * whose folders fit an ImageNet layout only in part (one stray folder among
 * class indices or wnids), or that fits two layouts, is refused: guessing
 * would silently relabel every class.
 *
 * @throws {UserError} naming the layouts that matched and why.
 */
export function detectLayoutWithReason(root: string): LayoutDetection {
  const { dirs, files } = listDir(root);
  const csv = files.includes("labels.csv");
  const refuse = (why: string): never => {
    throw new UserError(
      `Cannot detect the layout of dataset "${root}": ${why}; choose one with the layout option`,
    );
  };
  if (dirs.length === 0) {
    if (csv) return { layout: "labels-csv", reason: "labels.csv at the root" };
    return refuse("no class folders and no labels.csv");
  }
  const ints = dirs.filter(isInt);
  const wnids = dirs.filter(isImagenetWnid);
  let structured: LayoutDetection | undefined;
  if (ints.length === dirs.length) {
    if (hasSeverities(root)) {
      structured = {
        layout: "imagenet-c",
        reason: `${plural(dirs.length, "severity folder")} of wnid folders`,
      };
    } else {
      const big = ints.filter((d) => Number(d) >= 1000);
      if (big.length > 0) {
        refuse(
          `imagenet-v2 would fit ${
            plural(ints.length - big.length, "numeric folder")
          } but "${
            big[0]
          }" is not a class index 0..999, and folders would relabel all classes by position`,
        );
      }
      structured = {
        layout: "imagenet-v2",
        reason: plural(dirs.length, "numeric class folder"),
      };
    }
  } else if (wnids.length === dirs.length) {
    structured = wnidLayout(root, dirs);
  } else if (ints.length > 0 || wnids.length > 0) {
    const [kind, n, stray] = wnids.length >= ints.length
      ? [
        "imagenet (wnid folders)",
        wnids.length,
        dirs.find((d) => !isImagenetWnid(d))!,
      ]
      : [
        "imagenet-v2 (class index folders)",
        ints.length,
        dirs.find((d) => !isInt(d))!,
      ];
    refuse(
      `${kind} fits ${n} of ${dirs.length} folders but not "${stray}", and folders would relabel all classes by position`,
    );
  } else if (dirs.every((d) => hasSeverities(join(root, d)))) {
    structured = {
      layout: "imagenet-c",
      reason: `${plural(dirs.length, "corruption folder")} of severities`,
    };
  }
  if (csv && structured) {
    refuse(
      `labels-csv (labels.csv at the root) and ${structured.layout} (${structured.reason}) both fit`,
    );
  }
  if (structured) return structured;
  if (csv) {
    return {
      layout: "labels-csv",
      reason: "labels.csv at the root (its folders are not classes)",
    };
  }
  return {
    layout: "folders",
    reason: `${plural(dirs.length, "class folder")}, labels by name order`,
  };
}

/** Detect the layout of a dataset root (see `detectLayoutWithReason()`). */
export function detectLayout(root: string): Exclude<DatasetLayout, "auto"> {
  return detectLayoutWithReason(root).layout;
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
  /** Per sample: its real file (for link deduplication). */
  reals: Found[];
  notes: string[];
  counts: DatasetCounts;
  /** Class folders with no images. */
  empty: string[];
  validLabels?: number[];
  subsets?: DatasetSubset[];
}

function addClass(
  scan: Scan,
  dir: string,
  info: Omit<ClassInfo, "count">,
  subset?: string,
): void {
  const found = imagesUnder(dir, scan);
  if (found.length === 0) scan.empty.push(dir);
  const prev = scan.classes.get(info.index);
  if (prev) prev.count += found.length;
  else scan.classes.set(info.index, { ...info, count: found.length });
  for (const f of found) {
    scan.samples.push(
      subset === undefined
        ? { path: f.path, label: info.index }
        : { path: f.path, label: info.index, subset },
    );
    scan.reals.push(f);
  }
}

function strayFolder(scan: Scan, path: string, why: string): void {
  scan.counts.stray_folders++;
  scan.notes.push(`skipped folder "${path}": ${why}`);
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
    if (!isImagenetWnid(d)) {
      strayFolder(scan, join(dir, d), "not an ImageNet-1k wnid");
      continue;
    }
    const index = wnidToClassIndex(d)!;
    addClass(scan, join(dir, d), {
      index,
      name: className(index),
      wnid: d,
      folder: prefix + d,
    }, subset);
  }
}

function scanImagenetV2(root: string, scan: Scan): void {
  const { dirs } = listDir(root);
  // Numeric order: folder "10" is class 10, never the third in string order.
  const ints = dirs.filter(isInt).sort((a, b) => Number(a) - Number(b));
  for (const d of dirs) {
    if (!isInt(d)) strayFolder(scan, join(root, d), "not a class index");
  }
  for (const d of ints) {
    const index = Number(d);
    if (index >= 1000) {
      strayFolder(scan, join(root, d), "class index above 999");
      continue;
    }
    addClass(scan, join(root, d), {
      index,
      name: className(index),
      wnid: kImagenetWnids[index]!,
      folder: d,
    });
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
      strayFolder(scan, cdir, "no severity folders");
      continue;
    }
    const cname = c || basename(root.replace(/\/+$/, ""));
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
  // Indices are positions among all class folders, empty ones included, so
  // a model's output k always means the k-th folder.
  listDir(root).dirs.forEach((d, index) => {
    addClass(scan, join(root, d), { index, name: d, folder: d });
  });
}

/** True when `path` (relative, as written in labels.csv) stays inside the root. */
function staysInside(path: string): boolean {
  if (isAbsolute(path) || /^[a-zA-Z]:[\\/]/.test(path)) return false;
  const n = normalize(path.replaceAll("\\", "/"));
  return n !== ".." && !n.startsWith("../");
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
  const named = new Set<number>();
  const conflicts = new Set<number>();
  const missing: string[] = [];
  const notImages: string[] = [];
  const duplicates: string[] = [];
  const listed = new Set<string>();
  const c = scan.counts;
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r]!;
    const file = row[fileCol]?.trim();
    const raw = row[labelCol]?.trim() ?? "";
    if (!file) continue;
    if (!staysInside(file)) {
      throw new UserError(
        `Cannot read "${csvPath}": row ${
          r + 1
        } names "${file}", which is outside the data folder`,
      );
    }
    let label: number;
    let byWnid = false;
    if (/^-?\d+$/.test(raw)) label = Number(raw);
    else if (isImagenetWnid(raw)) {
      label = wnidToClassIndex(raw)!;
      byWnid = true;
    } else {
      throw new UserError(
        `Cannot read "${csvPath}": row ${
          r + 1
        } has label "${raw}", expected an integer or a wnid`,
      );
    }
    if (!Number.isSafeInteger(label)) {
      throw new UserError(
        `Cannot read "${csvPath}": row ${r + 1} has label "${raw}", too large`,
      );
    }
    if (label < 0) {
      c.negative_labels++;
      continue;
    }
    if (!isImageName(file)) {
      c.not_images++;
      notImages.push(file);
      continue;
    }
    const path = join(root, file);
    let real: string;
    try {
      Deno.statSync(path);
      real = realDir(path);
    } catch {
      c.missing_files++;
      missing.push(file);
      continue;
    }
    if (listed.has(real)) {
      c.duplicate_rows++;
      duplicates.push(file);
      continue;
    }
    listed.add(real);
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
    scan.reals.push({ path, real, viaLink: false });
  }
  if (conflicts.size > 0) {
    const first = [...conflicts][0]!;
    scan.notes.push(
      `${conflicts.size} label(s) of "${csvPath}" have several names; the first is used (label ${first}: "${
        scan.classes.get(first)!.name
      }")`,
    );
  }
  if (c.negative_labels > 0) {
    scan.notes.push(
      `skipped ${c.negative_labels} row(s) of "${csvPath}" with label -1 (no ImageNet-1k class)`,
    );
  }
  if (missing.length > 0) {
    scan.notes.push(
      `skipped ${missing.length} row(s) of "${csvPath}" whose file is missing (first: "${
        missing[0]
      }")`,
    );
  }
  if (notImages.length > 0) {
    scan.notes.push(
      `skipped ${notImages.length} row(s) of "${csvPath}" that are not ${
        kImageExtensions.join("/")
      } files (first: "${notImages[0]}")`,
    );
  }
  if (duplicates.length > 0) {
    scan.notes.push(
      `skipped ${duplicates.length} row(s) of "${csvPath}" naming a file already listed (first: "${
        duplicates[0]
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
  const detected = requested === "auto"
    ? detectLayoutWithReason(root)
    : { layout: requested, reason: "given" };
  const layout = detected.layout;
  const scan: Scan = {
    classes: new Map(),
    samples: [],
    reals: [],
    notes: [],
    counts: zeroCounts(),
    empty: [],
  };
  const junk = listDir(root).junk;
  if (junk.length > 0) {
    scan.counts.junk_entries = junk.length;
    scan.notes.push(
      `ignored ${plural(junk.length, "entry")} that no dataset uses: ${
        junk.slice(0, 3).map((j) => `"${j}"`).join(", ")
      }`,
    );
  }
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
  dedupeSamples(scan);
  if (scan.empty.length > 0) {
    scan.notes.push(
      `${plural(scan.empty.length, "class folder")} without images: ${
        scan.empty.slice(0, 3).map((e) => `"${e}"`).join(", ")
      }${scan.empty.length > 3 ? ", ..." : ""}`,
    );
  }
  const emptyClasses = [...scan.classes.values()].filter((c) => c.count === 0);
  if (emptyClasses.length > 0) {
    scan.counts.empty_classes = emptyClasses.length;
    scan.notes.push(
      `left out ${
        plural(emptyClasses.length, "class")
      } with no images (no DFM, no accuracy): ${
        emptyClasses.slice(0, 5).map((c) => c.folder ?? c.name).join(", ")
      }${emptyClasses.length > 5 ? ", ..." : ""}`,
    );
    for (const c of emptyClasses) scan.classes.delete(c.index);
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
  const ds: Dataset = {
    root,
    layout,
    layoutReason: detected.reason,
    classes,
    samples,
    notes: scan.notes,
    counts: scan.counts,
  };
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
  let s = `${ds.layout}${
    ds.layoutReason === "given" ? "" : ` (detected: ${ds.layoutReason})`
  }: ${ds.classes.length} classes, ${ds.samples.length} images`;
  if (ds.subsets) s += `, ${ds.subsets.length} subsets`;
  if (ds.validLabels) {
    s += ` (predictions restricted to ${ds.validLabels.length} classes)`;
  }
  return s;
}
