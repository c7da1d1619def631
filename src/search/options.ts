/**
 * The options of a search: their keys, defaults and checks. Everything here
 * runs before any file is opened; problems are `OptionError`s naming the
 * option key (the command line maps keys to its flags).
 */
import { OptionError } from "../errors.ts";
import type { GpuContext } from "../gpu/context.ts";
import type { Dataset, DatasetLayout } from "../data/dataset.ts";
import {
  type Interpolation,
  kDefaultCropPct,
  kDefaultInterpolation,
  type Normalization,
  normalization,
  type ResizeMode,
} from "../data/preprocess.ts";
import type { SymmetryMode } from "../dfm/symmetry.ts";
import type { LossKind } from "./loss.ts";
import type { Lineage } from "./lineage.ts";
import { checkRaceParams, type RaceParams } from "./race.ts";
import type { MaskSpace } from "./mask_evaluation.ts";
import type { SearchProgress } from "./search.ts";
import type { ShardSpec } from "../shard/partition.ts";

/** Options of `runSearch()`; everything but `model`, data and `out` has a default. */
export interface SearchOptions {
  /** ONNX model path. */
  model: string;
  /** Images above this many pixels are skipped with a warning (checked from the header). */
  maxPixels?: number;
  /** Dataset root (or give `dataset`). */
  data?: string;
  /** An already opened dataset (overrides `data`, `layout`, `classes`). */
  dataset?: Dataset;
  /** @default "auto" */
  layout?: DatasetLayout;
  /** Class filter (indices, wnids or folder names). */
  classes?: (string | number)[];
  /** Stages to run, ascending and consecutive, e.g. [1] or [1, 2, 3, 4]. */
  stages: number[];
  /** Previous stage folder when the first stage is > 1 (default `<out>/stage<k-1>`). */
  from?: string;
  /** Run folder; stage k goes to `<out>/stage<k>`. */
  out: string;
  /** N_B. @default 500 */
  candidates?: number;
  /** P. @default 0.8 */
  proportion?: number;
  /** Top-N kept per class. @default 10 */
  top?: number;
  /** Search fraction of every class (1 = all images). @default 0.05 */
  split?: number;
  /** At most this many search images per class. */
  perClass?: number;
  /** Rows per model call; also the batch of the reference loss. @default 64 */
  batchSize?: number;
  /** @default 42 */
  seed?: number;
  /** @default "exact" */
  symmetry?: SymmetryMode;
  /** @default "class-ce" */
  loss?: LossKind;
  /** @default "per-class" */
  lineage?: Lineage;
  /**
   * Race each class's candidates over its images (race.ts; `top` is the
   * search's). Default: every candidate on every image.
   */
  race?: RaceParams;
  /** @default "normalized" (the reference masks after normalisation) */
  maskSpace?: MaskSpace;
  /** @default "squash" (the reference) */
  resize?: ResizeMode;
  /** Centre-crop fraction for `resize: "crop"`. @default 0.875 */
  cropPct?: number;
  /** Resampling filter. @default "bilinear" */
  interpolation?: Interpolation;
  /** Input side for a model with symbolic height/width. @default 224 */
  size?: number;
  /**
   * Preset name or explicit mean/std (recorded with source `flag`).
   * @default the model's declared normalisation (`hfss.normalization` metadata), else "imagenet"
   */
  normalize?: string | { mean: number[]; std: number[] };
  /** @default "wasm" */
  backend?: "wasm" | "webgpu";
  /** onnxruntime wasm threads. */
  threads?: number;
  /** Discard checkpoints and finished stages with another configuration. */
  restart?: boolean;
  /** Seconds between mid-block checkpoints. @default 120 */
  checkpointSeconds?: number;
  /** Images per filter load (fixed block size). @default min(batchSize, 16) */
  blockImages?: number;
  /** Overlap image loading and filter passes with the model (default true). */
  overlap?: boolean;
  /** Log lines (defaults to stderr). */
  log?: (line: string) => void;
  /** Progress callbacks (the CLI draws a bar). */
  progress?: SearchProgress;
  /** A GPU context to use (else one is created and destroyed). */
  gpu?: GpuContext;
  /**
   * Compute only this shard's classes of each stage and write its sums to
   * `<out>/stage<k>/shard-<i>-of-<n>/` instead of the stage files; the
   * merge (src/shard/merge_stage.ts) joins the shards.
   */
  shard?: ShardSpec;
}

/** Defaults of the search options (the reference's where it has one). */
export const kSearchDefaults = {
  candidates: 500,
  proportion: 0.8,
  top: 10,
  split: 0.05,
  batchSize: 64,
  seed: 42,
  symmetry: "exact" as SymmetryMode,
  loss: "class-ce" as LossKind,
  lineage: "per-class" as Lineage,
  maskSpace: "normalized" as MaskSpace,
  resize: "squash" as ResizeMode,
  normalize: "imagenet",
  backend: "wasm" as const,
  checkpointSeconds: 120,
};

/**
 * The option key of {@link SearchOptions} that sets each key of the stage
 * configuration (what a resume compares); the command line maps option keys
 * to its flags.
 */
export const kSearchConfigOptions: Readonly<Record<string, string>> = {
  modelSha256: "model",
  imageSize: "model",
  numLogits: "model",
  subset: "data",
  images: "data",
  classes: "classes",
  stage: "stages",
  candidates: "candidates",
  proportion: "proportion",
  top: "top",
  split: "split",
  perClass: "perClass",
  batchSize: "batchSize",
  blockImages: "blockImages",
  seed: "seed",
  symmetry: "symmetry",
  loss: "loss",
  lineage: "lineage",
  maskSpace: "maskSpace",
  resize: "resize",
  cropPct: "cropPct",
  interpolation: "interpolation",
  normalization: "normalize",
  backend: "backend",
  parent: "from",
  race: "race",
};

/**
 * Option keys the search names in its errors: `OptionError.option` (a bad
 * value) and `ConfigMismatchError.option` (a resume under another
 * configuration); `mean` and `std` are the parts of `normalize`.
 */
export const kSearchOptionKeys: readonly string[] = [
  ...new Set([
    ...Object.values(kSearchConfigOptions),
    "stages",
    "data",
    "normalize",
    "mean",
    "std",
  ]),
];

function checkRange(
  option: string,
  v: number,
  ok: boolean,
  what: string,
): void {
  if (!ok || !Number.isFinite(v)) {
    throw new OptionError(option, `${what}, got ${v}`);
  }
}

function atLeast3(v: number): boolean {
  return Number.isInteger(v) && v >= 3;
}

function checkPositiveInt(option: string, v: number): void {
  checkRange(
    option,
    v,
    Number.isInteger(v) && v >= 1,
    "expected a positive integer",
  );
}

/** The search options with defaults filled in and checked. */
export interface SearchConfig {
  candidates: number;
  proportion: number;
  top: number;
  split: number;
  perClass: number | undefined;
  batchSize: number;
  blockImages: number;
  seed: number;
  symmetry: SymmetryMode;
  loss: LossKind;
  lineage: Lineage;
  maskSpace: MaskSpace;
  resize: ResizeMode;
  /** Centre-crop fraction; null unless `resize` is "crop". */
  cropPct: number | null;
  interpolation: Interpolation;
  backend: "wasm" | "webgpu";
  /** The given normalisation (undefined: the model's, resolved when it is open). */
  normalize: Normalization | undefined;
  stages: number[];
  checkpointSeconds: number;
  /** Racing parameters, null for exhaustive evaluation. */
  race: RaceParams | null;
}

/**
 * Fill in the defaults of the search options and check them, before any file
 * is opened.
 *
 * @throws OptionError naming the option key of a bad value
 */
export function resolveSearchConfig(opts: SearchOptions): SearchConfig {
  const d = kSearchDefaults;
  const batchSize = opts.batchSize ?? d.batchSize;
  const resize = opts.resize ?? d.resize;
  const c: SearchConfig = {
    candidates: opts.candidates ?? d.candidates,
    proportion: opts.proportion ?? d.proportion,
    top: opts.top ?? d.top,
    split: opts.split ?? d.split,
    perClass: opts.perClass,
    batchSize,
    blockImages: opts.blockImages ?? Math.min(batchSize, 16),
    seed: opts.seed ?? d.seed,
    symmetry: opts.symmetry ?? d.symmetry,
    loss: opts.loss ?? d.loss,
    lineage: opts.lineage ?? d.lineage,
    maskSpace: opts.maskSpace ?? d.maskSpace,
    resize,
    cropPct: resize === "crop" ? (opts.cropPct ?? kDefaultCropPct) : null,
    interpolation: opts.interpolation ?? kDefaultInterpolation,
    backend: opts.backend ?? d.backend,
    normalize: opts.normalize === undefined
      ? undefined
      : normalization(opts.normalize),
    stages: [...opts.stages],
    checkpointSeconds: opts.checkpointSeconds ?? d.checkpointSeconds,
    race: opts.race ? { ...opts.race, top: opts.top ?? d.top } : null,
  };
  const fraction = (v: number) => v > 0 && v <= 1;
  checkRange(
    "candidates",
    c.candidates,
    atLeast3(c.candidates),
    "expected an integer >= 3",
  );
  checkRange(
    "proportion",
    c.proportion,
    fraction(c.proportion),
    "expected a value in (0, 1]",
  );
  checkPositiveInt("top", c.top);
  if (c.race) checkRaceParams(c.race);
  checkRange(
    "split",
    c.split,
    fraction(c.split),
    "expected a fraction in (0, 1]",
  );
  checkPositiveInt("batchSize", c.batchSize);
  checkRange("seed", c.seed, Number.isInteger(c.seed), "expected an integer");
  if (c.perClass !== undefined) checkPositiveInt("perClass", c.perClass);
  if (c.stages.length === 0) {
    throw new OptionError("stages", "no stage given");
  }
  if (opts.shard && c.race) {
    throw new OptionError(
      "race",
      "racing cannot run in shards yet (a shard's dropped candidates would not merge): race unsharded",
    );
  }
  if (opts.shard && c.stages.length > 1) {
    throw new OptionError(
      "shard",
      "a shard computes one stage: merge the shards of a stage before the next stage starts",
    );
  }
  for (let i = 1; i < c.stages.length; i++) {
    if (c.stages[i] !== c.stages[i - 1]! + 1) {
      throw new OptionError(
        "stages",
        `stages must be consecutive, got ${c.stages.join(",")}`,
      );
    }
  }
  if (!opts.dataset && !opts.data) {
    throw new OptionError("data", "no dataset given");
  }
  return c;
}
