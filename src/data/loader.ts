/**
 * Streaming batch loader: samples -> decoded, preprocessed [B,3,S,S] float32
 * batches in [0, 1] pixel space (normalise afterwards, see `preprocess.ts`).
 *
 * - Order is the sample order; a file that cannot be read or decoded is
 *   reported through `onError` and skipped, and the run continues (the next
 *   samples fill the batch).
 * - At most `concurrency` images are in flight and at most one batch is held,
 *   so memory stays flat however large the dataset is.
 * - `workers > 0` decodes in a pool of Web Workers (true parallelism next to
 *   inference); `workers = 0` decodes on the calling thread with async
 *   read-ahead (file reads overlap; wasm decode does not). A caller that
 *   loads many small sets (the evaluation: one call per class) keeps one pool
 *   (`startDecodeWorkers`) for all its calls: starting workers costs more
 *   than decoding a few images.
 */
import { UserError } from "../errors.ts";
import { webWorkersAvailable, WorkerPool } from "../worker_pool.ts";
import type { Sample } from "./dataset.ts";
import { kDefaultMaxPixels, readImage } from "./decode.ts";
import {
  type Interpolation,
  kDefaultCropPct,
  kDefaultInterpolation,
  type ResizeMode,
  toTensor,
} from "./preprocess.ts";

/** Options for `loadBatches()`. */
export interface LoaderOptions {
  /** Images per batch. */
  batchSize: number;
  /** Output side S. */
  size: number;
  /** @default "crop" */
  resize?: ResizeMode;
  /** @default 0.875 */
  cropPct?: number;
  /** @default "bilinear" */
  interpolation?: Interpolation;
  /** Images decoded ahead (in flight). @default 2 * max(1, workers) + 2 */
  concurrency?: number;
  /** Refuse images with more pixels than this (from the header). @default kDefaultMaxPixels */
  maxPixels?: number;
  /** Decode workers started for this call; 0 = calling thread. @default 0 */
  workers?: number;
  /** Decode workers kept across calls (`startDecodeWorkers`); replaces `workers`. */
  pool?: DecodeWorkers | null;
  /** Called for each file that fails; the file is skipped. Default: rethrow. */
  onError?: (sample: Sample, error: Error) => void;
}

/** One batch: the samples it holds (failed files removed) and their tensor. */
export interface Batch {
  samples: Sample[];
  /** [samples.length, 3, S, S] float32 in [0, 1]. */
  tensor: Float32Array;
}

type Job = (sample: Sample) => Promise<Float32Array>;

/** One image for `decode_worker.ts`. */
export interface DecodeJob {
  path: string;
  size: number;
  resize: ResizeMode;
  cropPct: number;
  interpolation: Interpolation;
  maxPixels: number;
}

/** What `decode_worker.ts` answers: the [3,S,S] tensor or why it failed. */
export type DecodeReply = { id: number; tensor?: Float32Array; error?: string };

/** Decode worker threads for {@link loadBatches}. */
export type DecodeWorkers = WorkerPool<DecodeJob, DecodeReply>;

/**
 * Start `workers` decode threads to keep across `loadBatches()` calls; null
 * for none (0, or Web Workers unavailable: the calling thread decodes).
 * Terminate them when done.
 */
export function startDecodeWorkers(workers: number): DecodeWorkers | null {
  const n = Math.max(0, Math.floor(workers));
  if (n === 0 || !webWorkersAvailable()) return null;
  return new WorkerPool<DecodeJob, DecodeReply>(
    new URL("./decode_worker.ts", import.meta.url),
    n,
    { name: "decode" },
  );
}

/**
 * Decode and preprocess samples into batches, streaming.
 *
 * @example
 * ```ts
 * for await (const { samples, tensor } of loadBatches(ds.samples, { batchSize: 32, size: 224 })) {
 *   // tensor: [samples.length, 3, 224, 224]
 * }
 * ```
 */
export async function* loadBatches(
  samples: readonly Sample[],
  options: LoaderOptions,
): AsyncGenerator<Batch> {
  const { batchSize, size } = options;
  if (!(batchSize >= 1 && Number.isInteger(batchSize))) {
    throw new UserError(
      `Cannot load batches of ${batchSize} images: expected a positive integer`,
      { exitCode: 2 },
    );
  }
  const resize = options.resize ?? "crop";
  const cropPct = options.cropPct ?? kDefaultCropPct;
  const interpolation = options.interpolation ?? kDefaultInterpolation;
  const owned = options.pool ? null : startDecodeWorkers(options.workers ?? 0);
  const pool = options.pool ?? owned;
  const workers = pool?.size ?? 0;
  const concurrency = Math.max(
    1,
    options.concurrency ?? 2 * Math.max(1, workers) + 2,
  );
  const plane = 3 * size * size;
  const maxPixels = options.maxPixels ?? kDefaultMaxPixels;
  const job: Job = pool
    ? async (s) => {
      const r = await pool.run({
        path: s.path,
        size,
        resize,
        cropPct,
        interpolation,
        maxPixels,
      });
      if (!r.tensor) throw new UserError(r.error ?? "worker failed");
      return r.tensor;
    }
    : async (s) =>
      toTensor(await readImage(s.path, { maxPixels }), {
        size,
        resize,
        cropPct,
        interpolation,
      });
  const onError = options.onError ?? ((_s: Sample, e: Error) => {
    throw e;
  });

  // Settled results, so an early rejection never becomes an unhandled one.
  type Result = { ok: true; t: Float32Array } | { ok: false; e: Error };
  const start = (s: Sample): Promise<Result> =>
    job(s).then(
      (t) => ({ ok: true as const, t }),
      (e) => ({
        ok: false as const,
        e: e instanceof Error ? e : new Error(String(e)),
      }),
    );
  const inflight: Promise<Result>[] = [];
  let next = 0;
  const fill = () => {
    while (inflight.length < concurrency && next < samples.length) {
      inflight.push(start(samples[next++]!));
    }
  };
  try {
    let tensor = new Float32Array(batchSize * plane);
    let held: Sample[] = [];
    let consumed = 0;
    fill();
    while (inflight.length > 0) {
      const r = await inflight.shift()!;
      const sample = samples[consumed++]!;
      fill();
      if (!r.ok) {
        onError(sample, r.e);
        continue;
      }
      tensor.set(r.t, held.length * plane);
      held.push(sample);
      if (held.length === batchSize) {
        yield { samples: held, tensor };
        tensor = new Float32Array(batchSize * plane);
        held = [];
      }
    }
    if (held.length > 0) {
      yield { samples: held, tensor: tensor.slice(0, held.length * plane) };
    }
  } finally {
    owned?.terminate();
  }
}
