/**
 * Glass blur's Gaussian passes as a WebAssembly SIMD kernel
 * (`glass_pass.wat`). This wrapper owns the module's instance (one per
 * isolate, made on first use) and its memory, where the passes' float64
 * planes live as views that `glassMemory` hands out.
 */
import { kWasmBase64 } from "./glass_pass_wasm.ts";

interface Exports {
  memory: WebAssembly.Memory;
  pass(
    src: number,
    dst: number,
    n: number,
    st: number,
    nt: number,
    w: number,
  ): void;
}

let kernel: Exports | undefined;

function instance(): Exports {
  if (kernel) return kernel;
  const bin = atob(kWasmBase64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const module = new WebAssembly.Module(bytes);
  kernel = new WebAssembly.Instance(module).exports as unknown as Exports;
  return kernel;
}

/** Views of the kernel's memory (contents stale). */
export interface GlassMemory {
  /** Room for 16 weights. */
  w: Float64Array;
  /** The input plane and the first pass's output, `n` samples each. */
  f: Float64Array;
  g: Float64Array;
  /** A block of the second pass's output, `rows` samples. */
  h: Float64Array;
}

let views: GlassMemory | undefined;

/**
 * The weights, both planes of `n` samples and a block of `rows` samples,
 * one after another; valid until the next call with larger sizes.
 */
export function glassMemory(n: number, rows: number): GlassMemory {
  if (views && views.f.length >= n && views.h.length >= rows) return views;
  const k = instance();
  const end = 8 * (16 + 2 * n + rows);
  const have = k.memory.buffer.byteLength;
  if (have < end) k.memory.grow(Math.ceil((end - have) / 65536));
  const mem = k.memory.buffer;
  views = {
    w: new Float64Array(mem, 0, 16),
    f: new Float64Array(mem, 128, n),
    g: new Float64Array(mem, 128 + 8 * n, n),
    h: new Float64Array(mem, 128 + 16 * n, rows),
  };
  return views;
}

/**
 * `pass` (see the `.wat` header): `dst[at + i] = Σ_t w[t]·src[from + i +
 * t·st]`, t in [0, nt) in order, for i in [0, n). All arrays are views from
 * `glassMemory`; the reads and writes must lie in them.
 */
export function glassPass(
  src: Float64Array,
  from: number,
  dst: Float64Array,
  at: number,
  n: number,
  st: number,
  nt: number,
  w: Float64Array,
): void {
  instance().pass(
    src.byteOffset + 8 * from,
    dst.byteOffset + 8 * at,
    n,
    st,
    nt,
    w.byteOffset,
  );
}
