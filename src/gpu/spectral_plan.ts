/**
 * The spectral filter's plan, pure data tested without a GPU: how many images
 * one GPU chunk holds under the device's binding limit, which FFT kernel
 * family runs, and the workgroup shapes of the row and column passes.
 */
import { UserError } from "../errors.ts";
import {
  type FftAlgorithm,
  type FftPlan,
  halfBins,
  kTwoLevelN1,
  planFft,
  twoLevelSupported,
} from "../fft/plan.ts";

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
