import assert from "node:assert/strict";
import { clippedZoom, zoomBlur } from "../../src/corrupt/zoom.ts";
import { kConstants, type Severity } from "../../src/corrupt/registry.ts";
import { kHaveRealCrops, realCrops } from "./_real_crops.ts";

/**
 * The original's zoom blur, plainly: the float32 mean of the image and its
 * `clippedZoom`s (each rounded to float32, added in order), then
 * `uint8(clip(v, 0, 1) · 255)`, every sample by the float32 sequence.
 */
function zoomOriginal(
  data: Uint8Array,
  h: number,
  severity: Severity,
): Uint8Array {
  const f = Math.fround;
  const zooms = kConstants.zoom_blur[severity - 1]!;
  const x = new Float32Array(data.length);
  for (let i = 0; i < x.length; i++) x[i] = data[i]! / 255;
  const x64 = Float64Array.from(x);
  const acc = new Float32Array(x.length);
  for (const z of zooms) {
    const zoomed = clippedZoom(x64, h, 3, z);
    for (let i = 0; i < acc.length; i++) acc[i]! += f(zoomed[i]!);
  }
  const want = new Uint8Array(x.length);
  for (let i = 0; i < want.length; i++) {
    const v = f(f(x[i]! + acc[i]!) / (zooms.length + 1));
    want[i] = Math.trunc(f((v < 0 ? 0 : v > 1 ? 1 : v) * 255));
  }
  return want;
}

function firstDiff(a: Uint8Array, b: Uint8Array): string {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return `sample ${i}: ${a[i]} vs ${b[i]}`;
  }
  return a.length === b.length ? "" : "lengths differ";
}

Deno.test({
  name:
    "zoomBlur() equals the original's float32 sequence on real ImageNet crops at every severity",
  ignore: !kHaveRealCrops,
  fn: async () => {
    for (const [k, data] of (await realCrops(4)).entries()) {
      for (const severity of [1, 2, 3, 4, 5] as Severity[]) {
        assert.equal(
          firstDiff(
            zoomBlur(data, 224, severity),
            zoomOriginal(data, 224, severity),
          ),
          "",
          `crop ${k}, severity ${severity}`,
        );
      }
    }
  },
});

Deno.test("zoomBlur() equals the original's float32 sequence on other sizes, flat areas on byte boundaries included", () => {
  // At 50 the crops of the smallest zooms reach the image's last column;
  // flat areas put every mean on a byte boundary, which only the exact
  // sequence decides.
  for (const h of [50, 97]) {
    const flatBlocks = Uint8Array.from({ length: h * h * 3 }, (_, i) => {
      const p = Math.floor(i / 3), x = p % h, y = Math.floor(p / h);
      return y < h / 3 ? 255 : x < h / 2 ? 200 : 3 + (i % 3);
    });
    const ramp = Uint8Array.from(
      { length: h * h * 3 },
      (_, i) => (Math.floor(i / 3) * 7 + (i % 3) * 50) & 255,
    );
    for (const [k, data] of [flatBlocks, ramp].entries()) {
      for (const severity of [1, 2, 3, 4, 5] as Severity[]) {
        assert.equal(
          firstDiff(
            zoomBlur(data, h, severity),
            zoomOriginal(data, h, severity),
          ),
          "",
          `size ${h}, image ${k}, severity ${severity}`,
        );
      }
    }
  }
});
