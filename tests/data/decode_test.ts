import assert from "node:assert/strict";
import encodeJpeg from "@jsquash/jpeg/encode.js";
import { encode as encodePng } from "fast-png";
import { deflateSync } from "node:zlib";
import {
  decodeImage,
  decodeImageWithInfo,
  sniffFormat,
} from "../../src/data/decode.ts";
import { applyOrientation, readJpegInfo } from "../../src/data/exif.ts";
import { UserError } from "../../src/errors.ts";
import { encodeBaselineJpeg, withExifOrientation } from "./_jpeg_encoder.ts";
import { pngChunk } from "./_png_chunks.ts";

/** A smooth RGB test picture (JPEG-friendly): gradients per channel. */
function smoothRgb(w: number, h: number): Uint8Array {
  const d = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      d[o] = Math.round(40 + (170 * x) / (w - 1));
      d[o + 1] = Math.round(60 + (150 * y) / (h - 1));
      d[o + 2] = Math.round(200 - (120 * (x + y)) / (w + h - 2));
    }
  }
  return d;
}

function rgba(rgb: Uint8Array): Uint8ClampedArray {
  const n = rgb.length / 3;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    out[i * 4] = rgb[i * 3]!;
    out[i * 4 + 1] = rgb[i * 3 + 1]!;
    out[i * 4 + 2] = rgb[i * 3 + 2]!;
    out[i * 4 + 3] = 255;
  }
  return out;
}

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function mozEncode(
  rgb: Uint8Array,
  w: number,
  h: number,
  opts: Record<string, unknown>,
): Promise<Uint8Array> {
  const img = {
    width: w,
    height: h,
    data: rgba(rgb),
    colorSpace: "srgb",
  } as unknown as ImageData;
  return new Uint8Array(
    await encodeJpeg(img, { quality: 95, chroma_subsample: 0, ...opts }),
  );
}

Deno.test("decodeImage() decodes a baseline and a progressive JPEG close to the source pixels", async () => {
  const w = 48, h = 32;
  const src = smoothRgb(w, h);
  for (const progressive of [false, true]) {
    const jpg = await mozEncode(src, w, h, {
      progressive,
      baseline: !progressive,
    });
    assert.equal(readJpegInfo(jpg).progressive, progressive);
    const { image, decoder } = await decodeImageWithInfo(jpg, "a.jpg");
    assert.equal(decoder, "mozjpeg");
    assert.equal(image.width, w);
    assert.equal(image.height, h);
    assert.ok(meanAbsDiff(image.data, src) < 2.5, `progressive=${progressive}`);
  }
});

Deno.test("decodeImage() decodes a grayscale JPEG to equal R, G, B near the source gray", async () => {
  const w = 32, h = 16;
  const gray = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    gray.fill(30 + ((i % w) * 6), i * 3, i * 3 + 3);
  }
  const jpg = await mozEncode(gray, w, h, { color_space: 1 });
  assert.equal(readJpegInfo(jpg).components, 1);
  const img = await decodeImage(jpg, "g.jpg");
  for (let i = 0; i < w * h; i++) {
    assert.equal(img.data[i * 3], img.data[i * 3 + 1]);
    assert.equal(img.data[i * 3], img.data[i * 3 + 2]);
  }
  assert.ok(meanAbsDiff(img.data, gray) < 2);
});

Deno.test("decodeImage() decodes an Adobe CMYK JPEG to RGB = (255-C)(255-K)/255", async () => {
  const w = 32, h = 24;
  const planes = [0, 1, 2, 3].map(() => new Uint8Array(w * h));
  const expected = new Float64Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const c = 20 + 5 * x, m = 30 + 6 * y, ye = 200 - 3 * x, k = 10 + 2 * y;
      // Adobe convention: CMYK samples are stored inverted.
      planes[0]![i] = 255 - c;
      planes[1]![i] = 255 - m;
      planes[2]![i] = 255 - ye;
      planes[3]![i] = 255 - k;
      expected[i * 3] = ((255 - c) * (255 - k)) / 255;
      expected[i * 3 + 1] = ((255 - m) * (255 - k)) / 255;
      expected[i * 3 + 2] = ((255 - ye) * (255 - k)) / 255;
    }
  }
  const jpg = encodeBaselineJpeg(planes, w, h, { adobeTransform: 0, q: 1 });
  const info = readJpegInfo(jpg);
  assert.equal(info.components, 4);
  assert.equal(info.adobeTransform, 0);
  const { image, decoder } = await decodeImageWithInfo(jpg, "cmyk.jpg");
  assert.equal(decoder, "jpeg-js");
  assert.equal(image.width, w);
  assert.equal(image.height, h);
  assert.ok(
    maxAbsDiff(image.data, expected) <= 3,
    `max diff ${maxAbsDiff(image.data, expected)}`,
  );
});

Deno.test("decodeImage() reads our test encoder's 3-component JPEG like the source (encoder sanity)", async () => {
  const w = 16, h = 16;
  const planes = [0, 1, 2].map((c) =>
    Uint8Array.from({ length: w * h }, (_, i) => 50 + c * 40 + (i % w) * 3)
  );
  // Adobe transform 0: components are RGB, not YCbCr.
  const jpg = encodeBaselineJpeg(planes, w, h, { adobeTransform: 0, q: 1 });
  const img = await decodeImage(jpg, "rgb.jpg");
  const expected = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    for (let c = 0; c < 3; c++) expected[i * 3 + c] = planes[c]![i]!;
  }
  assert.ok(maxAbsDiff(img.data, expected) <= 2);
});

Deno.test("decodeImage() honours EXIF orientation 1-8 (corner colours move as the tag says)", async () => {
  // Four flat quadrants of a 32x16 image: TL red, TR green, BL blue, BR white.
  const w = 32, h = 16;
  const colours = [[220, 20, 20], [20, 220, 20], [20, 20, 220], [
    230,
    230,
    230,
  ]];
  const src = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const q = (y < h / 2 ? 0 : 2) + (x < w / 2 ? 0 : 1);
      src.set(colours[q]!, (y * w + x) * 3);
    }
  }
  const base = await mozEncode(src, w, h, {
    baseline: true,
    progressive: false,
  });
  // Displayed quadrant order [TL, TR, BL, BR] as source quadrant indices, per EXIF 2.3.
  const expectedQuadrants: Record<number, number[]> = {
    1: [0, 1, 2, 3],
    2: [1, 0, 3, 2], // mirror horizontal
    3: [3, 2, 1, 0], // rotate 180
    4: [2, 3, 0, 1], // mirror vertical
    5: [0, 2, 1, 3], // transpose
    6: [2, 0, 3, 1], // rotate 90 CW
    7: [3, 1, 2, 0], // transverse
    8: [1, 3, 0, 2], // rotate 90 CCW
  };
  for (let o = 1; o <= 8; o++) {
    const jpg = withExifOrientation(base, o);
    assert.equal(readJpegInfo(jpg).orientation, o);
    const img = await decodeImage(jpg, `o${o}.jpg`);
    const swapped = o >= 5;
    assert.equal(img.width, swapped ? h : w, `orientation ${o}`);
    assert.equal(img.height, swapped ? w : h);
    const probe = (qx: number, qy: number) => {
      const x = Math.floor((qx + 0.5) * img.width / 2);
      const y = Math.floor((qy + 0.5) * img.height / 2);
      return Array.from(
        img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3),
      );
    };
    const got = [probe(0, 0), probe(1, 0), probe(0, 1), probe(1, 1)];
    got.forEach((px, i) => {
      const want = colours[expectedQuadrants[o]![i]!]!;
      assert.ok(
        maxAbsDiff(px, want) < 12,
        `orientation ${o} quadrant ${i}: ${px} vs ${want}`,
      );
    });
  }
});

Deno.test("applyOrientation() 6 then 8 is the identity", () => {
  const img = {
    width: 3,
    height: 2,
    data: Uint8Array.from({ length: 18 }, (_, i) => i),
  };
  const back = applyOrientation(applyOrientation(img, 6), 8);
  assert.deepEqual(back, img);
});

Deno.test("decodeImage() decodes 8/16-bit, gray, gray+alpha and RGBA PNGs, dropping alpha", async () => {
  const w = 5, h = 3;
  const n = w * h;
  const rgb = Uint8Array.from({ length: n * 3 }, (_, i) => (i * 37) % 256);
  // RGB 8-bit
  let img = await decodeImage(
    encodePng({ width: w, height: h, data: rgb, channels: 3, depth: 8 }),
    "a.png",
  );
  assert.deepEqual(img.data, rgb);
  // RGBA 8-bit: alpha dropped, colour kept
  const rgbaData = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    rgbaData.set(rgb.subarray(i * 3, i * 3 + 3), i * 4);
    rgbaData[i * 4 + 3] = i * 10;
  }
  img = await decodeImage(
    encodePng({ width: w, height: h, data: rgbaData, channels: 4, depth: 8 }),
    "b.png",
  );
  assert.deepEqual(img.data, rgb);
  // 16-bit RGB: v16 = v8 * 257 -> v8
  const rgb16 = Uint16Array.from(rgb, (v) => v * 257);
  img = await decodeImage(
    encodePng({ width: w, height: h, data: rgb16, channels: 3, depth: 16 }),
    "c.png",
  );
  assert.deepEqual(img.data, rgb);
  // gray and gray+alpha
  const g = Uint8Array.from({ length: n }, (_, i) => i * 17);
  const gRgb = Uint8Array.from(
    { length: n * 3 },
    (_, i) => g[Math.floor(i / 3)]!,
  );
  img = await decodeImage(
    encodePng({ width: w, height: h, data: g, channels: 1, depth: 8 }),
    "d.png",
  );
  assert.deepEqual(img.data, gRgb);
  const ga = new Uint8Array(n * 2);
  for (let i = 0; i < n; i++) {
    ga[i * 2] = g[i]!;
    ga[i * 2 + 1] = 255 - i;
  }
  img = await decodeImage(
    encodePng({ width: w, height: h, data: ga, channels: 2, depth: 8 }),
    "e.png",
  );
  assert.deepEqual(img.data, gRgb);
});

/** A hand-built PNG: colour type 3 (palette) or 0 (gray) at the given bit depth. */
function handPng(
  w: number,
  h: number,
  colorType: 0 | 3,
  depth: number,
  samples: number[],
  palette?: number[][],
): Uint8Array {
  const rowBytes = Math.ceil((w * depth) / 8);
  const raw = new Uint8Array(h * (rowBytes + 1));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const bit = x * depth;
      raw[y * (rowBytes + 1) + 1 + (bit >> 3)]! |= samples[y * w + x]! <<
        (8 - depth - (bit & 7));
    }
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, w);
  v.setUint32(4, h);
  ihdr.set([depth, colorType, 0, 0, 0], 8);
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    ...(palette ? [pngChunk("PLTE", new Uint8Array(palette.flat()))] : []),
    pngChunk("IDAT", new Uint8Array(deflateSync(raw))),
    pngChunk("IEND", new Uint8Array()),
  ];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

Deno.test("decodeImage() decodes palette PNGs (8 and 2 bit) and 4-bit gray PNGs", async () => {
  const w = 7, h = 3;
  const palette = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]];
  const idx = Array.from({ length: w * h }, (_, i) => (i * 3) % 4);
  const expected = Uint8Array.from(idx.flatMap((i) => palette[i]!));
  for (const depth of [8, 2]) {
    const img = await decodeImage(
      handPng(w, h, 3, depth, idx, palette),
      `p${depth}.png`,
    );
    assert.deepEqual(img.data, expected, `palette depth ${depth}`);
  }
  const g4 = Array.from({ length: w * h }, (_, i) => i % 16);
  const img = await decodeImage(handPng(w, h, 0, 4, g4), "g4.png");
  assert.deepEqual(
    img.data,
    Uint8Array.from(g4.flatMap((v) => [v * 17, v * 17, v * 17])),
  );
});

Deno.test("decodeImage() rejects corrupt, truncated and non-image files with a UserError naming the file", async () => {
  const jpg = await mozEncode(smoothRgb(96, 96), 96, 96, {
    baseline: true,
    progressive: false,
  });
  const info = readJpegInfo(jpg);
  assert.equal(info.width, 96);
  const garbled = jpg.slice();
  for (let i = 200; i < garbled.length - 2; i++) garbled[i] = (i * 97) & 0xff;
  const cases: [string, Uint8Array, RegExp][] = [
    [
      "text.jpg",
      new TextEncoder().encode("hello world"),
      /not a JPEG or PNG file/,
    ],
    ["empty.jpg", new Uint8Array(), /file is empty/],
    ["trunc.jpg", jpg.slice(0, jpg.length - 200), /premature end/i],
    ["garbled.jpg", garbled, /.+/],
    ["hdr.jpg", new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 4, 1, 2]), /.+/],
    [
      "bad.png",
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]),
      /.+/,
    ],
  ];
  for (const [name, bytes, re] of cases) {
    await assert.rejects(
      () => decodeImage(bytes, `dir/${name}`),
      (e: unknown) => {
        assert.ok(e instanceof UserError, `${name}: ${e}`);
        assert.match(
          e.message,
          new RegExp(
            `^Cannot decode image "dir/${name.replace(".", "\\.")}": `,
          ),
        );
        assert.match(e.message, re);
        assert.ok(!e.message.includes("\n"));
        return true;
      },
    );
  }
  // The decoder still works after errors.
  const ok = await decodeImage(jpg, "ok.jpg");
  assert.equal(ok.width, 96);
});

Deno.test("sniffFormat() tells JPEG from PNG by signature, not extension", () => {
  assert.equal(sniffFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xdb])), "jpeg");
  assert.equal(
    sniffFormat(
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    ),
    "png",
  );
  assert.equal(sniffFormat(new Uint8Array([1, 2, 3])), undefined);
});
