/**
 * The lossy part of a baseline JPEG round trip exactly as libjpeg(-turbo)
 * does it with its defaults (what Pillow's `save(format="JPEG", quality=q)`
 * and `Image.open` run): RGB -> YCbCr in 16-bit fixed point, 4:2:0 chroma by
 * 2x2 averaging with alternating bias, the integer "islow" forward DCT,
 * Annex K tables scaled by `jpeg_set_quality` (baseline: clamped to 255),
 * rounding quantisation; then the integer inverse DCT, "fancy" triangular
 * chroma upsampling and the fixed-point YCbCr -> RGB tables. Entropy coding
 * is lossless, so it is skipped: `jpegRoundTrip()` returns the pixels a
 * decoder would see. Image sides must be multiples of 16 (224 is).
 */

// deno-fmt-ignore
const kLuma = [
   16,  11,  10,  16,  24,  40,  51,  61,
   12,  12,  14,  19,  26,  58,  60,  55,
   14,  13,  16,  24,  40,  57,  69,  56,
   14,  17,  22,  29,  51,  87,  80,  62,
   18,  22,  37,  56,  68, 109, 103,  77,
   24,  35,  55,  64,  81, 104, 113,  92,
   49,  64,  78,  87, 103, 121, 120, 101,
   72,  92,  95,  98, 112, 100, 103,  99,
];
// deno-fmt-ignore
const kChroma = [
   17,  18,  24,  47,  99,  99,  99,  99,
   18,  21,  26,  66,  99,  99,  99,  99,
   24,  26,  56,  99,  99,  99,  99,  99,
   47,  66,  99,  99,  99,  99,  99,  99,
   99,  99,  99,  99,  99,  99,  99,  99,
   99,  99,  99,  99,  99,  99,  99,  99,
   99,  99,  99,  99,  99,  99,  99,  99,
   99,  99,  99,  99,  99,  99,  99,  99,
];

/** `jpeg_set_quality(quality, force_baseline=TRUE)`: [luma, chroma] tables (natural order). */
export function quantTables(quality: number): [Int32Array, Int32Array] {
  let q = Math.min(100, Math.max(1, Math.trunc(quality)));
  q = q < 50 ? Math.trunc(5000 / q) : 200 - q * 2;
  const scale = (base: number[]) =>
    Int32Array.from(base, (b) => {
      const t = Math.trunc((b * q + 50) / 100);
      return t < 1 ? 1 : t > 255 ? 255 : t;
    });
  return [scale(kLuma), scale(kChroma)];
}

const CB = 13; // CONST_BITS
const P1 = 2; // PASS1_BITS
const F0_298 = 2446, F0_390 = 3196, F0_541 = 4433, F0_765 = 6270;
const F0_899 = 7373, F1_175 = 9633, F1_501 = 12299, F1_847 = 15137;
const F1_961 = 16069, F2_053 = 16819, F2_562 = 20995, F3_072 = 25172;

/** Arithmetic right shift with rounding, without 32-bit wrap-around. */
function descale(x: number, n: number): number {
  return Math.floor((x + 2 ** (n - 1)) / 2 ** n);
}

/** jfdctint.c: in-place forward DCT of 64 centred samples (output scaled by 8). */
function fdctIslow(d: Float64Array): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let k = 0; k < 8; k++) {
      const at = (i: number) => (pass === 0 ? k * 8 + i : i * 8 + k);
      const d0 = d[at(0)]!, d1 = d[at(1)]!, d2 = d[at(2)]!, d3 = d[at(3)]!;
      const d4 = d[at(4)]!, d5 = d[at(5)]!, d6 = d[at(6)]!, d7 = d[at(7)]!;
      const tmp0 = d0 + d7, tmp7 = d0 - d7, tmp1 = d1 + d6, tmp6 = d1 - d6;
      const tmp2 = d2 + d5, tmp5 = d2 - d5, tmp3 = d3 + d4, tmp4 = d3 - d4;
      const tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3;
      const tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
      const sh = pass === 0 ? CB - P1 : CB + P1;
      if (pass === 0) {
        d[at(0)] = (tmp10 + tmp11) * 4;
        d[at(4)] = (tmp10 - tmp11) * 4;
      } else {
        d[at(0)] = descale(tmp10 + tmp11, P1);
        d[at(4)] = descale(tmp10 - tmp11, P1);
      }
      let z1 = (tmp12 + tmp13) * F0_541;
      d[at(2)] = descale(z1 + tmp13 * F0_765, sh);
      d[at(6)] = descale(z1 + tmp12 * -F1_847, sh);
      z1 = tmp4 + tmp7;
      let z2 = tmp5 + tmp6, z3 = tmp4 + tmp6, z4 = tmp5 + tmp7;
      const z5 = (z3 + z4) * F1_175;
      const t4 = tmp4 * F0_298, t5 = tmp5 * F2_053;
      const t6 = tmp6 * F3_072, t7 = tmp7 * F1_501;
      z1 *= -F0_899;
      z2 *= -F2_562;
      z3 = z3 * -F1_961 + z5;
      z4 = z4 * -F0_390 + z5;
      d[at(7)] = descale(t4 + z1 + z3, sh);
      d[at(5)] = descale(t5 + z2 + z4, sh);
      d[at(3)] = descale(t6 + z2 + z3, sh);
      d[at(1)] = descale(t7 + z1 + z4, sh);
    }
  }
}

/** jidctint.c: inverse DCT of 64 dequantised coefficients to 64 samples 0..255. */
function idctIslow(c: Float64Array, out: Uint8Array): void {
  const ws = new Float64Array(64);
  for (let pass = 0; pass < 2; pass++) {
    const src = pass === 0 ? c : ws;
    for (let k = 0; k < 8; k++) {
      const at = (i: number) => (pass === 0 ? i * 8 + k : k * 8 + i);
      let z2 = src[at(2)]!, z3 = src[at(6)]!;
      let z1 = (z2 + z3) * F0_541;
      const tmp2a = z1 + z3 * -F1_847;
      const tmp3a = z1 + z2 * F0_765;
      z2 = src[at(0)]!;
      z3 = src[at(4)]!;
      const tmp0a = (z2 + z3) * 8192;
      const tmp1a = (z2 - z3) * 8192;
      const tmp10 = tmp0a + tmp3a, tmp13 = tmp0a - tmp3a;
      const tmp11 = tmp1a + tmp2a, tmp12 = tmp1a - tmp2a;
      let tmp0 = src[at(7)]!, tmp1 = src[at(5)]!;
      let tmp2 = src[at(3)]!, tmp3 = src[at(1)]!;
      z1 = tmp0 + tmp3;
      z2 = tmp1 + tmp2;
      z3 = tmp0 + tmp2;
      let z4 = tmp1 + tmp3;
      const z5 = (z3 + z4) * F1_175;
      tmp0 *= F0_298;
      tmp1 *= F2_053;
      tmp2 *= F3_072;
      tmp3 *= F1_501;
      z1 *= -F0_899;
      z2 *= -F2_562;
      z3 = z3 * -F1_961 + z5;
      z4 = z4 * -F0_390 + z5;
      tmp0 += z1 + z3;
      tmp1 += z2 + z4;
      tmp2 += z2 + z3;
      tmp3 += z1 + z4;
      const v = [
        tmp10 + tmp3,
        tmp11 + tmp2,
        tmp12 + tmp1,
        tmp13 + tmp0,
        tmp13 - tmp0,
        tmp12 - tmp1,
        tmp11 - tmp2,
        tmp10 - tmp3,
      ];
      for (let i = 0; i < 8; i++) {
        if (pass === 0) {
          ws[at(i)] = descale(v[i]!, CB - P1);
        } else {
          // range_limit[(x) & RANGE_MASK] with the +128 centring.
          const x = (descale(v[i]!, CB + P1 + 3) & 1023) - (1023 & 0);
          const y = x >= 512 ? x - 1024 : x;
          const s = y + 128;
          out[k * 8 + i] = s < 0 ? 0 : s > 255 ? 255 : s;
        }
      }
    }
  }
}

/** Forward DCT and quantisation of one 8x8 block (natural order, islow divisors = q·8). */
function quantizeBlock(
  plane: Uint8Array,
  w: number,
  bx: number,
  by: number,
  table: Int32Array,
  out: Int32Array,
  at: number,
): void {
  const d = new Float64Array(64);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      d[y * 8 + x] = plane[(by + y) * w + bx + x]! - 128;
    }
  }
  fdctIslow(d);
  for (let i = 0; i < 64; i++) {
    const div = table[i]! * 8;
    const t = d[i]!;
    out[at + i] = t < 0
      ? -Math.floor((-t + (div >> 1)) / div)
      : Math.floor((t + (div >> 1)) / div);
  }
}

/** One component's quantised blocks, row-major, 64 natural-order coefficients each. */
export interface QuantizedPlane {
  width: number;
  height: number;
  blocks: Int32Array;
  table: Int32Array;
}

function quantizePlane(
  plane: Uint8Array,
  w: number,
  h: number,
  table: Int32Array,
): QuantizedPlane {
  const blocks = new Int32Array(w * h);
  let k = 0;
  for (let by = 0; by < h; by += 8) {
    for (let bx = 0; bx < w; bx += 8) {
      quantizeBlock(plane, w, bx, by, table, blocks, k);
      k += 64;
    }
  }
  return { width: w, height: h, blocks, table };
}

function reconstructPlane(q: QuantizedPlane): Uint8Array {
  const { width: w, height: h, blocks, table } = q;
  const plane = new Uint8Array(w * h);
  const c = new Float64Array(64);
  const out = new Uint8Array(64);
  let k = 0;
  for (let by = 0; by < h; by += 8) {
    for (let bx = 0; bx < w; bx += 8) {
      for (let i = 0; i < 64; i++) c[i] = blocks[k + i]! * table[i]!;
      idctIslow(c, out);
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          plane[(by + y) * w + bx + x] = out[y * 8 + x]!;
        }
      }
      k += 64;
    }
  }
  return plane;
}

const FIX = (x: number) => Math.trunc(x * 65536 + 0.5);
const HALF = 1 << 15;

/**
 * libjpeg's encoder up to the entropy coder: YCbCr, 4:2:0, DCT, quantisation
 * (w, h multiples of 16). Returns the Y, Cb and Cr planes' coefficients.
 */
export function quantizeImage(
  rgb: Uint8Array,
  w: number,
  h: number,
  quality: number,
): [QuantizedPlane, QuantizedPlane, QuantizedPlane] {
  if (w % 16 !== 0 || h % 16 !== 0) {
    throw new RangeError(
      `Cannot JPEG-compress a ${w}x${h} image: sides must be multiples of 16`,
    );
  }
  const [lt, ct] = quantTables(quality);
  const n = w * h;
  const Y = new Uint8Array(n), Cb = new Uint8Array(n), Cr = new Uint8Array(n);
  const off = (128 << 16) + HALF - 1;
  for (let p = 0; p < n; p++) {
    const r = rgb[3 * p]!, g = rgb[3 * p + 1]!, b = rgb[3 * p + 2]!;
    Y[p] = (FIX(0.299) * r + FIX(0.587) * g + FIX(0.114) * b + HALF) >> 16;
    Cb[p] = (-FIX(0.16874) * r - FIX(0.33126) * g + FIX(0.5) * b + off) >> 16;
    Cr[p] = (FIX(0.5) * r - FIX(0.41869) * g - FIX(0.08131) * b + off) >> 16;
  }
  const cw = w / 2, chh = h / 2;
  const down = (src: Uint8Array) => {
    const o = new Uint8Array(cw * chh);
    for (let y = 0; y < chh; y++) {
      let bias = 1;
      for (let x = 0; x < cw; x++) {
        const i = 2 * y * w + 2 * x;
        o[y * cw + x] =
          (src[i]! + src[i + 1]! + src[i + w]! + src[i + w + 1]! + bias) >> 2;
        bias ^= 3;
      }
    }
    return o;
  };
  return [
    quantizePlane(Y, w, h, lt),
    quantizePlane(down(Cb), cw, chh, ct),
    quantizePlane(down(Cr), cw, chh, ct),
  ];
}

/** libjpeg's decoder from quantised coefficients: IDCT, fancy upsampling, RGB. */
export function reconstructImage(
  planes: readonly [QuantizedPlane, QuantizedPlane, QuantizedPlane],
): Uint8Array {
  const w = planes[0].width, h = planes[0].height, n = w * h;
  const cw = w / 2, chh = h / 2;
  const Y = reconstructPlane(planes[0]);
  const cb = reconstructPlane(planes[1]);
  const cr = reconstructPlane(planes[2]);
  const up = (src: Uint8Array) => {
    const o = new Uint8Array(n);
    for (let y = 0; y < h; y++) {
      const r0 = y >> 1;
      const r1 = (y & 1) === 0
        ? Math.max(0, r0 - 1)
        : Math.min(chh - 1, r0 + 1);
      const col = (x: number) => src[r0 * cw + x]! * 3 + src[r1 * cw + x]!;
      for (let x = 0; x < cw; x++) {
        const t = col(x);
        const last = x > 0 ? col(x - 1) : -1;
        const next = x < cw - 1 ? col(x + 1) : -1;
        o[y * w + 2 * x] = last < 0
          ? (t * 4 + 8) >> 4
          : (t * 3 + last + 8) >> 4;
        o[y * w + 2 * x + 1] = next < 0
          ? (t * 4 + 7) >> 4
          : (t * 3 + next + 7) >> 4;
      }
    }
    return o;
  };
  const ucb = up(cb), ucr = up(cr);
  const out = new Uint8Array(3 * n);
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
  for (let p = 0; p < n; p++) {
    const y = Y[p]!, b = ucb[p]! - 128, r = ucr[p]! - 128;
    const crR = (FIX(1.402) * r + HALF) >> 16;
    const cbB = (FIX(1.772) * b + HALF) >> 16;
    const g = (-FIX(0.34414) * b + HALF + -FIX(0.71414) * r) >> 16;
    out[3 * p] = clamp(y + crR);
    out[3 * p + 1] = clamp(y + g);
    out[3 * p + 2] = clamp(y + cbB);
  }
  return out;
}

/** JPEG-compress and decompress 8-bit RGB (w, h multiples of 16) at `quality`. */
export function jpegRoundTrip(
  rgb: Uint8Array,
  w: number,
  h: number,
  quality: number,
): Uint8Array {
  return reconstructImage(quantizeImage(rgb, w, h, quality));
}
