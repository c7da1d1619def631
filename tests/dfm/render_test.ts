import assert from "node:assert/strict";
import { decode } from "fast-png";
import { join } from "node:path";
import {
  contactSheet,
  defaultScale,
  encodeRgbPng,
  maskImage,
  meanMask,
  writeStagePictures,
} from "../../src/dfm/render.ts";
import { testManifest } from "./_manifest.ts";

function pixel(
  img: { width: number; data: ArrayLike<number> },
  x: number,
  y: number,
) {
  const p = (y * img.width + x) * 3;
  return [img.data[p], img.data[p + 1], img.data[p + 2]];
}

Deno.test("maskImage() draws a 32×32 mask 8× upscaled, white = kept, DC centred", () => {
  const s = 32;
  const mask = new Uint8Array(s * s);
  mask[(s / 2) * s + s / 2] = 1; // DC
  mask[0] = 1; // (-16, -16) Nyquist corner
  assert.equal(defaultScale(32), 8);
  assert.equal(defaultScale(224), 1);
  const png = decode(encodeRgbPng(maskImage(mask, s)));
  assert.equal(png.width, 256);
  assert.equal(png.height, 256);
  assert.equal(png.channels, 3);
  assert.deepEqual(pixel(png, 128, 128), [255, 255, 255]);
  assert.deepEqual(pixel(png, 135, 135), [255, 255, 255]);
  assert.deepEqual(pixel(png, 136, 128), [0, 0, 0]);
  assert.deepEqual(pixel(png, 127, 128), [0, 0, 0]);
  assert.deepEqual(pixel(png, 7, 7), [255, 255, 255]);
  assert.deepEqual(pixel(png, 8, 0), [0, 0, 0]);
});

Deno.test("meanMask() averages masks and maskImage() maps it through viridis", () => {
  const masks = Uint8Array.from([1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0]);
  assert.deepEqual([...meanMask(masks, 3, 2)], [
    1,
    Math.fround(2 / 3),
    Math.fround(2 / 3),
    0,
  ]);
  const img = maskImage(meanMask(masks, 3, 2), 2, {
    scale: 1,
    colormap: "viridis",
  });
  assert.deepEqual(pixel(img, 0, 0), [253, 231, 37]);
  assert.deepEqual(pixel(img, 1, 1), [68, 1, 84]);
});

Deno.test("contactSheet() places tiles row by row between separators", () => {
  const tile = (v: number) => ({
    width: 2,
    height: 2,
    data: new Uint8Array(12).fill(v),
  });
  const sheet = contactSheet([tile(10), tile(20), tile(30)], { gap: 1 });
  // 2 columns, 2 rows: width 2*2 + 3, height 2*2 + 3
  assert.equal(sheet.width, 7);
  assert.equal(sheet.height, 7);
  assert.deepEqual(pixel(sheet, 0, 0), [128, 128, 128]);
  assert.deepEqual(pixel(sheet, 1, 1), [10, 10, 10]);
  assert.deepEqual(pixel(sheet, 4, 2), [20, 20, 20]);
  assert.deepEqual(pixel(sheet, 3, 1), [128, 128, 128]);
  assert.deepEqual(pixel(sheet, 1, 4), [30, 30, 30]);
  assert.deepEqual(pixel(sheet, 4, 4), [128, 128, 128]);
});

Deno.test("writeStagePictures() writes per-class DFMs, means and contact sheets", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const s = 32, n = 2;
    const masks = new Uint8Array(2 * n * s * s);
    masks.fill(1, 0, s * s); // class 0 rank 0: all kept
    masks.fill(1, (2 * n) * s * s - 10); // class 1 rank 1: last 10 bins
    const manifest = testManifest({
      image_size: s,
      top_n: n,
      classes: [{ index: 3, wnid: "n01443537" }, { index: 7 }],
      top: [
        { candidates: [0], losses: [1], parents: [null] },
        { candidates: [1, 2], losses: [1, 2], parents: [null, null] },
      ],
    });
    const paths = await writeStagePictures(dir, {
      manifest,
      masks,
      losses: new Float64Array(4),
    });
    const names = paths.map((p) => p.slice(join(dir, "png").length + 1)).sort();
    assert.deepEqual(names, [
      "class_0000_n01443537.png",
      "class_0001_7.png",
      "mean_0001_7.png",
      "mean_rank0.png",
      "sheet_000.png",
    ]);
    const sheet = decode(
      await Deno.readFile(join(dir, "png", "sheet_000.png")),
    );
    assert.equal(sheet.width, 2 * 256 + 3 * 2);
    const band = 14; // label band above each tile
    assert.equal(sheet.height, 256 + band + 2 * 2);
    assert.deepEqual(pixel(sheet, 2, 2 + band), [255, 255, 255]);
    assert.deepEqual(pixel(sheet, 2 + 256 + 2, 2 + band), [0, 0, 0]);
    // label "3" of class 0: the glyph's top bar is black, below it grey
    assert.deepEqual(pixel(sheet, 4, 4), [0, 0, 0]);
    assert.deepEqual(pixel(sheet, 4, 6), [128, 128, 128]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
