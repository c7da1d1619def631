/**
 * The bytes of defocus blur's folded rows as a WebAssembly SIMD kernel
 * (`defocus_rows.wat`). This wrapper owns the module's instance (one per
 * isolate, made on first use) and its memory: the rows the kernel reads
 * live there, as views that `rowsMemory` hands out.
 */
import { kWasmBase64 } from "./defocus_rows_wasm.ts";
import { align16, ensureMemory, lazyKernel } from "./kernel.ts";

interface Exports {
  memory: WebAssembly.Memory;
  fused(
    n: number,
    T: number,
    g0: number,
    g1: number,
    g2: number,
    g3: number,
    g4: number,
    w: number,
    lo1: number,
    hi1: number,
    out: number,
    at: number,
    rv: number,
  ): number;
  disk_sums(n: number, nj: number, S: number, sums: number): void;
  prefix_row(
    pw: number,
    src: number,
    idx: number,
    PS: number,
    dst: number,
    a: number,
    d: number,
  ): void;
  disk_gx(
    m: number,
    lag: number,
    g0: number,
    g1: number,
    g2: number,
    g3: number,
    g4: number,
    scale: number,
    sums: number,
    h: number,
  ): void;
  refine(
    m: number,
    nt: number,
    Wt: number,
    A: number,
    lo2: number,
    hi2: number,
    at: number,
    rv: number,
    out: number,
  ): number;
  hp_row(
    n: number,
    G0: number,
    G1: number,
    G2: number,
    p: number,
    dst: number,
  ): void;
  vp_rows(
    n: number,
    G0: number,
    G1: number,
    G2: number,
    p: number,
    o0: number,
    o1: number,
    o2: number,
    o3: number,
    o4: number,
    rs: number,
    prev: number,
    b: number,
    b2: number,
  ): void;
}

const instance = lazyKernel<Exports>(kWasmBase64);

/** The table of row addresses (`T` in the `.wat` header) at address 0. */
const kTableBytes = 128;

/** Views of the kernel's memory (contents stale). */
export interface RowsMemory {
  f64: Float64Array[];
  i32: Int32Array[];
  u8: Uint8Array[];
  /** The 21 row addresses `fusedRow` reads. */
  table: Int32Array;
}

/**
 * One view per requested length, laid out one after another (16-aligned)
 * after the table; valid until the next call.
 */
export function rowsMemory(
  f64: number[],
  i32: number[],
  u8: number[],
): RowsMemory {
  const k = instance();
  let end = kTableBytes;
  for (const n of f64) end += align16(n * 8);
  for (const n of i32) end += align16(n * 4);
  for (const n of u8) end += align16(n);
  ensureMemory(k.memory, end);
  const mem = k.memory.buffer;
  let at = kTableBytes;
  const take = <T>(n: number, size: number, make: (o: number) => T): T => {
    const v = make(at);
    at += align16(n * size);
    return v;
  };
  return {
    f64: f64.map((n) => take(n, 8, (o) => new Float64Array(mem, o, n))),
    i32: i32.map((n) => take(n, 4, (o) => new Int32Array(mem, o, n))),
    u8: u8.map((n) => take(n, 1, (o) => new Uint8Array(mem, o, n))),
    table: new Int32Array(mem, 0, 21),
  };
}

/**
 * Runs `fused` (see the `.wat` header) on a row of `n` samples whose rows
 * are at the byte addresses in `table`: the bytes into `out`, the
 * undecided samples' indices into `at` and their r, v into `rv`; returns
 * how many are undecided. All arrays are views from `rowsMemory`.
 */
export function fusedRow(
  n: number,
  g: Float64Array,
  w: number,
  lo1: number,
  hi1: number,
  out: Uint8Array,
  at: Int32Array,
  rv: Float64Array,
): number {
  const five = g.length === 5;
  return instance().fused(
    n,
    0,
    g[0]!,
    g[1]!,
    g[2]!,
    five ? g[3]! : 0,
    five ? g[4]! : 0,
    w,
    lo1,
    hi1,
    out.byteOffset,
    at.byteOffset,
    rv.byteOffset,
  );
}

/**
 * `disk_sums` (see the `.wat` header): `sums[x]` for x in [0, n) (and up to
 * the next multiple of 4) is the sum over the `nj` pairs of byte addresses
 * in `S` of the first row minus the second at x. Views from `rowsMemory`.
 */
export function diskSums(
  n: number,
  nj: number,
  S: Int32Array,
  sums: Float64Array,
): void {
  instance().disk_sums(n, nj, S.byteOffset, sums.byteOffset);
}

/**
 * The weights and offsets of `hp_row` and `vp_rows` for a g of three or
 * five taps (symmetric) whose pixels lie `step` bytes apart.
 */
function taps(g: Float64Array, step: number): number[] {
  return g.length === 5
    ? [g[0]!, g[1]!, g[2]!, 0, step, 2 * step, 3 * step, 4 * step]
    : [0, g[0]!, g[1]!, 0, 0, step, 2 * step, 0];
}

/**
 * `vp_rows` (see the `.wat` header): two rows of the prefix table down
 * columns in `vp`, at element offsets `b` and `b2`, from the row at
 * `prev`, of the g-filtered columns of the image rows from `pad` at offset
 * `p`, `rs` bytes apart. Views from `rowsMemory`.
 */
export function vpRows(
  n: number,
  g: Float64Array,
  pad: Uint8Array,
  p: number,
  rs: number,
  vp: Float64Array,
  prev: number,
  b: number,
  b2: number,
): void {
  const at = vp.byteOffset;
  const [G0, G1, G2, o0, o1, o2, o3, o4] = taps(g, rs) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  instance().vp_rows(
    n,
    G0,
    G1,
    G2,
    pad.byteOffset + p,
    o0,
    o1,
    o2,
    o3,
    o4,
    rs,
    at + 8 * prev,
    at + 8 * b,
    at + 8 * b2,
  );
}

/**
 * `hp_row` (see the `.wat` header): `hp[d + 3k + c]` for the `n` pixels k
 * of an RGB row: the prefix of g ⊛ the pixels from `pad[p]` on (the first
 * output's window starts at p). `hp[d − 3..d − 1]` must be 0. Views from
 * `rowsMemory`.
 */
export function hpRow(
  n: number,
  g: Float64Array,
  pad: Uint8Array,
  p: number,
  hp: Float64Array,
  d: number,
): void {
  // A three-tap window sits one pixel in (the first pixel of five unused).
  const [G0, G1, G2] = taps(g, 3) as [number, number, number];
  instance().hp_row(
    n,
    G0,
    G1,
    G2,
    pad.byteOffset + p - (g.length === 5 ? 0 : 3),
    hp.byteOffset + 8 * d,
  );
}

/**
 * `refine` (see the `.wat` header) of the `m` samples listed in `at`, `rv`
 * with the `nt` terms (weights `Wt`, address pairs `A`): the bytes it
 * decides into `out`; returns how many it leaves (listed in place). Views
 * from `rowsMemory`.
 */
export function refineRow(
  m: number,
  nt: number,
  Wt: Float64Array,
  A: Int32Array,
  lo2: number,
  hi2: number,
  at: Int32Array,
  rv: Float64Array,
  out: Uint8Array,
): number {
  return instance().refine(
    m,
    nt,
    Wt.byteOffset,
    A.byteOffset,
    lo2,
    hi2,
    at.byteOffset,
    rv.byteOffset,
    out.byteOffset,
  );
}

/**
 * `disk_gx` (see the `.wat` header): the g pass along x of the `m` packed
 * disk sums in `sums`, each field divided by `scale`, into the RGB row `h`
 * (`(m − g.length + 1)·3` samples). Views from `rowsMemory`.
 */
export function diskGx(
  m: number,
  g: Float64Array,
  scale: number,
  sums: Float64Array,
  h: Float64Array,
): void {
  const five = g.length === 5;
  instance().disk_gx(
    m,
    g.length - 1,
    five ? g[0]! : 0,
    five ? g[1]! : 0,
    five ? g[2]! : g[0]!,
    five ? g[3]! : g[1]!,
    five ? g[4]! : g[2]!,
    scale,
    sums.byteOffset,
    h.byteOffset,
  );
}

/**
 * `prefix_row` (see the `.wat` header): the prefix sums of the packed RGB
 * pixels of the image row at `data[src]` (columns by the byte offsets
 * `idx`) into `PP` at element `dst`, then (where `d` ≥ 0) the pair row
 * `PP[d + i] = PP[a + i] + PP[dst + i]` for i in [0, PS). Views from
 * `rowsMemory`.
 */
export function prefixRow(
  data: Uint8Array,
  src: number,
  idx: Int32Array,
  PP: Float64Array,
  PS: number,
  dst: number,
  a: number,
  d: number,
): void {
  const at = PP.byteOffset;
  instance().prefix_row(
    idx.length,
    data.byteOffset + src,
    idx.byteOffset,
    PS,
    at + 8 * dst,
    at + 8 * a,
    d < 0 ? -1 : at + 8 * d,
  );
}
