/**
 * Digital corruptions: contrast, elastic transform, pixelate and JPEG, on
 * 8-bit RGB HWC images, as the original generator computes them:
 *
 * - contrast: `(x − mean) · c + mean`, per-channel means;
 * - elastic: a random affine warp (`cv2.warpAffine`, bilinear on OpenCV's
 *   1/32-pixel grid, border reflect-101) then a smooth random displacement
 *   field (`scipy.ndimage.map_coordinates`, order 1, border reflect), in
 *   float32. Draws: the 6 affine jitters, then the 224² x-field, then the
 *   224² y-field uniforms (row-major);
 * - pixelate: PIL `resize(BOX)` down and up, in PIL's 8-bit fixed point;
 * - JPEG: libjpeg's lossy round trip at the severity's quality
 *   (`libjpeg.ts`, what Pillow's save and load do, bit for bit).
 */
import type { Rng } from "../rng.ts";
import { jpegRoundTrip } from "./libjpeg.ts";
import { kConstants, type Severity } from "./registry.ts";
import { gaussianKernel1d } from "./filters.ts";
import { reflectCorrelate2dRows } from "./reflect_convolve.ts";
import { elasticSample, elasticWarp } from "./wasm/elastic.ts";

/** `x / 255` for every 8-bit x: the same doubles as dividing per sample. */
const kUnit = (() => {
  const t = new Float64Array(256);
  for (let i = 0; i < 256; i++) t[i] = i / 255;
  return t;
})();

/**
 * Contrast (deterministic). The means are summed in sample order as before;
 * the output of a channel is then a function of its 8-bit input, so each
 * channel's 256 values are computed once (the same expression).
 */
export function contrast(data: Uint8Array, severity: Severity): Uint8Array {
  const c = kConstants.contrast[severity - 1]!;
  const n = data.length / 3;
  const unit = kUnit;
  let m0 = 0, m1 = 0, m2 = 0;
  for (let i = 0; i < data.length; i += 3) {
    m0 += unit[data[i]!]!;
    m1 += unit[data[i + 1]!]!;
    m2 += unit[data[i + 2]!]!;
  }
  const table = new Uint8Array(768);
  const means = [m0 / n, m1 / n, m2 / n];
  for (let k = 0; k < 3; k++) {
    const m = means[k]!;
    for (let v = 0; v < 256; v++) {
      const x = (unit[v]! - m) * c + m;
      table[k * 256 + v] = Math.trunc((x < 0 ? 0 : x > 1 ? 1 : x) * 255);
    }
  }
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i += 3) {
    out[i] = table[data[i]!]!;
    out[i + 1] = table[256 + data[i + 1]!]!;
    out[i + 2] = table[512 + data[i + 2]!]!;
  }
  return out;
}

/** `cv2.getAffineTransform(src, dst)`: the 2x3 M with dst = M · [src; 1]. */
export function affineFromPoints(
  src: readonly (readonly [number, number])[],
  dst: readonly (readonly [number, number])[],
): number[] {
  const det = (a: number[][]) =>
    a[0]![0]! * (a[1]![1]! * a[2]![2]! - a[1]![2]! * a[2]![1]!) -
    a[0]![1]! * (a[1]![0]! * a[2]![2]! - a[1]![2]! * a[2]![0]!) +
    a[0]![2]! * (a[1]![0]! * a[2]![1]! - a[1]![1]! * a[2]![0]!);
  const A = src.map((p) => [p[0], p[1], 1]);
  const d = det(A);
  const m: number[] = [];
  for (const axis of [0, 1]) {
    const b = dst.map((p) => p[axis]!);
    for (let col = 0; col < 3; col++) {
      const Ac = A.map((row, r) => row.map((v, c) => (c === col ? b[r]! : v)));
      m.push(det(Ac) / d);
    }
  }
  return m;
}

/** `gaussianKernel1d(sigma, 3)` per elastic sigma, computed once. */
const kElasticKernels = new Map<number, Float64Array>();

function elasticKernel(sigma: number): Float64Array {
  let w = kElasticKernels.get(sigma);
  if (!w) {
    w = gaussianKernel1d(sigma, 3);
    kElasticKernels.set(sigma, w);
  }
  return w;
}

/** The uniforms' bits of one row, reused across calls. */
let kBits = new Uint32Array(0);

/**
 * Elastic transform (random: the affine jitter and both displacement
 * fields). The warp and the sampling are `wasm/elastic.ts`'s kernel; the
 * fields' Gaussian smoothing is `reflect_convolve.ts`'s (the same sums as
 * `correlateAxis` for short kernels, the DCT route for long).
 */
export function elasticTransform(
  data: Uint8Array,
  size: number,
  severity: Severity,
  rng: Rng,
): Uint8Array {
  const [alpha, sigma, jitter] = kConstants.elastic_transform[severity - 1]!;
  const f = Math.fround;
  const centre = Math.floor(size / 2);
  const sq = Math.floor(size / 3);
  const pts1: [number, number][] = [
    [centre + sq, centre + sq],
    [centre + sq, centre - sq],
    [centre - sq, centre - sq],
  ];
  const pts2 = pts1.map((p) =>
    p.map((v) => f(v + f(-jitter + 2 * jitter * rng.float())))
  ) as [number, number][];
  const { dx, dy } = elasticWarp(data, size, affineFromPoints(pts1, pts2));
  // The uniform fields: `-1 + 2 * rng.float()` per sample, from the same
  // stream a row at a time, x field then y field, straight into the smoothing.
  if (kBits.length !== size) kBits = new Uint32Array(size);
  const bits = kBits;
  const uniforms = (row: Float64Array) => {
    rng.fillU32(bits);
    for (let i = 0; i < size; i++) row[i] = -1 + 2 * (bits[i]! / 4294967296);
  };
  // The displacements: float32 products of the smoothed fields and alpha.
  reflectCorrelate2dRows(
    [uniforms, uniforms],
    size,
    elasticKernel(sigma),
    (row, j, i) => {
      const d = i === 0 ? dx : dy, o = j * size;
      for (let k = 0; k < size; k++) d[o + k] = row[k]! * alpha;
    },
  );
  return elasticSample(size, new Uint8Array(data.length));
}

/** PIL's resampling coefficients for one axis, in its 8-bit fixed point. */
function pilBoxCoeffs(inSize: number, outSize: number) {
  const scale = inSize / outSize;
  const filterscale = Math.max(1, scale);
  const support = 0.5 * filterscale;
  const bounds: [number, number][] = [];
  const coeffs: number[][] = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    const k: number[] = [];
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const t = (x + xmin - center + 0.5) * ss;
      const w = t > -0.5 && t <= 0.5 ? 1 : 0;
      k.push(w);
      ww += w;
    }
    coeffs.push(
      k.map((w) => {
        const v = ww !== 0 ? w / ww : w;
        return Math.trunc(v < 0 ? -0.5 + v * 4194304 : 0.5 + v * 4194304);
      }),
    );
    bounds.push([xmin, xmax]);
  }
  return { bounds, coeffs };
}

/**
 * PIL `Image.resize((ow, oh), BOX)` of an 8-bit RGB image (horizontal pass
 * first). Sums are integers below 2^31 (weights ≥ 0 summing to about 2^22,
 * samples ≤ 255), so PIL's `clip8(ss >> 22)` is an integer shift here.
 */
export function pilBoxResize(
  data: Uint8Array,
  w: number,
  h: number,
  ow: number,
  oh: number,
): Uint8Array {
  let cur = data, cw = w;
  if (ow !== w) {
    const { bounds, coeffs } = pilBoxCoeffs(w, ow);
    const { start, count, weight } = flatten(bounds, coeffs);
    const out = new Uint8Array(ow * h * 3);
    for (let y = 0; y < h; y++) {
      const line = y * cw * 3;
      for (let x = 0; x < ow; x++) {
        const n = count[x]!, k0 = x * start.stride;
        let s0 = 2097152, s1 = 2097152, s2 = 2097152;
        for (let i = 0, p = line + start.at[x]! * 3; i < n; i++, p += 3) {
          const k = weight[k0 + i]!;
          s0 += cur[p]! * k;
          s1 += cur[p + 1]! * k;
          s2 += cur[p + 2]! * k;
        }
        const o = (y * ow + x) * 3;
        out[o] = clip8(s0 >> 22);
        out[o + 1] = clip8(s1 >> 22);
        out[o + 2] = clip8(s2 >> 22);
      }
    }
    cur = out;
    cw = ow;
  }
  if (oh !== h) {
    const { bounds, coeffs } = pilBoxCoeffs(h, oh);
    const { start, count, weight } = flatten(bounds, coeffs);
    const rs = cw * 3;
    const out = new Uint8Array(rs * oh);
    const acc = new Int32Array(rs);
    for (let y = 0; y < oh; y++) {
      const n = count[y]!, k0 = y * start.stride, base = start.at[y]! * rs;
      acc.fill(2097152);
      for (let i = 0; i < n; i++) {
        const k = weight[k0 + i]!, row = base + i * rs;
        for (let x = 0; x < rs; x++) acc[x]! += cur[row + x]! * k;
      }
      const o = y * rs;
      for (let x = 0; x < rs; x++) out[o + x] = clip8(acc[x]! >> 22);
    }
    cur = out;
  }
  return cur;
}

function clip8(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** `pilBoxCoeffs` as flat arrays: first tap, tap count, weights (stride per output). */
function flatten(bounds: [number, number][], coeffs: number[][]) {
  let stride = 0;
  for (const k of coeffs) stride = Math.max(stride, k.length);
  const at = new Int32Array(bounds.length),
    count = new Int32Array(bounds.length);
  const weight = new Int32Array(bounds.length * stride);
  bounds.forEach(([xmin], x) => {
    // Zero weights at either end add exact zeros: leave them out.
    const k = coeffs[x]!;
    let lo = 0, hi = k.length;
    while (lo < hi && k[lo] === 0) lo++;
    while (hi > lo && k[hi - 1] === 0) hi--;
    at[x] = xmin + lo;
    count[x] = hi - lo;
    for (let i = lo; i < hi; i++) weight[x * stride + i - lo] = k[i]!;
  });
  return { start: { at, stride }, count, weight };
}

/** Pixelate (deterministic). */
export function pixelate(
  data: Uint8Array,
  size: number,
  severity: Severity,
): Uint8Array {
  const c = kConstants.pixelate[severity - 1]!;
  const small = Math.trunc(size * c);
  const down = pilBoxResize(data, size, size, small, small);
  return pilBoxResize(down, small, small, size, size);
}

/** JPEG compression (deterministic): libjpeg's round trip at the severity's quality. */
export function jpegCompression(
  data: Uint8Array,
  size: number,
  severity: Severity,
): Uint8Array {
  const q = kConstants.jpeg_compression[severity - 1]!;
  return jpegRoundTrip(data, size, size, q);
}
