/**
 * Separable correlation of square single-channel float64 images with a
 * centred symmetric 1-D kernel under scipy's `mode="reflect"` (half-sample
 * symmetric), rows first (axis 0) then columns: scipy's `gaussian_filter`
 * as `filters.ts`'s `correlateAxis` computes it, for the elastic transform's
 * displacement fields.
 *
 * - Short kernels: direct sums with the same taps, folded weights and
 *   summation order as `correlateAxis` (the same doubles, bit for bit).
 * - Long kernels (up to ~1000 taps on a 224 axis): reflect mode makes the
 *   line 2n-periodic and even, so the correlation with the kernel folded
 *   modulo 2n is diagonal in the DCT-II basis: y = IDCT(λ · DCT(x)), λ the
 *   2n-point DFT of the folded kernel. The DCTs go through n-point complex
 *   FFTs (Makhoul's permutation, two real lines per complex transform).
 *   Same values up to float64 rounding (~1e-16 relative), in O(n log n)
 *   per line instead of O(n²).
 */
import { mapIndex } from "./filters.ts";

/** Kernels with at most this many taps are summed directly (same bits). */
export const kDirectMaxTaps = 31;

/**
 * Correlate each of `images` (n x n, row-major) along axis 0 then axis 1
 * with `weights` (odd length, symmetric), border `reflect`.
 */
export function reflectCorrelate2d(
  images: readonly Float64Array[],
  n: number,
  weights: Float64Array,
): Float64Array[] {
  if (weights.length <= kDirectMaxTaps) {
    const taps = foldedBorderTaps(n, weights);
    return images.map((img) => {
      const a = directAxis0(img, n, weights, taps);
      return directAxis1(a, n, weights, taps);
    });
  }
  const plan = dctPlan(n, weights);
  const out = images.map((img) => img.slice());
  for (let i = 0; i < out.length; i += 2) {
    spectralPass(plan, out[i]!, out[i + 1], false);
    spectralPass(plan, out[i]!, out[i + 1], true);
  }
  return out;
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

/** Axis 0 (down the columns): whole rows at a time, taps in order. */
function directAxis0(
  src: Float64Array,
  n: number,
  w: Float64Array,
  t: BorderTaps,
): Float64Array {
  const out = new Float64Array(n * n);
  const r = t.r, nw = w.length;
  for (let y = 0; y < n; y++) {
    const o = y * n;
    if (y >= r && y < n - r) {
      for (let k = 0; k < nw; k++) {
        const wk = w[k]!, s = (y - r + k) * n;
        for (let x = 0; x < n; x++) out[o + x]! += wk * src[s + x]!;
      }
      continue;
    }
    const s0 = t.start[y]!, cnt = t.count[y]!;
    for (let k = 0; k < cnt; k++) {
      const wk = t.weight[s0 + k]!, s = t.index[s0 + k]! * n;
      for (let x = 0; x < n; x++) out[o + x]! += wk * src[s + x]!;
    }
  }
  return out;
}

/** Axis 1 (along the rows): one sum per sample, taps in order. */
function directAxis1(
  src: Float64Array,
  n: number,
  w: Float64Array,
  t: BorderTaps,
): Float64Array {
  const out = new Float64Array(n * n);
  const r = t.r, nw = w.length;
  const { start, count, index, weight } = t;
  for (let y = 0; y < n; y++) {
    const line = y * n;
    for (let x = 0; x < n; x++) {
      let acc = 0;
      if (x >= r && x < n - r) {
        const b = line + x - r;
        for (let k = 0; k < nw; k++) acc += w[k]! * src[b + k]!;
      } else {
        const s0 = start[x]!, cnt = count[x]!;
        for (let k = 0; k < cnt; k++) {
          acc += weight[s0 + k]! * src[line + index[s0 + k]!]!;
        }
      }
      out[line + x] = acc;
    }
  }
  return out;
}

/** Precomputed tables of the DCT route for one (n, kernel). */
interface DctPlan {
  n: number;
  fft: Fft;
  /** λ_m: the 2n-point DFT of the folded kernel (real: it is even). */
  lambda: Float64Array;
  /** cos, sin of π m / 2n. */
  c: Float64Array;
  s: Float64Array;
  re: Float64Array;
  im: Float64Array;
}

const kPlans = new Map<string, DctPlan>();

function dctPlan(n: number, weights: Float64Array): DctPlan {
  const key = `${n}:${weights.length}:${weights[0]}:${
    weights[weights.length >> 1]
  }`;
  const hit = kPlans.get(key);
  if (hit) return hit;
  if (n % 2 !== 0) {
    throw new RangeError(`Cannot smooth a ${n}-sample axis: n must be even`);
  }
  const r = (weights.length - 1) >> 1, p = 2 * n;
  // The kernel folded onto the 2n-periodic even extension.
  const g = new Float64Array(p);
  for (let k = -r; k <= r; k++) g[((k % p) + p) % p]! += weights[k + r]!;
  const lambda = new Float64Array(n);
  for (let m = 0; m < n; m++) {
    let acc = 0;
    for (let t = 0; t < p; t++) {
      acc += g[t]! * Math.cos((Math.PI * ((m * t) % p)) / n);
    }
    lambda[m] = acc;
  }
  const c = new Float64Array(n), s = new Float64Array(n);
  for (let m = 0; m < n; m++) {
    c[m] = Math.cos((Math.PI * m) / (2 * n));
    s[m] = Math.sin((Math.PI * m) / (2 * n));
  }
  const plan: DctPlan = {
    n,
    fft: new Fft(n),
    lambda,
    c,
    s,
    re: new Float64Array(n),
    im: new Float64Array(n),
  };
  kPlans.set(key, plan);
  return plan;
}

/**
 * Apply y = IDCT(λ · DCT(x)) to every row (`columns` false) or column of
 * `a` and, packed as the imaginary part, of `b` (if given), in place.
 *
 * DCT-II by Makhoul: v = (x0, x2, …, x3, x1), V = FFT(v),
 * X_m = Re(e^{−iπm/2n} V_m). Two real lines a + ib share one FFT: V_a and
 * V_b are the Hermitian and anti-Hermitian parts of V. The inverse builds
 * V'_m = e^{iπm/2n}(X'_m − i X'_{n−m}) for both and one inverse FFT.
 */
function spectralPass(
  plan: DctPlan,
  a: Float64Array,
  b: Float64Array | undefined,
  columns: boolean,
): void {
  const { n, fft, lambda, c, s, re, im } = plan;
  const h = n >> 1;
  const xa = new Float64Array(n), xb = new Float64Array(n);
  for (let line = 0; line < n; line++) {
    const base = columns ? line : line * n, step = columns ? n : 1;
    // Makhoul's permutation of a + ib.
    for (let k = 0; k < h; k++) {
      const e = base + 2 * k * step, o = e + step;
      re[k] = a[e]!;
      re[n - 1 - k] = a[o]!;
      im[k] = b ? b[e]! : 0;
      im[n - 1 - k] = b ? b[o]! : 0;
    }
    fft.transform(re, im, false);
    for (let m = 0; m < n; m++) {
      const q = m === 0 ? 0 : n - m;
      const ar = re[m]!, ai = im[m]!, br = re[q]!, bi = im[q]!;
      const cm = c[m]!, sm = s[m]!, l = lambda[m]!;
      xa[m] = l * (0.5 * (cm * (ar + br) + sm * (ai - bi)));
      xb[m] = l * (0.5 * (cm * (ai + bi) + sm * (br - ar)));
    }
    for (let m = 0; m < n; m++) {
      const pa = xa[m]!, pb = xb[m]!;
      const qa = m === 0 ? 0 : xa[n - m]!, qb = m === 0 ? 0 : xb[n - m]!;
      const cm = c[m]!, sm = s[m]!;
      // V'_a + i V'_b with V'_x = (c P + s Q) + i (s P − c Q).
      re[m] = cm * pa + sm * qa - (sm * pb - cm * qb);
      im[m] = sm * pa - cm * qa + (cm * pb + sm * qb);
    }
    fft.transform(re, im, true);
    for (let k = 0; k < h; k++) {
      const e = base + 2 * k * step, o = e + step;
      a[e] = re[k]!;
      a[o] = re[n - 1 - k]!;
      if (b) {
        b[e] = im[k]!;
        b[o] = im[n - 1 - k]!;
      }
    }
  }
}

/**
 * Complex DFT of length n = q · 2^p (q odd and small): one radix-q step
 * (direct q-point DFTs with twiddles), then q radix-2 FFTs of 2^p points.
 * `transform(re, im, inverse)` works in place, natural order; the inverse
 * includes the 1/n.
 */
export class Fft {
  readonly n: number;
  readonly #q: number;
  readonly #m: number;
  readonly #tw: Float64Array;
  readonly #rev: Int32Array;
  readonly #w2: Float64Array;
  readonly #ar: Float64Array;
  readonly #ai: Float64Array;
  readonly #cq: Float64Array;
  readonly #sq: Float64Array;
  readonly #pr: Float64Array;
  readonly #pi: Float64Array;
  readonly #dr: Float64Array;
  readonly #di: Float64Array;

  constructor(n: number) {
    let q = n, m = 1;
    while (q % 2 === 0) {
      q /= 2;
      m *= 2;
    }
    if (q > 15) {
      throw new RangeError(
        `Cannot plan an FFT of ${n} points: odd factor ${q} over 15`,
      );
    }
    this.n = n;
    this.#q = q;
    this.#m = m;
    // W_n^{k1·n2} twiddles as (cos, sin) pairs, angle −2π k1 n2 / n.
    this.#tw = new Float64Array(2 * q * m);
    for (let k1 = 0; k1 < q; k1++) {
      for (let n2 = 0; n2 < m; n2++) {
        const t = (-2 * Math.PI * ((k1 * n2) % n)) / n;
        this.#tw[2 * (k1 * m + n2)] = Math.cos(t);
        this.#tw[2 * (k1 * m + n2) + 1] = Math.sin(t);
      }
    }
    let bits = 0;
    while ((1 << bits) < m) bits++;
    this.#rev = new Int32Array(m);
    for (let i = 0; i < m; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.#rev[i] = r;
    }
    this.#w2 = new Float64Array(m);
    for (let j = 0; j < m / 2; j++) {
      this.#w2[2 * j] = Math.cos((-2 * Math.PI * j) / m);
      this.#w2[2 * j + 1] = Math.sin((-2 * Math.PI * j) / m);
    }
    this.#ar = new Float64Array(n);
    this.#ai = new Float64Array(n);
    // cos, sin of 2π jk/q for the paired q-point DFT.
    this.#cq = new Float64Array(q * q);
    this.#sq = new Float64Array(q * q);
    for (let j = 0; j < q; j++) {
      for (let k = 0; k < q; k++) {
        this.#cq[j * q + k] = Math.cos((2 * Math.PI * ((j * k) % q)) / q);
        this.#sq[j * q + k] = Math.sin((2 * Math.PI * ((j * k) % q)) / q);
      }
    }
    this.#pr = new Float64Array(q);
    this.#pi = new Float64Array(q);
    this.#dr = new Float64Array(q);
    this.#di = new Float64Array(q);
  }

  transform(re: Float64Array, im: Float64Array, inverse: boolean): void {
    const n = this.n, q = this.#q, m = this.#m;
    const tw = this.#tw, rev = this.#rev, w2 = this.#w2;
    const ar = this.#ar, ai = this.#ai;
    const sg = inverse ? -1 : 1;
    // Step 1: for each n2, q-point DFT over n1 of x[m·n1 + n2] (pairs
    // n1, q − n1 share their cosines and sines), twiddled, stored
    // bit-reversed within row k1 for the radix-2 step.
    const hq = (q - 1) >> 1, cq = this.#cq, sq = this.#sq;
    const pr = this.#pr, pi = this.#pi, dr = this.#dr, di = this.#di;
    for (let n2 = 0; n2 < m; n2++) {
      const dst = rev[n2]!;
      const x0r = re[n2]!, x0i = im[n2]!;
      let s0r = x0r, s0i = x0i;
      for (let j = 1; j <= hq; j++) {
        const a = m * j + n2, b = m * (q - j) + n2;
        pr[j] = re[a]! + re[b]!;
        pi[j] = im[a]! + im[b]!;
        dr[j] = re[a]! - re[b]!;
        di[j] = im[a]! - im[b]!;
        s0r += pr[j]!;
        s0i += pi[j]!;
      }
      ar[dst] = s0r;
      ai[dst] = s0i;
      for (let k = 1; k <= hq; k++) {
        let Ar = x0r, Ai = x0i, Br = 0, Bi = 0;
        for (let j = 1; j <= hq; j++) {
          const cjk = cq[j * q + k]!, sjk = sq[j * q + k]!;
          Ar += pr[j]! * cjk;
          Ai += pi[j]! * cjk;
          Br += dr[j]! * sjk;
          Bi += di[j]! * sjk;
        }
        // X_k = A − iB·sg, X_{q−k} = A + iB·sg (sg = −1 inverts).
        const xkr = Ar + sg * Bi, xki = Ai - sg * Br;
        const yr = Ar - sg * Bi, yi = Ai + sg * Br;
        let t = 2 * (k * m + n2);
        let tr = tw[t]!, ti = sg * tw[t + 1]!;
        ar[k * m + dst] = xkr * tr - xki * ti;
        ai[k * m + dst] = xkr * ti + xki * tr;
        const k2 = q - k;
        t = 2 * (k2 * m + n2);
        tr = tw[t]!;
        ti = sg * tw[t + 1]!;
        ar[k2 * m + dst] = yr * tr - yi * ti;
        ai[k2 * m + dst] = yr * ti + yi * tr;
      }
    }
    // Step 2: radix-2 FFT of each row k1; X[k1 + q·k2] = row[k2].
    for (let k1 = 0; k1 < q; k1++) {
      const o = k1 * m;
      for (let len = 2; len <= m; len <<= 1) {
        const half = len >> 1, stride = m / len;
        for (let i = o; i < o + m; i += len) {
          for (let j = 0; j < half; j++) {
            const wr = w2[2 * j * stride]!, wi = sg * w2[2 * j * stride + 1]!;
            const u = i + j, v = u + half;
            const vr = ar[v]! * wr - ai[v]! * wi;
            const vi = ar[v]! * wi + ai[v]! * wr;
            ar[v] = ar[u]! - vr;
            ai[v] = ai[u]! - vi;
            ar[u] = ar[u]! + vr;
            ai[u] = ai[u]! + vi;
          }
        }
      }
      const scale = inverse ? 1 / n : 1;
      for (let k2 = 0; k2 < m; k2++) {
        re[k1 + q * k2] = ar[o + k2]! * scale;
        im[k1 + q * k2] = ai[o + k2]! * scale;
      }
    }
  }
}
