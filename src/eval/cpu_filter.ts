/**
 * CPU version of the reference spectral filter, for evaluation without a
 * WebGPU adapter and for small test images.
 *
 * Per image b and channel c (reference-hfss.md §2.3):
 * `out = scale[c] · Re(ifft2(ifftshift(fftshift(fft2(x_bc)) ⊙ M))) + offset[c]`,
 * with M in the fftshifted layout (DC at S/2,S/2), fft2 unscaled, ifft2 scaled
 * by 1/S². Computed in float64 as two separable direct DFTs (O(S³) per
 * channel: about 0.5 s per 224² image, fine for small S or a fallback).
 * The mask is applied by index shift (shifted index h ↔ unshifted
 * (h + S/2) mod S) instead of moving the spectrum.
 */

/** Options of {@linkcode cpuFilter}: per-channel affine map after filtering. */
export interface CpuFilterOptions {
  /** Per-channel scale. @default 1 */
  scale?: ArrayLike<number>;
  /** Per-channel offset. @default 0 */
  offset?: ArrayLike<number>;
  /** Channels per image. @default 3 */
  channels?: number;
}

const twiddleCache = new Map<
  number,
  { cos: Float64Array; sin: Float64Array }
>();

function twiddles(n: number): { cos: Float64Array; sin: Float64Array } {
  let t = twiddleCache.get(n);
  if (!t) {
    const cos = new Float64Array(n);
    const sin = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      cos[k] = Math.cos(2 * Math.PI * k / n);
      sin[k] = Math.sin(2 * Math.PI * k / n);
    }
    t = { cos, sin };
    twiddleCache.set(n, t);
  }
  return t;
}

/** In-place-free 1-D DFT of `n` strided complex values; sign −1 forward. */
function dft1(
  re: Float64Array,
  im: Float64Array,
  off: number,
  stride: number,
  n: number,
  sign: number,
  tmpRe: Float64Array,
  tmpIm: Float64Array,
): void {
  const { cos, sin } = twiddles(n);
  for (let k = 0; k < n; k++) {
    let sr = 0;
    let si = 0;
    for (let j = 0; j < n; j++) {
      const idx = (k * j) % n;
      const c = cos[idx]!;
      const s = sign * sin[idx]!;
      const xr = re[off + j * stride]!;
      const xi = im[off + j * stride]!;
      sr += xr * c - xi * s;
      si += xr * s + xi * c;
    }
    tmpRe[k] = sr;
    tmpIm[k] = si;
  }
  for (let k = 0; k < n; k++) {
    re[off + k * stride] = tmpRe[k]!;
    im[off + k * stride] = tmpIm[k]!;
  }
}

function dft2(
  re: Float64Array,
  im: Float64Array,
  s: number,
  sign: number,
): void {
  const tr = new Float64Array(s);
  const ti = new Float64Array(s);
  for (let r = 0; r < s; r++) dft1(re, im, r * s, 1, s, sign, tr, ti);
  for (let c = 0; c < s; c++) dft1(re, im, c, s, s, sign, tr, ti);
}

/**
 * Filter `count` images `[count, C, S, S]` with one mask `[S, S]` (0/1 or
 * gains, fftshifted layout). Returns float32 `[count, C, S, S]`.
 *
 * @example
 * ```ts
 * const ones = new Uint8Array(4 * 4).fill(1);
 * const x = new Float32Array(3 * 16).map((_, i) => i % 5);
 * cpuFilter(x, 1, ones); // ≈ x (all-pass mask)
 * ```
 */
export function cpuFilter(
  images: Float32Array,
  count: number,
  mask: ArrayLike<number>,
  options: CpuFilterOptions = {},
): Float32Array {
  const channels = options.channels ?? 3;
  const per = images.length / Math.max(count, 1);
  const s = Math.round(Math.sqrt(per / channels));
  if (s * s * channels * count !== images.length || mask.length !== s * s) {
    throw new RangeError(
      `Cannot filter images: ${images.length} values, ${count} images, mask of ${mask.length}`,
    );
  }
  const half = s / 2;
  // unshifted gain: G[u][v] = M[(u + S/2) mod S][(v + S/2) mod S]
  const gain = new Float64Array(s * s);
  for (let u = 0; u < s; u++) {
    for (let v = 0; v < s; v++) {
      gain[u * s + v] = mask[((u + half) % s) * s + ((v + half) % s)]!;
    }
  }
  const out = new Float32Array(images.length);
  const re = new Float64Array(s * s);
  const im = new Float64Array(s * s);
  const n2 = s * s;
  for (let b = 0; b < count; b++) {
    for (let c = 0; c < channels; c++) {
      const base = (b * channels + c) * n2;
      for (let i = 0; i < n2; i++) {
        re[i] = images[base + i]!;
        im[i] = 0;
      }
      dft2(re, im, s, -1);
      for (let i = 0; i < n2; i++) {
        re[i]! *= gain[i]!;
        im[i]! *= gain[i]!;
      }
      dft2(re, im, s, +1);
      const sc = (options.scale?.[c] ?? 1) / n2;
      const of = options.offset?.[c] ?? 0;
      for (let i = 0; i < n2; i++) out[base + i] = re[i]! * sc + of;
    }
  }
  return out;
}
