import assert from "node:assert/strict";
import {
  brightness,
  hsvToRgb,
  normalFromU32,
  rgbToHsv,
} from "../../src/corrupt/weather.ts";
import { kConstants, kSeverities } from "../../src/corrupt/registry.ts";
import { toUint8 } from "../../src/corrupt/filters.ts";
import { Rng } from "../../src/rng.ts";
import { loadFixtureImages } from "./_fixtures.ts";

/** Every grey, every primary/secondary ramp, then random colours. */
function testColours(): Uint8Array {
  const px: number[] = [];
  for (let v = 0; v < 256; v++) {
    px.push(v, v, v, v, 0, 0, 0, v, 0, 0, 0, v, v, v, 0, 0, v, v, v, 0, v);
    px.push(255, v, 0, v, 255, 0, 0, 255, v, 255, 255, v);
  }
  const rng = new Rng(11);
  for (let i = 0; i < 30000; i++) px.push(rng.int(256));
  while (px.length % 3) px.push(0);
  return Uint8Array.from(px);
}

Deno.test("brightness() equals rgbToHsv, V + c clipped, hsvToRgb and toUint8 per pixel", async () => {
  const { images } = await loadFixtureImages();
  for (const data of [testColours(), ...images.map((im) => im.data)]) {
    for (const severity of kSeverities) {
      const c = kConstants.brightness[severity - 1]!;
      const want = new Float64Array(data.length);
      for (let i = 0; i < data.length; i += 3) {
        const [h, s, v] = rgbToHsv(
          data[i]! / 255,
          data[i + 1]! / 255,
          data[i + 2]! / 255,
        );
        const rgb = hsvToRgb(h, s, Math.min(1, Math.max(0, v + c)));
        want.set(rgb, i);
      }
      assert.deepStrictEqual(brightness(data, severity), toUint8(want));
    }
  }
});

Deno.test("normalFromU32() is Rng.normal() from its two 32-bit draws", () => {
  const a = new Rng(7, ["snow"]), b = new Rng(7, ["snow"]);
  for (let i = 0; i < 1000; i++) {
    const want = a.normal();
    assert.strictEqual(normalFromU32(b.nextU32(), b.nextU32()), want);
  }
  assert.strictEqual(a.nextU32(), b.nextU32());
});
