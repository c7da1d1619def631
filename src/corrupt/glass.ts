/**
 * Glass blur, as the original generator computes it: skimage `gaussian`, an
 * 8-bit truncation, local pixel "swaps", and `gaussian` again, on 8-bit RGB
 * HWC images. The original's swap assigns through numpy views, so it copies
 * `x[h', w']` into `x[h, w]` and leaves `x[h', w']` as it was; that is what
 * ImageNet-C contains, and what is done here. Draws: per visited pixel, `dx`
 * then `dy`, each `Rng.int(2·δ) − δ` (numpy's `randint(−δ, δ)`).
 */
import type { Rng } from "../rng.ts";
import { kConstants, type Severity } from "./registry.ts";
import { gaussianKernel1d } from "./filters.ts";
import {
  glassDot,
  type GlassMemory,
  glassMemory,
  glassPass,
  glassPassBytes,
  glassToFloat,
} from "./wasm/glass_pass.ts";

/**
 * Glass blur (random: the local shuffles): the original's `gaussian`,
 * `np.uint8(· 255)`, swaps, `gaussian` and `toUint8`, to the same bytes
 * (tests/corrupt/blur_test.ts and glass_test.ts check them against plain
 * transcriptions). The swaps only move pixels and their draws do not depend on
 * the image, so they run first, on pixel indices: `map[p]` is the pixel
 * whose first-blur value ends up at p, and the second blur reads its input
 * through `map`. Both blurs run in the WebAssembly kernel's memory
 * (`wasm/glass_pass.ts`), from which the result is copied out.
 */
export function glassBlur(
  data: Uint8Array,
  size: number,
  severity: Severity,
  rng: Rng,
): Uint8Array {
  const [sigma, delta, iterations] = kConstants.glass_blur[severity - 1]!;
  const plan = glassPlan(size, sigma);
  const mem = glassMemory(data.length, kGlassBlock * size * 3, size * 13);
  const map = glassMap(size, delta, iterations, rng, mem.map);
  mem.a.set(data);
  glassGaussian(mem.a, null, mem.b, plan, mem);
  glassGaussian(mem.b, map, mem.a, plan, mem);
  return mem.a.slice();
}

/**
 * The taps of scipy's `gaussian_filter1d` (mode nearest, truncate 4) on one
 * axis of a square `size x size x 3` image, `nt` wide (9 or 13).
 * Indices in [m, size - m), m = (nt - 1) / 2, take the kernel `w`, padded
 * with a zero weight at both ends where it is narrower than `nt`, over
 * consecutive samples. Every index also has its own taps, `wt` at offsets
 * `vOff` (vertical, in samples) or `hOff` (horizontal), `nt` per index:
 * taps that land on the same input after clamping merged the way
 * `filters.ts` folds them (weights summed in kernel order, the merged tap
 * where the input first appears), padded with zero-weight taps at the end.
 * A zero-weight tap adds +0 to a sum of non-negative terms, so padding
 * leaves every sum's bits unchanged.
 */
interface GlassPlan {
  size: number;
  sigma: number;
  m: number;
  nt: number;
  w: Float64Array;
  vOff: Int32Array;
  hOff: Int32Array;
  wt: Float64Array;
}

const glassPlans: GlassPlan[] = [];

function glassPlan(size: number, sigma: number): GlassPlan {
  for (const p of glassPlans) {
    if (p.size === size && p.sigma === sigma) return p;
  }
  const k = gaussianKernel1d(sigma, 4);
  const r = (k.length - 1) >> 1;
  const nt = r <= 4 ? 9 : 13, m = (nt - 1) >> 1;
  if (r > m) {
    throw new RangeError(`Cannot plan glass blur: sigma ${sigma} is too wide`);
  }
  const w = new Float64Array(nt);
  w.set(k, m - r);
  const vOff = new Int32Array(size * nt), hOff = new Int32Array(size * nt);
  const wt = new Float64Array(size * nt);
  const idx: number[] = [], ws: number[] = [];
  for (let i = 0; i < size; i++) {
    idx.length = 0;
    ws.length = 0;
    for (let t = -r; t <= r; t++) {
      const j = Math.min(size - 1, Math.max(0, i + t));
      const at = idx.indexOf(j);
      if (at < 0) {
        idx.push(j);
        ws.push(0 + k[t + r]!);
      } else ws[at]! += k[t + r]!;
    }
    for (let t = 0; t < idx.length; t++) {
      vOff[i * nt + t] = (idx[t]! - i) * size * 3;
      hOff[i * nt + t] = (idx[t]! - i) * 3;
      wt[i * nt + t] = ws[t]!;
    }
  }
  const p = { size, sigma, m, nt, w, vOff, hOff, wt };
  glassPlans.push(p);
  return p;
}

let glassDraws = new Uint32Array(0);

/** Rows per block of `glassGaussian`. */
const kGlassBlock = 8;

/**
 * `dst = trunc(gaussian(src / 255) · 255)` for a square 8-bit RGB image,
 * each sum taken in `gaussianFilter`'s order (rows first; every output's
 * taps from the first, starting at 0). With `map`, pixel p of the input is
 * pixel `map[p]` of `src`. The interior rows and columns go through the
 * WebAssembly kernel (`wasm/glass_pass.wat`) in runs of consecutive
 * samples; the borders' clamped taps stay here. The sums lie in
 * [0, 1 + 1e-14] (non-negative weights summing to 1 within rounding), so
 * truncating `· 255` is both the first Gaussian's `np.uint8` and the
 * second's `toByte`. `src`, `map` and `dst` are views of `mem`.
 */
function glassGaussian(
  src: Uint8Array,
  map: Int32Array | null,
  dst: Uint8Array,
  p: GlassPlan,
  mem: GlassMemory,
): void {
  const { size, m, nt, w, vOff, hOff, wt } = p;
  const rs = size * 3, B = kGlassBlock;
  const { f, g, h, w: wk } = mem;
  // The plan's tables in the kernel's memory (a few kilobytes).
  wk.set(w);
  mem.wt.set(wt);
  mem.vOff.set(vOff);
  mem.hOff.set(hOff);
  glassToFloat(src, map, f, mem.table);
  // Interior rows and columns: [lo, hi) (none on images narrower than nt).
  const lo = Math.min(m, size), hi = Math.max(lo, size - m);
  const xs = hi - lo;
  // Rows first (vertical taps), then columns, B rows at a time so that what
  // the second pass reads is still in cache; h holds the block's borders.
  for (let y0 = 0; y0 < size; y0 += B) {
    const y1 = Math.min(size, y0 + B), d = y0 * rs;
    const i0 = Math.max(y0, lo), i1 = Math.max(i0, Math.min(y1, hi));
    if (i1 > i0) {
      glassPass(f, (i0 - m) * rs, g, i0 * rs, (i1 - i0) * rs, rs, nt, wk);
    }
    for (let y = y0; y < y1; y++) {
      if (y >= i0 && y < i1) continue;
      glassDot(f, y * rs, g, y * rs, rs, 1, 0, mem.vOff, mem.wt, y * nt, nt);
    }
    // The interior columns of the block's rows as one run: the samples
    // between one row's last interior column and the next row's first get
    // sums across the row's end, overwritten by the border columns' below.
    if (xs > 0) {
      const q0 = d + 3 * lo, len = (y1 - y0 - 1) * rs + 3 * xs;
      glassPassBytes(g, q0 - 3 * m, dst, q0, len, 3, nt, wk);
    }
    for (let x = 0; x < size; x++) {
      if (x === lo) x = hi;
      if (x >= size) break;
      glassDot(
        g,
        d + 3 * x,
        h,
        3 * x,
        3,
        y1 - y0,
        rs,
        mem.hOff,
        mem.wt,
        x * nt,
        nt,
      );
    }
    for (let y = y0; y < y1; y++) {
      const line = y * rs, hl = line - d;
      glassTrunc(h, hl, dst, line, 3 * lo);
      glassTrunc(h, hl + 3 * hi, dst, line + 3 * hi, rs - 3 * hi);
    }
  }
}

/** `dst[at + i] = trunc(h[from + i] · 255)` for i in [0, len). */
function glassTrunc(
  h: Float64Array,
  from: number,
  dst: Uint8Array,
  at: number,
  len: number,
): void {
  for (let i = 0; i < len; i++) dst[at + i] = (h[from + i]! * 255) | 0;
}

/**
 * The original's swaps on pixel indices: `iterations` sweeps over the
 * interior from the bottom-right, each pixel taking what (h + dy, w + dx)
 * holds, `dx` then `dy` drawn as `rng.int(2δ) − δ`. Returns `map` (in
 * `out`) with
 * `map[p]` the pixel whose value ends up at p. The draws of a row come
 * from one `fillU32` (the same stream); for δ = 3 a row holding a value
 * that `Rng.int(6)` rejects (p ≈ 1e-9 per draw) is redone draw by draw,
 * the values past the row's batch taken with `nextU32`.
 */
function glassMap(
  size: number,
  delta: number,
  iterations: number,
  rng: Rng,
  out: Int32Array,
): Int32Array {
  const np = size * size, n = 2 * delta;
  const span = Math.max(0, size - 2 * delta);
  const limit = 4294967296 - (4294967296 % n);
  if (glassDraws.length < 2 * span) glassDraws = new Uint32Array(2 * span);
  const map = out.subarray(0, np);
  const draws = glassDraws.subarray(0, 2 * span);
  for (let i = 0; i < np; i++) map[i] = i;
  for (let it = 0; it < iterations; it++) {
    for (let h = size - delta; h > delta; h--) {
      rng.fillU32(draws);
      const dst = h * size + size - delta;
      if (limit < 4294967296 && glassMaxU32(draws) >= limit) {
        glassMapRowExact(map, size, delta, dst, draws, limit, rng);
      } else glassMapRow(map, size, delta, dst, draws);
    }
  }
  return map;
}

/** One row of `glassMap` from `draws`, none of them rejected. */
function glassMapRow(
  map: Int32Array,
  size: number,
  delta: number,
  dst: number,
  draws: Uint32Array,
): void {
  const n = 2 * delta;
  if ((n & (n - 1)) === 0) {
    const mask = n - 1;
    for (let j = 0; j < draws.length; j += 2, dst--) {
      const dx = (draws[j]! & mask) - delta;
      const dy = (draws[j + 1]! & mask) - delta;
      map[dst] = map[dst + dy * size + dx]!;
    }
    return;
  }
  for (let j = 0; j < draws.length; j += 2, dst--) {
    const a = draws[j]!, b = draws[j + 1]!;
    const dx = a - Math.floor(a / n) * n - delta; // exact: a < 2^32
    const dy = b - Math.floor(b / n) * n - delta;
    map[dst] = map[dst + dy * size + dx]!;
  }
}

function glassMaxU32(a: Uint32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (a[i]! > m) m = a[i]!;
  return m;
}

/** One row of `glassMap` with `Rng.int`'s rejection, draw by draw. */
function glassMapRowExact(
  map: Int32Array,
  size: number,
  delta: number,
  dst: number,
  draws: Uint32Array,
  limit: number,
  rng: Rng,
): void {
  const n = 2 * delta;
  let k = 0;
  const next = () => {
    for (;;) {
      const v = k < draws.length ? draws[k++]! : rng.nextU32();
      if (v < limit) return v % n - delta;
    }
  };
  for (let w = size - delta; w > delta; w--, dst--) {
    const dx = next();
    const dy = next();
    map[dst] = map[dst + dy * size + dx]!;
  }
}
