/**
 * The per-pixel phases of the elastic transform as a WebAssembly SIMD kernel
 * (`elastic.wat`): OpenCV's affine warp of the image, then, once the caller
 * has filled the displacement fields, scipy's order-1 `map_coordinates` to
 * bytes. This wrapper owns the module's instance and memory (grown once for
 * the largest image), lays out its tables, and keeps the warped image there
 * between the two calls.
 */
import { roundHalfEven } from "../../data/preprocess.ts";
import { kWasmBase64 } from "./elastic_wasm.ts";
import { align16, ensureMemory, lazyKernel } from "./kernel.ts";

interface Exports {
  memory: WebAssembly.Memory;
  to_rgbx(src: number, dst: number, npix: number): void;
  warp(
    n: number,
    F: number,
    Wt: number,
    Tx: number,
    Ty: number,
    W: number,
  ): void;
  sample(n: number, W: number, DX: number, DY: number, out: number): void;
}

/** Byte addresses of the regions (see the `.wat` header). */
interface Layout {
  wt: number;
  tx: number;
  ty: number;
  f: number;
  w: number;
  dx: number;
  dy: number;
  inp: number;
  out: number;
  end: number;
}

function layout(n: number): Layout {
  const wt = 0;
  const tx = wt + 32 * 32 * 32;
  const ty = tx + align16(n * 8);
  const f = ty + align16(n * 8);
  const w = f + n * n * 16;
  const dx = w + n * n * 16;
  const dy = dx + align16(n * n * 4);
  const inp = dy + align16(n * n * 4);
  const out = inp + align16(n * n * 3 + 1);
  return {
    wt,
    tx,
    ty,
    f,
    w,
    dx,
    dy,
    inp,
    out,
    end: out + align16(n * n * 3 + 1),
  };
}

/**
 * OpenCV's bilinear weights on its 1/32-pixel grid, as float32 values:
 * entry (fy·32 + fx)·4 + t for the taps (0,0), (0,1), (1,0), (1,1).
 */
function warpWeights(): Float64Array {
  const f = Math.fround;
  const t = new Float64Array(32 * 32 * 4);
  for (let b = 0; b < 32; b++) {
    for (let a = 0; a < 32; a++) {
      const fx = f(a / 32), fy = f(b / 32);
      const o = (b * 32 + a) * 4;
      t[o] = f(f(1 - fy) * f(1 - fx));
      t[o + 1] = f(f(1 - fy) * fx);
      t[o + 2] = f(fy * f(1 - fx));
      t[o + 3] = f(fy * fx);
    }
  }
  return t;
}

const kernel = lazyKernel<Exports>(kWasmBase64);
/** The side the memory is laid out for (0: none yet). */
let laidOut = 0;

function instance(n: number): { k: Exports; L: Layout } {
  const k = kernel(), L = layout(n);
  if (laidOut !== n) {
    ensureMemory(k.memory, L.end);
    new Float64Array(k.memory.buffer, L.wt, 32 * 32 * 4).set(warpWeights());
    laidOut = n;
  }
  return { k, L };
}

/** The displacement fields to fill (views valid until the next warp). */
export interface ElasticFields {
  dx: Float32Array;
  dy: Float32Array;
}

/**
 * `cv2.warpAffine(data / 255, m, (n, n), flags=INTER_LINEAR,
 * borderMode=BORDER_REFLECT_101)` of the n x n RGB image `data` in float32,
 * kept in the module for `elasticSample`: the inverse map in OpenCV's fixed
 * point (10-bit coordinates, 5-bit interpolation fractions). Returns the
 * displacement fields for the caller to fill before sampling.
 */
export function elasticWarp(
  data: Uint8Array,
  n: number,
  m: readonly number[],
): ElasticFields {
  const { k, L } = instance(n);
  const mem = k.memory.buffer;
  let D = m[0]! * m[4]! - m[1]! * m[3]!;
  D = D !== 0 ? 1 / D : 0;
  const a0 = m[4]! * D, a1 = m[1]! * -D, a3 = m[3]! * -D, a4 = m[0]! * D;
  const a2 = -a0 * m[2]! - a1 * m[5]!;
  const a5 = -a3 * m[2]! - a4 * m[5]!;
  const tx = new Int32Array(mem, L.tx, 2 * n);
  const ty = new Int32Array(mem, L.ty, 2 * n);
  for (let i = 0; i < n; i++) {
    tx[2 * i] = roundHalfEven(a0 * i * 1024);
    tx[2 * i + 1] = roundHalfEven(a3 * i * 1024);
    ty[2 * i] = roundHalfEven((a1 * i + a2) * 1024) + 16;
    ty[2 * i + 1] = roundHalfEven((a4 * i + a5) * 1024) + 16;
  }
  const len = n * n * 3, inp = new Uint8Array(mem, L.inp, len + 1);
  inp.set(data);
  inp[len] = 0;
  k.to_rgbx(L.inp, L.f, n * n);
  k.warp(n, L.f, L.wt, L.tx, L.ty, L.w);
  return {
    dx: new Float32Array(mem, L.dx, n * n),
    dy: new Float32Array(mem, L.dy, n * n),
  };
}

/**
 * `map_coordinates(warped, (y + dy, x + dx), order=1, mode="reflect")` per
 * channel, in float64 of the float32 samples, rounded to float32, then
 * `np.clip(v, 0, 1) · 255` in float32 truncated to bytes: the last warp's
 * image at its fields, as n x n RGB bytes in `out`.
 */
export function elasticSample(
  n: number,
  out: Uint8Array = new Uint8Array(n * n * 3),
): Uint8Array {
  const { k, L } = instance(n);
  k.sample(n, L.w, L.dx, L.dy, L.out);
  out.set(new Uint8Array(k.memory.buffer, L.out, n * n * 3));
  return out;
}

/** The last warp's image as float32 RGB (n x n x 3), a copy. */
export function warpedImage(n: number): Float32Array {
  const { k, L } = instance(n);
  const rgbx = new Float32Array(k.memory.buffer, L.w, n * n * 4);
  const out = new Float32Array(n * n * 3);
  for (let p = 0; p < n * n; p++) {
    out[3 * p] = rgbx[4 * p]!;
    out[3 * p + 1] = rgbx[4 * p + 1]!;
    out[3 * p + 2] = rgbx[4 * p + 2]!;
  }
  return out;
}
