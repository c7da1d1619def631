/**
 * Glass blur's Gaussian passes as a WebAssembly SIMD kernel
 * (`glass_pass.wat`). This wrapper owns the module's instance (one per
 * isolate, made on first use) and its memory, where the passes' float64
 * planes live as views that `glassMemory` hands out.
 */
import { kWasmBase64 } from "./glass_pass_wasm.ts";
import { ensureMemory, lazyKernel } from "./kernel.ts";

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
  pass_bytes(
    src: number,
    dst: number,
    n: number,
    st: number,
    nt: number,
    w: number,
  ): void;
  to_float(src: number, dst: number, n: number, table: number): void;
  dot(
    src: number,
    dst: number,
    n: number,
    rows: number,
    rs: number,
    off: number,
    wt: number,
    nt: number,
  ): void;
  gather(
    src: number,
    map: number,
    dst: number,
    np: number,
    table: number,
  ): void;
}

const instance = lazyKernel<Exports>(kWasmBase64);

/** Views of the kernel's memory (contents stale but for `table`). */
export interface GlassMemory {
  /** Room for 16 weights. */
  w: Float64Array;
  /** `table[b] = b / 255`. */
  table: Float64Array;
  /** The input plane and the first pass's output, `n` samples each. */
  f: Float64Array;
  g: Float64Array;
  /** A block of the second pass's output, `rows` samples. */
  h: Float64Array;
  /** A pixel map, `n / 3` entries. */
  map: Int32Array;
  /** Two byte images of `n` samples. */
  a: Uint8Array;
  b: Uint8Array;
  /** Room for `taps` tap offsets (two tables) and weights. */
  vOff: Int32Array;
  hOff: Int32Array;
  wt: Float64Array;
}

let views: GlassMemory | undefined;

/**
 * The weights, the byte table, both planes of `n` samples, a block of
 * `rows` samples, a map of `n / 3` pixels, two byte images and tap tables
 * of `taps` entries, one after another; valid until the next call with other sizes.
 */
export function glassMemory(
  n: number,
  rows: number,
  taps: number,
): GlassMemory {
  if (
    views && views.f.length === n && views.h.length === rows &&
    views.wt.length === taps
  ) return views;
  const k = instance();
  const np = Math.ceil(n / 3), nb = Math.ceil(n / 16) * 16;
  const at = [0, 128, 128 + 2048];
  at.push(at[2]! + 8 * n, at[2]! + 16 * n); // g, h
  at.push(at[4]! + 8 * rows); // map
  at.push(at[5]! + 4 * np + 16 - (4 * np) % 16); // a
  at.push(at[6]! + nb, at[6]! + 2 * nb); // b, wt
  const nt = Math.ceil(taps / 4) * 4;
  at.push(at[8]! + 8 * nt, at[8]! + 12 * nt, at[8]! + 16 * nt); // vOff, hOff
  const end = at[11]!;
  ensureMemory(k.memory, end);
  const mem = k.memory.buffer;
  views = {
    w: new Float64Array(mem, at[0]!, 16),
    table: new Float64Array(mem, at[1]!, 256),
    f: new Float64Array(mem, at[2]!, n),
    g: new Float64Array(mem, at[3]!, n),
    h: new Float64Array(mem, at[4]!, rows),
    map: new Int32Array(mem, at[5]!, np),
    a: new Uint8Array(mem, at[6]!, n),
    b: new Uint8Array(mem, at[7]!, n),
    wt: new Float64Array(mem, at[8]!, taps),
    vOff: new Int32Array(mem, at[9]!, taps),
    hOff: new Int32Array(mem, at[10]!, taps),
  };
  for (let v = 0; v < 256; v++) views.table[v] = v / 255;
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

/** `glassPass` writing the bytes `trunc(255 · sum)` into `dst` (a view). */
export function glassPassBytes(
  src: Float64Array,
  from: number,
  dst: Uint8Array,
  at: number,
  n: number,
  st: number,
  nt: number,
  w: Float64Array,
): void {
  instance().pass_bytes(
    src.byteOffset + 8 * from,
    dst.byteOffset + at,
    n,
    st,
    nt,
    w.byteOffset,
  );
}

/**
 * `f[i] = src[i] / 255` (through `table`), or with `map`,
 * `f[3p + c] = src[3 · map[p] + c] / 255`, over all of `f`. Views from
 * `glassMemory`.
 */
export function glassToFloat(
  src: Uint8Array,
  map: Int32Array | null,
  f: Float64Array,
  table: Float64Array,
): void {
  if (map) {
    instance().gather(
      src.byteOffset,
      map.byteOffset,
      f.byteOffset,
      f.length / 3,
      table.byteOffset,
    );
  } else {
    instance().to_float(
      src.byteOffset,
      f.byteOffset,
      f.length,
      table.byteOffset,
    );
  }
}

/**
 * `dot` (see the `.wat` header): for row r < rows and i < n, with
 * j = r·rs + i, `dst[at + j] = Σ_t wt[t0 + t]·src[from + j + off[t0 + t]]`,
 * t in [0, nt) in order. Views from `glassMemory`.
 */
export function glassDot(
  src: Float64Array,
  from: number,
  dst: Float64Array,
  at: number,
  n: number,
  rows: number,
  rs: number,
  off: Int32Array,
  wt: Float64Array,
  t0: number,
  nt: number,
): void {
  instance().dot(
    src.byteOffset + 8 * from,
    dst.byteOffset + 8 * at,
    n,
    rows,
    rs,
    off.byteOffset + 4 * t0,
    wt.byteOffset + 8 * t0,
    nt,
  );
}
