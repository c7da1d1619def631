/**
 * ImageMagick's `MotionBlurImage(radius, sigma, angle)` (MagickCore
 * `effect.c`), which the original ImageNet-C calls through Wand for motion
 * blur and snow: a one-sided Gaussian of `width = 2·ceil(radius) + 1` taps
 * laid along the direction `angle` (degrees, x right, y down), each tap at a
 * rounded integer offset, edge pixels repeated outside the image (the
 * default virtual-pixel method). 8-bit in, 8-bit out, rounded as ImageMagick 6.9 (Q16)
 * rounds its quantum and truncates it into the 8-bit PNG it writes.
 */
import { motionBlurKernel } from "./wasm/motion_blur.ts";

/** The taps: weights (sum 1) and integer (dx, dy) offsets. */
export interface MotionKernel {
  weights: Float64Array;
  dx: Int32Array;
  dy: Int32Array;
}

/** `GetMotionBlurKernel` and the offset table of `MotionBlurImage`. */
export function motionKernel(
  radius: number,
  sigma: number,
  angle: number,
): MotionKernel {
  // GetOptimalKernelWidth1D for radius > MagickEpsilon.
  const width = 2 * Math.ceil(radius) + 1;
  const s = Math.abs(sigma) < 1e-12 ? 1e-12 : sigma;
  const sq2pi = 2.50662827463100024161235523934010416269302368164062;
  const weights = new Float64Array(width);
  let norm = 0;
  for (let i = 0; i < width; i++) {
    weights[i] = Math.exp(-(i * i) / (2 * s * s)) / (sq2pi * s);
    norm += weights[i]!;
  }
  for (let i = 0; i < width; i++) weights[i]! /= norm;
  const rad = (Math.PI * angle) / 180;
  const px = width * Math.sin(rad);
  const py = width * Math.cos(rad);
  const h = Math.hypot(px, py);
  const dx = new Int32Array(width);
  const dy = new Int32Array(width);
  for (let i = 0; i < width; i++) {
    dx[i] = Math.ceil((i * py) / h - 0.5);
    dy[i] = Math.ceil((i * px) / h - 0.5);
  }
  return { weights, dx, dy };
}

/** Apply a motion kernel to 8-bit HWC samples (`channels` 1 or 3). */
export function motionBlur(
  data: Uint8Array,
  height: number,
  width: number,
  channels: number,
  k: MotionKernel,
): Uint8Array {
  return motionBlurKernel(data, height, width, channels, k.weights, k.dx, k.dy);
}
