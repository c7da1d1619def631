/**
 * Pure FFT planner: no GPU, plain data in, plain data out.
 *
 * Conventions (shared with `shaders/fft_*.wgsl` and `src/fft/reference.ts`):
 * forward transforms are unnormalised, `X[k] = sum_n x[n] exp(-2 pi i k n / N)`;
 * inverse transforms carry the 1/N factor. A length is planned as a product of
 * radices 2, 3, 4, 5, 7 (and 8); the stages run as a Stockham autosort, stage `s`
 * having radix `r_s` and sub-transform length `ns` = product of the earlier
 * radices. Lengths with any other prime factor are rejected with a UserError.
 */
import { UserError } from "../errors.ts";

/** Most stages one transform may have (the kernels unroll up to this many). */
export const kMaxStages = 8;

/** One Stockham stage: radix and the sub-transform length before it. */
export interface FftStage {
  radix: number;
  /** Product of the radices of the earlier stages (1 for the first stage). */
  ns: number;
}

/** A 1D transform of length `n`. */
export interface FftPlan {
  n: number;
  radices: number[];
  stages: FftStage[];
}

/** Options of {@link planFft}. */
export interface PlanFftOptions {
  /** Largest radix allowed (8 or 4; default 8). */
  maxPow2Radix?: 4 | 8;
}

/**
 * Factor `n` into the kernels' radices. Powers of two use radix 8 (or 4)
 * stages plus at most one 2 or 4; odd factors 3, 5, 7 follow.
 *
 * @example
 * ```ts
 * planFft(224).radices; // [8, 4, 7]
 * ```
 */
export function planFft(n: number, options: PlanFftOptions = {}): FftPlan {
  if (!Number.isInteger(n) || n < 1) {
    throw new UserError(
      `Cannot plan an FFT of length ${n}: the length must be a positive integer`,
    );
  }
  const maxP2 = options.maxPow2Radix ?? 8;
  let m = n;
  let twos = 0;
  while (m % 2 === 0) {
    m /= 2;
    twos++;
  }
  const odd: number[] = [];
  for (const p of [7, 5, 3]) {
    while (m % p === 0) {
      m /= p;
      odd.push(p);
    }
  }
  if (m !== 1) {
    throw new UserError(
      `Cannot plan an FFT of length ${n}: it has the prime factor ${
        smallestFactor(m)
      }, and only lengths whose prime factors are 2, 3, 5 and 7 are supported`,
    );
  }
  const radices: number[] = [];
  const p2 = maxP2 === 8 ? 3 : 2;
  while (twos >= p2) {
    radices.push(1 << p2);
    twos -= p2;
  }
  if (twos > 0) radices.push(1 << twos);
  radices.push(...odd);
  if (radices.length === 0) radices.push(1);
  if (radices.length > kMaxStages) {
    throw new UserError(
      `Cannot plan an FFT of length ${n}: it needs ${radices.length} stages, more than ${kMaxStages}`,
    );
  }
  const stages: FftStage[] = [];
  let ns = 1;
  for (const radix of radices) {
    stages.push({ radix, ns });
    ns *= radix;
  }
  return { n, radices, stages };
}

function smallestFactor(m: number): number {
  for (let p = 2; p * p <= m; p++) if (m % p === 0) return p;
  return m;
}

/** Number of complex bins a real row of length `n` keeps: floor(n/2)+1. */
export function halfBins(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * Kernel family: "stockham" (generic, workgroup-memory Stockham, any planned
 * length), "two-level" (N1 x 32 in registers with one workgroup-memory
 * exchange; GPUs), "registers" (one whole transform per invocation in
 * registers, no workgroup memory; CPU adapters such as lavapipe).
 */
export type FftAlgorithm = "stockham" | "two-level" | "registers";

/** First-level radices the two-level and register kernels implement (N = N1 * 32). */
export const kTwoLevelN1 = [1, 2, 3, 4, 5, 7, 8] as const;

/** Whether length `n` can use the two-level kernels. */
export function twoLevelSupported(n: number): boolean {
  return n % 32 === 0 && (kTwoLevelN1 as readonly number[]).includes(n / 32);
}
