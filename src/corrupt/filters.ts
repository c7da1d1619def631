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

function foldTaps(n: number, weights: Float64Array, mode: BorderMode): Taps {
  const r = (weights.length - 1) >> 1;
  const start = new Int32Array(n);
  const count = new Int32Array(n);
  const index: number[] = [];
  const weight: number[] = [];
  const acc = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    acc.clear();
    for (let k = -r; k <= r; k++) {
      const j = mapIndex(i + k, n, mode);
      acc.set(j, (acc.get(j) ?? 0) + weights[k + r]!);
    }
    start[i] = index.length;
    count[i] = acc.size;
    for (const [j, w] of acc) {
      index.push(j);
      weight.push(w);
    }
  }
  return {
    start,
    count,
    index: Int32Array.from(index),
    weight: Float64Array.from(weight),
  };
}

/**
 * Correlate a float64 HWC image along one axis (0 = rows/vertical,
 * 1 = columns/horizontal) with a centred 1-D kernel; returns a new array.
 */
export function correlateAxis(
  src: Float64Array,
  height: number,
  width: number,
  channels: number,
  axis: 0 | 1,
  weights: Float64Array,
  mode: BorderMode,
): Float64Array {
  const out = new Float64Array(src.length);
  const n = axis === 0 ? height : width;
  const t = foldTaps(n, weights, mode);
  const rowStride = width * channels;
  const { start, count, index, weight } = t;
  if (axis === 0) {
    // Whole rows at a time, taps in the same order (same sums, bit for bit).
    for (let y = 0; y < height; y++) {
      const s0 = start[y]!, cnt = count[y]!, o = y * rowStride;
      for (let k = 0; k < cnt; k++) {
        const w = weight[s0 + k]!, r = index[s0 + k]! * rowStride;
        for (let i = 0; i < rowStride; i++) out[o + i]! += w * src[r + i]!;
      }
    }
    return out;
  }
  // Columns whose taps are the kernel itself on consecutive samples (all
  // but the borders): the same sums, without the index table.
  const nw = weights.length, r = (nw - 1) >> 1;
  const x0 = Math.min(r, width), x1 = Math.max(x0, width - r);
  for (let y = 0; y < height; y++) {
    const line = y * rowStride;
    for (let x = 0; x < width; x++) {
      if (x === x0 && x0 < x1) {
        for (let i = line + x0 * channels; i < line + x1 * channels; i++) {
          const b = i - r * channels;
          let acc = 0;
          for (let k = 0; k < nw; k++) {
            acc += weights[k]! * src[b + k * channels]!;
          }
          out[i] = acc;
        }
        x = x1 - 1;
        continue;
      }
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
 * across channels.
 */
export function gaussianFilter(
  src: Float64Array,
  height: number,
  width: number,
  channels: number,
  sigma: number,
  mode: BorderMode = "nearest",
  truncate = 4,
): Float64Array {
  const w = gaussianKernel1d(sigma, truncate);
  const a = correlateAxis(src, height, width, channels, 0, w, mode);
  return correlateAxis(a, height, width, channels, 1, w, mode);
}

/**
 * `cv2.filter2D(plane, -1, kernel)` per channel of a float64 HWC image: 2-D
 * correlation with a k x k kernel (k odd, anchor at the centre), border
 * `reflect101`. Taps whose weight is exactly zero are skipped (they add
 * exact zeros), which makes a disk kernel cost its area, not its box.
 */
export function filter2d(
  src: Float64Array,
  height: number,
  width: number,
  channels: number,
  kernel: Float64Array,
  k: number,
): Float64Array {
  const r = (k - 1) >> 1;
  // Pad by r on every side so the inner loop needs no border test.
  const pw = width + 2 * r, ph = height + 2 * r;
  const pad = new Float64Array(pw * ph * channels);
  for (let y = 0; y < ph; y++) {
    const sy = mapIndex(y - r, height, "reflect101");
    for (let x = 0; x < pw; x++) {
      const sx = mapIndex(x - r, width, "reflect101");
      for (let c = 0; c < channels; c++) {
        pad[(y * pw + x) * channels + c] =
          src[(sy * width + sx) * channels + c]!;
      }
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
  const nt = off.length;
  const out = new Float64Array(src.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const base = (y * pw + x) * channels;
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        const b = base + c;
        for (let t = 0; t < nt; t++) acc += wt[t]! * pad[b + off[t]!]!;
        out[(y * width + x) * channels + c] = acc;
      }
    }
  }
  return out;
}

/** 8-bit samples as float64 in [0, 1]: the original's `np.array(x) / 255.`. */
export function toFloat(data: Uint8Array): Float64Array {
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! / 255;
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
