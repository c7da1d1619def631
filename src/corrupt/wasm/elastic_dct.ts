/**
 * The long-kernel route of `reflect_convolve.ts` as a WebAssembly SIMD
 * kernel (`elastic_dct.wat`): y = IDCT(λ · DCT(x)) along the columns, then
 * the rows, of two n x n float64 images held in the module's memory. This
 * wrapper owns the instance and memory, builds the plan (the FFT's twiddles
 * and the spectral map) and lays it out.
 *
 * Reflect mode makes a line 2n-periodic and even, so the correlation with
 * the kernel folded modulo 2n is diagonal in the DCT-II basis, λ the 2n-point
 * DFT of the folded kernel. DCT-II by Makhoul: v = (x0, x2, …, x3, x1),
 * V = FFT(v), X_m = Re(E_m V_m) with E_m = e^{−iπm/2n}; its inverse takes
 * V'_m = conj(E_m)(X'_m − i X'_{n−m}) through an inverse FFT. Two real lines
 * a + ib share one FFT: V_a, V_b are the Hermitian and anti-Hermitian parts
 * of V. With p + iq = E_m V_a,m one has X_m = p and X_{n−m} = −q, so
 * V'_a,m = conj(E_m)(λ_m p + i λ_{n−m} q), and V'_a,n−m is its conjugate.
 */
import { kWasmBase64 } from "./elastic_dct_wasm.ts";
import { align16, ensureMemory, lazyKernel } from "./kernel.ts";

interface Exports {
  memory: WebAssembly.Memory;
  pass(
    n: number,
    q: number,
    m: number,
    A: number,
    B: number,
    cols: number,
    RE: number,
    IM: number,
    AR: number,
    AI: number,
    TW: number,
    REV: number,
    W2R: number,
    W2I: number,
    CQ: number,
    SQ: number,
    PQ: number,
    C7: number,
    AL: number,
    BE: number,
    GA: number,
    invn: number,
  ): void;
}

/** The plan of one (n, kernel): tables as the `.wat` header lays them out. */
interface DctPlan {
  n: number;
  q: number;
  m: number;
  tw: Float64Array;
  rev: Int32Array;
  w2r: Float64Array;
  w2i: Float64Array;
  cq: Float64Array;
  sq: Float64Array;
  c7: Float64Array;
  /**
   * Per m ≤ n/2, the symmetric 2x2 map (α β; β γ) from 2·V_a,m to V'_a,m
   * (and likewise for b): with c, s = cos, sin(πm/2n), λ = λ_m,
   * λ' = λ_{n−m} (0 for m = 0),
   * α = (λc² + λ's²)/2, β = cs(λ − λ')/2, γ = (λs² + λ'c²)/2.
   */
  alpha: Float64Array;
  beta: Float64Array;
  gamma: Float64Array;
}

const kPlans = new Map<string, DctPlan>();

function planKey(n: number, weights: Float64Array): string {
  return `${n}:${weights.length}:${weights[0]}:${weights[weights.length >> 1]}`;
}

function makePlan(n: number, weights: Float64Array): DctPlan {
  if (n % 2 !== 0) {
    throw new RangeError(`Cannot smooth a ${n}-sample axis: n must be even`);
  }
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
  // W_n^{k1·n2} twiddles as (cos, sin) pairs, angle −2π k1 n2 / n.
  const tw = new Float64Array(2 * q * m);
  for (let k1 = 0; k1 < q; k1++) {
    for (let n2 = 0; n2 < m; n2++) {
      const t = (-2 * Math.PI * ((k1 * n2) % n)) / n;
      tw[2 * (k1 * m + n2)] = Math.cos(t);
      tw[2 * (k1 * m + n2) + 1] = Math.sin(t);
    }
  }
  let bits = 0;
  while ((1 << bits) < m) bits++;
  const rev = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    rev[i] = r;
  }
  // Radix-2 twiddles of the stage with half-length h at [h, 2h).
  const w2r = new Float64Array(Math.max(m, 2));
  const w2i = new Float64Array(Math.max(m, 2));
  for (let h = 1; h < m; h *= 2) {
    for (let j = 0; j < h; j++) {
      w2r[h + j] = Math.cos((-Math.PI * j) / h);
      w2i[h + j] = Math.sin((-Math.PI * j) / h);
    }
  }
  // cos, sin of 2π jk/q for the paired q-point DFT.
  const cq = new Float64Array(q * q), sq = new Float64Array(q * q);
  for (let j = 0; j < q; j++) {
    for (let k = 0; k < q; k++) {
      cq[j * q + k] = Math.cos((2 * Math.PI * ((j * k) % q)) / q);
      sq[j * q + k] = Math.sin((2 * Math.PI * ((j * k) % q)) / q);
    }
  }
  const c7 = Float64Array.of(
    Math.cos((2 * Math.PI) / 7),
    Math.cos((4 * Math.PI) / 7),
    Math.cos((6 * Math.PI) / 7),
    Math.sin((2 * Math.PI) / 7),
    Math.sin((4 * Math.PI) / 7),
    Math.sin((6 * Math.PI) / 7),
  );
  const { alpha, beta, gamma } = dctSpectrum(n, weights);
  return { n, q, m, tw, rev, w2r, w2i, cq, sq, c7, alpha, beta, gamma };
}

/**
 * The spectrum of the correlation with `weights` (odd length, centred) on
 * an even n, as the spectral pass applies it: λ_m, the 2n-point DFT of the
 * kernel folded onto the 2n-periodic even extension, combined with the
 * DCT's E_m into α, β, γ for m = 0 … n/2.
 */
export function dctSpectrum(
  n: number,
  weights: Float64Array,
): { alpha: Float64Array; beta: Float64Array; gamma: Float64Array } {
  const r = (weights.length - 1) >> 1, p = 2 * n;
  // The kernel folded onto the 2n-periodic even extension.
  const g = new Float64Array(p);
  for (let k = -r; k <= r; k++) g[((k % p) + p) % p]! += weights[k + r]!;
  const lambda = new Float64Array(n);
  for (let mm = 0; mm < n; mm++) {
    let acc = 0;
    for (let t = 0; t < p; t++) {
      acc += g[t]! * Math.cos((Math.PI * ((mm * t) % p)) / n);
    }
    lambda[mm] = acc;
  }
  const h = n >> 1;
  const alpha = new Float64Array(h + 1), beta = new Float64Array(h + 1);
  const gamma = new Float64Array(h + 1);
  for (let mm = 0; mm <= h; mm++) {
    const c = Math.cos((Math.PI * mm) / (2 * n));
    const s = Math.sin((Math.PI * mm) / (2 * n));
    const l = lambda[mm]!, lq = mm === 0 ? 0 : lambda[n - mm]!;
    alpha[mm] = 0.5 * (l * c * c + lq * s * s);
    beta[mm] = 0.5 * (c * s * (l - lq));
    gamma[mm] = 0.5 * (l * s * s + lq * c * c);
  }
  return { alpha, beta, gamma };
}

/** Byte addresses of the regions (see the `.wat` header). */
interface Layout {
  a: number;
  b: number;
  re: number;
  im: number;
  ar: number;
  ai: number;
  tw: number;
  rev: number;
  w2r: number;
  w2i: number;
  cq: number;
  sq: number;
  pq: number;
  c7: number;
  al: number;
  be: number;
  ga: number;
  end: number;
}

function layout(p: DctPlan): Layout {
  const { n, q, m } = p, h = n >> 1;
  const a = 0, b = a + n * n * 8, re = b + n * n * 8;
  const im = re + n * 16, ar = im + n * 16, ai = ar + n * 16;
  const tw = ai + n * 16, rev = tw + q * m * 16;
  const w2r = rev + align16(m * 4), w2i = w2r + align16(Math.max(m, 2) * 8);
  const cq = w2i + align16(Math.max(m, 2) * 8), sq = cq + align16(q * q * 8);
  const pq = sq + align16(q * q * 8), c7 = pq + ((q + 1) >> 1) * 64 + 64;
  const al = c7 + 48, be = al + align16((h + 1) * 8);
  const ga = be + align16((h + 1) * 8);
  return {
    a,
    b,
    re,
    im,
    ar,
    ai,
    tw,
    rev,
    w2r,
    w2i,
    cq,
    sq,
    pq,
    c7,
    al,
    be,
    ga,
    end: ga + align16((h + 1) * 8),
  };
}

const instance = lazyKernel<Exports>(kWasmBase64);
/** The plan whose tables are in memory. */
let loaded: DctPlan | undefined;

/** The two images of a `spectralSmooth`, in the module's memory. */
export interface SpectralImages {
  a: Float64Array;
  b: Float64Array;
  /**
   * Smooths a and b in place (columns, then rows); with `bZero`, b is an
   * all-zero partner (zeroed before each pass, its result left unused).
   */
  run(bZero?: boolean): void;
}

/**
 * Lays out the module for an n x n pair with `weights` (odd length,
 * symmetric) and returns the pair's views: fill them, `run()`, read them
 * (valid until the next call).
 */
export function spectralImages(
  n: number,
  weights: Float64Array,
): SpectralImages {
  const key = planKey(n, weights);
  let plan = kPlans.get(key);
  if (!plan) {
    plan = makePlan(n, weights);
    kPlans.set(key, plan);
  }
  const k = instance(), L = layout(plan);
  if (loaded !== plan) {
    ensureMemory(k.memory, L.end);
    const mem = k.memory.buffer;
    new Float64Array(mem, L.tw, plan.tw.length).set(plan.tw);
    new Int32Array(mem, L.rev, plan.m).set(plan.rev);
    new Float64Array(mem, L.w2r, plan.w2r.length).set(plan.w2r);
    new Float64Array(mem, L.w2i, plan.w2i.length).set(plan.w2i);
    new Float64Array(mem, L.cq, plan.cq.length).set(plan.cq);
    new Float64Array(mem, L.sq, plan.sq.length).set(plan.sq);
    new Float64Array(mem, L.c7, 6).set(plan.c7);
    new Float64Array(mem, L.al, plan.alpha.length).set(plan.alpha);
    new Float64Array(mem, L.be, plan.beta.length).set(plan.beta);
    new Float64Array(mem, L.ga, plan.gamma.length).set(plan.gamma);
    loaded = plan;
  }
  const mem = k.memory.buffer, p = plan;
  const pass = (cols: number) =>
    k.pass(
      n,
      p.q,
      p.m,
      L.a,
      L.b,
      cols,
      L.re,
      L.im,
      L.ar,
      L.ai,
      L.tw,
      L.rev,
      L.w2r,
      L.w2i,
      L.cq,
      L.sq,
      L.pq,
      L.c7,
      L.al,
      L.be,
      L.ga,
      1 / n,
    );
  const a = new Float64Array(mem, L.a, n * n);
  const b = new Float64Array(mem, L.b, n * n);
  return {
    a,
    b,
    run(bZero = false) {
      if (bZero) b.fill(0);
      pass(1);
      if (bZero) b.fill(0);
      pass(0);
    },
  };
}
