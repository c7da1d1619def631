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

/** Options of {@link planSpectral}. */
export interface PlanSpectralOptions {
  /** Image side S (square images). */
  size: number;
  /** Channels per image (default 3). */
  channels?: number;
  /** Largest storage binding in bytes (device limit). */
  maxBinding: number;
  /** Images the filter must hold at once. */
  maxImages: number;
  /** Shared memory per workgroup in bytes (default 32 KiB; WebGPU guarantees 16 KiB). */
  workgroupStorage?: number;
  /**
   * Kernel family (default "auto": "registers" on a CPU adapter and
   * "two-level" otherwise, where the length allows; else "stockham").
   */
  algorithm?: FftAlgorithm | "auto";
  /** The adapter runs on the CPU (a fallback adapter such as lavapipe). */
  cpuAdapter?: boolean;
}

/** Chunking and kernel shape of a spectral filter, all plain numbers. */
export interface SpectralPlan {
  size: number;
  channels: number;
  /** Complex bins per half-spectrum row. */
  bins: number;
  /** Complex values between half-spectrum rows in GPU memory (bins, or bins rounded up to even for vec4 stores in the two-level kernels). */
  binStride: number;
  fft: FftPlan;
  algorithm: FftAlgorithm;
  /** Bytes of one image's half spectrum (C x S x bins complex float32). */
  spectrumBytesPerImage: number;
  /** Bytes of one image's filtered output (C x S x S float32). */
  outputBytesPerImage: number;
  /** Images per GPU chunk (spectrum, temp and output bindings stay under maxBinding). */
  imagesPerChunk: number;
  /** Row transforms per workgroup (each transform = two real rows). */
  rowTransformsPerGroup: number;
  /** Column transforms per workgroup. */
  colTransformsPerGroup: number;
  /** Invocations per workgroup of the row kernels. */
  rowWorkgroupSize: number;
  /** Invocations per workgroup of the column kernels. */
  colWorkgroupSize: number;
}

/**
 * Plan the spectral filter: transform shape, per-workgroup batching and
 * chunking under the binding limit.
 */
export function planSpectral(options: PlanSpectralOptions): SpectralPlan {
  const { size, maxBinding, maxImages } = options;
  const channels = options.channels ?? 3;
  if (!Number.isInteger(channels) || channels < 1) {
    throw new UserError(
      `Cannot plan a spectral filter with ${channels} channels: need a positive integer`,
    );
  }
  if (!Number.isInteger(maxImages) || maxImages < 1) {
    throw new UserError(
      `Cannot plan a spectral filter for ${maxImages} images: need a positive integer`,
    );
  }
  const fft = planFft(size);
  const bins = halfBins(size);
  const wanted = options.algorithm ?? "auto";
  if (
    (wanted === "two-level" || wanted === "registers") &&
    !twoLevelSupported(size)
  ) {
    throw new UserError(
      `Cannot use the ${wanted} FFT for size ${size}: it needs N1 * 32 with N1 in ${
        kTwoLevelN1.join(", ")
      }`,
    );
  }
  const algorithm: FftAlgorithm = wanted !== "auto"
    ? wanted
    : !twoLevelSupported(size)
    ? "stockham"
    : options.cpuAdapter
    ? "registers"
    : "two-level";
  const binStride = algorithm === "stockham" ? bins : bins + (bins % 2);
  const spectrumBytesPerImage = channels * size * binStride * 8;
  const outputBytesPerImage = channels * size * size * 4;
  const perImage = Math.max(spectrumBytesPerImage, outputBytesPerImage);
  if (perImage > maxBinding) {
    throw new UserError(
      `Cannot filter ${size}x${size} images: one image needs ${perImage} bytes, more than the device's ${maxBinding}-byte binding limit`,
    );
  }
  const bindingCap = Math.min(maxImages, Math.floor(maxBinding / perImage));
  const storage = options.workgroupStorage ?? 32768;
  let rowT: number, colT: number, rowWg: number, colWg: number;
  if (algorithm === "registers") {
    // one transform per invocation; 64 invocations = 8 SIMD-8 groups
    rowT =
      colT =
      rowWg =
      colWg =
        64;
  } else if (algorithm === "two-level") {
    // one buffer of T*N vec2f; 32*T invocations (at most 1024)
    const cap = Math.min(32, Math.max(1, Math.floor(storage / (8 * size))));
    rowT = Math.min(cap, 8);
    colT = Math.min(cap, 8, bins);
    rowWg = 32 * rowT;
    colWg = 32 * colT;
  } else {
    // two ping-pong halves of T*N vec2f
    const cap = Math.max(1, Math.min(64, Math.floor(storage / (16 * size))));
    rowT = cap;
    colT = Math.min(cap, bins);
    const wg = (t: number) =>
      Math.min(256, Math.ceil(Math.ceil((t * size) / 4) / 32) * 32);
    rowWg = wg(rowT);
    colWg = wg(colT);
  }
  // Keep every dispatch dimension within the WebGPU default limit of 65535:
  // planes go in y (Stockham / two-level columns), row pairs in x.
  const kMaxGroups = 65535;
  const dispatchCap = Math.min(
    Math.floor(kMaxGroups / channels),
    Math.floor((kMaxGroups * 2 * rowT) / (channels * size)),
    Math.floor((kMaxGroups * colWg) / (channels * Math.ceil(binStride / 2))),
  );
  const imagesPerChunk = Math.max(1, Math.min(bindingCap, dispatchCap));
  return {
    size,
    channels,
    bins,
    binStride,
    fft,
    algorithm,
    spectrumBytesPerImage,
    outputBytesPerImage,
    imagesPerChunk,
    rowTransformsPerGroup: rowT,
    colTransformsPerGroup: colT,
    rowWorkgroupSize: rowWg,
    colWorkgroupSize: colWg,
  };
}
