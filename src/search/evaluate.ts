/**
 * The evaluation loop of one search stage: images outer, candidates inner.
 *
 * The stage's images are visited in a fixed order, cut into fixed blocks
 * (a block never mixes candidate pools). For each block the images are
 * decoded and preprocessed once, forward-transformed once
 * (`SpectralFilter.load`), and then every candidate of the block's pool is
 * applied in chunks of `floor(batchSize / blockImages)` candidates, so each
 * model call sees `chunk × blockImages ≈ batchSize` rows (candidate-major, the
 * layout `SpectralFilter.apply` returns). Per-row cross-entropy is added to
 * the per-(candidate, class) accumulators in (block, chunk, candidate, image)
 * order; for any one accumulator cell this is image order, so results do not
 * depend on where a run was interrupted.
 *
 * Overlap: the next block's images are decoded while the current block is
 * evaluated, and the next chunk's filter pass (GPU) is submitted before the
 * current chunk's model call is awaited.
 *
 * Checkpoints are taken at every block end and, within long blocks, at chunk
 * boundaries once `checkpointSeconds` have passed since the last one.
 */
import type { ClassLossAccumulator } from "./loss.ts";
import { crossEntropyRows } from "../model/cross_entropy.ts";
import type { Checkpoint, Position } from "./checkpoint.ts";

/** What the loop needs from the spectral engine (`SpectralFilter`). */
export interface FilterPort<M extends { readonly count: number }> {
  load(images: Float32Array, count: number): void;
  uploadMasks(masks: Uint8Array, count: number): M;
  apply(
    masks: M,
    opts?: {
      first?: number;
      count?: number;
      scale?: ArrayLike<number>;
      offset?: ArrayLike<number>;
    },
  ): Promise<Float32Array>;
}

/** What the loop needs from the model (`ModelSession`). */
export interface ModelPort {
  run(x: Float32Array, batch: number): Promise<Float32Array>;
}

/** Decoded, preprocessed images of one block. */
export interface LoadedImages {
  /** `[n, C, S, S]` float32, ready for `SpectralFilter.load`. */
  tensor: Float32Array;
  /** Subset indices actually loaded (unreadable images are left out), in order. */
  indices: number[];
}

/** One block of the fixed schedule. */
export interface Block {
  /** Subset indices, in visiting order. */
  indices: number[];
  /** Class position whose pool the block uses (any of its classes when shared). */
  pool: number;
}

/** Inputs of {@link evaluateStage}. */
export interface EvaluateOptions<M extends { readonly count: number }> {
  blocks: Block[];
  /** Class position of every subset image. */
  classOf: ArrayLike<number>;
  /** Model logit index of every subset image. */
  targetOf: ArrayLike<number>;
  /** Reference batch weight `1/B_b` of every subset image. */
  weightOf: ArrayLike<number>;
  numLogits: number;
  batchSize: number;
  /** Candidates per pool. */
  numCandidates: number;
  /** Pool key of a class position (blocks with equal keys share uploaded masks). */
  poolKey(c: number): string;
  /** Candidate masks `[numCandidates, S, S]` of a class position's pool. */
  poolMasks(c: number): Uint8Array;
  loadImages(indices: number[]): Promise<LoadedImages>;
  filter: FilterPort<M>;
  model: ModelPort;
  /** Per-channel affine applied by the filter pass (pixel-space masking). */
  scale?: ArrayLike<number>;
  offset?: ArrayLike<number>;
  acc: ClassLossAccumulator;
  /** Where to start (from a checkpoint). */
  start: Position;
  checkpoint?: Checkpoint;
  /** Minimum seconds between mid-block checkpoints (block ends always save). */
  checkpointSeconds?: number;
  /** Figures carried over from earlier runs. */
  prior?: { evaluations: number; images: number; seconds: number };
  /**
   * Prefetch the next block's images and submit the next filter pass before
   * awaiting the model (default true); false runs every step in turn.
   */
  overlap?: boolean;
  /** Called after every chunk with the evaluations it added. */
  onProgress?: (evaluations: number) => void;
}

/** Where the time of an {@link evaluateStage} call went. */
export interface StageTimings {
  /**
   * Seconds the loop spent awaiting the model, the filter pass (the part not
   * hidden behind the previous model call) and the block's images (the part
   * not hidden behind the previous block).
   */
  modelSeconds: number;
  filterSeconds: number;
  loadSeconds: number;
  /** Seconds generating and uploading masks and forward-transforming blocks. */
  prepareSeconds: number;
  /** Seconds in cross-entropy and accumulation. */
  lossSeconds: number;
  /** Seconds writing checkpoints. */
  checkpointSeconds: number;
}

/** Figures of one {@link evaluateStage} call. */
export interface EvaluateResult {
  /** Candidate × image evaluations done by this call. */
  evaluations: number;
  /** Images completed by this call. */
  images: number;
  /** Wall seconds of this call. */
  seconds: number;
  timings: StageTimings;
}

/** Number of candidates per model call for a block of `images` images. */
export function chunkSize(batchSize: number, images: number): number {
  return Math.max(1, Math.floor(batchSize / Math.max(1, images)));
}

/**
 * Run the stage's schedule from `start` to the end, accumulating losses.
 * @returns throughput figures of this call
 */
export async function evaluateStage<M extends { readonly count: number }>(
  o: EvaluateOptions<M>,
): Promise<EvaluateResult> {
  const t0 = performance.now();
  let evaluations = 0, images = 0;
  let modelMs = 0, filterMs = 0, loadMs = 0, prepMs = 0, lossMs = 0;
  let saveMs = 0;
  let lastSave = performance.now();
  const prior = o.prior ?? { evaluations: 0, images: 0, seconds: 0 };
  const save = async (pos: Position) => {
    if (!o.checkpoint) return;
    const ts = performance.now();
    await o.checkpoint.save(pos, o.acc.toBytes(), {
      evaluations: prior.evaluations + evaluations,
      images: prior.images + images,
      seconds: prior.seconds + (performance.now() - t0) / 1000,
    });
    lastSave = performance.now();
    saveMs += lastSave - ts;
  };
  const uploaded: { key: string | null; set: M | null } = {
    key: null,
    set: null,
  };
  const release = () => {
    const s = uploaded.set as unknown as { [Symbol.dispose]?: () => void };
    s?.[Symbol.dispose]?.();
    uploaded.key = null;
    uploaded.set = null;
  };
  const load = (b: Block) => o.loadImages(b.indices);
  const overlap = o.overlap ?? true;
  try {
    let next: Promise<LoadedImages> | null =
      overlap && o.start.block < o.blocks.length
        ? load(o.blocks[o.start.block]!)
        : null;
    for (let bi = o.start.block; bi < o.blocks.length; bi++) {
      const block = o.blocks[bi]!;
      const tl = performance.now();
      const loaded = overlap ? await next! : await load(block);
      loadMs += performance.now() - tl;
      next = overlap && bi + 1 < o.blocks.length
        ? load(o.blocks[bi + 1]!)
        : null;
      const nb = loaded.indices.length;
      const firstChunk = bi === o.start.block ? o.start.chunk : 0;
      if (nb > 0) {
        const tp = performance.now();
        const key = o.poolKey(block.pool);
        if (uploaded.key !== key || !uploaded.set) {
          release();
          uploaded.set = o.filter.uploadMasks(
            o.poolMasks(block.pool),
            o.numCandidates,
          );
          uploaded.key = key;
        }
        const set: M = uploaded.set;
        o.filter.load(loaded.tensor, nb);
        prepMs += performance.now() - tp;
        const cc = chunkSize(o.batchSize, nb);
        const chunks = Math.ceil(o.numCandidates / cc);
        // Rows are candidate-major: row m * nb + b is image b of the block.
        const targets = Int32Array.from(
          { length: cc * nb },
          (_, r) => o.targetOf[loaded.indices[r % nb]!]!,
        );
        const apply = (ch: number) => {
          const first = ch * cc;
          const count = Math.min(cc, o.numCandidates - first);
          const opts: Parameters<FilterPort<M>["apply"]>[1] = { first, count };
          if (o.scale) opts.scale = o.scale;
          if (o.offset) opts.offset = o.offset;
          return o.filter.apply(set, opts);
        };
        let pending: Promise<Float32Array> | null = overlap &&
            firstChunk < chunks
          ? apply(firstChunk)
          : null;
        for (let ch = firstChunk; ch < chunks; ch++) {
          const first = ch * cc;
          const count = Math.min(cc, o.numCandidates - first);
          const tf = performance.now();
          const x = overlap ? await pending! : await apply(ch);
          // Submit the next filter pass before waiting on the model.
          pending = overlap && ch + 1 < chunks ? apply(ch + 1) : null;
          filterMs += performance.now() - tf;
          const tm = performance.now();
          const rows = count * nb;
          const logits = await o.model.run(x, rows);
          const tc = performance.now();
          modelMs += tc - tm;
          const { ce, correct } = crossEntropyRows(logits, {
            rows,
            numLogits: o.numLogits,
            targets: targets.subarray(0, rows),
          });
          for (let m = 0; m < count; m++) {
            for (let b = 0; b < nb; b++) {
              const idx = loaded.indices[b]!;
              const r = m * nb + b;
              o.acc.add(
                first + m,
                o.classOf[idx]!,
                ce[r]!,
                o.weightOf[idx]!,
                correct[r]!,
              );
            }
          }
          lossMs += performance.now() - tc;
          evaluations += rows;
          o.onProgress?.(rows);
          const secs = (performance.now() - lastSave) / 1000;
          if (
            ch + 1 < chunks && o.checkpointSeconds !== undefined &&
            secs >= o.checkpointSeconds
          ) {
            await pending?.catch(() => {});
            await save({ block: bi, chunk: ch + 1 });
          }
        }
        for (const idx of loaded.indices) o.acc.countImage(o.classOf[idx]!);
        images += nb;
      }
      await save({ block: bi + 1, chunk: 0 });
    }
  } finally {
    release();
  }
  return {
    evaluations,
    images,
    seconds: (performance.now() - t0) / 1000,
    timings: {
      modelSeconds: modelMs / 1000,
      filterSeconds: filterMs / 1000,
      loadSeconds: loadMs / 1000,
      prepareSeconds: prepMs / 1000,
      lossSeconds: lossMs / 1000,
      checkpointSeconds: saveMs / 1000,
    },
  };
}
