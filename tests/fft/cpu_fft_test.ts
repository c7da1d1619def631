import assert from "node:assert/strict";
import { CpuFft, cpuFilter } from "../../src/fft/cpu_fft.ts";
import { dft1d } from "../../src/fft/reference.ts";
import { haveShared } from "../shared_data.ts";
import { loadFilterCases, maxAbsDiff } from "./fixtures.ts";

Deno.test("CpuFft matches the float64 DFT for mixed-radix lengths", () => {
  for (const n of [1, 2, 3, 8, 30, 63, 105, 224]) {
    const re = Float64Array.from(
      { length: n },
      (_, i) => Math.sin(i * 0.9) + (i % 3),
    );
    const im = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.4));
    const want = dft1d({ re, im }, n);
    const r = re.slice(), m = im.slice();
    const fft = new CpuFft(n);
    fft.transform(r, m, 0, 1);
    const scale = Math.max(...want.re.map(Math.abs), 1);
    assert.ok(maxAbsDiff(r, want.re) < 1e-12 * scale * n, `re n=${n}`);
    assert.ok(maxAbsDiff(m, want.im) < 1e-12 * scale * n, `im n=${n}`);
    fft.transform(r, m, 0, 1, true);
    assert.ok(maxAbsDiff(r, re) < 1e-12, `inverse n=${n}`);
  }
});

Deno.test({
  name: "cpuFilter() matches the numpy filter fixtures",
  ignore: !haveShared("fixtures/reference/filter.json"),
  fn: async () => {
    for (const c of (await loadFilterCases()).filter((c) => c.size === 32)) {
      const out = cpuFilter(Float32Array.from(c.image), c.maskReference, {
        size: c.size,
      });
      assert.ok(maxAbsDiff(out, c.outputReference) < 1e-4, c.id);
    }
  },
});
