/**
 * Filter image files with one mask and write the filtered images as PNG.
 *
 * Each image is decoded, resized to S×S (default: the stage's resize mode,
 * else squash) and scaled to [0, 1] pixels. The mask M (fftshifted layout, DC
 * at (S/2, S/2)) is applied per channel: `Re(ifft2(ifftshift(fftshift(fft2(x))
 * · G)))` with G = M (`keep`) or G = 1 − M (`remove`). By default in pixel
 * space; with `maskSpace: "normalized"` the image is normalised first,
 * filtered, then de-normalised for display (what the model sees in the
 * reference's search, which masks after `Normalize`). Values outside [0, 1]
 * (a mask without DC gives a zero-mean image) are clipped for the 8-bit PNG;
 * the fractions clipped are reported.
 */
import { basename, extname, join } from "node:path";
import { OptionError } from "../errors.ts";
import { readImage } from "../data/decode.ts";
import {
  type Interpolation,
  kDefaultCropPct,
  kDefaultInterpolation,
  kDefaultNormalization,
  type Normalization,
  normalization,
  type NormalizationSource,
  normalizeTensor,
  type ResizeMode,
  toTensor,
} from "../data/preprocess.ts";
import { encodeRgbPng } from "../dfm/render.ts";
import { applySymmetry, type SymmetryMode } from "../dfm/symmetry.ts";
import {
  type LoadedMask,
  loadNpyMask,
  loadStageMask,
} from "../dfm/mask_source.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { createMaskFilter, type MaskFilterKind } from "./mask_filter.ts";

/** How the mask's symmetry is treated before filtering. */
export type FilterSymmetry = "as-is" | SymmetryMode;

/** Where the mask comes from. */
export type MaskSource =
  | { stage: string; class: string; rank?: number }
  | { npy: string };

/** Options of {@linkcode filterImages}. */
export interface FilterImagesOptions {
  source: MaskSource;
  mode: "keep" | "remove";
  /** Output folder. */
  out: string;
  /** Image size S; must match the mask when given. */
  size?: number;
  resize?: ResizeMode;
  cropPct?: number;
  /** Resampling filter. Default: the stage's, else bilinear. */
  interpolation?: Interpolation;
  /** Default "as-is". */
  symmetry?: FilterSymmetry;
  /** Default "pixel". */
  maskSpace?: "pixel" | "normalized";
  /** Normalisation preset for `maskSpace: "normalized"` (default: the stage's, else imagenet). */
  normalize?: string;
  /** Also write the resized, unfiltered image. */
  original?: boolean;
  /** Images per filter batch (default 8). */
  batchSize?: number;
  /** Where to filter (default auto). */
  filter?: MaskFilterKind;
  onWarning?: (message: string) => void;
}

/** One written image. */
export interface FilterOutput {
  input: string;
  output: string;
  original?: string;
  /** Fraction of values below 0 / above 1 before clipping. */
  clippedLow: number;
  clippedHigh: number;
}

/** What {@linkcode filterImages} did. */
export interface FilterResult {
  mask: {
    source: string;
    class?: { position: number; index: number; wnid?: string; name?: string };
    rank?: number;
    size: number;
    mode: "keep" | "remove";
    symmetry: FilterSymmetry;
    keptFraction: number;
  };
  masking: "pixel" | "normalized";
  /**
   * With `masking: "normalized"`: the normalisation and where it came from
   * (the `normalize` option, the stage's manifest, or the default imagenet).
   */
  normalization?: Normalization & {
    source: NormalizationSource | "stage";
  };
  resize: ResizeMode;
  cropPct: number | null;
  interpolation: Interpolation;
  outputs: FilterOutput[];
}

function uniqueStems(paths: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return paths.map((p) => {
    const stem = basename(p, extname(p)).replace(/[^A-Za-z0-9_.-]/g, "_") ||
      "image";
    const n = seen.get(stem) ?? 0;
    seen.set(stem, n + 1);
    return n === 0 ? stem : `${stem}_${n + 1}`;
  });
}

/** [3,S,S] float (any range) → clipped RGB8 PNG bytes, with clip counts. */
function toPng(
  x: Float32Array,
  offset: number,
  size: number,
): { png: Uint8Array; low: number; high: number } {
  const plane = size * size;
  const rgb = new Uint8Array(plane * 3);
  let low = 0, high = 0;
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      let v = x[offset + c * plane + i]!;
      if (v < 0) {
        low++;
        v = 0;
      } else if (v > 1) {
        high++;
        v = 1;
      }
      rgb[i * 3 + c] = Math.round(v * 255);
    }
  }
  const png = encodeRgbPng({ width: size, height: size, data: rgb });
  return { png, low: low / (3 * plane), high: high / (3 * plane) };
}

/**
 * Filter image files with a stage's DFM or a `.npy` mask and write PNGs to
 * `opts.out` (`<stem>_keep.png` / `<stem>_remove.png`, and
 * `<stem>_original.png` with `original`).
 */
export async function filterImages(
  images: readonly string[],
  opts: FilterImagesOptions,
): Promise<FilterResult> {
  const src = opts.source;
  const loaded: LoadedMask = "npy" in src
    ? await loadNpyMask(src.npy)
    : await loadStageMask(src.stage, src.class, src.rank ?? 0);
  const s = loaded.size;
  if (opts.size !== undefined && opts.size !== s) {
    throw new OptionError(
      "size",
      `the mask "${loaded.source}" is ${s}×${s}, not ${opts.size}×${opts.size}`,
    );
  }
  const symmetry = opts.symmetry ?? "as-is";
  let mask = loaded.mask;
  if (symmetry !== "as-is") mask = applySymmetry(mask, s, symmetry);
  const mode = opts.mode;
  if (mode === "remove") mask = mask.map((v) => 1 - v);
  const keptFraction = mask.reduce((a, v) => a + v, 0) / mask.length;
  const resize = opts.resize ?? loaded.resize ?? "squash";
  const cropPct = resize === "crop"
    ? opts.cropPct ?? loaded.cropPct ?? kDefaultCropPct
    : null;
  const interpolation = opts.interpolation ?? loaded.interpolation ??
    kDefaultInterpolation;
  const masking = opts.maskSpace ?? "pixel";
  const norm: FilterResult["normalization"] = masking === "normalized"
    ? (opts.normalize !== undefined
      ? { ...normalization(opts.normalize), source: "flag" }
      : loaded.normalization
      ? { ...loaded.normalization, source: "stage" }
      : { ...normalization(kDefaultNormalization), source: "default" })
    : undefined;
  const batch = Math.max(1, Math.min(opts.batchSize ?? 8, images.length));
  const stems = uniqueStems(images);
  const outputs: FilterOutput[] = [];
  await Deno.mkdir(opts.out, { recursive: true });

  using filter = await createMaskFilter({
    size: s,
    maxImages: batch,
    kind: opts.filter ?? "auto",
    ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
  });
  const plane = 3 * s * s;
  for (let first = 0; first < images.length; first += batch) {
    const chunk = images.slice(first, first + batch);
    const x = new Float32Array(chunk.length * plane);
    const originals: Uint8Array[] = [];
    for (let b = 0; b < chunk.length; b++) {
      const img = await readImage(chunk[b]!);
      toTensor(img, {
        size: s,
        resize,
        cropPct: cropPct ?? kDefaultCropPct,
        interpolation,
        out: x,
        offset: b * plane,
      });
      if (opts.original) originals.push(toPng(x, b * plane, s).png);
    }
    if (norm) normalizeTensor(x, norm, s);
    const y = await filter.apply(
      x,
      chunk.length,
      mask,
      norm ? { scale: norm.std, offset: norm.mean } : {},
    );
    for (let b = 0; b < chunk.length; b++) {
      const stem = stems[first + b]!;
      const { png, low, high } = toPng(y, b * plane, s);
      const output = join(opts.out, `${stem}_${mode}.png`);
      await writeFileAtomic(output, png);
      const rec: FilterOutput = {
        input: chunk[b]!,
        output,
        clippedLow: low,
        clippedHigh: high,
      };
      if (opts.original) {
        rec.original = join(opts.out, `${stem}_original.png`);
        await writeFileAtomic(rec.original, originals[b]!);
      }
      outputs.push(rec);
    }
  }
  const result: FilterResult = {
    mask: {
      source: loaded.source,
      size: s,
      mode,
      symmetry,
      keptFraction,
    },
    masking,
    resize,
    cropPct,
    interpolation,
    outputs,
  };
  if (loaded.klass) result.mask.class = loaded.klass;
  if (loaded.rank !== undefined) result.mask.rank = loaded.rank;
  if (norm) result.normalization = norm;
  return result;
}
