/**
 * ImageMagick's motion blur as a WebAssembly SIMD kernel
 * (`motion_blur.wat`). This wrapper owns the module's instance and memory
 * (grown once for the largest image), pads the image with its edge pixels
 * in that memory, and runs the kernel on it.
 */
import { kWasmBase64 } from "./motion_blur_wasm.ts";
import { align16, ensureMemory, lazyKernel } from "./kernel.ts";

interface Exports {
  memory: WebAssembly.Memory;
  to_f64(src: number, dst: number, n: number): void;
  blur(
    F: number,
    base: number,
    stride: number,
    len: number,
    height: number,
    W: number,
    Off: number,
    taps: number,
    out: number,
  ): void;
}

const instance = lazyKernel<Exports>(kWasmBase64);

/**
 * Blurs the 8-bit HWC image `data` with the taps `weights` at pixel offsets
 * (`dx`, `dy`), edge pixels repeated outside the image: each output sample
 * is `Σ_j weights[j]·x_j` added in tap order, as ImageMagick's Q16 quantum
 * truncated to 8 bits.
 */
export function motionBlurKernel(
  data: Uint8Array,
  height: number,
  width: number,
  channels: number,
  weights: Float64Array,
  dx: Int32Array,
  dy: Int32Array,
): Uint8Array {
  const k = instance(), n = weights.length;
  let r = 0;
  for (let j = 0; j < n; j++) {
    r = Math.max(r, Math.abs(dx[j]!), Math.abs(dy[j]!));
  }
  const pw = width + 2 * r, ph = height + 2 * r;
  const rowLen = width * channels, padLen = pw * ph * channels;
  // Layout: weights, offsets, padded bytes, padded float64, output (see the
  // `.wat` header); at least 16 spare samples after the padded image (a
  // multiple of 8 in all, as `to_f64` converts) and after the output.
  const S = align16(padLen) + 16;
  const W = 0, Off = align16(n * 8), P = Off + align16(n * 4);
  const F = P + S, O = F + S * 8;
  const end = O + height * rowLen + 16;
  ensureMemory(k.memory, end);
  const mem = k.memory.buffer;
  new Float64Array(mem, W, n).set(weights);
  const off = new Int32Array(mem, Off, n);
  for (let j = 0; j < n; j++) off[j] = (dy[j]! * pw + dx[j]!) * channels * 8;
  const pad = new Uint8Array(mem, P, S);
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
  pad.fill(0, padLen);
  k.to_f64(P, F, S);
  k.blur(
    F,
    (r * pw + r) * channels * 8,
    pw * channels * 8,
    rowLen,
    height,
    W,
    Off,
    n,
    O,
  );
  return new Uint8Array(mem, O, height * rowLen).slice();
}
