import assert from "node:assert/strict";
import { contrast, elasticTransform } from "../../src/corrupt/digital.ts";
import { elasticWarp, warpedImage } from "../../src/corrupt/wasm/elastic.ts";
import { kConstants, kSeverities } from "../../src/corrupt/registry.ts";
import { toUint8 } from "../../src/corrupt/filters.ts";
import { Rng } from "../../src/rng.ts";
import { loadFixtureImages } from "./_fixtures.ts";

Deno.test("contrast() equals (x − mean) · c + mean per sample, means in sample order", async () => {
  const { images } = await loadFixtureImages();
  for (const { data } of images) {
    for (const severity of kSeverities) {
      const c = kConstants.contrast[severity - 1]!;
      const mean = [0, 0, 0];
      for (let i = 0; i < data.length; i++) mean[i % 3]! += data[i]! / 255;
      const n = data.length / 3;
      const want = Float64Array.from(data, (v, i) => {
        const m = mean[i % 3]! / n;
        return (v / 255 - m) * c + m;
      });
      assert.deepStrictEqual(contrast(data, severity), toUint8(want));
    }
  }
});

Deno.test("elasticWarp() with the identity matrix gives data / 255 as float32", () => {
  const rng = new Rng(3);
  const data = Uint8Array.from({ length: 16 * 16 * 3 }, () => rng.int(256));
  elasticWarp(data, 16, [1, 0, 0, 0, 1, 0]);
  assert.deepStrictEqual(
    warpedImage(16),
    Float32Array.from(data, (v) => v / 255),
  );
});

Deno.test("elasticTransform() is a function of its draws, whatever ran before", async () => {
  // The transform reuses scratch images between calls: a call must not
  // depend on the previous one (another image, severity or size).
  const { images } = await loadFixtureImages();
  const [a, b] = images.map((im) => im.data) as [Uint8Array, Uint8Array];
  for (const severity of [1, 3] as const) {
    const first = elasticTransform(a, 224, severity, new Rng(5));
    elasticTransform(b, 224, 2, new Rng(6));
    elasticTransform(new Uint8Array(32 * 32 * 3).fill(9), 32, 4, new Rng(1));
    assert.deepStrictEqual(
      elasticTransform(a, 224, severity, new Rng(5)),
      first,
    );
  }
});
