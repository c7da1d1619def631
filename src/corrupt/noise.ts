/**
 * Noise corruptions: gaussian, shot (Poisson) and impulse (salt and pepper).
 * Input and output are 8-bit RGB, HWC; `rng` is the image's stream for this
 * corruption and severity, consumed in pixel order (HWC).
 *
 * Draws (so an oracle can be fed the same fields):
 * - gaussian: one standard normal per sample (`Rng.normal`, Box-Muller);
 * - shot: one uniform per sample, turned into a Poisson(λ = x·c) count by
 *   CDF inversion;
 * - impulse: two uniforms per sample: flipped (u < amount), salt (u < 0.5),
 *   as skimage's `random_noise(mode="s&p")`.
 */
import type { Rng } from "../rng.ts";
import { kConstants, type Severity } from "./registry.ts";

/** Samples per bulk draw from the generator (scratch stays in cache). */
const kChunk = 4096;

/** Scratch for the bulk draws, reused (no fresh pages to fault in per call). */
const kDraws = new Uint32Array(2 * kChunk);

/** 8-bit sample -> its `x / 255` (the original's float image). */
const kUnit = Float64Array.from({ length: 256 }, (_, d) => d / 255);

/** 8-bit sample -> `np.uint8(np.clip(x / 255, 0, 1) * 255)`, as `toUint8`. */
const kSame = Uint8Array.from({ length: 256 }, (_, d) => {
  const v = kUnit[d]!;
  return Math.trunc((v < 0 ? 0 : v > 1 ? 1 : v) * 255);
});

/**
 * Gaussian noise evaluates Box-Muller from tables (linear interpolation of
 * ln(1 + f) on [0, 1] and of cos(2πv) on [0, 1], 4096 steps each) and
 * recomputes the exact `Rng.normal` expression only where the tabled value
 * cannot decide the output byte. Interpolation error: ln step h = 2^-12,
 * |ln''| <= 1, so <= h²/8 = 7.5e-9 (s = -2 ln u off by <= 1.5e-8); cos step
 * 2π/4096, |cos''| <= 1, so <= 2.95e-7. For s >= kMinS the radius √s is off
 * by <= 1.5e-8 / √kMinS = 1.5e-6, and n = √s·cos(2πv) by <= 1.5e-6·(1 +
 * 3e-7) + 6.67·2.95e-7 < 3.6e-6 (√s <= √(64 ln 2) = 6.67); kNormalErr leaves
 * room on top for the rounding of the tables and of the sums.
 */
export const kNormalErr = 1e-5;
const kMinS = 1e-4;
const kLnSteps = 4096;
let lnTable: Float64Array | undefined;
let cosTable: Float64Array | undefined;

function boxMullerTables(): [Float64Array, Float64Array] {
  if (!lnTable || !cosTable) {
    lnTable = Float64Array.from(
      { length: kLnSteps + 1 },
      (_, j) => Math.log1p(j / kLnSteps),
    );
    cosTable = Float64Array.from(
      { length: kLnSteps + 1 },
      (_, j) => Math.cos((2 * Math.PI * j) / kLnSteps),
    );
  }
  return [lnTable, cosTable];
}

/**
 * `Rng.normal()` from its two raw draws, by the tables: within `kNormalErr`
 * of the exact value, or NaN where no such bound holds (then the caller
 * computes it exactly).
 */
export function approxNormal(a: number, b: number): number {
  const [lnT, cosT] = boxMullerTables();
  return approxNormalWith(a, b, lnT, cosT);
}

// u = 1 - a/2^32 = m/2^32 with m = 2^32 - a = 2^e·(1 + f), so
// s = -2 ln u = 2·((32 - e)·ln 2 - ln(1 + f)), all from the integer m.
const kLn2 = Math.LN2;
function approxNormalWith(
  a: number,
  b: number,
  lnT: Float64Array,
  cosT: Float64Array,
): number {
  if (a === 0) return NaN;
  const m = (4294967296 - a) | 0; // 2^32 - a in [1, 2^32 - 1], as int bits
  const z = Math.clz32(m);
  const frac = (m << z) << 1; // f as 32 bits below the point
  const j = frac >>> 20, tl = (frac & 0xfffff) * (1 / 1048576);
  const l0 = lnT[j]!;
  const ln1f = l0 + tl * (lnT[j + 1]! - l0);
  const s = 2 * ((z + 1) * kLn2 - ln1f); // 32 - e = 32 - (31 - z)
  if (s < kMinS) return NaN;
  const k = b >>> 20, tc = (b & 0xfffff) * (1 / 1048576);
  const c0 = cosT[k]!;
  return Math.sqrt(s) * (c0 + tc * (cosT[k + 1]! - c0));
}

/** `clip(x/255 + N(0, c²), 0, 1)`. */
export function gaussianNoise(
  data: Uint8Array,
  severity: Severity,
  rng: Rng,
): Uint8Array {
  const c = kConstants.gaussian_noise[severity - 1]!;
  const [lnT, cosT] = boxMullerTables();
  // The byte trunc(clip(x/255 + n·c)·255) is non-decreasing in n (every
  // float step is), so where n ± kNormalErr give the same byte, so does the
  // exact n; elsewhere the exact `rng.normal()` expression decides.
  const out = new Uint8ClampedArray(data.length);
  const draws = kDraws;
  const twoPi = 2 * Math.PI;
  const e = kNormalErr;
  for (let i0 = 0; i0 < data.length; i0 += kChunk) {
    const len = Math.min(kChunk, data.length - i0);
    rng.fillU32(len === kChunk ? draws : draws.subarray(0, 2 * len));
    for (let i = 0; i < len; i++) {
      const a = draws[2 * i]!, b = draws[2 * i + 1]!;
      const d = kUnit[data[i0 + i]!]!;
      const n = approxNormalWith(a, b, lnT, cosT);
      if (n === n) {
        const xl = d + (n - e) * c, xh = d + (n + e) * c;
        // Unclipped truncations: the byte is their value clamped to
        // [0, 255] (the clamp is the store into `out`).
        const lo = (xl * 255) | 0, hi = (xh * 255) | 0;
        if (lo === hi) {
          out[i0 + i] = lo;
          continue;
        }
      }
      const u = 1 - a / 4294967296;
      const v = b / 4294967296;
      const nx = Math.sqrt(-2 * Math.log(u)) * Math.cos(twoPi * v);
      const x = d + nx * c;
      out[i0 + i] = Math.trunc((x < 0 ? 0 : x > 1 ? 1 : x) * 255);
    }
  }
  return new Uint8Array(out.buffer);
}

/** The smallest k with P(X <= k) >= u for X ~ Poisson(lambda). */
export function poissonInverse(lambda: number, u: number): number {
  let p = Math.exp(-lambda);
  let f = p;
  let k = 0;
  while (u > f && k < 1000) {
    k++;
    p *= lambda / k;
    f += p;
    if (p === 0 && k > lambda) break;
  }
  return k;
}

/**
 * The CDF of Poisson(λ) at k = 0, 1, … as `poissonInverse` accumulates it,
 * until it stops growing (so a table scan gives `poissonInverse`'s answer).
 */
function poissonCdf(lambda: number): Float64Array {
  const f: number[] = [];
  let p = Math.exp(-lambda);
  let acc = p;
  f.push(acc);
  for (let k = 1; k < 1000; k++) {
    p *= lambda / k;
    const next = acc + p;
    if (p === 0 && k > lambda) break;
    acc = next;
    f.push(acc);
    if (acc >= 1) break;
  }
  return Float64Array.from(f);
}

/** Buckets of the shot-noise guide tables (top bits of the uniform). */
const kGuideBits = 8;

/** Per shot-noise scale c: the 256 CDFs, flat, and their guide tables. */
interface ShotTables {
  /** CDF of the value d at `cdf[off[d] + k]`, k < off[d + 1] - off[d]. */
  cdf: Float64Array;
  off: Int32Array;
  /**
   * Per (d, bucket b), the first k with cdf >= b / 2^kGuideBits: every u in
   * that bucket is at least b / 2^kGuideBits, so the scan for u (first k
   * with u <= cdf) passes all k before it and may start there.
   */
  guide: Uint16Array;
  /** k -> `np.uint8(np.clip(k / c, 0, 1) * 255)`, for k below the longest CDF. */
  bytes: Uint8Array;
}

const shotCache = new Map<number, ShotTables>();

function shotTables(c: number): ShotTables {
  let t = shotCache.get(c);
  if (t) return t;
  const cdfs = Array.from({ length: 256 }, (_, v) => poissonCdf((v / 255) * c));
  const off = new Int32Array(257);
  for (let d = 0; d < 256; d++) off[d + 1] = off[d]! + cdfs[d]!.length;
  const cdf = new Float64Array(off[256]!);
  const nb = 1 << kGuideBits;
  const guide = new Uint16Array(256 * nb);
  let longest = 0;
  for (let d = 0; d < 256; d++) {
    const f = cdfs[d]!;
    cdf.set(f, off[d]!);
    longest = Math.max(longest, f.length);
    let k = 0;
    for (let b = 0; b < nb; b++) {
      const lo = b / nb;
      while (k < f.length && f[k]! < lo) k++;
      guide[d * nb + b] = k;
    }
  }
  const bytes = new Uint8Array(longest);
  for (let k = 0; k < longest; k++) bytes[k] = toUint8Sample(k / c);
  t = { cdf, off, guide, bytes };
  shotCache.set(c, t);
  return t;
}

/** One sample of `toUint8`. */
function toUint8Sample(v: number): number {
  return Math.trunc((v < 0 ? 0 : v > 1 ? 1 : v) * 255);
}

/** `clip(Poisson(x/255 · c) / c, 0, 1)`; λ takes 256 values, so CDFs are tabled. */
export function shotNoise(
  data: Uint8Array,
  severity: Severity,
  rng: Rng,
): Uint8Array {
  const c = kConstants.shot_noise[severity - 1]!;
  const { cdf, off, guide, bytes } = shotTables(c);
  const out = new Uint8Array(data.length);
  const draws = kDraws.subarray(0, kChunk);
  const shift = 32 - kGuideBits;
  for (let i0 = 0; i0 < data.length; i0 += kChunk) {
    const len = Math.min(kChunk, data.length - i0);
    rng.fillU32(len === kChunk ? draws : draws.subarray(0, len));
    for (let i = 0; i < len; i++) {
      const d = data[i0 + i]!, r = draws[i]!;
      const u = r / 4294967296;
      const base = off[d]!, n = off[d + 1]! - base;
      let k = guide[(d << kGuideBits) | (r >>> shift)]!;
      while (k < n && u > cdf[base + k]!) k++;
      // Past the table: poissonInverse would go on until its own stop rule.
      out[i0 + i] = k < n
        ? bytes[k]!
        : toUint8Sample(poissonInverse((d / 255) * c, u) / c);
    }
  }
  return out;
}

/** A fraction `amount` of the samples set to 0 or 1 with equal odds. */
export function impulseNoise(
  data: Uint8Array,
  severity: Severity,
  rng: Rng,
): Uint8Array {
  const amount = kConstants.impulse_noise[severity - 1]!;
  const out = new Uint8Array(data.length);
  const draws = kDraws;
  for (let i0 = 0; i0 < data.length; i0 += kChunk) {
    const len = Math.min(kChunk, data.length - i0);
    rng.fillU32(len === kChunk ? draws : draws.subarray(0, 2 * len));
    for (let i = 0; i < len; i++) {
      // flipped: u < amount; salt: u < 0.5, i.e. the draw's top bit is 0.
      // Arithmetic selects: which samples flip is a coin toss, a branch
      // on it would be mispredicted often.
      const flipped = +(draws[2 * i]! / 4294967296 < amount);
      const value = 255 - 255 * (draws[2 * i + 1]! >>> 31);
      const same = kSame[data[i0 + i]!]!;
      out[i0 + i] = same + flipped * (value - same);
    }
  }
  return out;
}
