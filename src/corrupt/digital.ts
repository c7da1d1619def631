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
import { roundHalfEven } from "../data/preprocess.ts";
import { kConstants, type Severity } from "./registry.ts";
import { gaussianKernel1d, mapIndex } from "./filters.ts";
import { reflectCorrelate2dRows } from "./reflect_convolve.ts";

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

/** `float32(x / 255)` for every 8-bit x. */
const kUnit32 = Float32Array.from(kUnit);

let kReflect101: Int32Array | undefined;

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

/** `mapIndex(i, n, "reflect101")` for i in [−2n, 3n), at i + 2n. */
function reflect101Table(n: number): Int32Array {
  if (kReflect101?.length !== 5 * n) {
    kReflect101 = Int32Array.from(
      { length: 5 * n },
      (_, i) => mapIndex(i - 2 * n, n, "reflect101"),
    );
  }
  return kReflect101;
}

/**
 * OpenCV's bilinear weights on its 1/32-pixel grid, as float32 values:
 * entry (fy·32 + fx)·4 + t for the taps (0,0), (0,1), (1,0), (1,1).
 */
const kWarpWeights = (() => {
  const f = Math.fround;
  const t = new Float64Array(32 * 32 * 4);
  for (let b = 0; b < 32; b++) {
    for (let a = 0; a < 32; a++) {
      const fx = f(a / 32), fy = f(b / 32);
      const o = (b * 32 + a) * 4;
      t[o] = f(f(1 - fy) * f(1 - fx));
      t[o + 1] = f(f(1 - fy) * fx);
      t[o + 2] = f(fy * f(1 - fx));
      t[o + 3] = f(fy * fx);
    }
  }
  return t;
})();

/**
 * `cv2.warpAffine(img, M, (w, h), flags=INTER_LINEAR,
 * borderMode=BORDER_REFLECT_101)` on the float32 HWC image `data / 255`
 * (8-bit `data`): inverse map in OpenCV's fixed point (10-bit coordinates,
 * 5-bit interpolation fractions). The per-column offsets and the 32x32
 * weight grid are tabulated.
 */
export function warpAffine(
  data: Uint8Array,
  size: number,
  channels: number,
  m: readonly number[],
  out: Float32Array = new Float32Array(data.length),
): Float32Array {
  const src = kUnit32;
  let D = m[0]! * m[4]! - m[1]! * m[3]!;
  D = D !== 0 ? 1 / D : 0;
  const a0 = m[4]! * D, a1 = m[1]! * -D, a3 = m[3]! * -D, a4 = m[0]! * D;
  const a2 = -a0 * m[2]! - a1 * m[5]!;
  const a5 = -a3 * m[2]! - a4 * m[5]!;
  const adx = new Int32Array(size), ady = new Int32Array(size);
  for (let x = 0; x < size; x++) {
    adx[x] = roundHalfEven(a0 * x * 1024);
    ady[x] = roundHalfEven(a3 * x * 1024);
  }
  const W = kWarpWeights, C = channels, last = size - 1;
  // reflect101 of i in [lo, hi) at R[i + P] (hi − 1 leaves room for i + 1).
  const R = reflect101Table(size), P = 2 * size, lo = -P, hi = 3 * size - 1;
  for (let y = 0; y < size; y++) {
    const x0 = roundHalfEven((a1 * y + a2) * 1024) + 16;
    const y0 = roundHalfEven((a4 * y + a5) * 1024) + 16;
    for (let x = 0; x < size; x++) {
      const X = (x0 + adx[x]!) >> 5;
      const Y = (y0 + ady[x]!) >> 5;
      const ix = X >> 5, iy = Y >> 5;
      const wo = ((Y & 31) * 32 + (X & 31)) * 4;
      const w0 = W[wo]!, w1 = W[wo + 1]!, w2 = W[wo + 2]!, w3 = W[wo + 3]!;
      let xa = ix, xb = ix + 1, ya = iy, yb = iy + 1;
      if (ix < 0 || ix >= last) {
        if (ix >= lo && ix < hi) {
          xa = R[ix + P]!;
          xb = R[ix + 1 + P]!;
        } else {
          xa = mapIndex(ix, size, "reflect101");
          xb = mapIndex(ix + 1, size, "reflect101");
        }
      }
      if (iy < 0 || iy >= last) {
        if (iy >= lo && iy < hi) {
          ya = R[iy + P]!;
          yb = R[iy + 1 + P]!;
        } else {
          ya = mapIndex(iy, size, "reflect101");
          yb = mapIndex(iy + 1, size, "reflect101");
        }
      }
      const p00 = (ya * size + xa) * C, p01 = (ya * size + xb) * C;
      const p10 = (yb * size + xa) * C, p11 = (yb * size + xb) * C;
      const o = (y * size + x) * C;
      if (C === 3) {
        out[o] = src[data[p00]!]! * w0 + src[data[p01]!]! * w1 +
          src[data[p10]!]! * w2 + src[data[p11]!]! * w3;
        out[o + 1] = src[data[p00 + 1]!]! * w0 + src[data[p01 + 1]!]! * w1 +
          src[data[p10 + 1]!]! * w2 + src[data[p11 + 1]!]! * w3;
        out[o + 2] = src[data[p00 + 2]!]! * w0 + src[data[p01 + 2]!]! * w1 +
          src[data[p10 + 2]!]! * w2 + src[data[p11 + 2]!]! * w3;
        continue;
      }
      for (let c = 0; c < C; c++) {
        out[o + c] = src[data[p00 + c]!]! * w0 + src[data[p01 + c]!]! * w1 +
          src[data[p10 + c]!]! * w2 + src[data[p11 + c]!]! * w3;
      }
    }
  }
  return out;
}

/** Elastic's intermediate images, reused across calls (one size at a time). */
interface ElasticScratch {
  warped: Float32Array;
  fx: Float64Array;
  fy: Float64Array;
  dx: Float32Array;
  dy: Float32Array;
  bits: Uint32Array;
}

let kElastic: ElasticScratch | undefined;

function elasticScratch(n: number): ElasticScratch {
  if (kElastic?.fx.length === n) return kElastic;
  kElastic = {
    warped: new Float32Array(3 * n),
    fx: new Float64Array(n),
    fy: new Float64Array(n),
    dx: new Float32Array(n),
    dy: new Float32Array(n),
    bits: new Uint32Array(Math.sqrt(n)),
  };
  return kElastic;
}

/**
 * Elastic transform (random: the affine jitter and both displacement
 * fields). The fields' Gaussian smoothing is `reflect_convolve.ts`'s (the
 * same sums as `correlateAxis` for short kernels, the DCT route for long).
 */
export function elasticTransform(
  data: Uint8Array,
  size: number,
  severity: Severity,
  rng: Rng,
): Uint8Array {
  const [alpha, sigma, jitter] = kConstants.elastic_transform[severity - 1]!;
  const f = Math.fround;
  const n = size * size;
  const w = elasticScratch(n);
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
  const warped = warpAffine(
    data,
    size,
    3,
    affineFromPoints(pts1, pts2),
    w.warped,
  );
  // The uniform fields: `-1 + 2 * rng.float()` per sample, from the same stream a row at a
  // time, x field then y field, straight into the smoothing.
  const bits = w.bits;
  const uniforms = (row: Float64Array) => {
    rng.fillU32(bits);
    for (let i = 0; i < size; i++) row[i] = -1 + 2 * (bits[i]! / 4294967296);
  };
  // The displacements: float32 products of the smoothed fields and alpha.
  const { dx, dy } = w;
  reflectCorrelate2dRows(
    [uniforms, uniforms],
    size,
    elasticKernel(sigma),
    (row, j, i) => {
      const d = i === 0 ? dx : dy, o = j * size;
      for (let k = 0; k < size; k++) d[o + k] = row[k]! * alpha;
    },
    [w.fx, w.fy],
  );
  // map_coordinates(order=1, mode="reflect") in float64 of float32 samples,
  // rounded to float32; np.clip(float32, 0, 1) * 255 stays float32 before
  // the uint8 cast, which truncates (as storing a value in [0, 255] into a
  // Uint8Array does).
  const res = new Uint8Array(data.length);
  const last = size - 1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      const cy = y + dy[p]!;
      const cx = x + dx[p]!;
      const fy0 = Math.floor(cy), fx0 = Math.floor(cx);
      const ty = cy - fy0, tx = cx - fx0;
      let y0 = fy0, y1 = fy0 + 1, x0 = fx0, x1 = fx0 + 1;
      if (fy0 < 0 || fy0 >= last) {
        y0 = mapIndex(fy0, size, "reflect");
        y1 = mapIndex(fy0 + 1, size, "reflect");
      }
      if (fx0 < 0 || fx0 >= last) {
        x0 = mapIndex(fx0, size, "reflect");
        x1 = mapIndex(fx0 + 1, size, "reflect");
      }
      const q00 = (y0 * size + x0) * 3, q01 = (y0 * size + x1) * 3;
      const q10 = (y1 * size + x0) * 3, q11 = (y1 * size + x1) * 3;
      const sy = 1 - ty, sx = 1 - tx;
      const v0 = f(
        sy * (sx * warped[q00]! + tx * warped[q01]!) +
          ty * (sx * warped[q10]! + tx * warped[q11]!),
      );
      const v1 = f(
        sy * (sx * warped[q00 + 1]! + tx * warped[q01 + 1]!) +
          ty * (sx * warped[q10 + 1]! + tx * warped[q11 + 1]!),
      );
      const v2 = f(
        sy * (sx * warped[q00 + 2]! + tx * warped[q01 + 2]!) +
          ty * (sx * warped[q10 + 2]! + tx * warped[q11 + 2]!),
      );
      const o = p * 3;
      res[o] = f((v0 < 0 ? 0 : v0 > 1 ? 1 : v0) * 255);
      res[o + 1] = f((v1 < 0 ? 0 : v1 > 1 ? 1 : v1) * 255);
      res[o + 2] = f((v2 < 0 ? 0 : v2 > 1 ? 1 : v2) * 255);
    }
  }
  return res;
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
