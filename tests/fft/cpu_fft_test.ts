import assert from "node:assert/strict";
import { CpuFft, cpuFilter } from "../../src/fft/cpu_fft.ts";
import { dft1d, referenceFilter } from "../../src/fft/reference.ts";
import { haveShared } from "../../src/testing/shared_data.ts";
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
  name:
    "cpuFilter() matches the numpy filter fixtures (reference and corrected masks, every size)",
  ignore: !haveShared("fixtures/reference/filter.json"),
  fn: async () => {
    const cases = await loadFilterCases();
    assert.ok(cases.some((c) => c.size === 224) && cases.length >= 3);
    for (const c of cases) {
      const fft = new CpuFft(c.size);
      const image = Float32Array.from(c.image);
      for (const kind of ["reference", "corrected"] as const) {
        const mask = kind === "reference" ? c.maskReference : c.maskCorrected;
        const want = kind === "reference"
          ? c.outputReference
          : c.outputCorrected;
        const out = cpuFilter(image, mask, { size: c.size, fft });
        // float32 input/output (the reference itself runs in float32)
        const err = maxAbsDiff(out, want);
        assert.ok(err < 1e-4, `${c.id} ${kind}: max abs error ${err}`);
      }
    }
  },
});

Deno.test("cpuFilter() applies scale/offset per channel of [B,C,S,S] and matches the float64 reference filter", () => {
  const s = 6;
  const C = 3;
  const x = Float32Array.from(
    { length: 2 * C * s * s },
    (_, i) => Math.sin(i * 0.7),
  );
  const scale = [2, 1, 0.5];
  const offset = [1, 0, -1];
  // an asymmetric gain mask: the real part gives gain (M(k) + M(-k)) / 2
  const mask = Float64Array.from({ length: s * s }, (_, i) => (i * 7) % 5 / 4);
  const y = cpuFilter(x, mask, { size: s, channels: C, scale, offset });
  for (let b = 0; b < 2; b++) {
    const base = b * C * s * s;
    const want = referenceFilter(x.subarray(base, base + C * s * s), mask, s);
    for (let i = 0; i < want.length; i++) {
      const c = Math.floor(i / (s * s));
      const w = scale[c]! * want[i]! + offset[c]!;
      assert.ok(Math.abs(y[base + i]! - w) < 1e-5, `b=${b} i=${i}`);
    }
  }
  // all-pass mask: identity
  const ones = new Uint8Array(s * s).fill(1);
  assert.ok(maxAbsDiff(cpuFilter(x, ones, { size: s }), x) < 1e-6);
  // DC-only mask keeps each plane's mean (DC at S/2, S/2)
  const dc = new Uint8Array(s * s);
  dc[(s / 2) * s + s / 2] = 1;
  const m = cpuFilter(x.subarray(0, C * s * s), dc, { size: s, channels: C });
  let mean = 0;
  for (let i = 0; i < s * s; i++) mean += x[i]!;
  mean /= s * s;
  assert.ok(
    Math.abs(m[0]! - mean) < 1e-6 && Math.abs(m[s * s - 1]! - mean) < 1e-6,
  );
  assert.throws(
    () => cpuFilter(x, new Uint8Array(5), { size: s }),
    /Cannot filter/,
  );
  assert.throws(
    () => cpuFilter(x.subarray(1), ones, { size: s, channels: C }),
    /Cannot filter/,
  );
});
