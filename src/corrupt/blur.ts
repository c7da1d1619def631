/**
 * Blur corruptions: defocus, glass, motion and zoom blur, on 8-bit RGB HWC
 * 224 x 224 images, as the original generator computes them:
 *
 * - defocus: a disk kernel anti-aliased by `cv2.GaussianBlur`, applied with
 *   `cv2.filter2D` (border reflect-101);
 * - glass: skimage `gaussian`, an 8-bit truncation, local pixel "swaps", and
 *   `gaussian` again. The original's swap assigns through numpy views, so it
 *   copies `x[h', w']` into `x[h, w]` and leaves `x[h', w']` as it was; that
 *   is what ImageNet-C contains, and what is done here. Draws: per visited
 *   pixel, `dx` then `dy`, each `Rng.int(2·δ) − δ` (numpy's `randint(−δ, δ)`);
 * - motion: ImageMagick's motion blur (`motion.ts`), angle uniform in
 *   [−45°, 45°) from one draw;
 * - zoom: the mean of the image and its centre zooms (scipy `zoom`, order 1).
 */
import type { Rng } from "../rng.ts";
import { kConstants, type Severity } from "./registry.ts";
import {
  filter2d,
  gaussianFilter,
  mapIndex,
  toFloat,
  toUint8,
} from "./filters.ts";
import { motionBlur as imMotionBlur, motionKernel } from "./motion.ts";
import { roundHalfEven } from "../data/preprocess.ts";

/** `disk(radius, alias_blur)` of the original, as a k x k float64 kernel. */
export function diskKernel(
  radius: number,
  aliasBlur: number,
): { kernel: Float64Array; k: number } {
  const half = radius <= 8 ? 8 : radius;
  const ks = radius <= 8 ? 3 : 5;
  const k = 2 * half + 1;
  const disk = new Float64Array(k * k);
  let sum = 0;
  for (let y = -half; y <= half; y++) {
    for (let x = -half; x <= half; x++) {
      const v = x * x + y * y <= radius * radius ? 1 : 0;
      disk[(y + half) * k + x + half] = v;
      sum += v;
    }
  }
  for (let i = 0; i < disk.length; i++) disk[i]! /= sum;
  // cv2.getGaussianKernel(ks, sigma) and a separable pass, reflect-101.
  const g = new Float64Array(ks);
  let gs = 0;
  for (let i = 0; i < ks; i++) {
    const x = i - (ks - 1) * 0.5;
    g[i] = Math.exp((-0.5 / (aliasBlur * aliasBlur)) * x * x);
    gs += g[i]!;
  }
  for (let i = 0; i < ks; i++) g[i]! /= gs;
  const r = (ks - 1) >> 1;
  const tmp = new Float64Array(k * k);
  for (let y = 0; y < k; y++) {
    for (let x = 0; x < k; x++) {
      let a = 0;
      for (let i = 0; i < ks; i++) {
        a += g[i]! * disk[y * k + mapIndex(x + i - r, k, "reflect101")]!;
      }
      tmp[y * k + x] = a;
    }
  }
  const kernel = new Float64Array(k * k);
  for (let y = 0; y < k; y++) {
    for (let x = 0; x < k; x++) {
      let a = 0;
      for (let i = 0; i < ks; i++) {
        a += g[i]! * tmp[mapIndex(y + i - r, k, "reflect101") * k + x]!;
      }
      kernel[y * k + x] = a;
    }
  }
  return { kernel, k };
}

/** Defocus blur (deterministic). */
export function defocusBlur(
  data: Uint8Array,
  size: number,
  severity: Severity,
): Uint8Array {
  const [radius, alias] = kConstants.defocus_blur[severity - 1]!;
  const { kernel, k } = diskKernel(radius, alias);
  return toUint8(filter2d(toFloat(data), size, size, 3, kernel, k));
}

/** Glass blur (random: the local shuffles). */
export function glassBlur(
  data: Uint8Array,
  size: number,
  severity: Severity,
  rng: Rng,
): Uint8Array {
  const [sigma, delta, iterations] = kConstants.glass_blur[severity - 1]!;
  const blurred = gaussianFilter(toFloat(data), size, size, 3, sigma);
  const x = new Uint8Array(blurred.length);
  for (let i = 0; i < x.length; i++) {
    x[i] = Math.trunc(blurred[i]! * 255); // np.uint8(... * 255)
  }
  for (let it = 0; it < iterations; it++) {
    for (let h = size - delta; h > delta; h--) {
      for (let w = size - delta; w > delta; w--) {
        const dx = rng.int(2 * delta) - delta;
        const dy = rng.int(2 * delta) - delta;
        const src = ((h + dy) * size + w + dx) * 3;
        const dst = (h * size + w) * 3;
        x[dst] = x[src]!;
        x[dst + 1] = x[src + 1]!;
        x[dst + 2] = x[src + 2]!;
      }
    }
  }
  return toUint8(gaussianFilter(toFloat(x), size, size, 3, sigma));
}

/** Motion blur (random: the angle). */
export function motionBlur(
  data: Uint8Array,
  size: number,
  severity: Severity,
  rng: Rng,
): Uint8Array {
  const [radius, sigma] = kConstants.motion_blur[severity - 1]!;
  const angle = -45 + 90 * rng.float();
  return imMotionBlur(data, size, size, 3, motionKernel(radius, sigma, angle));
}

/** Geometry of `clipped_zoom(img, z)` on an h x h image (see below). */
export function zoomGeometry(
  h: number,
  zoom: number,
): { ch: number; top: number; trim: number; ratio: number } {
  const ch = Math.ceil(h / zoom);
  const top = Math.floor((h - ch) / 2);
  const outSide = roundHalfEven(ch * zoom);
  const ratio = outSide > 1 ? (ch - 1) / (outSide - 1) : 1;
  const trim = Math.floor((outSide - h) / 2);
  return { ch, top, trim, ratio };
}

/**
 * The original's `clipped_zoom(img, z)` on a float64 HWC square image: crop
 * the centre `ceil(h / z)`, zoom it with scipy `zoom(order=1)` (corner-aligned
 * linear interpolation, output side `round(ch · z)`), keep the centre h x h.
 */
export function clippedZoom(
  src: Float64Array,
  h: number,
  channels: number,
  zoom: number,
): Float64Array {
  const { ch, top, trim, ratio } = zoomGeometry(h, zoom);
  // Per output index along one axis: lower source index and weight.
  const i0 = new Int32Array(h);
  const t = new Float64Array(h);
  for (let o = 0; o < h; o++) {
    const cc = (o + trim) * ratio;
    let f = Math.floor(cc);
    if (f > ch - 1) f = ch - 1;
    i0[o] = f;
    t[o] = cc - f;
  }
  // Source offsets (within the crop) of the two taps per axis; a tap that
  // falls past the crop has weight 0 or is never read (t = 0).
  const lo = new Int32Array(h), hi = new Int32Array(h);
  for (let o = 0; o < h; o++) {
    lo[o] = top + i0[o]!;
    hi[o] = top + Math.min(i0[o]! + 1, ch - 1);
  }
  const out = new Float64Array(h * h * channels);
  for (let y = 0; y < h; y++) {
    const ty = t[y]!;
    const r0 = lo[y]! * h, r1 = hi[y]! * h;
    for (let x = 0; x < h; x++) {
      const tx = t[x]!;
      const c0 = lo[x]!, c1 = hi[x]!;
      const p00 = (r0 + c0) * channels, p01 = (r0 + c1) * channels;
      const p10 = (r1 + c0) * channels, p11 = (r1 + c1) * channels;
      const o = (y * h + x) * channels;
      for (let k = 0; k < channels; k++) {
        const a = src[p00 + k]! * (1 - tx) + (tx ? src[p01 + k]! * tx : 0);
        const b = ty
          ? src[p10 + k]! * (1 - tx) + (tx ? src[p11 + k]! * tx : 0)
          : 0;
        out[o + k] = a * (1 - ty) + b * ty;
      }
    }
  }
  return out;
}

/** Zoom blur (deterministic; float32 arithmetic, as the original). */
export function zoomBlur(
  data: Uint8Array,
  size: number,
  severity: Severity,
): Uint8Array {
  const zooms = kConstants.zoom_blur[severity - 1]!;
  const x = new Float32Array(data.length);
  for (let i = 0; i < x.length; i++) x[i] = data[i]! / 255;
  const x64 = Float64Array.from(x);
  const acc = new Float32Array(x.length);
  for (const z of zooms) {
    const zz = clippedZoom(x64, size, 3, z);
    for (let i = 0; i < acc.length; i++) acc[i]! += Math.fround(zz[i]!);
  }
  const n = zooms.length + 1;
  const out = new Uint8Array(x.length);
  for (let i = 0; i < acc.length; i++) {
    const v = Math.fround(Math.fround(x[i]! + acc[i]!) / n);
    out[i] = Math.trunc(Math.fround((v < 0 ? 0 : v > 1 ? 1 : v) * 255));
  }
  return out;
}
