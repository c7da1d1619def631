/**
 * Fault injection, decoding: small files whose headers claim huge pictures
 * (a decompression bomb) are refused from the header, in one line, before
 * any pixel is decoded; a decoder abort does not break later decodes.
 */
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { decodeImage } from "../../src/data/decode.ts";
import { UserError } from "../../src/errors.ts";
import { encodeBaselineJpeg } from "../data/_jpeg_encoder.ts";
import { pngChunk } from "../data/_png_chunks.ts";

/** A valid 1-bit gray PNG of `w` x `h` black pixels (a few kB for millions of pixels). */
function blackPng(w: number, h: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, w);
  v.setUint32(4, h);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // gray
  const rows = new Uint8Array(h * (1 + Math.ceil(w / 8))); // filter 0, zeros
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", new Uint8Array(deflateSync(rows, { level: 9 }))),
    pngChunk("IEND", new Uint8Array()),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A real 8x8 gray JPEG whose frame header is rewritten to claim `w` x `h`. */
function jpegClaiming(w: number, h: number): Uint8Array {
  const bytes = encodeBaselineJpeg([new Uint8Array(64).fill(128)], 8, 8);
  for (let p = 2; p + 9 < bytes.length; p++) {
    if (bytes[p] === 0xff && bytes[p + 1] === 0xc0) {
      bytes[p + 5] = h >> 8;
      bytes[p + 6] = h & 0xff;
      bytes[p + 7] = w >> 8;
      bytes[p + 8] = w & 0xff;
      return bytes;
    }
  }
  throw new Error("no SOF0 marker");
}

const limitError = (e: unknown) => {
  assert.ok(e instanceof UserError, String(e));
  assert.ok(!e.message.includes("\n"));
  assert.match(e.message, /^Cannot decode image "bomb\.\w+": its header says/);
  assert.match(e.message, /above the limit of 100 megapixels/);
  return true;
};

Deno.test("decodeImage() refuses a small PNG claiming 144 megapixels from its header", async () => {
  const png = blackPng(12000, 12000);
  assert.ok(png.length < 100_000, `${png.length} bytes`);
  await assert.rejects(() => decodeImage(png, "bomb.png"), limitError);
  // the limit can be raised; a picture under it decodes
  const ok = await decodeImage(blackPng(300, 200), "small.png", {
    maxPixels: 60_000,
  });
  assert.equal(ok.width * ok.height, 60_000);
  await assert.rejects(
    () => decodeImage(blackPng(300, 201), "x.png", { maxPixels: 60_000 }),
    /above the limit of 0\.06 megapixels/,
  );
});

Deno.test("decodeImage() refuses a JPEG header claiming 65000x65000 in one line, and mozjpeg still works after an abort", async () => {
  await assert.rejects(
    () => decodeImage(jpegClaiming(65000, 65000), "bomb.jpg"),
    limitError,
  );
  // with the limit lifted the decoder itself fails (out of memory or data):
  // still one UserError line, and the next image decodes
  await assert.rejects(
    () =>
      decodeImage(jpegClaiming(65000, 65000), "big.jpg", {
        maxPixels: Infinity,
      }),
    (e: unknown) => e instanceof UserError && !e.message.includes("\n"),
  );
  const fine = await decodeImage(jpegClaiming(8, 8), "fine.jpg");
  assert.deepEqual([fine.width, fine.height], [8, 8]);
});
