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
 */
import { relative } from "node:path";
import type { Rng } from "../rng.ts";
import type { RgbImage } from "../data/decode.ts";
import { readImage } from "../data/decode.ts";
import {
  type Interpolation,
  kDefaultCropPct,
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
  centreCrop,
  corruptCrop,
  type CorruptFormat,
  corruptionRng,
  storedImage,
} from "./corrupt.ts";
import { type GpuBlur, type GpuBlurName, kGpuBlurNames } from "./gpu_blur.ts";
import type { FrostTextures } from "./frost.ts";

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

/** Crop cache: the evaluation revisits each image once per subset. */
class CropCache {
  #map = new Map<string, RgbImage>();
  constructor(readonly capacity: number) {}
  async get(path: string): Promise<RgbImage> {
    const hit = this.#map.get(path);
    if (hit) {
      this.#map.delete(path);
      this.#map.set(path, hit);
      return hit;
    }
    const crop = centreCrop(await readImage(path));
    this.#map.set(path, crop);
    if (this.#map.size > this.capacity) {
      this.#map.delete(this.#map.keys().next().value!);
    }
    return crop;
  }
}

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

/**
 * Decode, crop, corrupt, store round trip and resize generated samples into
 * `[B, 3, S, S]` batches in [0, 1] (the `loadBatches()` contract; a file that
 * fails goes to `onError` and is skipped). Samples of one batch may mix
 * subsets; each subset's images are corrupted together.
 */
export async function* loadGeneratedBatches(
  samples: readonly GeneratedSample[],
  options: GenerateOptions & {
    batchSize: number;
    size: number;
    resize?: ResizeMode;
    cropPct?: number;
    /** Of the final resize to S (the 224 crop itself is bilinear, as the original's). */
    interpolation?: Interpolation;
    onError?: (sample: GeneratedSample, error: Error) => void;
  },
): AsyncGenerator<{ samples: GeneratedSample[]; tensor: Float32Array }> {
  const { batchSize, size } = options;
  const plane = 3 * size * size;
  const onError = options.onError ?? ((_s, e) => {
    throw e;
  });
  for (let i = 0; i < samples.length; i += batchSize) {
    const chunk = samples.slice(i, i + batchSize);
    const ok: GeneratedSample[] = [];
    const crops: RgbImage[] = [];
    for (const s of chunk) {
      try {
        crops.push(await kSharedCache.get(s.path));
        ok.push(s);
      } catch (e) {
        onError(s, e instanceof Error ? e : new Error(String(e)));
      }
    }
    if (ok.length === 0) continue;
    const images: RgbImage[] = new Array(ok.length);
    const bySubset = new Map<string, number[]>();
    ok.forEach((s, j) => {
      const k = subsetName(s.subset);
      bySubset.set(k, [...(bySubset.get(k) ?? []), j]);
    });
    for (const idx of bySubset.values()) {
      const out = await corruptMany(
        idx.map((j) => crops[j]!),
        idx.map((j) => ok[j]!.key),
        ok[idx[0]!]!.subset,
        options,
      );
      idx.forEach((j, m) => images[j] = out[m]!);
    }
    const tensor = new Float32Array(ok.length * plane);
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
    yield { samples: ok, tensor };
  }
}
