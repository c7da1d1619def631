/**
 * Grow-only scratch arrays and byte conversions shared by the blur
 * corruptions (`defocus.ts`, `glass.ts`, `zoom.ts`).
 */
/**
 * Grow-only scratch arrays, one per slot, reused across calls: a fresh array
 * of a megabyte costs more (page faults on first touch) than the work done
 * in it. Contents are stale: callers write every element they read.
 */
const kScratchF64: Float64Array[] = [];
const kScratchI32: Int32Array[] = [];
const kScratchU8: Uint8Array[] = [];
export function scratchF64(slot: number, n: number): Float64Array {
  let a = kScratchF64[slot];
  if (!a || a.length < n) kScratchF64[slot] = a = new Float64Array(n);
  return a.length === n ? a : a.subarray(0, n);
}
export function scratchI32(slot: number, n: number): Int32Array {
  let a = kScratchI32[slot];
  if (!a || a.length < n) kScratchI32[slot] = a = new Int32Array(n);
  return a.length === n ? a : a.subarray(0, n);
}
export function scratchU8(slot: number, n: number): Uint8Array {
  let a = kScratchU8[slot];
  if (!a || a.length < n) kScratchU8[slot] = a = new Uint8Array(n);
  return a.length === n ? a : a.subarray(0, n);
}

/** `b / 255` for every byte b (the same doubles as the division). */
export const kByteToUnit = Float64Array.from(
  { length: 256 },
  (_, b) => b / 255,
);
/** The same rounded to float32: the original's `float32(x) / 255`. */
export const kByteToUnit32 = Float64Array.from(
  { length: 256 },
  (_, b) => Math.fround(b / 255),
);

/** The original's `np.uint8(np.clip(v, 0, 1) * 255)`; monotone in v. */
export function toByte(v: number): number {
  return Math.trunc((v < 0 ? 0 : v > 1 ? 1 : v) * 255);
}
