/**
 * Separable correlation of square single-channel float64 images with a
 * centred symmetric 1-D kernel under scipy's `mode="reflect"` (half-sample
 * symmetric) along axis 0 then axis 1: scipy's `gaussian_filter` as
 * `filters.ts`'s `correlateAxis` computes it, for the elastic transform's
 * displacement fields.
 *
 * - Short kernels: direct sums with the same taps, folded weights and
 *   summation order as `correlateAxis` (the same doubles, bit for bit).
 * - Long kernels (up to ~1000 taps on a 224 axis): reflect mode makes the
 *   line 2n-periodic and even, so the correlation with the kernel folded
 *   modulo 2n is diagonal in the DCT-II basis: y = IDCT(λ · DCT(x)), λ the
 *   2n-point DFT of the folded kernel. The DCTs go through n-point complex
 *   FFTs (Makhoul's permutation, two real lines per complex transform), in
 *   the WebAssembly kernel `wasm/elastic_dct.ts` (two line pairs per SIMD
 *   step). Same values up to float64 rounding (~1e-16 relative), in
 *   O(n log n) per line instead of O(n²); n must be even.
 */
import { mapIndex } from "./filters.ts";
import { spectralImages } from "./wasm/elastic_dct.ts";

/** Kernels with at most this many taps are summed directly (same bits). */
export const kDirectMaxTaps = 31;

/**
 * An input image given row by row: fills `row` (n samples) with row j.
 * Rows are asked for in order 0 … n − 1, each once, and the images one
 * after the other (so a source may draw from a random stream).
 */
export type RowSource = (row: Float64Array, j: number) => void;

/**
 * Receives output row j (n samples, valid during the call) of image i;
 * every row of every image once, in no set order.
 */
export type RowSink = (row: Float64Array, j: number, image: number) => void;

/**
 * Correlate each of `images` (n x n, row-major, or a `RowSource`) along
 * axis 0 then axis 1 with `weights` (odd length, symmetric), border
 * `reflect`. Results go to `out` (one n² array per image) when given;
 * `out[i]` may be `images[i]`.
 */
export function reflectCorrelate2d(
  images: readonly (Float64Array | RowSource)[],
  n: number,
  weights: Float64Array,
  out: Float64Array[] = images.map(() => new Float64Array(n * n)),
): Float64Array[] {
  reflectCorrelate2dRows(images, n, weights, (row, j, i) => {
    if (row.buffer !== out[i]!.buffer) out[i]!.set(row, j * n);
  });
  return out;
}

/**
 * `reflectCorrelate2d` handing each output row to `sink` instead of
 * storing it. Short kernels stream rows through; long kernels hold two
 * images at a time in the DCT kernel's memory.
 */
export function reflectCorrelate2dRows(
  images: readonly (Float64Array | RowSource)[],
  n: number,
  weights: Float64Array,
  sink: RowSink,
): void {
  if (weights.length <= kDirectMaxTaps) {
    const taps = foldedBorderTaps(n, weights);
    images.forEach((img, i) => directRows(img, n, weights, taps, sink, i));
    return;
  }
  const fill = (dst: Float64Array, img: Float64Array | RowSource) => {
    if (typeof img === "function") {
      for (let j = 0; j < n; j++) img(dst.subarray(j * n, j * n + n), j);
    } else dst.set(img);
  };
  // Two images per pass, an odd one out with an all-zero partner.
  for (let i = 0; i < images.length; i += 2) {
    const pair = i + 1 < images.length;
    const s = spectralImages(n, weights);
    fill(s.a, images[i]!);
    if (pair) fill(s.b, images[i + 1]!);
    s.run(!pair);
    for (let j = 0; j < n; j++) {
      sink(s.a.subarray(j * n, j * n + n), j, i);
      if (pair) sink(s.b.subarray(j * n, j * n + n), j, i + 1);
    }
  }
}

/**
 * Per output index, `foldTaps`' (input index, weight) list: the kernel's
 * taps mapped onto [0, n), weights of equal indices summed in kernel order,
 * indices in order of first appearance. Only border indices are stored (the
 * interior's taps are the kernel itself on consecutive samples).
 */
interface BorderTaps {
  r: number;
  start: Int32Array;
  count: Int32Array;
  index: Int32Array;
  weight: Float64Array;
}

function foldedBorderTaps(n: number, weights: Float64Array): BorderTaps {
  const r = (weights.length - 1) >> 1;
  const start = new Int32Array(n), count = new Int32Array(n);
  const index: number[] = [], weight: number[] = [];
  const slot = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    if (i >= r && i < n - r) continue;
    start[i] = index.length;
    for (let k = -r; k <= r; k++) {
      const j = mapIndex(i + k, n, "reflect");
      if (slot[j]! < 0) {
        slot[j] = index.length;
        index.push(j);
        weight.push(0 + weights[k + r]!);
      } else {
        weight[slot[j]!] = weight[slot[j]!]! + weights[k + r]!;
      }
    }
    count[i] = index.length - start[i]!;
    for (let t = start[i]!; t < index.length; t++) slot[index[t]!] = -1;
  }
  return {
    r,
    start,
    count,
    index: Int32Array.from(index),
    weight: Float64Array.from(weight),
  };
}

/** The direct route's row window and row buffer, reused across calls. */
let kWindow = new Float64Array(0);
let kRow = new Float64Array(0);
let kRowOut = new Float64Array(0);

/**
 * Both axes of the direct route, a row at a time. Axis 0 reads its taps
 * from a window holding the input rows y − r … y + r (every tap of output
 * row y lies there, borders included; `src` may be overwritten by the sink
 * as rows come out); the row it gives is then correlated along axis 1 and
 * handed to the sink. Sums as
 * `correlateAxis`: taps in order from 0, border taps folded.
 */
function directRows(
  src: Float64Array | RowSource,
  n: number,
  w: Float64Array,
  t: BorderTaps,
  sink: RowSink,
  image: number,
): void {
  const r = t.r, nw = w.length, W = 2 * r + 1;
  if (kWindow.length !== W * n) kWindow = new Float64Array(W * n);
  if (kRow.length !== n) {
    kRow = new Float64Array(n);
    kRowOut = new Float64Array(n);
  }
  const win = kWindow, row = kRow, rowOut = kRowOut;
  const offs = new Int32Array(nw);
  const load = typeof src === "function"
    ? (j: number) => src(win.subarray((j % W) * n, (j % W) * n + n), j)
    : (j: number) => win.set(src.subarray(j * n, j * n + n), (j % W) * n);
  for (let j = 0; j <= r && j < n; j++) load(j);
  for (let y = 0; y < n; y++) {
    if (y > 0 && y + r < n) load(y + r);
    if (y >= r && y < n - r) {
      for (let k = 0; k < nw; k++) offs[k] = ((y - r + k) % W) * n;
      if (nw === 15) sum15Rows(win, offs, w, row, n);
      else {
        for (let x = 0; x < n; x++) {
          let acc = 0;
          for (let k = 0; k < nw; k++) acc += w[k]! * win[offs[k]! + x]!;
          row[x] = acc;
        }
      }
    } else {
      const s0 = t.start[y]!, cnt = t.count[y]!;
      for (let k = 0; k < cnt; k++) offs[k] = (t.index[s0 + k]! % W) * n;
      for (let x = 0; x < n; x++) {
        let acc = 0;
        for (let k = 0; k < cnt; k++) {
          acc += t.weight[s0 + k]! * win[offs[k]! + x]!;
        }
        row[x] = acc;
      }
    }
    directAxis1Row(row, n, w, t, rowOut, 0);
    sink(rowOut, y, image);
  }
}

/** Axis 1 (along a row): one sum per sample, taps in order. */
function directAxis1Row(
  src: Float64Array,
  n: number,
  w: Float64Array,
  t: BorderTaps,
  out: Float64Array,
  line: number,
): void {
  const r = t.r, nw = w.length;
  const { start, count, index, weight } = t;
  for (let x = 0; x < n; x++) {
    if (x === r && r < n - r) {
      // The interior: the kernel on consecutive samples.
      if (nw === 15) sum15(src, 0, w, out, line + r, n - 2 * r);
      else {
        for (let i = r; i < n - r; i++) {
          let acc = 0;
          for (let k = 0, s = i - r; k < nw; k++, s++) {
            acc += w[k]! * src[s]!;
          }
          out[line + i] = acc;
        }
      }
      x = n - r - 1;
      continue;
    }
    let acc = 0;
    const s0 = start[x]!, cnt = count[x]!;
    for (let k = 0; k < cnt; k++) {
      acc += weight[s0 + k]! * src[index[s0 + k]!]!;
    }
    out[line + x] = acc;
  }
}

/** `sum15` with the 15 taps on rows at `offs` of `win` (one row out). */
function sum15Rows(
  win: Float64Array,
  offs: Int32Array,
  w: Float64Array,
  out: Float64Array,
  len: number,
): void {
  const w0 = w[0]!, w1 = w[1]!, w2 = w[2]!, w3 = w[3]!, w4 = w[4]!;
  const w5 = w[5]!, w6 = w[6]!, w7 = w[7]!, w8 = w[8]!, w9 = w[9]!;
  const w10 = w[10]!, w11 = w[11]!, w12 = w[12]!, w13 = w[13]!, w14 = w[14]!;
  const o0 = offs[0]!, o1 = offs[1]!, o2 = offs[2]!, o3 = offs[3]!;
  const o4 = offs[4]!, o5 = offs[5]!, o6 = offs[6]!, o7 = offs[7]!;
  const o8 = offs[8]!, o9 = offs[9]!, o10 = offs[10]!, o11 = offs[11]!;
  const o12 = offs[12]!, o13 = offs[13]!, o14 = offs[14]!;
  for (let x = 0; x < len; x++) {
    let acc = 0;
    acc += w0 * win[o0 + x]!;
    acc += w1 * win[o1 + x]!;
    acc += w2 * win[o2 + x]!;
    acc += w3 * win[o3 + x]!;
    acc += w4 * win[o4 + x]!;
    acc += w5 * win[o5 + x]!;
    acc += w6 * win[o6 + x]!;
    acc += w7 * win[o7 + x]!;
    acc += w8 * win[o8 + x]!;
    acc += w9 * win[o9 + x]!;
    acc += w10 * win[o10 + x]!;
    acc += w11 * win[o11 + x]!;
    acc += w12 * win[o12 + x]!;
    acc += w13 * win[o13 + x]!;
    acc += w14 * win[o14 + x]!;
    out[x] = acc;
  }
}

/**
 * `len` outputs `out[o + i] = Σ_k w[k]·src[b + i + k]` for a 15-tap kernel,
 * summed left to right from 0 like the loops above (the same doubles),
 * without the loop over taps (constant offsets: cheaper loads).
 */
function sum15(
  src: Float64Array,
  b: number,
  w: Float64Array,
  out: Float64Array,
  o: number,
  len: number,
): void {
  const w0 = w[0]!, w1 = w[1]!, w2 = w[2]!, w3 = w[3]!, w4 = w[4]!;
  const w5 = w[5]!, w6 = w[6]!, w7 = w[7]!, w8 = w[8]!, w9 = w[9]!;
  const w10 = w[10]!, w11 = w[11]!, w12 = w[12]!, w13 = w[13]!, w14 = w[14]!;
  for (let i = 0; i < len; i++) {
    const p = b + i;
    let acc = 0;
    acc += w0 * src[p]!;
    acc += w1 * src[p + 1]!;
    acc += w2 * src[p + 2]!;
    acc += w3 * src[p + 3]!;
    acc += w4 * src[p + 4]!;
    acc += w5 * src[p + 5]!;
    acc += w6 * src[p + 6]!;
    acc += w7 * src[p + 7]!;
    acc += w8 * src[p + 8]!;
    acc += w9 * src[p + 9]!;
    acc += w10 * src[p + 10]!;
    acc += w11 * src[p + 11]!;
    acc += w12 * src[p + 12]!;
    acc += w13 * src[p + 13]!;
    acc += w14 * src[p + 14]!;
    out[o + i] = acc;
  }
}
