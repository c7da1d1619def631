import assert from "node:assert/strict";
import { dft1d, dft2d, referenceFilter } from "../../src/fft/reference.ts";
import { haveShared } from "../../src/testing/shared_data.ts";
import { loadFilterCases, maxAbsDiff } from "./fixtures.ts";

Deno.test("dft1d() of an impulse at 1 is the twiddle sequence", () => {
  const n = 7;
  const re = new Float64Array(n), im = new Float64Array(n);
  re[1] = 1;
  const y = dft1d({ re, im }, n);
  for (let k = 0; k < n; k++) {
    assert.ok(Math.abs(y.re[k]! - Math.cos(2 * Math.PI * k / n)) < 1e-14);
    assert.ok(Math.abs(y.im[k]! + Math.sin(2 * Math.PI * k / n)) < 1e-14);
  }
});

Deno.test("dft2d() inverse undoes forward and keeps Parseval's identity", () => {
  const rows = 6, cols = 10;
  const re = Float64Array.from(
    { length: 2 * rows * cols },
    (_, i) => Math.sin(i * 1.7) + 0.1 * i,
  );
  const im = Float64Array.from(
    { length: 2 * rows * cols },
    (_, i) => Math.cos(i * 0.3),
  );
  const X = dft2d({ re, im }, { rows, cols });
  const back = dft2d(X, { rows, cols }, { inverse: true });
  assert.ok(maxAbsDiff(back.re, re) < 1e-12);
  assert.ok(maxAbsDiff(back.im, im) < 1e-12);
  let e1 = 0, e2 = 0;
  for (let i = 0; i < rows * cols; i++) {
    e1 += re[i]! ** 2 + im[i]! ** 2;
    e2 += X.re[i]! ** 2 + X.im[i]! ** 2;
  }
  assert.ok(Math.abs(e2 / (rows * cols) - e1) < 1e-9 * e1);
});

Deno.test({
  name: "referenceFilter() matches the numpy fixtures in float64",
  ignore: !haveShared("fixtures/reference/filter.json"),
  fn: async () => {
    for (const c of (await loadFilterCases()).filter((c) => c.size === 32)) {
      const r = referenceFilter(c.image, c.maskReference, c.size);
      assert.ok(maxAbsDiff(r, c.outputReference) < 1e-12, `${c.id} reference`);
      const k = referenceFilter(c.image, c.maskCorrected, c.size);
      assert.ok(maxAbsDiff(k, c.outputCorrected) < 1e-12, `${c.id} corrected`);
    }
  },
});
