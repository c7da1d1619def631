/**
 * The short-kernel route of `reflect_convolve.ts` as a WebAssembly SIMD
 * kernel (`elastic_direct.wat`): direct sums along axis 0, then axis 1, of
 * two n x n float64 images held in the module's memory, one per lane. This
 * wrapper owns the instance and memory, builds the tap table and lays it
 * out.
 */
import { mapIndex } from "../filters.ts";
import { kWasmBase64 } from "./elastic_direct_wasm.ts";
import { align16, ensureMemory, lazyKernel } from "./kernel.ts";

interface Exports {
  memory: WebAssembly.Memory;
  interleave(A: number, B: number, I: number, count: number): void;
  deinterleave(I: number, A: number, B: number, count: number): void;
  correlate(
    n: number,
    src: number,
    dst: number,
    along: number,
    across: number,
    TS: number,
    TI: number,
    TW: number,
  ): void;
}

/**
 * Per output index, the kernel's taps mapped onto [0, n) under `reflect`,
 * weights of equal indices summed in kernel order (from 0), indices in order
 * of first appearance: `correlateAxis`' sums. In the interior these are the
 * kernel itself on consecutive samples.
 */
interface Taps {
  /** Per output: first tap, tap count. */
  span: Int32Array;
  index: Int32Array;
  weight: Float64Array;
}

function foldedTaps(n: number, weights: Float64Array): Taps {
  const r = (weights.length - 1) >> 1;
  const span = new Int32Array(2 * n);
  const index: number[] = [], weight: number[] = [];
  const slot = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    span[2 * i] = index.length;
    for (let k = -r; k <= r; k++) {
      const j = mapIndex(i + k, n, "reflect");
      if (slot[j]! < 0) {
        slot[j] = index.length;
        index.push(j);
        weight.push(0 + weights[k + r]!);
      } else {
        weight[slot[j]!] = weight[slot[j]!]! + weights[k + r]!;
      }
    }
    span[2 * i + 1] = index.length - span[2 * i]!;
    for (let t = span[2 * i]!; t < index.length; t++) slot[index[t]!] = -1;
  }
  return {
    span,
    index: Int32Array.from(index),
    weight: Float64Array.from(weight),
  };
}

const kTaps = new Map<string, Taps>();

/** Byte addresses of the regions (see the `.wat` header). */
interface Layout {
  a: number;
  b: number;
  i: number;
  t: number;
  ts: number;
  ti: number;
  tw: number;
  end: number;
}

function layout(n: number, taps: number): Layout {
  const a = 0, b = a + n * n * 8, i = b + n * n * 8, t = i + n * n * 16;
  const ts = t + n * n * 16,
    ti = ts + align16(n * 8),
    tw = ti + align16(taps * 4);
  return { a, b, i, t, ts, ti, tw, end: tw + taps * 8 };
}

const instance = lazyKernel<Exports>(kWasmBase64);
/** The taps whose table is in memory. */
let loaded: Taps | undefined;

/** The two images of a direct smoothing, in the module's memory. */
export interface DirectImages {
  a: Float64Array;
  b: Float64Array;
  /** Smooths a and b in place (axis 0, then axis 1). */
  run(): void;
}

/**
 * Lays out the module for an n x n pair with `weights` (odd length,
 * symmetric) and returns the pair's views: fill them, `run()`, read them
 * (valid until the next call).
 */
export function directImages(n: number, weights: Float64Array): DirectImages {
  const key = `${n}:${weights.join(",")}`;
  let taps = kTaps.get(key);
  if (!taps) {
    taps = foldedTaps(n, weights);
    kTaps.set(key, taps);
  }
  const k = instance(), L = layout(n, taps.index.length);
  if (loaded !== taps) {
    ensureMemory(k.memory, L.end);
    const mem = k.memory.buffer;
    new Int32Array(mem, L.ts, 2 * n).set(taps.span);
    new Int32Array(mem, L.ti, taps.index.length).set(taps.index);
    new Float64Array(mem, L.tw, taps.weight.length).set(taps.weight);
    loaded = taps;
  }
  const mem = k.memory.buffer;
  return {
    a: new Float64Array(mem, L.a, n * n),
    b: new Float64Array(mem, L.b, n * n),
    run() {
      k.interleave(L.a, L.b, L.i, n * n);
      k.correlate(n, L.i, L.t, 16 * n, 16, L.ts, L.ti, L.tw);
      k.correlate(n, L.t, L.i, 16, 16 * n, L.ts, L.ti, L.tw);
      k.deinterleave(L.i, L.a, L.b, n * n);
    },
  };
}
