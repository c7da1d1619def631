/**
 * Linear filters on float64 HWC images, with the border rules of the
 * libraries the original ImageNet-C generator called:
 *
 * - `nearest`: scipy `mode="nearest"` (skimage's `gaussian` default), edge
 *   value repeated;
 * - `reflect`: scipy `mode="reflect"`, half-sample symmetric (d c b a | a b c d);
 * - `reflect101`: OpenCV `BORDER_REFLECT_101` (d c b | a b c d), the default of
 *   `cv2.filter2D`, `cv2.GaussianBlur` and `cv2.warpAffine` there.
 *
 * Kernels wider than the image fold onto it (the extension is periodic), so
 * any radius costs at most one tap per input pixel.
 */

/** Border rule for samples outside the image. */
export type BorderMode = "nearest" | "reflect" | "reflect101";

/** Map an integer index onto [0, n) under a border rule. */
export function mapIndex(i: number, n: number, mode: BorderMode): number {
  if (i >= 0 && i < n) return i;
  if (n === 1) return 0;
  if (mode === "nearest") return i < 0 ? 0 : n - 1;
  if (mode === "reflect") {
    const p = 2 * n;
    let j = ((i % p) + p) % p;
    if (j >= n) j = p - 1 - j;
    return j;
  }
  const p = 2 * n - 2;
  let j = ((i % p) + p) % p;
  if (j >= n) j = p - j;
  return j;
}

/**
 * scipy's `_gaussian_kernel1d(sigma, 0, radius)` with
 * `radius = int(truncate * sigma + 0.5)`: exp(-x²/2σ²), normalised to sum 1.
 */
export function gaussianKernel1d(sigma: number, truncate = 4): Float64Array {
  const radius = Math.trunc(truncate * sigma + 0.5);
  const w = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let x = -radius; x <= radius; x++) {
    const v = Math.exp((-0.5 / (sigma * sigma)) * x * x);
    w[x + radius] = v;
    sum += v;
  }
  for (let i = 0; i < w.length; i++) w[i]! /= sum;
  return w;
}

/** Per output index, the folded (input index, weight) taps of a centred kernel. */
interface Taps {
  start: Int32Array;
  count: Int32Array;
  index: Int32Array;
  weight: Float64Array;
}

/**
 * Each output's taps in order of first appearance as the kernel is walked
 * left to right, weights of taps that land on the same input summed in
 * that order (so the sums below are always taken in one fixed order).
 */
function foldTaps(n: number, weights: Float64Array, mode: BorderMode): Taps {
  const r = (weights.length - 1) >> 1;
  const start = new Int32Array(n);
  const count = new Int32Array(n);
  const per = Math.min(n, weights.length);
  const index = new Int32Array(n * per);
  const weight = new Float64Array(n * per);
  // slot[j]: where input j sits among this output's taps (-1: not yet).
  const slot = new Int32Array(n).fill(-1);
  let len = 0;
  for (let i = 0; i < n; i++) {
    const s0 = len;
    for (let k = -r; k <= r; k++) {
      const j = mapIndex(i + k, n, mode);
      const at = slot[j]!;
      if (at < 0) {
        slot[j] = len;
        index[len] = j;
        weight[len] = 0 + weights[k + r]!;
        len++;
      } else {
        weight[at]! += weights[k + r]!;
      }
    }
    start[i] = s0;
    count[i] = len - s0;
    for (let t = s0; t < len; t++) slot[index[t]!] = -1;
  }
  return { start, count, index, weight };
}

/** The last few folds (filters are applied twice, per axis or per pass). */
const foldCache: { n: number; mode: BorderMode; w: Float64Array; t: Taps }[] =
  [];

function cachedTaps(n: number, weights: Float64Array, mode: BorderMode): Taps {
  for (const e of foldCache) {
    if (
      e.n === n && e.mode === mode && e.w.length === weights.length &&
      e.w.every((v, i) => Object.is(v, weights[i]))
    ) {
      return e.t;
    }
  }
  const t = foldTaps(n, weights, mode);
  foldCache.unshift({ n, mode, w: weights.slice(), t });
  if (foldCache.length > 4) foldCache.pop();
  return t;
}

/**
 * Scratch space for intermediates, reused between calls: a fresh large
 * typed array costs a page fault per 4 KiB on first touch, which is more
 * than the filtering itself. Only results handed to the caller are fresh.
 */
const scratch: Float64Array[] = [];

function scratchF64(slot: number, n: number): Float64Array {
  let a = scratch[slot];
  if (!a || a.length < n) {
    a = new Float64Array(n);
    scratch[slot] = a;
  }
  return a.length === n ? a : a.subarray(0, n);
}

let scratchBase = new Int32Array(0);

/**
 * `out[o + q] = Σ_t w[t] · src[base[t] + at + q]` for t in [t0, t1) and q in
 * [0, len), each sum taken in t order from 0 (as a one-output loop would),
 * eight outputs at a time so that the sums run side by side.
 */
function dotRows(
  src: Float64Array,
  base: Int32Array,
  w: Float64Array,
  t0: number,
  t1: number,
  at: number,
  len: number,
  out: Float64Array,
  o: number,
): void {
  let q = 0;
  for (; q + 8 <= len; q += 8) {
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    for (let t = t0; t < t1; t++) {
      const wt = w[t]!, b = base[t]! + at + q;
      a0 += wt * src[b]!;
      a1 += wt * src[b + 1]!;
      a2 += wt * src[b + 2]!;
      a3 += wt * src[b + 3]!;
      a4 += wt * src[b + 4]!;
      a5 += wt * src[b + 5]!;
      a6 += wt * src[b + 6]!;
      a7 += wt * src[b + 7]!;
    }
    const d = o + q;
    out[d] = a0;
    out[d + 1] = a1;
    out[d + 2] = a2;
    out[d + 3] = a3;
    out[d + 4] = a4;
    out[d + 5] = a5;
    out[d + 6] = a6;
    out[d + 7] = a7;
  }
  for (; q < len; q++) {
    let a = 0;
    for (let t = t0; t < t1; t++) a += w[t]! * src[base[t]! + at + q]!;
    out[o + q] = a;
  }
}

/** Correlate along the outer axis of an `n x m` array (rows of m values). */
function correlateOuter(
  src: Float64Array,
  n: number,
  m: number,
  taps: Taps,
  out: Float64Array,
): void {
  const { start, count, index, weight } = taps;
  if (scratchBase.length < index.length) {
    scratchBase = new Int32Array(index.length);
  }
  const base = scratchBase;
  for (let t = 0; t < index.length; t++) base[t] = index[t]! * m;
  for (let i = 0; i < n; i++) {
    const s0 = start[i]!;
    dotRows(src, base, weight, s0, s0 + count[i]!, 0, m, out, i * m);
  }
}

/** `dst[x][y][c] = src[y][x][c]` for an `h x w x c` array. */
function transpose(
  src: Float64Array,
  h: number,
  w: number,
  c: number,
  dst: Float64Array,
): void {
  if (c === 1) {
    for (let y = 0; y < h; y++) {
      for (let x = 0, i = y * w; x < w; x++, i++) dst[x * h + y] = src[i]!;
    }
    return;
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * c, j = (x * h + y) * c;
      for (let k = 0; k < c; k++) dst[j + k] = src[i + k]!;
    }
  }
}

/**
 * Correlate a float64 HWC image along one axis (0 = rows/vertical,
 * 1 = columns/horizontal) with a centred 1-D kernel, into `out` (a new
 * array unless given; it must not be `src`).
 * Every output is its taps' sum in `foldTaps` order, whichever loop computes
 * it, so all paths give the same bits.
 */
export function correlateAxis(
  src: Float64Array,
  height: number,
  width: number,
  channels: number,
  axis: 0 | 1,
  weights: Float64Array,
  mode: BorderMode,
  out: Float64Array = new Float64Array(height * width * channels),
): Float64Array {
  if (out === src) {
    throw new RangeError("Cannot correlate in place: out is src");
  }
  return correlateInto(src, height, width, channels, axis, weights, mode, out);
}

/** `correlateAxis` into `out` (which must not be `src`). */
function correlateInto(
  src: Float64Array,
  height: number,
  width: number,
  channels: number,
  axis: 0 | 1,
  weights: Float64Array,
  mode: BorderMode,
  out: Float64Array,
): Float64Array {
  const size = height * width * channels;
  const n = axis === 0 ? height : width;
  const taps = cachedTaps(n, weights, mode);
  const rowStride = width * channels;
  if (axis === 0) {
    correlateOuter(src, height, rowStride, taps, out);
    return out;
  }
  const nw = weights.length, r = (nw - 1) >> 1;
  const x0 = Math.min(r, width), x1 = Math.max(x0, width - r);
  if (2 * (x1 - x0) < width) {
    // Mostly border columns (a wide kernel): transpose, correlate whole
    // rows, transpose back.
    const tin = scratchF64(0, size), tout = scratchF64(1, size);
    transpose(src, height, width, channels, tin);
    correlateOuter(tin, width, height * channels, taps, tout);
    transpose(tout, width, height, channels, out);
    return out;
  }
  // Columns whose taps are the kernel itself on consecutive samples (all
  // but the borders): the taps are shared along the row.
  const shift = new Int32Array(nw);
  for (let k = 0; k < nw; k++) shift[k] = (k - r) * channels;
  const { start, count, index, weight } = taps;
  for (let y = 0; y < height; y++) {
    const line = y * rowStride;
    dotRows(
      src,
      shift,
      weights,
      0,
      nw,
      line + x0 * channels,
      (x1 - x0) * channels,
      out,
      line + x0 * channels,
    );
    for (let x = 0; x < width; x++) {
      if (x === x0) x = x1;
      if (x >= width) break;
      const s0 = start[x]!, cnt = count[x]!, o = line + x * channels;
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < cnt; k++) {
          acc += weight[s0 + k]! * src[line + index[s0 + k]! * channels + c]!;
        }
        out[o + c] = acc;
      }
    }
  }
  return out;
}

/**
 * skimage `gaussian(image, sigma, mode, truncate)` on a float64 HWC image:
 * scipy's `gaussian_filter` over the two spatial axes (rows first), none
 * across channels. Into `out` if given, which may be `src` (a caller done
 * with its input saves a fresh array).
 */
export function gaussianFilter(
  src: Float64Array,
  height: number,
  width: number,
  channels: number,
  sigma: number,
  mode: BorderMode = "nearest",
  truncate = 4,
  out: Float64Array = new Float64Array(height * width * channels),
): Float64Array {
  const w = gaussianKernel1d(sigma, truncate);
  const a = scratchF64(2, height * width * channels);
  correlateInto(src, height, width, channels, 0, w, mode, a);
  return correlateInto(a, height, width, channels, 1, w, mode, out);
}

/**
 * `cv2.filter2D(plane, -1, kernel)` per channel of a float64 HWC image: 2-D
 * correlation with a k x k kernel (k odd, anchor at the centre), border
 * `reflect101`. Taps whose weight is exactly zero are skipped (they add
 * exact zeros), which makes a disk kernel cost its area, not its box.
 * Into `out` if given, which may be `src`.
 */
export function filter2d(
  src: Float64Array,
  height: number,
  width: number,
  channels: number,
  kernel: Float64Array,
  k: number,
  out: Float64Array = new Float64Array(height * width * channels),
): Float64Array {
  const r = (k - 1) >> 1;
  // Pad by r on every side so the inner loop needs no border test.
  const pw = width + 2 * r, ph = height + 2 * r;
  const pad = scratchF64(3, pw * ph * channels);
  const rowIdx = new Int32Array(pw);
  for (let x = 0; x < pw; x++) rowIdx[x] = mapIndex(x - r, width, "reflect101");
  for (let y = 0; y < ph; y++) {
    const sy = mapIndex(y - r, height, "reflect101") * width;
    for (let x = 0; x < pw; x++) {
      const s = (sy + rowIdx[x]!) * channels, d = (y * pw + x) * channels;
      for (let c = 0; c < channels; c++) pad[d + c] = src[s + c]!;
    }
  }
  const offs: number[] = [];
  const ws: number[] = [];
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < k; i++) {
      const w = kernel[j * k + i]!;
      if (w === 0) continue;
      offs.push((j * pw + i) * channels);
      ws.push(w);
    }
  }
  const off = Int32Array.from(offs);
  const wt = Float64Array.from(ws);
  // Output (y, x, c) reads pad at y·pw·C + (x·C + c) + off[t]: one row of
  // outputs shares every tap.
  const line = width * channels;
  for (let y = 0; y < height; y++) {
    dotRows(
      pad,
      off,
      wt,
      0,
      off.length,
      y * pw * channels,
      line,
      out,
      y * line,
    );
  }
  return out;
}

/** `d / 255` for every byte d (the same division, done once). */
const kUnit = Float64Array.from({ length: 256 }, (_, d) => d / 255);

/**
 * 8-bit samples as float64 in [0, 1]: the original's `np.array(x) / 255.`,
 * into `out` if given.
 */
export function toFloat(
  data: Uint8Array,
  out: Float64Array = new Float64Array(data.length),
): Float64Array {
  for (let i = 0; i < data.length; i++) out[i] = kUnit[data[i]!]!;
  return out;
}

/**
 * The original's `np.uint8(np.clip(x, 0, 1) * 255)`: clip, scale, truncate
 * (numpy's float-to-uint8 cast truncates; it does not round).
 */
export function toUint8(x: Float64Array): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    out[i] = Math.trunc((v < 0 ? 0 : v > 1 ? 1 : v) * 255);
  }
  return out;
}
