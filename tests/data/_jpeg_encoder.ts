/**
 * A tiny baseline JPEG encoder for tests (no dependency on the decoders under
 * test): 1, 3 or 4 components stored as given (no colour conversion), no
 * subsampling, one flat quantisation table, canonical Huffman tables with
 * fixed code lengths (DC: 4 bits, AC: 8 bits). Width and height must be
 * multiples of 8. Optional Adobe APP14 marker and EXIF orientation.
 */

import {
  BitWriter,
  jpegCategory as category,
} from "../../src/corrupt/jpeg_file.ts";

function zigzag(): number[] {
  const zz: number[] = [];
  for (let s = 0; s < 15; s++) {
    if (s % 2 === 0) {
      for (let r = Math.min(s, 7); r >= Math.max(0, s - 7); r--) {
        zz.push(r * 8 + (s - r));
      }
    } else {
      for (let r = Math.max(0, s - 7); r <= Math.min(s, 7); r++) {
        zz.push(r * 8 + (s - r));
      }
    }
  }
  return zz;
}
const ZZ = zigzag();

function bitsOf(v: number, n: number): number {
  return v >= 0 ? v : v + (1 << n) - 1;
}

// Canonical codes: DC symbols 0..11 all length 4; AC symbols all length 8.
const DC_SYMS = Array.from({ length: 12 }, (_, i) => i);
const AC_SYMS: number[] = [0x00, 0xf0];
for (let run = 0; run < 16; run++) {
  for (let size = 1; size <= 10; size++) AC_SYMS.push((run << 4) | size);
}
const dcCode = new Map(DC_SYMS.map((s, i) => [s, i]));
const acCode = new Map(AC_SYMS.map((s, i) => [s, i]));

function segment(marker: number, payload: number[]): number[] {
  const len = payload.length + 2;
  return [0xff, marker, len >> 8, len & 0xff, ...payload];
}

/** Options for `encodeBaselineJpeg()`. */
export interface TestJpegOptions {
  /** Quantiser for every coefficient. @default 2 */
  q?: number;
  /** Adobe APP14 transform flag (0 = none/CMYK), or undefined for no marker. */
  adobeTransform?: number;
  /** EXIF orientation to write in APP1, or undefined for none. */
  orientation?: number;
}

/**
 * Encode planar components `[C][H*W]` (values 0..255) as a baseline JPEG.
 */
export function encodeBaselineJpeg(
  planes: Uint8Array[],
  width: number,
  height: number,
  opts: TestJpegOptions = {},
): Uint8Array {
  if (width % 8 || height % 8) {
    throw new Error("width and height must be multiples of 8");
  }
  const q = opts.q ?? 2;
  const nc = planes.length;
  const out: number[] = [0xff, 0xd8];
  if (opts.orientation !== undefined) {
    out.push(...exifSegment(opts.orientation));
  }
  if (opts.adobeTransform !== undefined) {
    out.push(
      ...segment(0xee, [
        0x41,
        0x64,
        0x6f,
        0x62,
        0x65,
        0,
        100,
        0,
        0,
        0,
        0,
        opts.adobeTransform,
      ]),
    );
  }
  out.push(...segment(0xdb, [0x00, ...new Array(64).fill(q)]));
  const sof = [8, height >> 8, height & 0xff, width >> 8, width & 0xff, nc];
  for (let c = 0; c < nc; c++) sof.push(c + 1, 0x11, 0);
  out.push(...segment(0xc0, sof));
  const dcBits = new Array(16).fill(0);
  dcBits[3] = DC_SYMS.length;
  const acBits = new Array(16).fill(0);
  acBits[7] = AC_SYMS.length;
  out.push(
    ...segment(0xc4, [
      0x00,
      ...dcBits,
      ...DC_SYMS,
      0x10,
      ...acBits,
      ...AC_SYMS,
    ]),
  );
  const sos = [nc];
  for (let c = 0; c < nc; c++) sos.push(c + 1, 0x00);
  sos.push(0, 63, 0);
  out.push(...segment(0xda, sos));

  const cos = new Float64Array(64);
  for (let x = 0; x < 8; x++) {
    for (let u = 0; u < 8; u++) {
      cos[x * 8 + u] = Math.cos(((2 * x + 1) * u * Math.PI) / 16);
    }
  }
  const cu = (u: number) => (u === 0 ? Math.SQRT1_2 : 1);
  const w = new BitWriter();
  const pred = new Array(nc).fill(0);
  const block = new Float64Array(64);
  const coef = new Int32Array(64);
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      for (let c = 0; c < nc; c++) {
        const p = planes[c]!;
        for (let y = 0; y < 8; y++) {
          for (let x = 0; x < 8; x++) {
            block[y * 8 + x] = p[(by + y) * width + bx + x]! - 128;
          }
        }
        for (let v = 0; v < 8; v++) {
          for (let u = 0; u < 8; u++) {
            let s = 0;
            for (let y = 0; y < 8; y++) {
              for (let x = 0; x < 8; x++) {
                s += block[y * 8 + x]! * cos[x * 8 + u]! * cos[y * 8 + v]!;
              }
            }
            coef[v * 8 + u] = Math.round((0.25 * cu(u) * cu(v) * s) / q);
          }
        }
        const dc = coef[0]!;
        const diff = dc - pred[c];
        pred[c] = dc;
        const dcat = category(diff);
        w.put(dcCode.get(dcat)!, 4);
        if (dcat) w.put(bitsOf(diff, dcat), dcat);
        let run = 0;
        for (let k = 1; k < 64; k++) {
          const v = coef[ZZ[k]!]!;
          if (v === 0) {
            run++;
            continue;
          }
          while (run > 15) {
            w.put(acCode.get(0xf0)!, 8);
            run -= 16;
          }
          const cat = category(v);
          if (cat > 10) throw new Error("AC coefficient too large; raise q");
          w.put(acCode.get((run << 4) | cat)!, 8);
          w.put(bitsOf(v, cat), cat);
          run = 0;
        }
        if (run > 0) w.put(acCode.get(0x00)!, 8);
      }
    }
  }
  w.flush();
  out.push(...w.bytes, 0xff, 0xd9);
  return new Uint8Array(out);
}

/** An APP1 Exif segment (big-endian TIFF) with only the Orientation tag. */
export function exifSegment(orientation: number): number[] {
  const tiff = [
    0x4d,
    0x4d,
    0,
    42,
    0,
    0,
    0,
    8, // header, IFD0 at 8
    0,
    1, // one entry
    0x01,
    0x12,
    0,
    3,
    0,
    0,
    0,
    1,
    0,
    orientation,
    0,
    0, // Orientation SHORT 1
    0,
    0,
    0,
    0, // next IFD
  ];
  return segment(0xe1, [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff]);
}

/** Insert an EXIF orientation segment after SOI of any JPEG. */
export function withExifOrientation(
  jpeg: Uint8Array,
  orientation: number,
): Uint8Array {
  const seg = exifSegment(orientation);
  const out = new Uint8Array(jpeg.length + seg.length);
  out.set(jpeg.subarray(0, 2));
  out.set(seg, 2);
  out.set(jpeg.subarray(2), 2 + seg.length);
  return out;
}
