/**
 * The float64 estimate of zoom blur as a WebAssembly SIMD kernel
 * (`zoom_estimate.wat`): it decides the bytes the estimate bound proves and
 * lists the undecided samples. This wrapper owns the module's instance and
 * memory (grown once for the largest image), lays out its tables, and runs
 * it on one image.
 */
import { kWasmBase64 } from "./zoom_estimate_wasm.ts";
import { align16, ensureMemory, lazyKernel } from "./kernel.ts";

/** One zoom besides 1, as the estimate reads it. */
export interface EstimateZoom {
  /** Per output index: lower and upper source index, weight of the upper. */
  lo: Int32Array;
  hi: Int32Array;
  t: Float64Array;
  /** Source pixels the zoom reads: `[top, top + ch)`. */
  top: number;
  ch: number;
}

/** The estimate's parameters (byte units, see `zoomEstimateBound`). */
export interface EstimateParams {
  /** Weight of the image's own term (2 where zoom 1 is in the list). */
  w0: number;
  /** 1 / number of terms. */
  inv: number;
  /** The bound. */
  d: number;
  /** The sum at or above which every tap is 255. */
  white: number;
}

/** The undecided samples of the last run (views valid until the next). */
export interface EstimateMisses {
  /** Sample indices `y·h·3 + 3x + c`, in order. */
  miss: Int32Array;
  /** Per row, how many of them it holds. */
  counts: Int32Array;
}

interface Exports {
  memory: WebAssembly.Memory;
  to_rgbx(src: number, dst: number, npix: number): void;
  estimate(
    h: number,
    np: number,
    w0: number,
    inv: number,
    d: number,
    white: number,
    F: number,
    Yt: number,
    Zt: number,
    Xt: number,
    out: number,
    miss: number,
    counts: number,
  ): number;
}

/** Byte addresses of the regions (see the `.wat` header). */
interface Layout {
  zt: number;
  yt: number;
  xt: number;
  u: number;
  f: number;
  inp: number;
  out: number;
  miss: number;
  counts: number;
  end: number;
}

function layout(h: number, np: number): Layout {
  const zt = 0;
  const yt = zt + align16(np * 16);
  const xt = yt + h * np * 16;
  const u = xt + h * np * 16;
  const f = u + np * (h + 1) * 32;
  const inp = f + h * h * 32;
  const out = inp + align16(h * h * 3 + 1);
  const miss = out + align16(h * h * 3 + 1);
  const counts = miss + h * h * 3 * 4;
  return { zt, yt, xt, u, f, inp, out, miss, counts, end: counts + h * 4 };
}

const instance = lazyKernel<Exports>(kWasmBase64);
/** The zooms and size whose tables are in memory. */
let tablesKey = "";

function writeTables(
  mem: ArrayBufferLike,
  L: Layout,
  h: number,
  zooms: EstimateZoom[],
): void {
  const np = zooms.length;
  const i32 = new Int32Array(mem), f64 = new Float64Array(mem);
  // U_j: its spare pixel (read with weight 0) must be finite.
  f64.fill(0, L.u / 8, L.f / 8);
  for (let j = 0; j < np; j++) {
    const z = zooms[j]!, ub = L.u + j * (h + 1) * 32;
    const zr = (L.zt + j * 16) / 4;
    i32[zr] = ub;
    i32[zr + 1] = z.top * 32;
    i32[zr + 2] = (z.top + z.ch) * 32;
    for (let k = 0; k < h; k++) {
      const yr = L.yt + (k * np + j) * 16;
      i32[yr / 4] = L.f + z.lo[k]! * h * 32;
      i32[yr / 4 + 1] = L.f + z.hi[k]! * h * 32;
      f64[yr / 8 + 1] = z.t[k]!;
      // The x taps are lo and lo + 1, with weight 0 on lo + 1 where the
      // original's second tap is lo itself.
      const xr = L.xt + (k * np + j) * 16;
      i32[xr / 4] = ub + z.lo[k]! * 32;
      f64[xr / 8 + 1] = z.hi[k] === z.lo[k] ? 0 : z.t[k]!;
    }
  }
}

/**
 * Runs the estimate on the h x h RGB image `data` for `zooms` (in the order
 * the sum adds them): writes the decided bytes to `out` (the undecided ones
 * hold anything) and returns the undecided samples. `key` names the zooms
 * (their tables are rewritten when it changes).
 */
export function zoomEstimate(
  data: Uint8Array,
  h: number,
  zooms: EstimateZoom[],
  key: string,
  p: EstimateParams,
  out: Uint8Array,
): EstimateMisses {
  const k = instance(), np = zooms.length, len = h * h * 3;
  const L = layout(h, np);
  ensureMemory(k.memory, L.end);
  const mem = k.memory.buffer;
  const fullKey = `${h}/${key}`;
  if (fullKey !== tablesKey) {
    writeTables(mem, L, h, zooms);
    tablesKey = fullKey;
  }
  new Uint8Array(mem, L.inp, len).set(data);
  k.to_rgbx(L.inp, L.f, h * h);
  const nm = k.estimate(
    h,
    np,
    p.w0,
    p.inv,
    p.d,
    p.white,
    L.f,
    L.yt,
    L.zt,
    L.xt,
    L.out,
    L.miss,
    L.counts,
  );
  out.set(new Uint8Array(mem, L.out, len));
  return {
    miss: new Int32Array(mem, L.miss, nm),
    counts: new Int32Array(mem, L.counts, h),
  };
}
