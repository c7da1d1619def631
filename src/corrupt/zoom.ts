/**
 * Zoom blur, as the original generator computes it: the mean of the image and
 * its centre zooms (scipy `zoom`, order 1, float32), on 8-bit RGB HWC images.
 * `clippedZoom` also serves snow.
 */
import { kConstants, type Severity } from "./registry.ts";
import { roundHalfEven } from "../data/preprocess.ts";
import { kByteToUnit32 } from "./scratch.ts";
import { type EstimateZoom, zoomEstimate } from "./wasm/zoom_estimate.ts";

/** Geometry of `clipped_zoom(img, z)` on an h x h image (see below). */
export function zoomGeometry(
  h: number,
  zoom: number,
): { ch: number; top: number; trim: number; ratio: number } {
  const ch = Math.ceil(h / zoom);
  const top = Math.floor((h - ch) / 2);
  const outSide = roundHalfEven(ch * zoom);
  const ratio = outSide > 1 ? (ch - 1) / (outSide - 1) : 1;
  const trim = Math.floor((outSide - h) / 2);
  return { ch, top, trim, ratio };
}

/**
 * The original's `clipped_zoom(img, z)` on a float64 HWC square image: crop
 * the centre `ceil(h / z)`, zoom it with scipy `zoom(order=1)` (corner-aligned
 * linear interpolation, output side `round(ch · z)`), keep the centre h x h.
 */
export function clippedZoom(
  src: Float64Array,
  h: number,
  channels: number,
  zoom: number,
): Float64Array {
  const { ch, top, trim, ratio } = zoomGeometry(h, zoom);
  // Per output index along one axis: lower source index and weight.
  const i0 = new Int32Array(h);
  const t = new Float64Array(h);
  for (let o = 0; o < h; o++) {
    const cc = (o + trim) * ratio;
    let f = Math.floor(cc);
    if (f > ch - 1) f = ch - 1;
    i0[o] = f;
    t[o] = cc - f;
  }
  // Source offsets (within the crop) of the two taps per axis; a tap that
  // falls past the crop has weight 0 or is never read (t = 0).
  const lo = new Int32Array(h), hi = new Int32Array(h);
  for (let o = 0; o < h; o++) {
    lo[o] = top + i0[o]!;
    hi[o] = top + Math.min(i0[o]! + 1, ch - 1);
  }
  const out = new Float64Array(h * h * channels);
  for (let y = 0; y < h; y++) {
    const ty = t[y]!;
    const r0 = lo[y]! * h, r1 = hi[y]! * h;
    for (let x = 0; x < h; x++) {
      const tx = t[x]!;
      const c0 = lo[x]!, c1 = hi[x]!;
      const p00 = (r0 + c0) * channels, p01 = (r0 + c1) * channels;
      const p10 = (r1 + c0) * channels, p11 = (r1 + c1) * channels;
      const o = (y * h + x) * channels;
      for (let k = 0; k < channels; k++) {
        const a = src[p00 + k]! * (1 - tx) + (tx ? src[p01 + k]! * tx : 0);
        const b = ty
          ? src[p10 + k]! * (1 - tx) + (tx ? src[p11 + k]! * tx : 0)
          : 0;
        out[o + k] = a * (1 - ty) + b * ty;
      }
    }
  }
  return out;
}

/**
 * One zoom of `zoomBlur` as tables: per output index, the two source taps
 * (`lo`, `hi`, absolute) and weights (`u = 1 − t`, `t`); the crop read
 * (`top`, `ch` pixels); and the two source rows of the current output row,
 * interpolated along x (for the exact row kernel).
 */
interface ZoomPass extends EstimateZoom {
  u: Float64Array;
  a: Float64Array;
  b: Float64Array;
  ra: number;
  rb: number;
}

/**
 * The passes of one call, cached per (size, zoom): their tables are pure
 * functions of those, and the row buffers are rewritten before they are
 * read (`ra`, `rb` reset per call).
 */
const kZoomPasses = new Map<string, ZoomPass>();

function zoomPass(h: number, zoom: number): ZoomPass {
  const key = `${h}/${zoom}`;
  const cached = kZoomPasses.get(key);
  if (cached) {
    cached.ra = cached.rb = -1;
    return cached;
  }
  const { ch, top, trim, ratio } = zoomGeometry(h, zoom);
  const lo = new Int32Array(h), hi = new Int32Array(h);
  const t = new Float64Array(h), u = new Float64Array(h);
  for (let o = 0; o < h; o++) {
    const cc = (o + trim) * ratio;
    let f = Math.floor(cc);
    if (f > ch - 1) f = ch - 1;
    t[o] = cc - f;
    u[o] = 1 - (cc - f);
    lo[o] = top + f;
    hi[o] = top + Math.min(f + 1, ch - 1);
  }
  const a = new Float64Array(h * 3), b = new Float64Array(h * 3);
  const pass = { lo, hi, t, u, a, b, ra: -1, rb: -1, top, ch };
  if (kZoomPasses.size < 256) kZoomPasses.set(key, pass);
  return pass;
}

/**
 * Source row `r` of a 3-channel 8-bit image, as float32 `b / 255`,
 * interpolated along x: `s0·u + s1·t`.
 */
function interpRow3(
  src: Uint8Array,
  h: number,
  r: number,
  z: ZoomPass,
  dst: Float64Array,
): void {
  const { lo, hi, t, u } = z;
  const v = kByteToUnit32;
  const base = r * h * 3;
  for (let x = 0, o = 0; x < h; x++, o += 3) {
    const tx = t[x]!, ux = u[x]!;
    const p0 = base + lo[x]! * 3, p1 = base + hi[x]! * 3;
    dst[o] = v[src[p0]!]! * ux + v[src[p1]!]! * tx;
    dst[o + 1] = v[src[p0 + 1]!]! * ux + v[src[p1 + 1]!]! * tx;
    dst[o + 2] = v[src[p0 + 2]!]! * ux + v[src[p1 + 2]!]! * tx;
  }
}

/**
 * Zoom blur (deterministic; float32 arithmetic, as the original): the mean
 * of the image and its `clippedZoom`s, each zoom rounded to float32 and
 * added in order, then `uint8(clip(v, 0, 1) · 255)`.
 *
 * The byte depends on the final float32 v only through that monotone map,
 * so most samples are decided by a float64 estimate of the same mean
 * without the roundings, within `zoomEstimateBound` of 255·v: a WebAssembly
 * SIMD kernel (`zoomEstimate`) computes it in byte units, interpolating each
 * zoom along y first (two contiguous source rows), then along x. A sample
 * whose bracket straddles a byte boundary gets the exact float32 sequence
 * (`zoomSampleExact`), a row with many such samples the exact row kernel
 * (`zoomRowExact`). On ImageNet validation crops under 0.1 % of the samples
 * need the exact sequence.
 */
export function zoomBlur(
  data: Uint8Array,
  size: number,
  severity: Severity,
): Uint8Array {
  const zooms = kConstants.zoom_blur[severity - 1]!;
  const h = size, rs = h * 3;
  // A zoom of exactly 1 is the image itself (weights 1 and 0): its term is
  // x, so the sum starts there.
  const first = zooms[0] === 1 ? 1 : 0;
  const passes = zooms.slice(first).map((z) => zoomPass(h, z));
  const np = passes.length;
  const n = zooms.length + 1;
  const out = new Uint8Array(data.length);
  const { miss, counts } = zoomEstimate(data, h, passes, zooms.join(","), {
    w0: 1 + first,
    inv: 1 / n,
    d: zoomEstimateBound(np, n),
    // At or above this the estimate proves every tap 255 (see the bound).
    white: n * 255 - 2 ** -30,
  }, out);
  for (let y = 0, j = 0; y < h; y++) {
    const nm = counts[y]!;
    if (nm > kZoomRowExact) zoomRowExact(data, h, y, passes, first, out);
    else {
      const o = y * rs;
      for (let m = j; m < j + nm; m++) {
        const i = miss[m]! - o;
        out[o + i] = zoomSampleExact(data, h, y, i, passes, first);
      }
    }
    j += nm;
  }
  return out;
}

/**
 * Undecided samples in a row above which the exact row kernel is cheaper
 * than one exact sample at a time (flat areas off 0 and 255, where the
 * mean sits on a byte boundary).
 */
const kZoomRowExact = 96;

/**
 * A bound on |255·v − w|, where v is the original's final float32 value of
 * a sample and w = Ê / n its float64 estimate in byte units, for `np` zooms
 * besides 1 and n terms in the mean, plus the rounding of `fround(v·255)`.
 *
 * The original, with X = fround(b / 255) per byte: x = X; acc = x (zoom 1);
 * per zoom j = 1..np, C_j is the bilinear value in float64 (within 2^-51 of
 * the real one: values ≤ 1, three rounded operations), c_j = fround(C_j)
 * (|c_j − C_j| ≤ 2^-25, half an ulp below 1), acc_j = fround(acc + c_j)
 * (≤ 2^-24·(j + 1): acc_j ≤ j + 1); s = fround(x + acc) (≤ 2^-24·n); v =
 * fround(s / n) (≤ 2^-25). So |s − T| ≤ E = 2^-24·(np/2 + Σ_j (j + 1) + n)
 * for the real T = 2x + Σ_j C_j, and |v − T/n| ≤ E/n + 2^-25. The estimate
 * Ê = 2b + Σ_j C'_j uses the bytes b instead of X (|X − b/255| ≤ 2^-25 per
 * term, weights summing to 1, so (np + 2)·2^-25 on T in unit scale), the
 * same taps and weights up to the rounding of u = 1 − t (2^-52), and its
 * own float64 roundings (Ê ≤ 255·n < 2^13: under 2^-35 in all; these are
 * the kernel's f64x2 operations, each rounded on its own, no fused
 * multiply-add, per zoom three for y, three for x and one add to Ê, the
 * zooms added in order, whatever the lane holding the sample). Then
 * fround(v·255) is within 256·2^-24 of 255·v. Rounding terms of 2^-35 and
 * below are covered by the 1e-9 added. Where k ≤ w − d and w + d < k + 1,
 * fround(clip(v)·255) lies in [k, k + 1), so the byte is k.
 *
 * For the 255 shortcut: each C'_j ≤ 255 up to 2^-44; Ê ≥ 255·n − 2^-30
 * forces b = 255 and every C'_j ≥ 255 − 2^-29, so the taps below 255 carry
 * weight under 2^-28, 1 − C_j < 2^-25 and every c_j rounds to 1: acc, s
 * and v are then exact, v = 1 and the byte is 255.
 */
export function zoomEstimateBound(np: number, n: number): number {
  const e = 2 ** -24 * (np / 2 + (np * (np + 3)) / 2 + n);
  return 255 * ((e + (np + 2) * 2 ** -25) / n + 2 ** -25) + 256 * 2 ** -24 +
    1e-9;
}

/** Sample i of output row y, by the original's float32 sequence. */
function zoomSampleExact(
  src: Uint8Array,
  h: number,
  y: number,
  i: number,
  passes: ZoomPass[],
  first: number,
): number {
  const v = kByteToUnit32, f = Math.fround, rs = h * 3;
  const x = (i / 3) | 0, c = i - 3 * x;
  const x0 = v[src[y * rs + i]!]!;
  let acc = first ? x0 : 0;
  for (const z of passes) {
    const tx = z.t[x]!, ux = z.u[x]!, ty = z.t[y]!, uy = z.u[y]!;
    const c0 = z.lo[x]! * 3 + c, c1 = z.hi[x]! * 3 + c;
    const r0 = z.lo[y]! * rs, r1 = z.hi[y]! * rs;
    const a = v[src[r0 + c0]!]! * ux + v[src[r0 + c1]!]! * tx;
    const b = v[src[r1 + c0]!]! * ux + v[src[r1 + c1]!]! * tx;
    acc = f(acc + f(a * uy + b * ty));
  }
  const s = f(f(x0 + acc) / (passes.length + first + 1));
  return Math.trunc(f((s < 0 ? 0 : s > 1 ? 1 : s) * 255));
}

/**
 * Output row y by the original's float32 sequence, computed as
 * `clippedZoom` does: each sample sees `(s00·ux + s01·tx)·uy + (s10·ux +
 * s11·tx)·ty`, with a source row's interpolation along x (the brackets)
 * computed once and shared by the output rows that read it. A zero weight
 * multiplies a finite sample (it adds an exact zero), so the `tx ? … : 0`
 * tests of `clippedZoom` are not needed for the same values.
 */
function zoomRowExact(
  data: Uint8Array,
  h: number,
  y: number,
  passes: ZoomPass[],
  first: number,
  out: Uint8Array,
): void {
  const rs = h * 3, unit = kByteToUnit32, f = Math.fround;
  const np = passes.length, n = np + first + 1;
  const acc = zoomRow32.length === rs
    ? zoomRow32
    : (zoomRow32 = new Float32Array(rs));
  const o = y * rs;
  if (first) { for (let i = 0; i < rs; i++) acc[i] = unit[data[o + i]!]!; }
  else acc.fill(0);
  for (const z of passes) zoomRows(data, h, y, z);
  // Up to four zooms per pass over the row: the float32 sum still adds
  // them one at a time, in order.
  let p = 0;
  for (; p + 4 <= np; p += 4) {
    const z1 = passes[p]!, z2 = passes[p + 1]!;
    const z3 = passes[p + 2]!, z4 = passes[p + 3]!;
    const a1 = z1.a, b1 = z1.b, t1 = z1.t[y]!, u1 = z1.u[y]!;
    const a2 = z2.a, b2 = z2.b, t2 = z2.t[y]!, u2 = z2.u[y]!;
    const a3 = z3.a, b3 = z3.b, t3 = z3.t[y]!, u3 = z3.u[y]!;
    const a4 = z4.a, b4 = z4.b, t4 = z4.t[y]!, u4 = z4.u[y]!;
    for (let i = 0; i < rs; i++) {
      acc[i] = f(
        f(
          f(acc[i]! + f(a1[i]! * u1 + b1[i]! * t1)) +
            f(a2[i]! * u2 + b2[i]! * t2),
        ) + f(a3[i]! * u3 + b3[i]! * t3),
      ) + f(a4[i]! * u4 + b4[i]! * t4);
    }
  }
  for (; p + 2 <= np; p += 2) {
    const z1 = passes[p]!, z2 = passes[p + 1]!;
    const a1 = z1.a, b1 = z1.b, t1 = z1.t[y]!, u1 = z1.u[y]!;
    const a2 = z2.a, b2 = z2.b, t2 = z2.t[y]!, u2 = z2.u[y]!;
    for (let i = 0; i < rs; i++) {
      acc[i] = f(acc[i]! + f(a1[i]! * u1 + b1[i]! * t1)) +
        f(a2[i]! * u2 + b2[i]! * t2);
    }
  }
  if (p < np) {
    const z = passes[p]!;
    const a = z.a, b = z.b, ty = z.t[y]!, uy = z.u[y]!;
    for (let i = 0; i < rs; i++) {
      acc[i]! += f(a[i]! * uy + b[i]! * ty);
    }
  }
  for (let i = 0; i < rs; i++) {
    const v = f(f(unit[data[o + i]!]! + acc[i]!) / n);
    out[o + i] = Math.trunc(f((v < 0 ? 0 : v > 1 ? 1 : v) * 255));
  }
}

let zoomRow32 = new Float32Array(0);

/** Bring `z.a`, `z.b` to the two source rows output row `y` reads. */
function zoomRows(src: Uint8Array, h: number, y: number, z: ZoomPass): void {
  const r0 = z.lo[y]!, r1 = z.hi[y]!;
  if (r0 !== z.ra) {
    if (r0 === z.rb) {
      const s = z.a;
      z.a = z.b;
      z.b = s;
      z.rb = -1;
    } else interpRow3(src, h, r0, z, z.a);
    z.ra = r0;
  }
  if (r1 !== z.rb) {
    if (r1 === z.ra) z.b.set(z.a);
    else interpRow3(src, h, r1, z, z.b);
    z.rb = r1;
  }
}
