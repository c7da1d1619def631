/**
 * Plain TypeScript FFT on the CPU (single thread): the benchmark baseline.
 *
 * A mixed-radix Stockham autosort over float64 split re/im arrays, planned by
 * `planFft` (radices 2, 3, 4, 5, 7, 8; radix 2 and 4 hand-written, the others
 * as small direct DFTs). Forward unnormalised, inverse scaled by 1/N.
 * `cpuFilter` is the straightforward full-complex filter
 * `Re(ifft2(fft2(x) * ifftshift(M)))` per plane, as the reference computes it,
 * with an optional per-channel affine map: the benchmark baseline, and the
 * spectral filter of `hfss eval` when there is no WebGPU adapter.
 */
import { type FftPlan, planFft } from "./plan.ts";

/** A reusable 1D complex FFT of one length. */
export class CpuFft {
  readonly plan: FftPlan;
  readonly n: number;
  #cos: Float64Array;
  #sin: Float64Array;
  #ar: Float64Array;
  #ai: Float64Array;
  #br: Float64Array;
  #bi: Float64Array;

  constructor(n: number) {
    this.n = n;
    this.plan = planFft(n, { maxPow2Radix: 4 });
    this.#cos = new Float64Array(n);
    this.#sin = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      this.#cos[k] = Math.cos((2 * Math.PI * k) / n);
      this.#sin[k] = -Math.sin((2 * Math.PI * k) / n);
    }
    this.#ar = new Float64Array(n);
    this.#ai = new Float64Array(n);
    this.#br = new Float64Array(n);
    this.#bi = new Float64Array(n);
  }

  /**
   * Transform in place the `n` complex values `re/im[offset + i*stride]`.
   * `inverse` conjugates in and out and scales by 1/n.
   */
  transform(
    re: Float64Array,
    im: Float64Array,
    offset: number,
    stride: number,
    inverse = false,
  ): void {
    const n = this.n;
    let xr = this.#ar, xi = this.#ai, yr = this.#br, yi = this.#bi;
    const sg = inverse ? -1 : 1;
    for (let i = 0; i < n; i++) {
      xr[i] = re[offset + i * stride]!;
      xi[i] = sg * im[offset + i * stride]!;
    }
    const cos = this.#cos, sin = this.#sin;
    const vr = new Float64Array(8), vi = new Float64Array(8);
    for (const { radix: R, ns } of this.plan.stages) {
      if (R === 1) continue;
      const m = n / R;
      const step = n / (ns * R);
      for (let j = 0; j < m; j++) {
        const k = j % ns;
        const base = (j - k) * R + k;
        vr[0] = xr[j]!;
        vi[0] = xi[j]!;
        for (let q = 1; q < R; q++) {
          const a = xr[j + q * m]!, b = xi[j + q * m]!;
          if (k === 0) {
            vr[q] = a;
            vi[q] = b;
            continue;
          }
          const t = q * k * step;
          const c = cos[t]!, s = sin[t]!;
          vr[q] = a * c - b * s;
          vi[q] = a * s + b * c;
        }
        if (R === 2) {
          yr[base] = vr[0]! + vr[1]!;
          yi[base] = vi[0]! + vi[1]!;
          yr[base + ns] = vr[0]! - vr[1]!;
          yi[base + ns] = vi[0]! - vi[1]!;
        } else if (R === 4) {
          const t0r = vr[0]! + vr[2]!, t0i = vi[0]! + vi[2]!;
          const t1r = vr[0]! - vr[2]!, t1i = vi[0]! - vi[2]!;
          const t2r = vr[1]! + vr[3]!, t2i = vi[1]! + vi[3]!;
          const t3r = vi[1]! - vi[3]!, t3i = vr[3]! - vr[1]!;
          yr[base] = t0r + t2r;
          yi[base] = t0i + t2i;
          yr[base + ns] = t1r + t3r;
          yi[base + ns] = t1i + t3i;
          yr[base + 2 * ns] = t0r - t2r;
          yi[base + 2 * ns] = t0i - t2i;
          yr[base + 3 * ns] = t1r - t3r;
          yi[base + 3 * ns] = t1i - t3i;
        } else {
          const st = n / R;
          for (let p = 0; p < R; p++) {
            let sr = vr[0]!, si = vi[0]!;
            for (let q = 1, pq = p; q < R; q++, pq = (pq + p) % R) {
              const t = pq * st;
              const c = cos[t]!, s = sin[t]!;
              sr += vr[q]! * c - vi[q]! * s;
              si += vr[q]! * s + vi[q]! * c;
            }
            yr[base + p * ns] = sr;
            yi[base + p * ns] = si;
          }
        }
      }
      [xr, yr] = [yr, xr];
      [xi, yi] = [yi, xi];
    }
    const scale = inverse ? 1 / n : 1;
    for (let i = 0; i < n; i++) {
      re[offset + i * stride] = xr[i]! * scale;
      im[offset + i * stride] = sg * xi[i]! * scale;
    }
  }
}

/** Options of {@link cpuFilter}. */
export interface CpuFilterOptions {
  /** Side S of the square planes. */
  size: number;
  /** Reusable transform of length `size`. */
  fft?: CpuFft;
  /** Planes per item, for `scale`/`offset` (plane p has channel p % channels). @default 1 */
  channels?: number;
  /** Per-channel factor applied to the filtered plane. @default 1 */
  scale?: ArrayLike<number>;
  /** Per-channel offset added after `scale`. @default 0 */
  offset?: ArrayLike<number>;
}

/**
 * Straightforward CPU filter of real S x S planes (`images` is any number of
 * them, e.g. `[B, C, S, S]`) with one mask `[S, S]` (0/1 or gains) in the
 * fftshifted layout (DC at S/2, S/2): full complex fft2, multiply by the
 * unshifted gain, ifft2, real part, then `scale[c] * y + offset[c]` with
 * c = plane % channels. Float64 inside, float32 out:
 * `out = scale[c] * Re(ifft2(ifftshift(fftshift(fft2(x)) * M))) + offset[c]`.
 *
 * @example
 * ```ts
 * const ones = new Uint8Array(4 * 4).fill(1);
 * const x = new Float32Array(3 * 16).map((_, i) => i % 5);
 * cpuFilter(x, ones, { size: 4 }); // = x (all-pass mask)
 * ```
 */
export function cpuFilter(
  images: Float32Array,
  mask: ArrayLike<number>,
  options: CpuFilterOptions,
): Float32Array {
  const S = options.size;
  const channels = options.channels ?? 1;
  const plane = S * S;
  if (
    !(S > 0) || mask.length !== plane || channels < 1 ||
    images.length % (plane * channels) !== 0
  ) {
    throw new RangeError(
      `Cannot filter images: ${images.length} values are not whole ${channels}x${S}x${S} items, or the mask has ${mask.length} values`,
    );
  }
  const fft = options.fft ?? new CpuFft(S);
  if (fft.n !== S) {
    throw new RangeError(
      `Cannot filter images: an FFT of length ${fft.n} for ${S}x${S} planes`,
    );
  }
  const planes = images.length / plane;
  const out = new Float32Array(images.length);
  const re = new Float64Array(plane);
  const im = new Float64Array(plane);
  const h0 = Math.floor(S / 2);
  const gain = new Float64Array(plane);
  for (let u = 0; u < S; u++) {
    for (let v = 0; v < S; v++) {
      gain[u * S + v] = mask[((u + h0) % S) * S + ((v + h0) % S)]!;
    }
  }
  for (let p = 0; p < planes; p++) {
    for (let i = 0; i < plane; i++) {
      re[i] = images[p * plane + i]!;
      im[i] = 0;
    }
    for (let r = 0; r < S; r++) fft.transform(re, im, r * S, 1);
    for (let c = 0; c < S; c++) fft.transform(re, im, c, S);
    for (let i = 0; i < plane; i++) {
      re[i] = re[i]! * gain[i]!;
      im[i] = im[i]! * gain[i]!;
    }
    for (let c = 0; c < S; c++) fft.transform(re, im, c, S, true);
    for (let r = 0; r < S; r++) fft.transform(re, im, r * S, 1, true);
    const ch = p % channels;
    const sc = options.scale?.[ch] ?? 1;
    const of = options.offset?.[ch] ?? 0;
    for (let i = 0; i < plane; i++) out[p * plane + i] = re[i]! * sc + of;
  }
  return out;
}
