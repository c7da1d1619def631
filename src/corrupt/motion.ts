/**
 * ImageMagick's `MotionBlurImage(radius, sigma, angle)` (MagickCore
 * `effect.c`), which the original ImageNet-C calls through Wand for motion
 * blur and snow: a one-sided Gaussian of `width = 2·ceil(radius) + 1` taps
 * laid along the direction `angle` (degrees, x right, y down), each tap at a
 * rounded integer offset, edge pixels repeated outside the image (the
 * default virtual-pixel method). 8-bit in, 8-bit out, rounded as ImageMagick 6.9 (Q16)
 * rounds its quantum and truncates it into the 8-bit PNG it writes.
 */

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

/**
 * The padded image, a grow-only buffer reused across calls: a fresh one
 * costs more (page faults on first touch) than the blur's reads of it.
 * Every element read is written first.
 */
let gPad = new Uint8Array(0);
function scratchPad(n: number): Uint8Array {
  if (gPad.length < n) gPad = new Uint8Array(n);
  return gPad;
}

/** Apply a motion kernel to 8-bit HWC samples (`channels` 1 or 3). */
export function motionBlur(
  data: Uint8Array,
  height: number,
  width: number,
  channels: number,
  k: MotionKernel,
): Uint8Array {
  const n = k.weights.length;
  // Pad by the largest offset with repeated edge pixels: no test per tap.
  let r = 0;
  for (let j = 0; j < n; j++) {
    r = Math.max(r, Math.abs(k.dx[j]!), Math.abs(k.dy[j]!));
  }
  const pw = width + 2 * r, ph = height + 2 * r;
  const pad = scratchPad(pw * ph * channels);
  const rowLen = width * channels;
  for (let y = 0; y < ph; y++) {
    const sy = Math.min(height - 1, Math.max(0, y - r)) * rowLen;
    const o = y * pw * channels;
    pad.set(data.subarray(sy, sy + rowLen), o + r * channels);
    const last = sy + rowLen - channels, right = o + (r + width) * channels;
    for (let x = 0; x < r; x++) {
      for (let c = 0; c < channels; c++) {
        pad[o + x * channels + c] = data[sy + c]!;
        pad[right + x * channels + c] = data[last + c]!;
      }
    }
  }
  const off = new Int32Array(n);
  for (let j = 0; j < n; j++) off[j] = (k.dy[j]! * pw + k.dx[j]!) * channels;
  const w = k.weights;
  const out = new Uint8Array(data.length);
  // Several independent sums per loop (the channels of two pixels, or four
  // grey pixels), each still added tap by tap in order: the same values,
  // without waiting on one chain of dependent additions.
  const group = channels === 3 ? 6 : channels === 1 ? 4 : 0;
  for (let y = 0; y < height; y++) {
    let x = 0;
    const rowBase = ((y + r) * pw + r) * channels;
    const rowOut = y * width * channels;
    if (group > 0) {
      for (; x + group / channels <= width; x += group / channels) {
        const b = rowBase + x * channels;
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0;
        if (channels === 3) {
          for (let j = 0; j < n; j++) {
            const wj = w[j]!, o = b + off[j]!;
            a0 += wj * pad[o]!;
            a1 += wj * pad[o + 1]!;
            a2 += wj * pad[o + 2]!;
            a3 += wj * pad[o + 3]!;
            a4 += wj * pad[o + 4]!;
            a5 += wj * pad[o + 5]!;
          }
        } else {
          for (let j = 0; j < n; j++) {
            const wj = w[j]!, o = b + off[j]!;
            a0 += wj * pad[o]!;
            a1 += wj * pad[o + 1]!;
            a2 += wj * pad[o + 2]!;
            a3 += wj * pad[o + 3]!;
          }
        }
        const o = rowOut + x * channels;
        out[o] = quantum8(a0);
        out[o + 1] = quantum8(a1);
        out[o + 2] = quantum8(a2);
        out[o + 3] = quantum8(a3);
        if (group === 6) {
          out[o + 4] = quantum8(a4);
          out[o + 5] = quantum8(a5);
        }
      }
    }
    for (; x < width; x++) {
      const o = rowOut + x * channels;
      const base = rowBase + x * channels;
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += w[j]! * pad[base + off[j]! + c]!;
        out[o + c] = quantum8(acc);
      }
    }
  }
  return out;
}

/**
 * ImageMagick's Q16 quantum (x·257, rounded), then the 8-bit PNG it writes
 * (truncated): matches `convert -motion-blur` bit for bit.
 */
function quantum8(acc: number): number {
  const v = Math.floor(Math.floor(acc * 257 + 0.5) / 257);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}
