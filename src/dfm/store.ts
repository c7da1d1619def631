/**
 * DFM stage folders (the format is documented in DFM/README.md).
 *
 * `<out>/stage<k>/` holds `manifest.json` (what was searched and how, the
 * class list, per-class top-N candidate ids, losses and parent lineage),
 * `masks.npy` (uint8 0/1, shape [K, N, S, S]: K classes in manifest order,
 * N = top-N, rank 0 = lowest loss; fftshifted layout, DC at (S/2, S/2)),
 * `losses.npy` (float64 [K, N]) and `png/` pictures. Ranks a class did not
 * fill (fewer candidates than N) are all-zero masks with loss NaN.
 *
 * Files are written atomically (temp file + rename), the manifest last.
 * Reading validates the format version, field types, npy dtypes, shapes and
 * mask values, and names the offending file in a `UserError`.
 */
import { join } from "node:path";
import { UserError } from "../errors.ts";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic.ts";
import { readFailure, readInputFile } from "../io/read.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { decodeNpy, decodeNpyHeader, encodeNpy } from "./npy.ts";
import { kSymmetryModes, type SymmetryMode } from "./symmetry.ts";

/** Value of the manifest's `format` field. */
export const kDfmFormat = "hfss-dfm-stage";
/** Current (and newest readable) manifest format version. */
export const kDfmFormatVersion = 1;
/** File names inside a stage folder. */
export const kStageFiles = {
  manifest: "manifest.json",
  masks: "masks.npy",
  losses: "losses.npy",
  png: "png",
} as const;

/** One class of the stage's class list. */
export interface DfmClass {
  /** The model's output index of the class. */
  index: number;
  wnid?: string;
  name?: string;
}

/** Where a kept candidate's parent mask came from (stage > 1). */
export interface DfmParent {
  /** Position of the parent's class in the parent stage's class list. */
  class_pos: number;
  /** Rank of the parent in that class's top-N. */
  rank: number;
  /** The parent's stage. */
  stage: number;
}

/** Top-N of one class, rank 0 first (lowest loss). */
export interface DfmClassTop {
  /** Candidate ids (see candidates.ts); at most `top_n`. */
  candidates: number[];
  /** Their losses (null for a non-finite loss); same length. */
  losses: (number | null)[];
  /** Their parents (null at stage 1 or when unrecorded); same length. */
  parents: (DfmParent | null)[];
}

/** The contents of `manifest.json`, field for field. */
export interface StageManifest {
  format: typeof kDfmFormat;
  format_version: number;
  /** "hfss <version>". */
  created_by: string;
  /** The searched model; sha256 of the file's bytes (hex), null if unknown. */
  model: { path: string; sha256: string | null };
  /** S: masks are S×S. */
  image_size: number;
  /** Stage k (1-based). */
  stage: number;
  /** Aligned grid size G of the stage. */
  grid: number;
  seed: number;
  /** Proportion of patch cells kept. */
  P: number;
  /** Candidates asked for per stage. */
  N_B: number;
  /** Candidates generated and evaluated in this stage. */
  candidates: number;
  /** N: ranks kept per class. */
  top_n: number;
  symmetry: SymmetryMode;
  /** Ranking loss, e.g. "reference" (the reference's class-wise loss) or "mean-ce". */
  loss: string;
  /** Parent lineage: "shared" (the reference: one pool for all classes) or "per-class". */
  lineage: string;
  /** Model input normalisation (x - mean) / std on [0, 1] pixels. */
  normalization: { name: string; mean: number[]; std: number[] };
  /** Whether masks were applied to [0,1] pixels or to normalised inputs. */
  masking: "pixel" | "normalized";
  resize: "squash" | "crop";
  /** Centre-crop fraction with resize "crop", else null. */
  crop_pct: number | null;
  /** Resampling filter of the search images (absent in older stages: bilinear). */
  interpolation?: "bilinear" | "bicubic";
  /** How the search images were chosen (free-form, e.g. root, fraction, seed, count). */
  split: Record<string, unknown>;
  /** Classes in the order of the first axis of masks.npy / losses.npy. */
  classes: DfmClass[];
  /** Per class (same order), the kept candidates. */
  top: DfmClassTop[];
  /** Racing parameters (snake_case); raced stages only. */
  race?: Record<string, string | number> | null;
  /** Candidate × image evaluations the stage spent (all runs of a resumed stage); raced stages only. */
  evaluations_spent?: number;
  /** Candidate × image evaluations of exhaustive evaluation of the stage; raced stages only. */
  evaluations_exhaustive?: number;
  /** Data file names, relative to the stage folder. */
  files: { masks: string; losses: string };
  /** Anything else a writer wants to keep (timings, counts, …). */
  extra?: Record<string, unknown>;
}

/** A stage in memory. */
export interface StageData {
  manifest: StageManifest;
  /** uint8 0/1, [K, N, S, S] row-major. */
  masks: Uint8Array;
  /** float64 [K, N]; NaN for unfilled ranks. */
  losses: Float64Array;
}

/** Fields a writer supplies; `newStageManifest` adds the constant ones. */
export type StageManifestFields =
  & Omit<
    StageManifest,
    "format" | "format_version" | "created_by" | "files" | "crop_pct"
  >
  & Partial<Pick<StageManifest, "created_by" | "crop_pct">>;

/** The `created_by` value of this build. */
export const kCreatedBy = `hfss ${denoJson.version}`;

/** A complete manifest from the writer's fields. */
export function newStageManifest(fields: StageManifestFields): StageManifest {
  return {
    format: kDfmFormat,
    format_version: kDfmFormatVersion,
    created_by: fields.created_by ?? kCreatedBy,
    ...fields,
    crop_pct: fields.crop_pct ?? null,
    files: { masks: kStageFiles.masks, losses: kStageFiles.losses },
  };
}

/** Folder of stage `k` under `out`: `<out>/stage<k>`. */
export function stageDir(out: string, stage: number): string {
  return join(out, `stage${stage}`);
}

/** The mask of class position `classPos`, rank `rank` (a view, S×S). */
export function stageMask(
  stage: StageData,
  classPos: number,
  rank: number,
): Uint8Array {
  const { image_size: s, top_n: n, classes } = stage.manifest;
  if (
    !(classPos >= 0 && classPos < classes.length && Number.isInteger(classPos))
  ) {
    throw new RangeError(
      `Cannot get DFM: class position ${classPos} is outside 0..${
        classes.length - 1
      }`,
    );
  }
  if (!(rank >= 0 && rank < n && Number.isInteger(rank))) {
    throw new RangeError(`Cannot get DFM: rank ${rank} is outside 0..${n - 1}`);
  }
  const off = (classPos * n + rank) * s * s;
  return stage.masks.subarray(off, off + s * s);
}

/**
 * Position of a class in the manifest's class list, from its model index
 * (digits), its wnid or its exact name.
 */
export function findClass(
  manifest: StageManifest,
  id: string | number,
): number {
  const key = String(id).trim();
  const pos = /^\d+$/.test(key)
    ? manifest.classes.findIndex((c) => c.index === Number(key))
    : manifest.classes.findIndex((c) => c.wnid === key || c.name === key);
  if (pos < 0) {
    throw new UserError(
      `Cannot find class "${key}" in stage ${manifest.stage}: it has ${manifest.classes.length} classes (give a class index, wnid or name listed in manifest.json)`,
    );
  }
  return pos;
}

function isInt(v: unknown, min = 0): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= min;
}

/**
 * Check a manifest's structure; throws a UserError naming `source`.
 * Returns the manifest typed.
 */
export function validateManifest(m: unknown, source: string): StageManifest {
  const bad = (state: string): never => {
    throw new UserError(`Cannot read DFM manifest "${source}": ${state}`);
  };
  if (typeof m !== "object" || m === null || Array.isArray(m)) {
    bad("not a JSON object");
  }
  const o = m as Record<string, unknown>;
  if (o.format !== kDfmFormat) {
    bad(`format is ${JSON.stringify(o.format)}, expected "${kDfmFormat}"`);
  }
  if (!isInt(o.format_version, 1)) bad("format_version is missing");
  if ((o.format_version as number) > kDfmFormatVersion) {
    bad(
      `format version ${o.format_version} is newer than this hfss reads (${kDfmFormatVersion})`,
    );
  }
  const s = o.image_size;
  if (!isInt(s, 2) || s % 2 !== 0) {
    bad("image_size is not a positive even integer");
  }
  if (!isInt(o.stage, 1)) bad("stage is not a positive integer");
  if (!isInt(o.top_n, 1)) bad("top_n is not a positive integer");
  if (!kSymmetryModes.includes(o.symmetry as SymmetryMode)) {
    bad(
      `symmetry ${JSON.stringify(o.symmetry)} is not one of ${
        kSymmetryModes.join(", ")
      }`,
    );
  }
  if (o.masking !== "pixel" && o.masking !== "normalized") {
    bad(`masking ${JSON.stringify(o.masking)} is not "pixel" or "normalized"`);
  }
  if (!Array.isArray(o.classes) || o.classes.length === 0) {
    bad("classes is empty");
  }
  const classes = o.classes as unknown[];
  classes.forEach((c, i) => {
    if (typeof c !== "object" || c === null || !isInt((c as DfmClass).index)) {
      bad(`classes[${i}] has no integer index`);
    }
  });
  if (!Array.isArray(o.top) || o.top.length !== classes.length) {
    bad(`top must have one entry per class (${classes.length})`);
  }
  (o.top as unknown[]).forEach((t, i) => {
    const e = t as DfmClassTop;
    if (
      typeof t !== "object" || t === null || !Array.isArray(e.candidates) ||
      !Array.isArray(e.losses) || !Array.isArray(e.parents)
    ) bad(`top[${i}] lacks candidates, losses or parents`);
    if (e.candidates.length > (o.top_n as number)) {
      bad(
        `top[${i}] keeps ${e.candidates.length} candidates, more than top_n ${o.top_n}`,
      );
    }
    if (
      e.losses.length !== e.candidates.length ||
      e.parents.length !== e.candidates.length
    ) bad(`top[${i}] has lists of different lengths`);
    if (!e.candidates.every((c) => isInt(c))) {
      bad(`top[${i}].candidates holds a non-integer id`);
    }
  });
  const files = o.files as StageManifest["files"] | undefined;
  if (
    typeof files !== "object" || files === null ||
    typeof files.masks !== "string" || typeof files.losses !== "string"
  ) bad("files.masks / files.losses are missing");
  return o as unknown as StageManifest;
}

function checkSizes(stage: StageData, where: string): void {
  const { manifest: m } = stage;
  const k = m.classes.length;
  const n = m.top_n;
  const s = m.image_size;
  if (stage.masks.length !== k * n * s * s) {
    throw new RangeError(
      `Cannot write stage "${where}": masks hold ${stage.masks.length} values, expected [${k}, ${n}, ${s}, ${s}]`,
    );
  }
  if (stage.losses.length !== k * n) {
    throw new RangeError(
      `Cannot write stage "${where}": losses hold ${stage.losses.length} values, expected [${k}, ${n}]`,
    );
  }
}

/**
 * Write a stage folder atomically: masks.npy, losses.npy, then
 * manifest.json. Throws when sizes disagree with the manifest.
 *
 * @example
 * ```ts
 * await writeStage(stageDir("DFM/runs/x", 1), { manifest, masks, losses });
 * ```
 */
export async function writeStage(dir: string, stage: StageData): Promise<void> {
  validateManifest(
    JSON.parse(JSON.stringify(stage.manifest)),
    join(dir, kStageFiles.manifest),
  );
  checkSizes(stage, dir);
  const m = stage.manifest;
  const k = m.classes.length, n = m.top_n, s = m.image_size;
  await Deno.mkdir(dir, { recursive: true });
  await writeFileAtomic(
    join(dir, m.files.masks),
    encodeNpy(stage.masks, "uint8", [k, n, s, s]),
  );
  await writeFileAtomic(
    join(dir, m.files.losses),
    encodeNpy(stage.losses, "float64", [k, n]),
  );
  await writeJsonAtomic(join(dir, kStageFiles.manifest), m);
}

/** Read and validate a stage's manifest.json. */
export async function readStageManifest(dir: string): Promise<StageManifest> {
  const path = join(dir, kStageFiles.manifest);
  const text = new TextDecoder().decode(
    await readInputFile(path, "Cannot read DFM manifest"),
  );
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UserError(
      `Cannot read DFM manifest "${path}": invalid JSON (${
        err instanceof Error ? err.message : err
      })`,
    );
  }
  return validateManifest(json, path);
}

function shapeEq(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function expectHeader(
  path: string,
  got: { dtype: string; shape: number[] },
  dtype: string,
  shape: number[],
): void {
  if (got.dtype !== dtype) {
    throw new UserError(
      `Cannot read DFM file "${path}": dtype is ${got.dtype}, expected ${dtype}`,
    );
  }
  if (!shapeEq(got.shape, shape)) {
    throw new UserError(
      `Cannot read DFM file "${path}": shape is [${
        got.shape.join(", ")
      }], expected [${shape.join(", ")}] from manifest.json`,
    );
  }
}

/**
 * Read and validate a stage folder (manifest, masks, losses).
 *
 * @example
 * ```ts
 * const stage = await readStage("DFM/runs/x/stage1");
 * const dfm = stageMask(stage, findClass(stage.manifest, "n01440764"), 0);
 * ```
 */
export async function readStage(dir: string): Promise<StageData> {
  const manifest = await readStageManifest(dir);
  const k = manifest.classes.length, n = manifest.top_n;
  const s = manifest.image_size;
  const maskPath = join(dir, manifest.files.masks);
  const masksNpy = decodeNpy(
    await readInputFile(maskPath, "Cannot read DFM file"),
    maskPath,
  );
  expectHeader(maskPath, masksNpy, "uint8", [k, n, s, s]);
  const masks = masksNpy.data as Uint8Array;
  for (let i = 0; i < masks.length; i++) {
    if (masks[i]! > 1) {
      throw new UserError(
        `Cannot read DFM file "${maskPath}": value ${
          masks[i]
        } at element ${i} is not 0 or 1`,
      );
    }
  }
  const lossPath = join(dir, manifest.files.losses);
  const lossNpy = decodeNpy(
    await readInputFile(lossPath, "Cannot read DFM file"),
    lossPath,
  );
  expectHeader(lossPath, lossNpy, "float64", [k, n]);
  return { manifest, masks, losses: lossNpy.data as Float64Array };
}

/**
 * Read one mask of a stage without loading masks.npy whole (seeks into the
 * file). Validates the npy header against the manifest.
 */
export async function readStageMask(
  dir: string,
  opts: { classPos: number; rank: number; manifest?: StageManifest },
): Promise<Uint8Array> {
  const { classPos, rank } = opts;
  const m = opts.manifest ?? await readStageManifest(dir);
  const k = m.classes.length, n = m.top_n, s = m.image_size;
  if (!(Number.isInteger(classPos) && classPos >= 0 && classPos < k)) {
    throw new UserError(
      `Cannot read a DFM of "${dir}": class position ${classPos} is outside 0..${
        k - 1
      }`,
    );
  }
  if (!(Number.isInteger(rank) && rank >= 0 && rank < n)) {
    throw new UserError(
      `Cannot read a DFM of "${dir}": rank ${rank} is outside 0..${
        n - 1
      } (top_n ${n})`,
    );
  }
  const path = join(dir, m.files.masks);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    throw new UserError(`Cannot read DFM file "${path}": ${readFailure(e)}`);
  }
  try {
    const size = (await file.stat()).size;
    const head = new Uint8Array(Math.min(65536, size));
    await readFull(file, head);
    const h = decodeNpyHeader(head, path);
    expectHeader(path, h, "uint8", [k, n, s, s]);
    if (size !== h.dataOffset + k * n * s * s) {
      throw new UserError(
        `Cannot read DFM file "${path}": ${size} bytes, expected ${
          h.dataOffset + k * n * s * s
        } for shape [${k}, ${n}, ${s}, ${s}]`,
      );
    }
    await file.seek(
      h.dataOffset + (classPos * n + rank) * s * s,
      Deno.SeekMode.Start,
    );
    const out = new Uint8Array(s * s);
    await readFull(file, out);
    if (out.some((v) => v > 1)) {
      throw new UserError(
        `Cannot read DFM file "${path}": mask ${classPos}/${rank} has values other than 0 and 1`,
      );
    }
    return out;
  } finally {
    file.close();
  }
}

async function readFull(file: Deno.FsFile, buf: Uint8Array): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const got = await file.read(buf.subarray(off));
    if (got === null) break;
    off += got;
  }
}
