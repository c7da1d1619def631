/**
 * ImageNet-C generated from a clean image folder, as a dataset: every
 * (corruption, severity) subset of the clean images, produced on the fly
 * while batches are loaded, so no corrupted file is ever written.
 *
 * A generated sample is a clean image path, its label, its subset and its
 * key (the path relative to the clean root: the image's identity in the
 * seed, so the same image gets the same corruption whatever else is
 * evaluated). `loadGeneratedBatches()` has the shape of `loadBatches()`
 * (`src/data/loader.ts`): decode, centre crop 224, corrupt, store round trip
 * (`jpeg`: libjpeg quality 85, as the released files; `png`: none), resize
 * to S, batch. Crops of recently used images are kept (the evaluation visits
 * each image once per subset). With a `GpuBlur`, defocus, motion and zoom blur
 * run on the GPU one batch at a time.
 *
 * With worker threads (`workers`, or a pool kept for a run with
 * `startGenerateWorkers`), every other sample is one job on a worker
 * (`generate_worker.ts`), with the same functions and random streams, so the
 * tensors are the calling thread's bit for bit. An image's jobs go to one
 * worker (by the image's rank in the call), and the evaluation loads a
 * class's images once per subset in the same order, so each image meets the
 * worker that holds its crop; each worker keeps its share of the calling
 * thread's 256 crops.
 * Either way a class of more than 256 images, or a pass over a whole set
 * subset by subset (`--save-adversarial`), decodes every image once per
 * subset: the cache holds recent images only.
 */
import { relative } from "node:path";
import type { Rng } from "../rng.ts";
import { kDefaultMaxPixels, type RgbImage } from "../data/decode.ts";
import {
  type Interpolation,
  kDefaultCropPct,
  kDefaultInterpolation,
  type ResizeMode,
  toTensor,
} from "../data/preprocess.ts";
import {
  type CorruptionSubset,
  kCorruptSize,
  kFamily,
  kUnavailable,
  resolveSubsets,
  subsetName,
} from "./registry.ts";
import { naturalCompare, openDataset, type Sample } from "../data/dataset.ts";
import { UserError } from "../errors.ts";
import {
  corruptCrop,
  type CorruptFormat,
  corruptionRng,
  storedImage,
} from "./corrupt.ts";
import { type GpuBlur, type GpuBlurName, kGpuBlurNames } from "./gpu_blur.ts";
import type { FrostTextures } from "./frost.ts";
import { CropCache } from "./crop_cache.ts";
import { webWorkersAvailable, WorkerPool } from "../worker_pool.ts";

/** One generated image. */
export interface GeneratedSample {
  /** The clean image file. */
  path: string;
  label: number;
  subset: CorruptionSubset;
  /** The image's identity in the seed (path relative to the clean root). */
  key: string;
}

/** One subset of the generated set. */
export interface GeneratedPart {
  /** `corruption/severity`. */
  name: string;
  /** The corruption (per-corruption means). */
  group: string;
  /** The ImageNet-C family folder (`noise`, `blur`, `weather`, `digital`). */
  family: string;
  samples: GeneratedSample[];
}

/**
 * The generated parts of `clean` samples under `root`, in `subsets` order;
 * `limit` subsamples each part (`key` = part name).
 */
export function generatedParts(
  root: string,
  clean: readonly Sample[],
  subsets: readonly CorruptionSubset[],
  limit: (s: Sample[], key: string) => Sample[] = (s) => s,
): GeneratedPart[] {
  return subsets.map((subset) => {
    const name = subsetName(subset);
    return {
      name,
      group: subset.corruption,
      family: kFamily[subset.corruption],
      samples: limit([...clean], name).map((s) => ({
        path: s.path,
        label: s.label,
        subset,
        key: imageKey(root, s.path),
      })),
    };
  });
}

/** True for a sample of a generated set (it carries its subset and key). */
export function isGeneratedSample(
  s: { path: string; label: number },
): s is GeneratedSample {
  const g = s as Partial<GeneratedSample>;
  return typeof g.key === "string" && typeof g.subset === "object" &&
    g.subset !== null;
}

/** Options of {@link generatedOodParts}. */
export interface GeneratedOodOptions {
  /** Class ids to keep. */
  classes: readonly number[];
  /** Subset selectors as for the released ImageNet-C (default: all generated). */
  subsets?: readonly string[] | undefined;
  /** Frost textures are given: frost is generated too. */
  frost?: boolean;
  /** Subsample a part's samples (`key` = part name). */
  limit?: (s: Sample[], key: string) => Sample[];
}

/**
 * The OOD parts of ImageNet-C generated from the clean images at `root`: one
 * part per (corruption, severity), grouped by corruption, in the order the
 * released layout gives them.
 *
 * @throws {OptionError} (key `subsets`) for an unknown subset; (key
 *   `frostTextures`) for frost without textures.
 * @throws {UserError} when `root` is already an ImageNet-C folder.
 */
export async function generatedOodParts(
  root: string,
  options: GeneratedOodOptions,
): Promise<{ parts: GeneratedPart[]; layout: string; notes: string[] }> {
  // Part order as the imagenet-c reader gives the released folders (sorted
  // corruption folders, then severity), so outputs line up with theirs.
  const frost = options.frost ?? false;
  const subsets = resolveSubsets(options.subsets, { frost }).sort((a, b) =>
    naturalCompare(a.corruption, b.corruption) || a.severity - b.severity
  );
  const ds = await openDataset(root, { classes: [...options.classes] });
  if (ds.layout === "imagenet-c") {
    throw new UserError(
      `Cannot generate ImageNet-C from "${root}": it is an ImageNet-C folder already; read it with the imagenet-c layout, or give the clean images`,
    );
  }
  const parts = generatedParts(ds.root, ds.samples, subsets, options.limit);
  return {
    parts,
    layout: "imagenet-c-generate",
    notes: [
      ...ds.notes,
      `generated ImageNet-C from ${ds.layout} images${
        frost
          ? ", frost from the given textures"
          : (options.subsets ?? []).length === 0
          ? `; frost is not generated (${kUnavailable.frost})`
          : ""
      }`,
    ],
  };
}

/** The seed key of an image: its path relative to the clean root, `/`-separated. */
export function imageKey(root: string, path: string): string {
  return relative(root, path).split("\\").join("/");
}

/** Options of {@link loadGeneratedBatches} and {@link corruptMany}. */
export interface GenerateOptions {
  seed: number;
  /** `jpeg` (quality 85, as the released ImageNet-C) or `png` (lossless). */
  format: CorruptFormat;
  /** GPU blurs, or null for the CPU everywhere. */
  gpu?: GpuBlur | null;
  /** The run's frost textures (needed for frost subsets). */
  frost?: FrostTextures | null;
}

/**
 * Crops of the calling thread's path. The evaluation visits a class's images
 * once per subset (class by class, subset by subset), so a class of up to
 * this many images is decoded once; a larger one is decoded once per subset.
 * Worker threads split the same number between them.
 */
const kSharedCache = new CropCache(256);

/**
 * Corrupt clean crops that share one subset (GPU blurs batched when
 * available), then apply the storage round trip.
 */
export async function corruptMany(
  crops: readonly RgbImage[],
  keys: readonly string[],
  subset: CorruptionSubset,
  options: GenerateOptions,
): Promise<RgbImage[]> {
  const rngs: Rng[] = keys.map((k) => corruptionRng(options.seed, k, subset));
  let out: RgbImage[];
  if (
    options.gpu &&
    (kGpuBlurNames as readonly string[]).includes(subset.corruption)
  ) {
    const data = await options.gpu.run(
      subset.corruption as GpuBlurName,
      crops.map((c) => c.data),
      kCorruptSize,
      subset.severity,
      rngs,
    );
    out = data.map((d) => ({
      width: kCorruptSize,
      height: kCorruptSize,
      data: d,
    }));
  } else {
    out = [];
    for (const [i, c] of crops.entries()) {
      out.push(corruptCrop(c, subset, rngs[i]!, options.frost));
    }
  }
  return out.map((img) => storedImage(img, options.format));
}

/** One generated sample for `generate_worker.ts`: everything but the frost textures. */
export interface GenerateJob {
  path: string;
  key: string;
  subset: CorruptionSubset;
  seed: number;
  format: CorruptFormat;
  size: number;
  resize: ResizeMode;
  cropPct: number;
  interpolation: Interpolation;
  maxPixels: number;
}

/** What `generate_worker.ts` is sent once: the frost textures and its crop cache size. */
export interface GenerateInit {
  frost: FrostTextures | null;
  cacheSize: number;
}

/**
 * What `generate_worker.ts` answers: the [3,S,S] tensor, or why it failed;
 * `read` failures (the image) are skipped, `generate` failures (the
 * corruption or the resize) end the run, as on the calling thread.
 */
export type GenerateReply =
  | { id: number; tensor: Float32Array }
  | { id: number; error: string; stage: "read" | "generate" };

/** Worker threads generating samples for {@link loadGeneratedBatches}. */
export type GenerateWorkers = WorkerPool<GenerateJob, GenerateReply>;

/**
 * Start `workers` generator threads holding the run's frost textures (copied
 * once to each); null for none (0, or Web Workers unavailable: the calling
 * thread generates). Keep them for a whole run: each keeps the crops of the
 * images it was given, for their other subsets. Terminate them when done.
 */
export function startGenerateWorkers(
  workers: number,
  options: { frost?: FrostTextures | null } = {},
): GenerateWorkers | null {
  const n = Math.max(0, Math.floor(workers));
  if (n === 0 || !webWorkersAvailable()) return null;
  return new WorkerPool<GenerateJob, GenerateReply>(
    new URL("./generate_worker.ts", import.meta.url),
    n,
    {
      name: "generate",
      // as many crops in all as the calling thread keeps (an image always
      // goes to the same worker, see loadGeneratedBatches)
      init: {
        frost: options.frost ?? null,
        cacheSize: Math.max(32, Math.ceil(kSharedCache.capacity / n)),
      } satisfies GenerateInit,
    },
  );
}

/** Options of {@link loadGeneratedBatches}. */
export interface GeneratedLoaderOptions extends GenerateOptions {
  batchSize: number;
  size: number;
  /** @default "squash" */
  resize?: ResizeMode;
  cropPct?: number;
  /** Of the final resize to S (the 224 crop itself is bilinear, as the original's). */
  interpolation?: Interpolation;
  /** Refuse clean images with more pixels than this. @default kDefaultMaxPixels */
  maxPixels?: number;
  /**
   * Generator threads started for this call (0: the calling thread); ignored
   * when `pool` is given. @default 0
   */
  workers?: number;
  /**
   * Generator threads kept across calls (`startGenerateWorkers`, with the
   * same frost textures as `frost`).
   */
  pool?: GenerateWorkers | null;
  /**
   * Samples generated ahead (in flight) on the workers.
   * @default max(batchSize, 2 * workers + 2)
   */
  concurrency?: number;
  onError?: (sample: GeneratedSample, error: Error) => void;
}

/**
 * Decode, crop, corrupt, store round trip and resize generated samples into
 * `[B, 3, S, S]` batches in [0, 1] (the `loadBatches()` contract; a file that
 * fails goes to `onError` and is skipped). Batches are `batchSize`
 * consecutive samples less those that failed, whatever the threads.
 *
 * On the calling thread (no workers), samples of one batch may mix subsets;
 * each subset's images are corrupted together. With workers, every sample
 * is one job, in sample order, at most `concurrency` in flight (memory stays
 * flat however large the set); the tensors are the calling thread's, bit for
 * bit (same functions, same per-image random streams).
 */
export async function* loadGeneratedBatches(
  samples: readonly GeneratedSample[],
  options: GeneratedLoaderOptions,
): AsyncGenerator<{ samples: GeneratedSample[]; tensor: Float32Array }> {
  const owned = options.pool
    ? null
    : startGenerateWorkers(options.workers ?? 0, options);
  const pool = options.pool ?? owned;
  if (!pool) {
    yield* callingThreadBatches(samples, options);
    return;
  }
  try {
    yield* workerBatches(samples, options, pool);
  } finally {
    owned?.terminate();
  }
}

/** The calling thread's path: decode (cached), corrupt by subset, resize. */
async function* callingThreadBatches(
  samples: readonly GeneratedSample[],
  options: GeneratedLoaderOptions,
): AsyncGenerator<{ samples: GeneratedSample[]; tensor: Float32Array }> {
  const { batchSize } = options;
  const maxPixels = options.maxPixels ?? kDefaultMaxPixels;
  const onError = options.onError ?? ((_s, e) => {
    throw e;
  });
  for (let i = 0; i < samples.length; i += batchSize) {
    const chunk = samples.slice(i, i + batchSize);
    const ok: GeneratedSample[] = [];
    const crops: RgbImage[] = [];
    for (const s of chunk) {
      try {
        crops.push(await kSharedCache.get(s.path, maxPixels));
        ok.push(s);
      } catch (e) {
        onError(s, e instanceof Error ? e : new Error(String(e)));
      }
    }
    if (ok.length === 0) continue;
    const images = await corruptBySubset(crops, ok, options);
    yield { samples: ok, tensor: tensorOf(images, options) };
  }
}

/** Corrupt and store `crops` of `samples`, each subset's together (GPU blurs batched). */
async function corruptBySubset(
  crops: readonly RgbImage[],
  samples: readonly GeneratedSample[],
  options: GenerateOptions,
): Promise<RgbImage[]> {
  const images: RgbImage[] = new Array(samples.length);
  const bySubset = new Map<string, number[]>();
  samples.forEach((s, j) => {
    const k = subsetName(s.subset);
    bySubset.set(k, [...(bySubset.get(k) ?? []), j]);
  });
  for (const idx of bySubset.values()) {
    const out = await corruptMany(
      idx.map((j) => crops[j]!),
      idx.map((j) => samples[j]!.key),
      samples[idx[0]!]!.subset,
      options,
    );
    idx.forEach((j, m) => images[j] = out[m]!);
  }
  return images;
}

/** Resize `images` to the batch tensor. */
function tensorOf(
  images: readonly RgbImage[],
  options: GeneratedLoaderOptions,
): Float32Array {
  const { size } = options;
  const plane = 3 * size * size;
  const tensor = new Float32Array(images.length * plane);
  images.forEach((img, j) =>
    toTensor(img, {
      size,
      resize: options.resize ?? "squash",
      cropPct: options.cropPct ?? kDefaultCropPct,
      ...(options.interpolation
        ? { interpolation: options.interpolation }
        : {}),
      out: tensor,
      offset: j * plane,
    })
  );
  return tensor;
}

/**
 * The workers' path. Each sample not bound for the GPU is one job, on worker
 * `r mod n` where `r` is the rank of the sample's image among the call's
 * distinct images: an image's subsets in one call meet the worker that holds
 * its crop, the workers share the images evenly, and when a class's images
 * come once per subset in the same order (the evaluation's calls) the next
 * call finds them there too. Subsets that run on a `GpuBlur` stay on the
 * calling thread (the GPU device lives there), batched as on the calling
 * thread's path, while the workers work ahead.
 */
async function* workerBatches(
  samples: readonly GeneratedSample[],
  options: GeneratedLoaderOptions,
  pool: GenerateWorkers,
): AsyncGenerator<{ samples: GeneratedSample[]; tensor: Float32Array }> {
  const { batchSize, size } = options;
  const plane = 3 * size * size;
  const maxPixels = options.maxPixels ?? kDefaultMaxPixels;
  const onError = options.onError ?? ((_s, e) => {
    throw e;
  });
  const onGpu = (s: GeneratedSample) =>
    !!options.gpu &&
    (kGpuBlurNames as readonly string[]).includes(s.subset.corruption);
  // A whole batch ahead by default: the workers make the next batch while
  // the caller runs the model on this one (memory: two batches at most).
  const concurrency = Math.max(
    1,
    options.concurrency ?? Math.max(batchSize, 2 * pool.size + 2),
  );
  const base = {
    seed: options.seed,
    format: options.format,
    size,
    resize: options.resize ?? "squash",
    cropPct: options.cropPct ?? kDefaultCropPct,
    interpolation: options.interpolation ?? kDefaultInterpolation,
    maxPixels,
  } as const;

  // Settled results, so an early rejection never becomes an unhandled one.
  type Result =
    | { ok: true; t: Float32Array }
    | { ok: false; e: Error; fatal: boolean };
  const start = (s: GeneratedSample, worker: number): Promise<Result> =>
    pool.run({ ...base, path: s.path, key: s.key, subset: s.subset }, {
      worker,
    }).then(
      (r): Result =>
        "tensor" in r ? { ok: true, t: r.tensor } : {
          ok: false,
          e: r.stage === "read" ? new UserError(r.error) : new Error(r.error),
          fatal: r.stage !== "read",
        },
      (e): Result => ({
        ok: false,
        e: e instanceof Error ? e : new Error(String(e)),
        fatal: true,
      }),
    );
  const inflight: Promise<Result>[] = [];
  let next = 0;
  const rank = new Map<string, number>();
  const fill = () => {
    while (inflight.length < concurrency && next < samples.length) {
      const s = samples[next++]!;
      if (onGpu(s)) continue;
      let r = rank.get(s.path);
      if (r === undefined) rank.set(s.path, r = rank.size);
      inflight.push(start(s, r));
    }
  };

  for (let i = 0; i < samples.length; i += batchSize) {
    const chunk = samples.slice(i, i + batchSize);
    const ok: GeneratedSample[] = [];
    const done: (Float32Array | null)[] = [];
    const gpuSamples: GeneratedSample[] = [];
    const gpuCrops: RgbImage[] = [];
    fill();
    for (const s of chunk) {
      if (onGpu(s)) {
        try {
          gpuCrops.push(await kSharedCache.get(s.path, maxPixels));
          gpuSamples.push(s);
          ok.push(s);
          done.push(null);
        } catch (e) {
          onError(s, e instanceof Error ? e : new Error(String(e)));
        }
        continue;
      }
      const r = await inflight.shift()!;
      fill();
      if (!r.ok) {
        if (r.fatal) throw r.e;
        onError(s, r.e);
        continue;
      }
      ok.push(s);
      done.push(r.t);
    }
    if (ok.length === 0) continue;
    const gpuTensor = gpuSamples.length > 0
      ? tensorOf(
        await corruptBySubset(gpuCrops, gpuSamples, options),
        options,
      )
      : null;
    const tensor = new Float32Array(ok.length * plane);
    let g = 0;
    done.forEach((t, j) => {
      if (!t) t = gpuTensor!.subarray(g * plane, (g += 1) * plane);
      tensor.set(t, j * plane);
    });
    yield { samples: ok, tensor };
  }
}
