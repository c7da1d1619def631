/**
 * A baseline JFIF writer over `libjpeg.ts`'s quantised coefficients: the
 * file decodes (with any conforming decoder using libjpeg's defaults) to
 * exactly `jpegRoundTrip()`'s pixels, i.e. to what Pillow's
 * `save(format="JPEG", quality=q)` stores. 4:2:0, interleaved, one scan.
 * Entropy coding uses the standard luminance Huffman tables of Annex K.3
 * for every component (valid for any data; Pillow's `optimize=True` only
 * makes its files smaller, never different in pixels).
 */
import { type QuantizedPlane, quantizeImageScratch } from "./libjpeg.ts";

/** Natural index of each zigzag position. */
// deno-fmt-ignore
const kZigzag = [
    0,   1,   8,  16,   9,   2,   3,  10,
   17,  24,  32,  25,  18,  11,   4,   5,
   12,  19,  26,  33,  40,  48,  41,  34,
   27,  20,  13,   6,   7,  14,  21,  28,
   35,  42,  49,  56,  57,  50,  43,  36,
   29,  22,  15,  23,  30,  37,  44,  51,
   58,  59,  52,  45,  38,  31,  39,  46,
   53,  60,  61,  54,  47,  55,  62,  63,
];

const kDcBits = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const kDcVals = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const kAcBits = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
/** Annex K.3 AC luminance symbols: an irregular head, then rows r1..rA, rF. */
const kAcVals = (() => {
  const head = [
    0x01,
    0x02,
    0x03,
    0x00,
    0x04,
    0x11,
    0x05,
    0x12,
    0x21,
    0x31,
    0x41,
    0x06,
    0x13,
    0x51,
    0x61,
    0x07,
    0x22,
    0x71,
    0x14,
    0x32,
    0x81,
    0x91,
    0xa1,
    0x08,
    0x23,
    0x42,
    0xb1,
    0xc1,
    0x15,
    0x52,
    0xd1,
    0xf0,
    0x24,
    0x33,
    0x62,
    0x72,
    0x82,
    0x09,
    0x0a,
    0x16,
    0x17,
    0x18,
    0x19,
    0x1a,
  ];
  const tail: number[] = [];
  const from = [5, 4, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1];
  [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].forEach((run, i) => {
    for (let size = from[i]!; size <= 10; size++) tail.push(run * 16 + size);
  });
  return [...head, ...tail];
})();

interface Huffman {
  code: Int32Array;
  size: Int32Array;
}

function huffman(bits: number[], vals: number[]): Huffman {
  const code = new Int32Array(256), size = new Int32Array(256);
  let c = 0, k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < bits[len - 1]!; i++) {
      const v = vals[k++]!;
      code[v] = c++;
      size[v] = len;
    }
    c <<= 1;
  }
  return { code, size };
}

/** MSB-first bit writer with JPEG's 0xFF byte stuffing. */
export class BitWriter {
  bytes: number[] = [];
  #acc = 0;
  #n = 0;
  put(value: number, n: number): void {
    for (let i = n - 1; i >= 0; i--) {
      this.#acc = (this.#acc << 1) | ((value >>> i) & 1);
      if (++this.#n === 8) {
        this.bytes.push(this.#acc);
        if (this.#acc === 0xff) this.bytes.push(0);
        this.#acc = 0;
        this.#n = 0;
      }
    }
  }
  flush(): void {
    while (this.#n !== 0) this.put(1, 1);
  }
}

/** The JPEG magnitude category of a coefficient: its bit length. */
export function jpegCategory(v: number): number {
  let a = Math.abs(v), n = 0;
  while (a) {
    n++;
    a >>= 1;
  }
  return n;
}

/**
 * The same bit stream as `BitWriter`, into a growing byte buffer with a
 * 32-bit accumulator (codes are at most 16 bits, values at most 15).
 */
class ByteSink {
  buf = new Uint8Array(1 << 16);
  len = 0;
  acc = 0;
  n = 0;
  put(value: number, n: number): void {
    this.acc = (this.acc << n) | (value & ((1 << n) - 1));
    this.n += n;
    while (this.n >= 8) {
      this.n -= 8;
      const b = (this.acc >>> this.n) & 255;
      if (this.len + 2 > this.buf.length) {
        const grown = new Uint8Array(this.buf.length * 2);
        grown.set(this.buf);
        this.buf = grown;
      }
      this.buf[this.len++] = b;
      if (b === 0xff) this.buf[this.len++] = 0;
    }
    this.acc &= (1 << this.n) - 1;
  }
  /** Pad the last byte with 1 bits. */
  flush(): void {
    if (this.n !== 0) this.put((1 << (8 - this.n)) - 1, 8 - this.n);
  }
}

const kDc = huffman(kDcBits, kDcVals);
const kAc = huffman(kAcBits, kAcVals);
const kZigzagI = Int32Array.from(kZigzag);

/** Encode 8-bit RGB (sides multiples of 16) as a baseline JPEG at `quality`. */
export function encodeJpegFile(
  rgb: Uint8Array,
  width: number,
  height: number,
  quality: number,
): Uint8Array {
  const planes = quantizeImageScratch(rgb, width, height, quality);
  const dcCode = kDc.code, dcSize = kDc.size;
  const acCode = kAc.code, acSize = kAc.size;
  const zz = kZigzagI;
  const bw = new ByteSink();
  const pred = [0, 0, 0];
  const block = (comp: number, q: QuantizedPlane, bx: number, by: number) => {
    const blocks = q.blocks;
    const at = (by * (q.width / 8) + bx) * 64;
    const d = blocks[at]! - pred[comp]!;
    pred[comp] = blocks[at]!;
    const c = jpegCategory(d);
    bw.put(dcCode[c]!, dcSize[c]!);
    if (c) bw.put(d < 0 ? d - 1 + (1 << c) : d, c);
    let run = 0;
    for (let k = 1; k < 64; k++) {
      const v = blocks[at + zz[k]!]!;
      if (v === 0) {
        run++;
        continue;
      }
      while (run > 15) {
        bw.put(acCode[0xf0]!, acSize[0xf0]!);
        run -= 16;
      }
      const s = 32 - Math.clz32(v < 0 ? -v : v);
      const sym = run * 16 + s;
      bw.put(acCode[sym]!, acSize[sym]!);
      bw.put(v < 0 ? v - 1 + (1 << s) : v, s);
      run = 0;
    }
    if (run > 0) bw.put(acCode[0]!, acSize[0]!);
  };
  for (let my = 0; my < height / 16; my++) {
    for (let mx = 0; mx < width / 16; mx++) {
      block(0, planes[0], 2 * mx, 2 * my);
      block(0, planes[0], 2 * mx + 1, 2 * my);
      block(0, planes[0], 2 * mx, 2 * my + 1);
      block(0, planes[0], 2 * mx + 1, 2 * my + 1);
      block(1, planes[1], mx, my);
      block(2, planes[2], mx, my);
    }
  }
  bw.flush();
  const head: number[] = [0xff, 0xd8];
  const segment = (marker: number, body: number[]) =>
    head.push(
      0xff,
      marker,
      (body.length + 2) >> 8,
      (body.length + 2) & 255,
      ...body,
    );
  segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  for (const [id, q] of [[0, planes[0]], [1, planes[1]]] as const) {
    segment(0xdb, [id, ...kZigzag.map((z) => q.table[z]!)]);
  }
  segment(0xc0, [
    8,
    height >> 8,
    height & 255,
    width >> 8,
    width & 255,
    3,
    1,
    0x22,
    0,
    2,
    0x11,
    1,
    3,
    0x11,
    1,
  ]);
  segment(0xc4, [0x00, ...kDcBits, ...kDcVals]);
  segment(0xc4, [0x10, ...kAcBits, ...kAcVals]);
  segment(0xda, [3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]);
  const out = new Uint8Array(head.length + bw.len + 2);
  out.set(head);
  out.set(bw.buf.subarray(0, bw.len), head.length);
  out.set([0xff, 0xd9], head.length + bw.len);
  return out;
}
