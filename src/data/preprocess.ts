/**
 * Preprocessing: RGB u8 image to a float32 CHW tensor in [0, 1].
 *
 * Conventions (recorded in every output through `describePreprocess()`):
 * - `squash`: resize to S x S ignoring the aspect ratio (the reference's
 *   search, `Resize((S,S))`).
 * - `crop`: resize the shorter side to `floor(S / cropPct)` keeping the aspect
 *   ratio (longer side truncated as torchvision `Resize(int)`), then take the
 *   centred S x S window (`CenterCrop`, offsets `round((dim - S) / 2)` with
 *   Python's ties-to-even rounding).
 *   The default cropPct 0.875 gives the ImageNet 256 -> 224 evaluation.
 * - Resampling (`interpolation`) is antialiased as PIL and torchvision
 *   `antialias=True`: the filter's support grows with the downscale factor,
 *   weights are renormalised at the borders, pixel centres at +0.5, separable
 *   (horizontal, then vertical).
 *   - `bilinear` (default): a triangle filter, computed in float.
 *   - `bicubic`: PIL's `Image.resize(..., BICUBIC)` (Keys kernel, a = -0.5)
 *     exactly as PIL computes it on 8-bit images: coefficients in 22-bit
 *     fixed point, each pass rounded and clamped to 0..255, so the tensor is
 *     PIL's uint8 result / 255, bit for bit what timm's and torchvision's
 *     PIL-based eval transforms feed a model.
 * - Normalisation is separate (`normalization()`): x_norm = (x - mean) / std
 *   per channel on the [0, 1] tensor.
 */
import { OptionError, UserError } from "../errors.ts";
import type { RgbImage } from "./exif.ts";

/** How an image is brought to S x S. */
export type ResizeMode = "squash" | "crop";

/** Resampling filters (antialiased when downscaling). */
export const kInterpolations = ["bilinear", "bicubic"] as const;

/** Resampling filter (antialiased when downscaling). */
export type Interpolation = typeof kInterpolations[number];

/** The resampling filter when none is given (the bytes hfss has always produced). */
export const kDefaultInterpolation: Interpolation = "bilinear";

/** Default centre-crop fraction (256 -> 224). */
export const kDefaultCropPct = 0.875;

/** Options for `toTensor()`. */
export interface TensorOptions {
  /** Output side S. */
  size: number;
  /** Resize mode. @default "crop" */
  resize?: ResizeMode;
  /** Crop fraction for `crop`: the shorter side is resized to floor(S / cropPct). @default 0.875 */
  cropPct?: number;
  /** Resampling filter. @default "bilinear" */
  interpolation?: Interpolation;
  /** Write into this array instead of allocating (length >= offset + 3*S*S). */
  out?: Float32Array;
  /** Element offset into `out`. @default 0 */
  offset?: number;
}

/** Filter taps for one output coordinate: first input index and weights. */
interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array; // [outCount * maxTaps]
  maxTaps: number;
}

/**
 * Antialiased bilinear (triangle) filter coefficients for output positions
 * `first .. first+count-1` of a resize from `inSize` to `outSize`.
 */
function triangleTaps(
  inSize: number,
  outSize: number,
  first: number,
  count: number,
): Taps {
  const scale = inSize / outSize;
  const support = Math.max(1, scale); // filter half-width in input pixels
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(count);
  const n = new Int32Array(count);
  const weights = new Float32Array(count * maxTaps);
  for (let k = 0; k < count; k++) {
    const center = (first + k + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support + 0.5));
    const hi = Math.min(inSize, Math.floor(center + support + 0.5));
    let sum = 0;
    const base = k * maxTaps;
    let m = 0;
    for (let j = lo; j < hi && m < maxTaps; j++, m++) {
      const t = Math.abs((j + 0.5 - center) / support);
      const w = t < 1 ? 1 - t : 0;
      weights[base + m] = w;
      sum += w;
    }
    if (sum > 0) { for (let i = 0; i < m; i++) weights[base + i]! /= sum; }
    start[k] = lo;
    n[k] = m;
  }
  return { start, count: n, weights, maxTaps };
}

/** The resized full size and the crop window for an image. */
export interface ResizePlan {
  /** Size of the (virtual) resized image before cropping. */
  resizedWidth: number;
  resizedHeight: number;
  /** Top-left of the S x S window in the resized image. */
  left: number;
  top: number;
}

/** Python's `round()` (ties to even), as torchvision's CenterCrop uses. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Compute the resize target and crop window (pure; see module header). */
export function planResize(
  width: number,
  height: number,
  opts: { size: number; resize?: ResizeMode; cropPct?: number },
): ResizePlan {
  const s = opts.size;
  if ((opts.resize ?? "crop") === "squash") {
    return { resizedWidth: s, resizedHeight: s, left: 0, top: 0 };
  }
  const cropPct = opts.cropPct ?? kDefaultCropPct;
  const shorter = Math.floor(s / cropPct + 1e-9);
  let rw: number, rh: number;
  if (width <= height) {
    rw = shorter;
    rh = Math.floor((shorter * height) / width);
  } else {
    rh = shorter;
    rw = Math.floor((shorter * width) / height);
  }
  rw = Math.max(rw, s);
  rh = Math.max(rh, s);
  return {
    resizedWidth: rw,
    resizedHeight: rh,
    left: roundHalfEven((rw - s) / 2),
    top: roundHalfEven((rh - s) / 2),
  };
}

/**
 * Resize (and centre-crop) an RGB image to a float32 [3, S, S] tensor in [0, 1].
 *
 * @example
 * ```ts
 * const x = toTensor(img, { size: 224, resize: "crop", cropPct: 0.875 });
 * // x.length === 3 * 224 * 224
 * ```
 */
export function toTensor(img: RgbImage, opts: TensorOptions): Float32Array {
  const s = opts.size;
  if (!(s > 0) || !Number.isInteger(s)) {
    throw new UserError(
      `Cannot preprocess image: size ${s} is not a positive integer`,
    );
  }
  const cropPct = opts.cropPct ?? kDefaultCropPct;
  if (!(cropPct > 0 && cropPct <= 1)) {
    throw new UserError(
      `Cannot preprocess image: crop fraction ${cropPct} is not in (0, 1]`,
    );
  }
  const interpolation = opts.interpolation ?? kDefaultInterpolation;
  if (interpolation !== "bilinear" && interpolation !== "bicubic") {
    throw new OptionError(
      "interpolation",
      `must be bilinear or bicubic, got ${interpolation}`,
    );
  }
  const plan = planResize(img.width, img.height, opts);
  const out = opts.out ?? new Float32Array(3 * s * s);
  const offset = opts.offset ?? 0;
  const { width: w, height: h } = img;
  const bicubic = interpolation === "bicubic";
  const taps = bicubic ? pilBicubicTaps : triangleTaps;
  resample(
    img,
    taps(w, plan.resizedWidth, plan.left, s),
    taps(h, plan.resizedHeight, plan.top, s),
    s,
    out,
    offset,
    bicubic,
  );
  return out;
}

/**
 * The separable resize into CHW `out`: horizontal pass over the input rows
 * the vertical taps need, then the vertical pass. In float (bilinear), or as
 * PIL's 8-bit path (`fixedPoint`, bicubic): integer taps scaled by 2^22, a
 * +0.5 bias, each pass rounded and clamped to 0..255, the result byte / 255.
 */
function resample(
  img: RgbImage,
  hx: Taps,
  vy: Taps,
  s: number,
  out: Float32Array,
  offset: number,
  fixedPoint: boolean,
): void {
  const { width: w, data } = img;
  const bias = fixedPoint ? kPilOne / 2 : 0;
  // Input rows the vertical pass needs.
  const rowLo = vy.start[0]!;
  const rowHi = vy.start[s - 1]! + vy.count[s - 1]!;
  const rows = rowHi - rowLo;
  // Horizontal pass: [rows, S, 3], values in 0..255.
  const tmp = new Float32Array(rows * s * 3);
  for (let r = 0; r < rows; r++) {
    const src = (rowLo + r) * w * 3;
    const dst = r * s * 3;
    for (let x = 0; x < s; x++) {
      const st = hx.start[x]!;
      const cnt = hx.count[x]!;
      const wb = x * hx.maxTaps;
      let a = bias, b = bias, c = bias;
      for (let t = 0; t < cnt; t++) {
        const wt = hx.weights[wb + t]!;
        const p = src + (st + t) * 3;
        a += wt * data[p]!;
        b += wt * data[p + 1]!;
        c += wt * data[p + 2]!;
      }
      tmp[dst + x * 3] = fixedPoint ? pilClip8(a) : a;
      tmp[dst + x * 3 + 1] = fixedPoint ? pilClip8(b) : b;
      tmp[dst + x * 3 + 2] = fixedPoint ? pilClip8(c) : c;
    }
  }
  // Vertical pass into CHW, scaled to [0, 1].
  const plane = s * s;
  const k = 1 / 255;
  for (let y = 0; y < s; y++) {
    const st = vy.start[y]! - rowLo;
    const cnt = vy.count[y]!;
    const wb = y * vy.maxTaps;
    const o = offset + y * s;
    for (let x = 0; x < s; x++) {
      let a = bias, b = bias, c = bias;
      for (let t = 0; t < cnt; t++) {
        const wt = vy.weights[wb + t]!;
        const p = ((st + t) * s + x) * 3;
        a += wt * tmp[p]!;
        b += wt * tmp[p + 1]!;
        c += wt * tmp[p + 2]!;
      }
      if (fixedPoint) {
        out[o + x] = kByteToUnit[pilClip8(a)]!;
        out[o + plane + x] = kByteToUnit[pilClip8(b)]!;
        out[o + 2 * plane + x] = kByteToUnit[pilClip8(c)]!;
      } else {
        out[o + x] = clamp01(a * k);
        out[o + plane + x] = clamp01(b * k);
        out[o + 2 * plane + x] = clamp01(c * k);
      }
    }
  }
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

// ---------------------------------------------------------------- bicubic --

/** PIL's fixed-point precision for 8-bit resampling (Resample.c PRECISION_BITS). */
const kPilPrecisionBits = 22;
const kPilOne = 2 ** kPilPrecisionBits;

/** Keys' cubic convolution kernel with a = -0.5 (PIL's `bicubic_filter`). */
function bicubicKernel(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/**
 * PIL's bicubic taps for output positions `first .. first+count-1` of a
 * resize from `inSize` to `outSize` (`precompute_coeffs` then
 * `normalize_coeffs_8bpc`): the integer coefficients, scaled by 2^22.
 */
function pilBicubicTaps(
  inSize: number,
  outSize: number,
  first: number,
  count: number,
): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(1, scale);
  const support = 2 * filterScale;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(count);
  const n = new Int32Array(count);
  const weights = new Float32Array(count * maxTaps); // integers < 2^24: exact
  const w = new Float64Array(maxTaps);
  for (let k = 0; k < count; k++) {
    const center = (first + k + 0.5) * scale;
    // C's (int) cast truncates toward zero.
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(center + support + 0.5));
    const m = hi - lo;
    let sum = 0;
    for (let j = 0; j < m; j++) {
      w[j] = bicubicKernel((j + lo - center + 0.5) / filterScale);
      sum += w[j]!;
    }
    for (let j = 0; j < m; j++) {
      const v = sum !== 0 ? w[j]! / sum : w[j]!;
      weights[k * maxTaps + j] = Math.trunc(v * kPilOne + (v < 0 ? -0.5 : 0.5));
    }
    start[k] = lo;
    n[k] = m;
  }
  return { start, count: n, weights, maxTaps };
}

/** PIL's `clip8`: a fixed-point sum (with its +0.5 bias) to 0..255. */
function pilClip8(acc: number): number {
  if (acc <= 0) return 0;
  const v = Math.floor(acc / kPilOne);
  return v > 255 ? 255 : v;
}

/** v / 255 as float32, as `uint8_tensor.float() / 255` gives it. */
const kByteToUnit = Float32Array.from({ length: 256 }, (_, v) => v / 255);

// ---------------------------------------------------------- normalisation --

/** Named normalisation presets. */
export type NormalizeName = "imagenet" | "inception" | "none";

/** Per-channel normalisation x_norm = (x - mean) / std on [0, 1] pixels. */
export interface Normalization {
  /** `imagenet`, `inception`, `none` or `custom`. */
  name: NormalizeName | "custom";
  mean: [number, number, number];
  std: [number, number, number];
}

/** Normalisation presets: torchvision ImageNet mean/std; inception x/127.5 - 1. */
export const kNormalizations: Readonly<Record<NormalizeName, Normalization>> = {
  imagenet: {
    name: "imagenet",
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  },
  inception: { name: "inception", mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  none: { name: "none", mean: [0, 0, 0], std: [1, 1, 1] },
};

/**
 * Resolve a normalisation from a preset name or explicit mean/std (one value
 * or three per list).
 *
 * @example
 * ```ts
 * normalization("inception"); // { name: "inception", mean: [0.5,0.5,0.5], std: [0.5,0.5,0.5] }
 * normalization({ mean: [0.5], std: [0.25] });
 * ```
 */
export function normalization(
  spec: NormalizeName | string | {
    mean: readonly number[];
    std: readonly number[];
  },
): Normalization {
  if (typeof spec === "string") {
    const preset = kNormalizations[spec as NormalizeName];
    if (!preset) {
      throw new OptionError(
        "normalize",
        `expected imagenet, inception or none, got "${spec}"`,
      );
    }
    return { name: preset.name, mean: [...preset.mean], std: [...preset.std] };
  }
  const three = (
    v: readonly number[],
    what: string,
  ): [number, number, number] => {
    if (v.length === 1) return [v[0]!, v[0]!, v[0]!];
    if (v.length === 3) return [v[0]!, v[1]!, v[2]!];
    throw new OptionError(
      what,
      `expected 1 or 3 values, got ${v.length} (${v.join(",")})`,
    );
  };
  const mean = three(spec.mean, "mean");
  const std = three(spec.std, "std");
  if (
    mean.some((m) => !Number.isFinite(m)) ||
    std.some((x) => !(x > 0) || !Number.isFinite(x))
  ) {
    throw new OptionError(
      "normalize",
      `mean ${mean.join(",")} / std ${
        std.join(",")
      }: values must be finite and std > 0`,
    );
  }
  return { name: "custom", mean, std };
}

/**
 * Parse the `normalize`, `mean` and `std` option strings (comma-separated).
 * Explicit mean/std win over the preset; the default preset is `imagenet`.
 */
export function parseNormalizeFlags(
  opts: { normalize?: string; mean?: string; std?: string },
): Normalization {
  if (opts.mean !== undefined || opts.std !== undefined) {
    const nums = (s: string | undefined, dflt: number[]) =>
      s === undefined ? dflt : s.split(",").map((v) => Number(v.trim()));
    return normalization({
      mean: nums(opts.mean, [0, 0, 0]),
      std: nums(opts.std, [1, 1, 1]),
    });
  }
  return normalization(opts.normalize ?? "imagenet");
}

/** Where a resolved normalisation came from. */
export type NormalizationSource = "flag" | "model" | "default";

/** A normalisation and where it came from (recorded in outputs as `source`). */
export interface ResolvedNormalization extends Normalization {
  source: NormalizationSource;
}

/** ONNX `metadata_props` key through which a model declares its normalisation preset. */
export const kNormalizationMetadataKey = "hfss.normalization";

/** The normalisation used when neither the flags nor the model give one. */
export const kDefaultNormalization: NormalizeName = "imagenet";

/**
 * The preset a free-text `normalization` metadata value names: a preset name,
 * or inception's formula `pixel/127.5 - 1` (as the models in ../shared/data
 * state it). Undefined when it is anything else.
 */
function presetFromText(text: string): NormalizeName | undefined {
  const t = text.trim().toLowerCase();
  if (t in kNormalizations) return t as NormalizeName;
  if (/\b(?:x|pixels?)\s*\/\s*127\.5\s*-\s*1(?![\d.])/.test(t)) {
    return "inception";
  }
  return undefined;
}

/**
 * Resolve the normalisation of a command that runs a model: the flags
 * `normalize`/`mean`/`std` options when any is given (source `flag`), else the
 * preset the model declares in its ONNX `metadata_props` under
 * `hfss.normalization` (source `model`; `imagenet`, `inception` or `none`;
 * a plain `normalization` entry counts when it is a preset name or states
 * `pixel/127.5 - 1`, i.e. inception), else `imagenet` (source `default`).
 *
 * @param flags The CLI flags (undefined = not given).
 * @param model The model's info (`ModelSession.info`) or anything with its `metadata`; omit when no model is known.
 * @param modelPath Named in the error when the declared preset is unknown.
 * @throws {UserError} when a flag is invalid, or the model declares an unknown preset and no flag overrides it.
 *
 * @example
 * ```ts
 * const session = await ModelSession.open("model.onnx");
 * const norm = resolveNormalization({}, session.info, session.path);
 * console.log(norm.name, norm.source); // "inception" "model" for the planted model
 * ```
 */
export function resolveNormalization(
  flags: {
    normalize?: string | undefined;
    mean?: string | undefined;
    std?: string | undefined;
  },
  model?: { metadata?: Readonly<Record<string, string>> } | null,
  modelPath?: string,
): ResolvedNormalization {
  if (
    flags.normalize !== undefined || flags.mean !== undefined ||
    flags.std !== undefined
  ) {
    const given: { normalize?: string; mean?: string; std?: string } = {};
    if (flags.normalize !== undefined) given.normalize = flags.normalize;
    if (flags.mean !== undefined) given.mean = flags.mean;
    if (flags.std !== undefined) given.std = flags.std;
    return { ...parseNormalizeFlags(given), source: "flag" };
  }
  const meta = model?.metadata ?? {};
  const declared = meta[kNormalizationMetadataKey];
  if (declared === undefined && meta.normalization !== undefined) {
    const known = presetFromText(meta.normalization);
    if (known) return { ...normalization(known), source: "model" };
  }
  if (declared !== undefined) {
    const name = declared.trim().toLowerCase();
    if (!(name in kNormalizations)) {
      throw new UserError(
        `Cannot use the normalisation "${declared}" declared by model${
          modelPath ? ` "${modelPath}"` : ""
        } (metadata ${kNormalizationMetadataKey}): expected imagenet, inception or none; give a normalisation explicitly`,
      );
    }
    return { ...normalization(name), source: "model" };
  }
  return { ...normalization(kDefaultNormalization), source: "default" };
}

/** Normalise a [B, 3, S, S] tensor in place (S = `size`); returns it. */
export function normalizeTensor(
  x: Float32Array,
  norm: Normalization,
  size: number,
): Float32Array {
  const plane = size * size;
  if (x.length % (3 * plane) !== 0) {
    throw new Error(
      `normalizeTensor(): length ${x.length} is not a multiple of 3*${size}*${size}`,
    );
  }
  if (norm.name === "none") return x;
  const planes = x.length / plane;
  for (let p = 0; p < planes; p++) {
    const c = p % 3;
    const inv = 1 / norm.std[c]!;
    const sub = norm.mean[c]! * inv;
    const base = p * plane;
    for (let i = 0; i < plane; i++) x[base + i] = x[base + i]! * inv - sub;
  }
  return x;
}

/** What preprocessing did, for JSON/CSV outputs and manifests. */
export interface PreprocessRecord {
  size: number;
  resize: ResizeMode;
  crop_pct: number | null;
  resize_shorter: number | null;
  /** `bilinear-antialias` or `bicubic-antialias` (PIL's 8-bit bicubic). */
  interpolation: "bilinear-antialias" | "bicubic-antialias";
  normalize: string;
  mean: number[];
  std: number[];
  /** Where the normalisation came from, when it was resolved (`resolveNormalization()`). */
  normalize_source?: NormalizationSource;
}

/** Record the preprocessing choices (recorded in every output; with `normalize_source` for a resolved normalisation). */
export function describePreprocess(
  opts: {
    size: number;
    resize?: ResizeMode;
    cropPct?: number;
    interpolation?: Interpolation;
  },
  norm: Normalization | ResolvedNormalization,
): PreprocessRecord {
  const resize = opts.resize ?? "crop";
  const cropPct = opts.cropPct ?? kDefaultCropPct;
  const rec: PreprocessRecord = {
    size: opts.size,
    resize,
    crop_pct: resize === "crop" ? cropPct : null,
    resize_shorter: resize === "crop"
      ? Math.floor(opts.size / cropPct + 1e-9)
      : null,
    interpolation: `${opts.interpolation ?? kDefaultInterpolation}-antialias`,
    normalize: norm.name,
    mean: [...norm.mean],
    std: [...norm.std],
  };
  if ("source" in norm) rec.normalize_source = norm.source;
  return rec;
}
