/**
 * The long-kernel route of `reflectCorrelate2d` transcribed plainly in
 * scalar TypeScript (one line pair per complex FFT): the reference the
 * WebAssembly kernel (`src/corrupt/wasm/elastic_dct.ts`) must match bit for
 * bit. Columns first, then rows; an odd image out is paired with zeros.
 * The spectrum (α, β, γ) is the kernel's own (`dctSpectrum`): what is
 * checked is the transform around it.
 */
import { dctSpectrum } from "../../src/corrupt/wasm/elastic_dct.ts";

export function referenceLongRoute(
  images: readonly Float64Array[],
  n: number,
  weights: Float64Array,
): Float64Array[] {
  const out = images.map((x) => x.slice());
  const plan = dctPlan(n, weights);
  for (let i = 0; i < out.length; i += 2) {
    spectralPass(plan, out[i]!, out[i + 1], true);
    spectralPass(plan, out[i]!, out[i + 1], false);
  }
  return out;
}

type RowSink = (row: Float64Array, j: number, image: number) => void;

/** Precomputed tables of the DCT route for one (n, kernel). */
interface DctPlan {
  n: number;
  fft: Fft;
  /**
   * Per m ≤ n/2, the symmetric 2x2 map (α β; β γ) from 2·V_a,m to V'_a,m
   * (and likewise for b): with c, s = cos, sin(πm/2n), λ = λ_m,
   * λ' = λ_{n−m} (0 for m = 0),
   * α = (λc² + λ's²)/2, β = cs(λ − λ')/2, γ = (λs² + λ'c²)/2.
   */
  alpha: Float64Array;
  beta: Float64Array;
  gamma: Float64Array;
  re: Float64Array;
  im: Float64Array;
  rowA: Float64Array;
  rowB: Float64Array;
  /** An all-zero partner for an odd image out (made when first needed). */
  zeros?: Float64Array;
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
  const { alpha, beta, gamma } = dctSpectrum(n, weights);
  const plan: DctPlan = {
    n,
    fft: new Fft(n),
    alpha,
    beta,
    gamma,
    re: new Float64Array(n),
    im: new Float64Array(n),
    rowA: new Float64Array(n),
    rowB: new Float64Array(n),
  };
  kPlans.set(key, plan);
  return plan;
}

/**
 * Apply y = IDCT(λ · DCT(x)) to every row (`columns` false) or column of
 * `a` and, packed as the imaginary part, of `b` (if given), in place; or,
 * for rows with a `sink`, handing the rows of a and b (images `image` and
 * `image + 1`) to it.
 *
 * DCT-II by Makhoul: v = (x0, x2, …, x3, x1), V = FFT(v),
 * X_m = Re(E_m V_m) with E_m = e^{−iπm/2n}; its inverse takes
 * V'_m = conj(E_m)(X'_m − i X'_{n−m}) through an inverse FFT. Two real
 * lines a + ib share one FFT: V_a, V_b are the Hermitian and anti-Hermitian
 * parts of V. With p + iq = E_m V_a,m one has X_m = p and X_{n−m} = −q, so
 * V'_a,m = conj(E_m)(λ_m p + i λ_{n−m} q), and V'_a,n−m is its conjugate.
 */
function spectralPass(
  plan: DctPlan,
  a: Float64Array,
  b: Float64Array | undefined,
  columns: boolean,
  sink?: RowSink,
  image = 0,
): void {
  const { n, fft, alpha, beta, gamma, re, im } = plan;
  const h = n >> 1;
  const bb = b ?? (plan.zeros ??= new Float64Array(n * n));
  const step = columns ? n : 1;
  for (let line = 0; line < n; line++) {
    const base = columns ? line : line * n;
    // Makhoul's permutation of a + ib.
    for (let k = 0, e = base; k < h; k++, e += 2 * step) {
      re[k] = a[e]!;
      re[n - 1 - k] = a[e + step]!;
      im[k] = bb[e]!;
      im[n - 1 - k] = bb[e + step]!;
    }
    fft.transform(re, im, false);
    for (let m = 0; m <= h; m++) {
      const q = m === 0 ? 0 : n - m;
      const vr = re[m]!, vi = im[m]!, wr = re[q]!, wi = im[q]!;
      const al = alpha[m]!, be = beta[m]!, ga = gamma[m]!;
      // 2·V_a = (vr + wr, vi − wi), 2·V_b = (vi + wi, wr − vr).
      const sR = vr + wr, dI = vi - wi, sI = vi + wi, dR = wr - vr;
      const Ar = al * sR + be * dI, Ai = be * sR + ga * dI;
      const Br = al * sI + be * dR, Bi = be * sI + ga * dR;
      re[m] = Ar - Bi;
      im[m] = Ai + Br;
      if (q !== m && m !== 0) {
        re[q] = Ar + Bi;
        im[q] = Br - Ai;
      }
    }
    fft.transform(re, im, true);
    if (sink) {
      // Rows: hand them out instead of storing them.
      const ra = plan.rowA, rb = plan.rowB;
      for (let k = 0; k < h; k++) {
        ra[2 * k] = re[k]!;
        ra[2 * k + 1] = re[n - 1 - k]!;
        rb[2 * k] = im[k]!;
        rb[2 * k + 1] = im[n - 1 - k]!;
      }
      sink(ra, line, image);
      if (b) sink(rb, line, image + 1);
      continue;
    }
    for (let k = 0, e = base; k < h; k++, e += 2 * step) {
      a[e] = re[k]!;
      a[e + step] = re[n - 1 - k]!;
      if (b) {
        b[e] = im[k]!;
        b[e + step] = im[n - 1 - k]!;
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
  readonly #w2r: Float64Array;
  readonly #w2i: Float64Array;
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
    // Radix-2 twiddles of the stage with half-length h at [h, 2h).
    this.#w2r = new Float64Array(Math.max(m, 2));
    this.#w2i = new Float64Array(Math.max(m, 2));
    for (let h = 1; h < m; h *= 2) {
      for (let j = 0; j < h; j++) {
        this.#w2r[h + j] = Math.cos((-Math.PI * j) / h);
        this.#w2i[h + j] = Math.sin((-Math.PI * j) / h);
      }
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
    const q = this.#q;
    const sg = inverse ? -1 : 1;
    if (q === 7) this.#radix7(re, im, sg);
    else this.#radixQ(re, im, sg);
    this.#radix2(re, im, sg, inverse ? 1 / this.n : 1);
  }

  /**
   * Step 1: for each n2, the q-point DFT over n1 of x[m·n1 + n2] (pairs
   * n1, q − n1 share cosines and sines), twiddled by W_n^{k1·n2}, stored
   * bit-reversed within row k1 for the radix-2 step.
   */
  #radixQ(re: Float64Array, im: Float64Array, sg: number): void {
    const q = this.#q, m = this.#m, tw = this.#tw, rev = this.#rev;
    const ar = this.#ar, ai = this.#ai;
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
        twiddle(
          this.#ar,
          this.#ai,
          tw,
          k * m,
          n2,
          dst,
          Ar + sg * Bi,
          Ai - sg * Br,
          sg,
        );
        twiddle(
          this.#ar,
          this.#ai,
          tw,
          (q - k) * m,
          n2,
          dst,
          Ar - sg * Bi,
          Ai + sg * Br,
          sg,
        );
      }
    }
  }

  /** `#radixQ` for q = 7, straight-line. */
  #radix7(re: Float64Array, im: Float64Array, sg: number): void {
    const m = this.#m, tw = this.#tw, rev = this.#rev;
    const ar = this.#ar, ai = this.#ai;
    const c1 = Math.cos((2 * Math.PI) / 7), c2 = Math.cos((4 * Math.PI) / 7);
    const c3 = Math.cos((6 * Math.PI) / 7);
    const s1 = Math.sin((2 * Math.PI) / 7), s2 = Math.sin((4 * Math.PI) / 7);
    const s3 = Math.sin((6 * Math.PI) / 7);
    for (let n2 = 0; n2 < m; n2++) {
      const dst = rev[n2]!;
      const x0r = re[n2]!, x0i = im[n2]!;
      const x1r = re[m + n2]!, x1i = im[m + n2]!;
      const x2r = re[2 * m + n2]!, x2i = im[2 * m + n2]!;
      const x3r = re[3 * m + n2]!, x3i = im[3 * m + n2]!;
      const x4r = re[4 * m + n2]!, x4i = im[4 * m + n2]!;
      const x5r = re[5 * m + n2]!, x5i = im[5 * m + n2]!;
      const x6r = re[6 * m + n2]!, x6i = im[6 * m + n2]!;
      const p1r = x1r + x6r, p1i = x1i + x6i, d1r = x1r - x6r, d1i = x1i - x6i;
      const p2r = x2r + x5r, p2i = x2i + x5i, d2r = x2r - x5r, d2i = x2i - x5i;
      const p3r = x3r + x4r, p3i = x3i + x4i, d3r = x3r - x4r, d3i = x3i - x4i;
      ar[dst] = x0r + p1r + p2r + p3r;
      ai[dst] = x0i + p1i + p2i + p3i;
      // cos(2πjk/7), sin(2πjk/7) for (j, k) pairs, reduced to c1..c3, s1..s3.
      let Ar = x0r + p1r * c1 + p2r * c2 + p3r * c3;
      let Ai = x0i + p1i * c1 + p2i * c2 + p3i * c3;
      let Br = d1r * s1 + d2r * s2 + d3r * s3;
      let Bi = d1i * s1 + d2i * s2 + d3i * s3;
      twiddle(ar, ai, tw, m, n2, dst, Ar + sg * Bi, Ai - sg * Br, sg);
      twiddle(ar, ai, tw, 6 * m, n2, dst, Ar - sg * Bi, Ai + sg * Br, sg);
      Ar = x0r + p1r * c2 + p2r * c3 + p3r * c1;
      Ai = x0i + p1i * c2 + p2i * c3 + p3i * c1;
      Br = d1r * s2 - d2r * s3 - d3r * s1;
      Bi = d1i * s2 - d2i * s3 - d3i * s1;
      twiddle(ar, ai, tw, 2 * m, n2, dst, Ar + sg * Bi, Ai - sg * Br, sg);
      twiddle(ar, ai, tw, 5 * m, n2, dst, Ar - sg * Bi, Ai + sg * Br, sg);
      Ar = x0r + p1r * c3 + p2r * c1 + p3r * c2;
      Ai = x0i + p1i * c3 + p2i * c1 + p3i * c2;
      Br = d1r * s3 - d2r * s1 + d3r * s2;
      Bi = d1i * s3 - d2i * s1 + d3i * s2;
      twiddle(ar, ai, tw, 3 * m, n2, dst, Ar + sg * Bi, Ai - sg * Br, sg);
      twiddle(ar, ai, tw, 4 * m, n2, dst, Ar - sg * Bi, Ai + sg * Br, sg);
    }
  }

  /** Step 2: radix-2 FFT of each row k1; X[k1 + q·k2] = row[k2] · scale. */
  #radix2(re: Float64Array, im: Float64Array, sg: number, scale: number) {
    const q = this.#q, m = this.#m, ar = this.#ar, ai = this.#ai;
    const w2r = this.#w2r, w2i = this.#w2i;
    for (let k1 = 0; k1 < q; k1++) {
      const o = k1 * m;
      let h = 1;
      if (m >= 4) {
        // The first two stages as one radix-4 pass (twiddles 1 and ∓i).
        for (let i = o; i < o + m; i += 4) {
          const b0r = ar[i]! + ar[i + 1]!, b0i = ai[i]! + ai[i + 1]!;
          const b1r = ar[i]! - ar[i + 1]!, b1i = ai[i]! - ai[i + 1]!;
          const b2r = ar[i + 2]! + ar[i + 3]!, b2i = ai[i + 2]! + ai[i + 3]!;
          const b3r = ar[i + 2]! - ar[i + 3]!, b3i = ai[i + 2]! - ai[i + 3]!;
          const tr = sg * b3i, ti = -sg * b3r;
          ar[i] = b0r + b2r;
          ai[i] = b0i + b2i;
          ar[i + 2] = b0r - b2r;
          ai[i + 2] = b0i - b2i;
          ar[i + 1] = b1r + tr;
          ai[i + 1] = b1i + ti;
          ar[i + 3] = b1r - tr;
          ai[i + 3] = b1i - ti;
        }
        h = 4;
      }
      // Pairs of stages (h, 2h) as radix-4 passes, then a last radix-2.
      for (; 4 * h <= m; h *= 4) {
        for (let i = o; i < o + m; i += 4 * h) {
          for (let j = 0; j < h; j++) {
            const w1r = w2r[h + j]!, w1i = sg * w2i[h + j]!;
            const w2r_ = w2r[2 * h + j]!, w2i_ = sg * w2i[2 * h + j]!;
            const i0 = i + j, i1 = i0 + h, i2 = i1 + h, i3 = i2 + h;
            const x0r = ar[i0]!, x0i = ai[i0]!;
            const x1r = ar[i1]!, x1i = ai[i1]!;
            const x2r = ar[i2]!, x2i = ai[i2]!;
            const x3r = ar[i3]!, x3i = ai[i3]!;
            const t1r = x1r * w1r - x1i * w1i, t1i = x1r * w1i + x1i * w1r;
            const t3r = x3r * w1r - x3i * w1i, t3i = x3r * w1i + x3i * w1r;
            const a0r = x0r + t1r, a0i = x0i + t1i;
            const a1r = x0r - t1r, a1i = x0i - t1i;
            const a2r = x2r + t3r, a2i = x2i + t3i;
            const a3r = x2r - t3r, a3i = x2i - t3i;
            const u2r = a2r * w2r_ - a2i * w2i_, u2i = a2r * w2i_ + a2i * w2r_;
            // W_{4h}^{j+h} = W_{4h}^j · (∓i).
            const v3r = a3r * w2r_ - a3i * w2i_, v3i = a3r * w2i_ + a3i * w2r_;
            const u3r = sg * v3i, u3i = -sg * v3r;
            ar[i0] = a0r + u2r;
            ai[i0] = a0i + u2i;
            ar[i2] = a0r - u2r;
            ai[i2] = a0i - u2i;
            ar[i1] = a1r + u3r;
            ai[i1] = a1i + u3i;
            ar[i3] = a1r - u3r;
            ai[i3] = a1i - u3i;
          }
        }
      }
      for (; 2 * h < m; h *= 2) {
        for (let i = o; i < o + m; i += 2 * h) {
          for (let j = 0; j < h; j++) {
            const wr = w2r[h + j]!, wi = sg * w2i[h + j]!;
            const u = i + j, v = u + h;
            const vr = ar[v]! * wr - ai[v]! * wi;
            const vi = ar[v]! * wi + ai[v]! * wr;
            ar[v] = ar[u]! - vr;
            ai[v] = ai[u]! - vi;
            ar[u] = ar[u]! + vr;
            ai[u] = ai[u]! + vi;
          }
        }
      }
      if (2 * h === m) {
        // The last stage writes straight to X[k1 + q·k2], scaled.
        for (let j = 0; j < h; j++) {
          const wr = w2r[h + j]!, wi = sg * w2i[h + j]!;
          const u = o + j, v = u + h;
          const vr = ar[v]! * wr - ai[v]! * wi;
          const vi = ar[v]! * wi + ai[v]! * wr;
          const du = k1 + q * j, dv = du + q * h;
          re[dv] = (ar[u]! - vr) * scale;
          im[dv] = (ai[u]! - vi) * scale;
          re[du] = (ar[u]! + vr) * scale;
          im[du] = (ai[u]! + vi) * scale;
        }
      } else {
        for (let k2 = 0, d = k1; k2 < m; k2++, d += q) {
          re[d] = ar[o + k2]! * scale;
          im[d] = ai[o + k2]! * scale;
        }
      }
    }
  }
}

/** Store (xr, xi) · W_n^{k1·n2} (conjugated when sg = −1) at row + dst. */
function twiddle(
  ar: Float64Array,
  ai: Float64Array,
  tw: Float64Array,
  row: number,
  n2: number,
  dst: number,
  xr: number,
  xi: number,
  sg: number,
): void {
  const t = 2 * (row + n2);
  const tr = tw[t]!, ti = sg * tw[t + 1]!;
  ar[row + dst] = xr * tr - xi * ti;
  ai[row + dst] = xr * ti + xi * tr;
}
