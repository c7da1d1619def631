import assert from "node:assert/strict";
import {
  jpegRoundTrip,
  quantizeImage,
  quantTables,
  reconstructImage,
} from "../../src/corrupt/libjpeg.ts";
import { encodeJpegFile } from "../../src/corrupt/jpeg_file.ts";
import { decodeImage } from "../../src/data/decode.ts";
import { loadFixtureImages } from "./_fixtures.ts";

Deno.test("quantTables() scales the Annex K tables as jpeg_set_quality (baseline)", () => {
  const [l25, c25] = quantTables(25);
  // Pillow reports these for quality 25 (natural order, first row).
  assert.deepStrictEqual([...l25.slice(0, 8)], [
    32,
    22,
    20,
    32,
    48,
    80,
    102,
    122,
  ]);
  assert.deepStrictEqual(c25[0], 34);
  const [l7] = quantTables(7);
  assert.deepStrictEqual(Math.max(...l7), 255);
  const [l100] = quantTables(100);
  assert.ok(l100.every((v) => v === 1));
});

Deno.test("jpegRoundTrip() keeps a flat image flat and needs sides multiple of 16", () => {
  const flat = new Uint8Array(32 * 32 * 3).fill(77);
  const out = jpegRoundTrip(flat, 32, 32, 10);
  assert.ok(
    out.every((v) => Math.abs(v - out[0]!) === 0 && Math.abs(v - 77) <= 8),
  );
  assert.throws(
    () => jpegRoundTrip(new Uint8Array(10 * 16 * 3), 10, 16, 50),
    /multiples of 16/,
  );
});

Deno.test("encodeJpegFile() writes a baseline JPEG that decodes to exactly jpegRoundTrip()", async () => {
  const { images } = await loadFixtureImages();
  for (const img of images) {
    for (const q of [85, 25, 7]) {
      const file = encodeJpegFile(img.data, 224, 224, q);
      assert.deepStrictEqual([...file.slice(0, 2)], [0xff, 0xd8]);
      const dec = await decodeImage(file, "q.jpg");
      assert.deepStrictEqual(dec.data, jpegRoundTrip(img.data, 224, 224, q));
    }
  }
});

Deno.test("quantizeImage() returns coefficients that later calls do not overwrite", async () => {
  const { images } = await loadFixtureImages();
  const [a, b] = images.map((im) => im.data) as [Uint8Array, Uint8Array];
  const first = quantizeImage(a, 224, 224, 25);
  const copy = first.map((p) => p.blocks.slice());
  quantizeImage(b, 224, 224, 7);
  jpegRoundTrip(b, 224, 224, 85);
  first.forEach((p, i) => assert.deepStrictEqual(p.blocks, copy[i]));
  assert.deepStrictEqual(
    reconstructImage(first),
    jpegRoundTrip(a, 224, 224, 25),
  );
});
