import assert from "node:assert/strict";
import { maskToGain } from "../../src/gpu/spectral_filter.ts";
import { haveShared } from "../../src/testing/shared_data.ts";
import { loadFilterCases } from "../fft/fixtures.ts";

/** Gain of unshifted bin (u, v) computed straight from the definition. */
function gainAt(
  mask: ArrayLike<number>,
  size: number,
  u: number,
  v: number,
): number {
  const h0 = Math.floor(size / 2);
  const at = (a: number, b: number) =>
    mask[
      ((((a % size) + size) % size + h0) % size) * size +
      (((b % size) + size) % size + h0) % size
    ]!;
  return (at(u, v) + at(-u, -v)) / 2;
}

Deno.test("maskToGain() averages each bin with its conjugate partner, odd and even sizes", () => {
  for (const size of [8, 9, 32]) {
    const bins = Math.floor(size / 2) + 1;
    const masks = Float32Array.from(
      { length: 2 * size * size },
      (_, i) => (i * 7919) % 13 / 13,
    );
    const layout = { stride: size * (bins + 3) + 5, rowStride: bins + 3 };
    const g = maskToGain(masks, 2, size, layout);
    assert.equal(g.length, 2 * layout.stride);
    for (let m = 0; m < 2; m++) {
      const mask = masks.subarray(m * size * size, (m + 1) * size * size);
      for (let u = 0; u < size; u++) {
        for (let v = 0; v < layout.rowStride; v++) {
          const got = g[m * layout.stride + u * layout.rowStride + v]!;
          const want = v < bins ? gainAt(mask, size, u, v) : 0;
          assert.ok(
            Math.abs(got - want) < 1e-7,
            `size ${size} mask ${m} (${u},${v})`,
          );
        }
      }
    }
  }
});

Deno.test({
  name:
    "maskToGain() keeps corrected masks exact and halves the reference masks' asymmetric bins",
  ignore: !haveShared("fixtures/reference/filter.json"),
  fn: async () => {
    for (const c of (await loadFilterCases()).filter((c) => c.size === 32)) {
      const S = c.size, bins = S / 2 + 1;
      const layout = { stride: S * bins, rowStride: bins };
      const corrected = maskToGain(c.maskCorrected, 1, S, layout);
      for (const x of corrected) assert.ok(x === 0 || x === 1);
      const reference = maskToGain(c.maskReference, 1, S, layout);
      assert.ok(reference.some((x) => x === 0.5), `${c.id} has half-gain bins`);
    }
  },
});
