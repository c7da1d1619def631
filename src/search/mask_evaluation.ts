/**
 * The search's engine on its own: evaluate a set of masks over a set of
 * images and add, for every mask and every class, the summed cross-entropy,
 * the hits and the reference-loss terms to a {@link ClassLossAccumulator}.
 * Ranking the masks and writing a stage folder are the caller's (search.ts);
 * anything that scores masks (a search stage, a fixed set of masks, a slice
 * of the images) calls {@link evaluateMasks}.
 *
 * Images are decoded and preprocessed block by block (`blockImages` per
 * filter load, see {@link scheduleBlocks}); masks come from pools: one pool
 * for all classes (`shared`), or one per class, each class's images then
 * meeting only its own pool's masks. Every accumulator cell is summed in
 * image order, so a run resumed at a checkpoint gives the same bytes.
 */
import { readImage } from "../data/decode.ts";
import {
  type Interpolation,
  kDefaultInterpolation,
  type Normalization,
  normalizeTensor,
  type ResizeMode,
  toTensor,
} from "../data/preprocess.ts";
import type { Sample } from "../data/dataset.ts";
import type { SpectralFilter } from "../gpu/spectral_filter.ts";
import type { Checkpoint, CheckpointStats, Position } from "./checkpoint.ts";
import {
  type Block,
  type EvaluateResult,
  evaluateStage,
  type LoadedImages,
  type ModelPort,
} from "./evaluate.ts";
import { ClassLossAccumulator } from "./loss.ts";

/** Where masks are applied. */
export type MaskSpace = "normalized" | "pixel";

/** The masks to evaluate, as pools (`CandidatePools` fits). */
export interface MaskPools {
  /** Masks per pool. */
  readonly count: number;
  /** One pool for every class (true) or one pool per class. */
  readonly shared: boolean;
  /** Pool key of a class position (equal keys share uploaded masks). */
  poolKey(c: number): string;
  /** The masks `[count, S, S]` of a class position's pool. */
  masks(c: number): Uint8Array;
}

/** How images become model input. */
export interface MaskPreprocess {
  size: number;
  resize: ResizeMode;
  cropPct: number;
  /** @default "bilinear" */
  interpolation?: Interpolation;
  norm: Normalization;
  /** `normalized`: mask the normalised image; `pixel`: mask [0,1] pixels, normalise after. */
  maskSpace: MaskSpace;
  /** Refuse (skip with a warning) images above this many pixels. @default kDefaultMaxPixels */
  maxPixels?: number;
}

/** Inputs of {@link evaluateMasks}. */
export interface EvaluateMasksOptions {
  /** The images, in visiting order. */
  images: readonly Sample[];
  /** Class position of every image. */
  classOf: Int32Array;
  /** Model output index of every image. */
  targetOf: Int32Array;
  /** Number of class positions (accumulator columns). */
  numClasses: number;
  numLogits: number;
  masks: MaskPools;
  preprocess: MaskPreprocess;
  /** Rows per model call. */
  batchSize: number;
  /** Images per filter load. */
  blockImages: number;
  /** Reference batch weight `1/B_b` of every image (`referenceBatching`). */
  weightOf: ArrayLike<number>;
  filter: SpectralFilter;
  model: ModelPort;
  /** Accumulators to add to (default: new, zero). */
  acc?: ClassLossAccumulator;
  /** Where to start (from a checkpoint). */
  start?: Position;
  prior?: CheckpointStats;
  checkpoint?: Checkpoint;
  checkpointSeconds?: number;
  overlap?: boolean;
  onProgress?: (evaluations: number) => void;
  /** Warnings (unreadable images). */
  log: (line: string) => void;
}

/**
 * Evaluate every mask of the pools on the images of the classes that meet
 * them; returns the per-mask × per-class accumulators, the block schedule
 * (checkpoint positions count its blocks) and the figures of this call.
 */
export async function evaluateMasks(o: EvaluateMasksOptions): Promise<{
  acc: ClassLossAccumulator;
  blocks: Block[];
  result: EvaluateResult;
}> {
  const { numClasses } = o;
  const acc = o.acc ??
    new ClassLossAccumulator({ numCandidates: o.masks.count, numClasses });
  const blocks = scheduleBlocks(o.classOf, {
    blockImages: o.blockImages,
    numClasses,
  });
  const input = maskInputs(o);
  const masks = o.masks;
  const result = await evaluateStage({
    blocks,
    classOf: o.classOf,
    targetOf: o.targetOf,
    weightOf: o.weightOf,
    numLogits: o.numLogits,
    batchSize: o.batchSize,
    numCandidates: masks.count,
    poolKey: (c) => masks.poolKey(c),
    poolMasks: (c) => masks.masks(c),
    loadImages: input.loadImages,
    filter: o.filter,
    model: o.model,
    ...(input.scale ? { scale: input.scale, offset: input.offset! } : {}),
    acc,
    start: o.start ?? { block: 0, chunk: 0 },
    ...(o.checkpoint ? { checkpoint: o.checkpoint } : {}),
    ...(o.checkpointSeconds !== undefined
      ? { checkpointSeconds: o.checkpointSeconds }
      : {}),
    ...(o.prior ? { prior: o.prior } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.overlap !== undefined ? { overlap: o.overlap } : {}),
  });
  return { acc, blocks, result };
}

/**
 * How images reach the filter: `loadImages` decodes and preprocesses (and
 * normalises, when masks apply to normalised images); with pixel-space
 * masking the filter pass normalises (`scale`, `offset` per channel).
 */
export function maskInputs(
  o: Pick<EvaluateMasksOptions, "images" | "preprocess" | "log">,
): {
  loadImages: (indices: number[]) => Promise<LoadedImages>;
  scale?: number[];
  offset?: number[];
} {
  const p = o.preprocess;
  const pixel = p.maskSpace === "pixel";
  const loadImages = (idx: number[]) =>
    loadBlock(o.images, idx, {
      size: p.size,
      resize: p.resize,
      cropPct: p.cropPct,
      interpolation: p.interpolation ?? kDefaultInterpolation,
      norm: pixel ? null : p.norm,
      ...(p.maxPixels !== undefined ? { maxPixels: p.maxPixels } : {}),
      log: o.log,
    });
  if (!pixel) return { loadImages };
  return {
    loadImages,
    scale: p.norm.std.map((s) => 1 / s),
    offset: p.norm.mean.map((m, c) => -m / p.norm.std[c]!),
  };
}

/**
 * The fixed block schedule: each class's images (in the given order) cut
 * every `blockImages`, class after class, for shared and per-class pools
 * alike. A block never mixes classes, so a shard of whole classes makes the
 * same model calls as the unsharded run and its sums are the same bits.
 */
export function scheduleBlocks(
  classOf: ArrayLike<number>,
  opts: { blockImages: number; numClasses: number },
): Block[] {
  const blocks: Block[] = [];
  const byClass: number[][] = Array.from({ length: opts.numClasses }, () => []);
  for (let i = 0; i < classOf.length; i++) byClass[classOf[i]!]!.push(i);
  byClass.forEach((idx, c) => {
    for (let s = 0; s < idx.length; s += opts.blockImages) {
      blocks.push({ indices: idx.slice(s, s + opts.blockImages), pool: c });
    }
  });
  return blocks;
}

/** Decode and preprocess the images of one block (unreadable ones are skipped with a warning). */
async function loadBlock(
  subset: readonly Sample[],
  indices: number[],
  o: {
    size: number;
    resize: ResizeMode;
    cropPct: number;
    interpolation: Interpolation;
    norm: Normalization | null;
    maxPixels?: number;
    log: (line: string) => void;
  },
): Promise<{ tensor: Float32Array; indices: number[] }> {
  const per = 3 * o.size * o.size;
  const tensor = new Float32Array(indices.length * per);
  const kept: number[] = [];
  const images = await Promise.all(
    indices.map((i) =>
      readImage(
        subset[i]!.path,
        o.maxPixels !== undefined ? { maxPixels: o.maxPixels } : {},
      ).catch((err) => {
        o.log(
          `warning: ${err instanceof Error ? err.message : err}; image skipped`,
        );
        return null;
      })
    ),
  );
  images.forEach((img, j) => {
    if (!img) return;
    toTensor(img, {
      size: o.size,
      resize: o.resize,
      cropPct: o.cropPct,
      interpolation: o.interpolation,
      out: tensor,
      offset: kept.length * per,
    });
    kept.push(indices[j]!);
  });
  const out = tensor.subarray(0, kept.length * per);
  if (o.norm) normalizeTensor(out, o.norm, o.size);
  return { tensor: out, indices: kept };
}
