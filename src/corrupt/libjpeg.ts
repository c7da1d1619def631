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

// CONST_BITS = 13, PASS1_BITS = 2: the shifts below are 11 (= 13 − 2), 15
// (= 13 + 2), 2 and 18 (= 13 + 2 + 3).
const F0_298 = 2446, F0_390 = 3196, F0_541 = 4433, F0_765 = 6270;
const F0_899 = 7373, F1_175 = 9633, F1_501 = 12299, F1_847 = 15137;
const F1_961 = 16069, F2_053 = 16819, F2_562 = 20995, F3_072 = 25172;

// DESCALE(x, n) = floor((x + 2^(n-1)) / 2^n), on doubles (exact for these
// integers, no 32-bit wrap-around): x·2^-n is exact, so floor is the shift.
const S2 = 1 / 4, S11 = 1 / 2048, S15 = 1 / 32768, S18 = 1 / 262144;

/** jfdctint.c: in-place forward DCT of 64 centred samples (output scaled by 8). */
function fdctIslow(d: Float64Array): void {
  // Pass 1: rows.
  for (let o = 0; o < 64; o += 8) {
    const d0 = d[o]!, d1 = d[o + 1]!, d2 = d[o + 2]!, d3 = d[o + 3]!;
    const d4 = d[o + 4]!, d5 = d[o + 5]!, d6 = d[o + 6]!, d7 = d[o + 7]!;
    const tmp0 = d0 + d7, tmp7 = d0 - d7, tmp1 = d1 + d6, tmp6 = d1 - d6;
    const tmp2 = d2 + d5, tmp5 = d2 - d5, tmp3 = d3 + d4, tmp4 = d3 - d4;
    const tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
    d[o] = (tmp10 + tmp11) * 4;
    d[o + 4] = (tmp10 - tmp11) * 4;
    const z1 = (tmp12 + tmp13) * F0_541;
    d[o + 2] = Math.floor((z1 + tmp13 * F0_765 + 1024) * S11);
    d[o + 6] = Math.floor((z1 + tmp12 * -F1_847 + 1024) * S11);
    const z5 = (tmp4 + tmp6 + tmp5 + tmp7) * F1_175;
    const a1 = (tmp4 + tmp7) * -F0_899, a2 = (tmp5 + tmp6) * -F2_562;
    const a3 = (tmp4 + tmp6) * -F1_961 + z5;
    const a4 = (tmp5 + tmp7) * -F0_390 + z5;
    d[o + 7] = Math.floor((tmp4 * F0_298 + a1 + a3 + 1024) * S11);
    d[o + 5] = Math.floor((tmp5 * F2_053 + a2 + a4 + 1024) * S11);
    d[o + 3] = Math.floor((tmp6 * F3_072 + a2 + a3 + 1024) * S11);
    d[o + 1] = Math.floor((tmp7 * F1_501 + a1 + a4 + 1024) * S11);
  }
  // Pass 2: columns.
  for (let k = 0; k < 8; k++) {
    const d0 = d[k]!, d1 = d[k + 8]!, d2 = d[k + 16]!, d3 = d[k + 24]!;
    const d4 = d[k + 32]!, d5 = d[k + 40]!, d6 = d[k + 48]!, d7 = d[k + 56]!;
    const tmp0 = d0 + d7, tmp7 = d0 - d7, tmp1 = d1 + d6, tmp6 = d1 - d6;
    const tmp2 = d2 + d5, tmp5 = d2 - d5, tmp3 = d3 + d4, tmp4 = d3 - d4;
    const tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
    d[k] = Math.floor((tmp10 + tmp11 + 2) * S2);
    d[k + 32] = Math.floor((tmp10 - tmp11 + 2) * S2);
    const z1 = (tmp12 + tmp13) * F0_541;
    d[k + 16] = Math.floor((z1 + tmp13 * F0_765 + 16384) * S15);
    d[k + 48] = Math.floor((z1 + tmp12 * -F1_847 + 16384) * S15);
    const z5 = (tmp4 + tmp6 + tmp5 + tmp7) * F1_175;
    const a1 = (tmp4 + tmp7) * -F0_899, a2 = (tmp5 + tmp6) * -F2_562;
    const a3 = (tmp4 + tmp6) * -F1_961 + z5;
    const a4 = (tmp5 + tmp7) * -F0_390 + z5;
    d[k + 56] = Math.floor((tmp4 * F0_298 + a1 + a3 + 16384) * S15);
    d[k + 40] = Math.floor((tmp5 * F2_053 + a2 + a4 + 16384) * S15);
    d[k + 24] = Math.floor((tmp6 * F3_072 + a2 + a3 + 16384) * S15);
    d[k + 8] = Math.floor((tmp7 * F1_501 + a1 + a4 + 16384) * S15);
  }
}

const kWs = new Float64Array(64);

/**
 * jidctint.c: inverse DCT of 64 dequantised coefficients (`c`) to samples
 * 0..255 written at `plane[at + y·stride + x]`. A column whose AC terms are
 * all zero is the DC term times 4, as the full computation gives.
 */
function idctIslow(
  c: Float64Array,
  plane: Uint8Array,
  at: number,
  stride: number,
): void {
  const ws = kWs;
  // Pass 1: columns.
  for (let k = 0; k < 8; k++) {
    if (
      c[k + 8] === 0 && c[k + 16] === 0 && c[k + 24] === 0 &&
      c[k + 32] === 0 && c[k + 40] === 0 && c[k + 48] === 0 && c[k + 56] === 0
    ) {
      const dc = c[k]! * 4;
      for (let i = 0; i < 64; i += 8) ws[k + i] = dc;
      continue;
    }
    let z2 = c[k + 16]!, z3 = c[k + 48]!;
    let z1 = (z2 + z3) * F0_541;
    const tmp2a = z1 + z3 * -F1_847;
    const tmp3a = z1 + z2 * F0_765;
    z2 = c[k]!;
    z3 = c[k + 32]!;
    const tmp0a = (z2 + z3) * 8192;
    const tmp1a = (z2 - z3) * 8192;
    const tmp10 = tmp0a + tmp3a, tmp13 = tmp0a - tmp3a;
    const tmp11 = tmp1a + tmp2a, tmp12 = tmp1a - tmp2a;
    let tmp0 = c[k + 56]!, tmp1 = c[k + 40]!;
    let tmp2 = c[k + 24]!, tmp3 = c[k + 8]!;
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * F1_175;
    z1 *= -F0_899;
    z2 *= -F2_562;
    z3 = z3 * -F1_961 + z5;
    z4 = z4 * -F0_390 + z5;
    tmp0 = tmp0 * F0_298 + (z1 + z3);
    tmp1 = tmp1 * F2_053 + (z2 + z4);
    tmp2 = tmp2 * F3_072 + (z2 + z3);
    tmp3 = tmp3 * F1_501 + (z1 + z4);
    ws[k] = Math.floor((tmp10 + tmp3 + 1024) * S11);
    ws[k + 8] = Math.floor((tmp11 + tmp2 + 1024) * S11);
    ws[k + 16] = Math.floor((tmp12 + tmp1 + 1024) * S11);
    ws[k + 24] = Math.floor((tmp13 + tmp0 + 1024) * S11);
    ws[k + 32] = Math.floor((tmp13 - tmp0 + 1024) * S11);
    ws[k + 40] = Math.floor((tmp12 - tmp1 + 1024) * S11);
    ws[k + 48] = Math.floor((tmp11 - tmp2 + 1024) * S11);
    ws[k + 56] = Math.floor((tmp10 - tmp3 + 1024) * S11);
  }
  // Pass 2: rows, to range_limit[(x) & RANGE_MASK] with the +128 centring.
  for (let r = 0; r < 64; r += 8) {
    let z2 = ws[r + 2]!, z3 = ws[r + 6]!;
    let z1 = (z2 + z3) * F0_541;
    const tmp2a = z1 + z3 * -F1_847;
    const tmp3a = z1 + z2 * F0_765;
    z2 = ws[r]!;
    z3 = ws[r + 4]!;
    const tmp0a = (z2 + z3) * 8192;
    const tmp1a = (z2 - z3) * 8192;
    const tmp10 = tmp0a + tmp3a, tmp13 = tmp0a - tmp3a;
    const tmp11 = tmp1a + tmp2a, tmp12 = tmp1a - tmp2a;
    let tmp0 = ws[r + 7]!, tmp1 = ws[r + 5]!;
    let tmp2 = ws[r + 3]!, tmp3 = ws[r + 1]!;
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * F1_175;
    z1 *= -F0_899;
    z2 *= -F2_562;
    z3 = z3 * -F1_961 + z5;
    z4 = z4 * -F0_390 + z5;
    tmp0 = tmp0 * F0_298 + (z1 + z3);
    tmp1 = tmp1 * F2_053 + (z2 + z4);
    tmp2 = tmp2 * F3_072 + (z2 + z3);
    tmp3 = tmp3 * F1_501 + (z1 + z4);
    const o = at + (r >> 3) * stride;
    plane[o] = rangeLimit(tmp10 + tmp3);
    plane[o + 1] = rangeLimit(tmp11 + tmp2);
    plane[o + 2] = rangeLimit(tmp12 + tmp1);
    plane[o + 3] = rangeLimit(tmp13 + tmp0);
    plane[o + 4] = rangeLimit(tmp13 - tmp0);
    plane[o + 5] = rangeLimit(tmp12 - tmp1);
    plane[o + 6] = rangeLimit(tmp11 - tmp2);
    plane[o + 7] = rangeLimit(tmp10 - tmp3);
  }
}

/** DESCALE(x, 18), wrapped to 10 bits as signed, +128, clamped to 0..255. */
function rangeLimit(x: number): number {
  const m = Math.floor((x + 131072) * S18) & 1023;
  const s = (m >= 512 ? m - 1024 : m) + 128;
  return s < 0 ? 0 : s > 255 ? 255 : s;
}

/** One component's quantised blocks, row-major, 64 natural-order coefficients each. */
export interface QuantizedPlane {
  width: number;
  height: number;
  blocks: Int32Array;
  table: Int32Array;
}

const kBlock = new Float64Array(64);

/**
 * Scratch planes for one image size, reused across calls: allocating
 * typed arrays of this size costs as much as the arithmetic on them.
 */
interface Work {
  w: number;
  h: number;
  y: Uint8Array;
  cb: Uint8Array;
  cr: Uint8Array;
  cbHalf: Uint8Array;
  crHalf: Uint8Array;
  blocks: [Int32Array, Int32Array, Int32Array];
  ucb: Uint8Array;
  ucr: Uint8Array;
  col: Int32Array;
}

let kWork: Work | undefined;

function work(w: number, h: number): Work {
  if (kWork?.w === w && kWork.h === h) return kWork;
  const n = w * h, c = n / 4;
  kWork = {
    w,
    h,
    y: new Uint8Array(n),
    cb: new Uint8Array(n),
    cr: new Uint8Array(n),
    cbHalf: new Uint8Array(c),
    crHalf: new Uint8Array(c),
    blocks: [new Int32Array(n), new Int32Array(c), new Int32Array(c)],
    ucb: new Uint8Array(n),
    ucr: new Uint8Array(n),
    col: new Int32Array(w / 2),
  };
  return kWork;
}

function quantizePlane(
  plane: Uint8Array,
  w: number,
  h: number,
  table: Int32Array,
  blocks: Int32Array,
): QuantizedPlane {
  // islow divisors are q·8; rounding as libjpeg's quantize (away from zero).
  const div = new Float64Array(64), half = new Float64Array(64);
  for (let i = 0; i < 64; i++) {
    div[i] = table[i]! * 8;
    half[i] = (table[i]! * 8) >> 1;
  }
  const d = kBlock;
  let k = 0;
  for (let by = 0; by < h; by += 8) {
    for (let bx = 0; bx < w; bx += 8) {
      for (let y = 0; y < 8; y++) {
        const s = (by + y) * w + bx, o = y * 8;
        for (let x = 0; x < 8; x++) d[o + x] = plane[s + x]! - 128;
      }
      fdctIslow(d);
      for (let i = 0; i < 64; i++) {
        const t = d[i]!;
        blocks[k + i] = t < 0
          ? -Math.floor((-t + half[i]!) / div[i]!)
          : Math.floor((t + half[i]!) / div[i]!);
      }
      k += 64;
    }
  }
  return { width: w, height: h, blocks, table };
}

function reconstructPlane(q: QuantizedPlane, plane: Uint8Array): Uint8Array {
  const { width: w, height: h, blocks, table } = q;
  const c = kBlock;
  let k = 0;
  for (let by = 0; by < h; by += 8) {
    for (let bx = 0; bx < w; bx += 8) {
      for (let i = 0; i < 64; i++) c[i] = blocks[k + i]! * table[i]!;
      idctIslow(c, plane, by * w + bx, w);
      k += 64;
    }
  }
  return plane;
}

const FIX = (x: number) => Math.trunc(x * 65536 + 0.5);
const HALF = 1 << 15;
const kYr = FIX(0.299), kYg = FIX(0.587), kYb = FIX(0.114);
const kCbR = FIX(0.16874), kCbG = FIX(0.33126), kC5 = FIX(0.5);
const kCrG = FIX(0.41869), kCrB = FIX(0.08131);
const kRCr = FIX(1.402), kBCb = FIX(1.772);
const kGCb = FIX(0.34414), kGCr = FIX(0.71414);

/** 2x2 chroma averaging; the bias alternates 1, 2 along each row. */
function downsample(src: Uint8Array, w: number, h: number, o: Uint8Array) {
  const cw = w / 2, chh = h / 2;
  for (let y = 0; y < chh; y++) {
    let i = 2 * y * w;
    const ro = y * cw;
    for (let x = 0; x < cw; x += 2, i += 4) {
      o[ro + x] = (src[i]! + src[i + 1]! + src[i + w]! + src[i + w + 1]! + 1) >>
        2;
      o[ro + x + 1] = (src[i + 2]! + src[i + 3]! + src[i + w + 2]! +
        src[i + w + 3]! + 2) >> 2;
    }
  }
}

/**
 * `quantizeImage()` into shared scratch arrays: the planes are valid until
 * the next call of this or of `jpegRoundTrip()`.
 */
export function quantizeImageScratch(
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
  const s = work(w, h);
  const n = w * h;
  const Y = s.y, Cb = s.cb, Cr = s.cr;
  const off = (128 << 16) + HALF - 1;
  for (let p = 0, q = 0; p < n; p++, q += 3) {
    const r = rgb[q]!, g = rgb[q + 1]!, b = rgb[q + 2]!;
    Y[p] = (kYr * r + kYg * g + kYb * b + HALF) >> 16;
    Cb[p] = (-kCbR * r - kCbG * g + kC5 * b + off) >> 16;
    Cr[p] = (kC5 * r - kCrG * g - kCrB * b + off) >> 16;
  }
  downsample(Cb, w, h, s.cbHalf);
  downsample(Cr, w, h, s.crHalf);
  const cw = w / 2, chh = h / 2;
  return [
    quantizePlane(Y, w, h, lt, s.blocks[0]),
    quantizePlane(s.cbHalf, cw, chh, ct, s.blocks[1]),
    quantizePlane(s.crHalf, cw, chh, ct, s.blocks[2]),
  ];
}

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
  const [y, cb, cr] = quantizeImageScratch(rgb, w, h, quality);
  return [
    { ...y, blocks: y.blocks.slice() },
    { ...cb, blocks: cb.blocks.slice() },
    { ...cr, blocks: cr.blocks.slice() },
  ];
}

/**
 * libjpeg's "fancy" 2h2v upsampling of one chroma plane (cw x ch) to
 * 2cw x 2ch: triangular weights 3/4, 1/4 on each axis.
 */
function upsample(
  src: Uint8Array,
  cw: number,
  chh: number,
  o: Uint8Array,
  col: Int32Array,
): Uint8Array {
  const w = 2 * cw;
  for (let y = 0; y < 2 * chh; y++) {
    const r0 = (y >> 1) * cw;
    const r1 = ((y & 1) === 0
      ? Math.max(0, (y >> 1) - 1)
      : Math.min(chh - 1, (y >> 1) + 1)) * cw;
    for (let x = 0; x < cw; x++) {
      col[x] = src[r0 + x]! * 3 + src[r1 + x]!;
    }
    const ro = y * w;
    if (cw === 1) {
      o[ro] = (col[0]! * 4 + 8) >> 4;
      o[ro + 1] = (col[0]! * 4 + 7) >> 4;
      continue;
    }
    o[ro] = (col[0]! * 4 + 8) >> 4;
    o[ro + 1] = (col[0]! * 3 + col[1]! + 7) >> 4;
    for (let x = 1; x < cw - 1; x++) {
      const t = col[x]! * 3;
      o[ro + 2 * x] = (t + col[x - 1]! + 8) >> 4;
      o[ro + 2 * x + 1] = (t + col[x + 1]! + 7) >> 4;
    }
    const l = cw - 1;
    o[ro + 2 * l] = (col[l]! * 3 + col[l - 1]! + 8) >> 4;
    o[ro + 2 * l + 1] = (col[l]! * 4 + 7) >> 4;
  }
  return o;
}

/** `(x < 0 ? 0 : x > 255 ? 255 : x)`, as a table from index x + 512. */
const kClamp = (() => {
  const t = new Uint8Array(1536);
  for (let i = 0; i < 1536; i++) t[i] = Math.min(255, Math.max(0, i - 512));
  return t;
})();

/** libjpeg's decoder from quantised coefficients: IDCT, fancy upsampling, RGB. */
export function reconstructImage(
  planes: readonly [QuantizedPlane, QuantizedPlane, QuantizedPlane],
): Uint8Array {
  const w = planes[0].width, h = planes[0].height, n = w * h;
  const cw = w / 2, chh = h / 2;
  const s = work(w, h);
  // The planes may be the scratch's own blocks: the sample planes are
  // separate arrays, so reusing them here is safe.
  const Y = reconstructPlane(planes[0], s.y);
  const ucb = upsample(
    reconstructPlane(planes[1], s.cbHalf),
    cw,
    chh,
    s.ucb,
    s.col,
  );
  const ucr = upsample(
    reconstructPlane(planes[2], s.crHalf),
    cw,
    chh,
    s.ucr,
    s.col,
  );
  const out = new Uint8Array(3 * n);
  const clamp = kClamp;
  for (let p = 0, q = 0; p < n; p++, q += 3) {
    const y = Y[p]! + 512, b = ucb[p]! - 128, r = ucr[p]! - 128;
    out[q] = clamp[y + ((kRCr * r + HALF) >> 16)]!;
    out[q + 1] = clamp[y + ((-kGCb * b + HALF + -kGCr * r) >> 16)]!;
    out[q + 2] = clamp[y + ((kBCb * b + HALF) >> 16)]!;
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
  return reconstructImage(quantizeImageScratch(rgb, w, h, quality));
}
