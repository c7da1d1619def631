/**
 * Separable correlation of square single-channel float64 images with a
 * centred symmetric 1-D kernel under scipy's `mode="reflect"` (half-sample
 * symmetric) along axis 0 then axis 1: scipy's `gaussian_filter` as
 * `filters.ts`'s `correlateAxis` computes it, for the elastic transform's
 * displacement fields.
 *
 * - Short kernels: direct sums with the same taps, folded weights and
 *   summation order as `correlateAxis` (the same doubles, bit for bit), in
 *   the WebAssembly kernel `wasm/elastic_direct.ts` (two images per SIMD
 *   step).
 * - Long kernels (up to ~1000 taps on a 224 axis): reflect mode makes the
 *   line 2n-periodic and even, so the correlation with the kernel folded
 *   modulo 2n is diagonal in the DCT-II basis: y = IDCT(λ · DCT(x)), λ the
 *   2n-point DFT of the folded kernel. The DCTs go through n-point complex
 *   FFTs (Makhoul's permutation, two real lines per complex transform), in
 *   the WebAssembly kernel `wasm/elastic_dct.ts` (two line pairs per SIMD
 *   step). Same values up to float64 rounding (~1e-16 relative), in
 *   O(n log n) per line instead of O(n²); n must be even.
 */
import { directImages } from "./wasm/elastic_direct.ts";
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
 * storing it. Two images at a time go through the WebAssembly kernel of
 * the route (an odd one out with an all-zero partner).
 */
export function reflectCorrelate2dRows(
  images: readonly (Float64Array | RowSource)[],
  n: number,
  weights: Float64Array,
  sink: RowSink,
): void {
  const direct = weights.length <= kDirectMaxTaps;
  const fill = (dst: Float64Array, img: Float64Array | RowSource) => {
    if (typeof img === "function") {
      for (let j = 0; j < n; j++) img(dst.subarray(j * n, j * n + n), j);
    } else dst.set(img);
  };
  for (let i = 0; i < images.length; i += 2) {
    const pair = i + 1 < images.length;
    const s = direct ? directImages(n, weights) : spectralImages(n, weights);
    fill(s.a, images[i]!);
    if (pair) fill(s.b, images[i + 1]!);
    else s.b.fill(0);
    s.run(!pair);
    for (let j = 0; j < n; j++) {
      sink(s.a.subarray(j * n, j * n + n), j, i);
      if (pair) sink(s.b.subarray(j * n, j * n + n), j, i + 1);
    }
  }
}
