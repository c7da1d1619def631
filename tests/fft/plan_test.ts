import assert from "node:assert/strict";
import { halfBins, planFft, planSpectral } from "../../src/fft/plan.ts";
import { UserError } from "../../src/errors.ts";

const kSmooth = [
  1,
  2,
  3,
  4,
  5,
  7,
  8,
  32,
  63,
  64,
  105,
  128,
  192,
  224,
  256,
  360,
  1000,
];

Deno.test("planFft() factors 2,3,5,7-smooth lengths into supported radices", () => {
  for (const n of kSmooth) {
    const plan = planFft(n);
    assert.equal(plan.n, n);
    assert.equal(
      plan.radices.reduce((a, b) => a * b, 1),
      n,
      `product for ${n}`,
    );
    for (const r of plan.radices) {
      assert.ok([1, 2, 3, 4, 5, 7, 8].includes(r), `radix ${r}`);
    }
    let ns = 1;
    for (const s of plan.stages) {
      assert.equal(s.ns, ns);
      ns *= s.radix;
    }
  }
});

Deno.test("planFft() plans 224 = 2^5 * 7 with a radix-7 stage", () => {
  const plan = planFft(224);
  assert.deepEqual([...plan.radices].sort((a, b) => a - b), [4, 7, 8]);
  assert.deepEqual(planFft(224, { maxPow2Radix: 4 }).radices, [4, 4, 2, 7]);
  assert.deepEqual(planFft(32).radices, [8, 4]);
});

Deno.test("planFft() rejects lengths with other prime factors with a UserError", () => {
  for (const n of [11, 26, 13 * 16, 221]) {
    assert.throws(() => planFft(n), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(
        e.message,
        /^Cannot plan an FFT of length \d+: it has the prime factor (11|13|17)/,
      );
      return true;
    });
  }
  for (const n of [0, -4, 2.5, NaN]) {
    assert.throws(() => planFft(n), UserError);
  }
});

Deno.test("halfBins() keeps floor(n/2)+1 bins", () => {
  assert.equal(halfBins(224), 113);
  assert.equal(halfBins(105), 53);
  assert.equal(halfBins(1), 1);
});

Deno.test("planSpectral() keeps every binding under maxBinding", () => {
  const maxBinding = 128 * 2 ** 20;
  const plan = planSpectral({ size: 224, maxBinding, maxImages: 1000 });
  assert.equal(plan.bins, 113);
  assert.equal(plan.spectrumBytesPerImage, 3 * 224 * plan.binStride * 8);
  assert.ok(plan.binStride === 113 || plan.binStride === 114);
  assert.ok(plan.imagesPerChunk * plan.spectrumBytesPerImage <= maxBinding);
  assert.ok(plan.imagesPerChunk * plan.outputBytesPerImage <= maxBinding);
  assert.ok(
    (plan.imagesPerChunk + 1) * plan.spectrumBytesPerImage > maxBinding,
  );
  const small = planSpectral({
    size: 32,
    maxBinding: 10 * 3 * 32 * 17 * 8,
    maxImages: 64,
    algorithm: "stockham",
  });
  assert.equal(small.imagesPerChunk, 10);
  assert.equal(
    planSpectral({ size: 32, maxBinding, maxImages: 7 }).imagesPerChunk,
    7,
  );
  // two ping-pong halves of T*N vec2f fit the workgroup storage
  assert.ok(2 * plan.rowTransformsPerGroup * 224 * 8 <= 32768);
});

Deno.test("planSpectral() rejects images larger than one binding", () => {
  assert.throws(
    () => planSpectral({ size: 224, maxBinding: 1000, maxImages: 1 }),
    /Cannot filter 224x224 images: one image needs \d+ bytes/,
  );
  assert.throws(
    () => planSpectral({ size: 32, maxBinding: 1e9, maxImages: 0 }),
    UserError,
  );
});

Deno.test("planSpectral() picks registers on CPU adapters, two-level on GPUs, Stockham otherwise", () => {
  const base = { maxBinding: 128 * 2 ** 20, maxImages: 32 };
  const cpu = planSpectral({ ...base, size: 224, cpuAdapter: true });
  assert.equal(cpu.algorithm, "registers");
  assert.equal(cpu.binStride, 114);
  assert.equal(cpu.rowWorkgroupSize, cpu.rowTransformsPerGroup);
  const gpu = planSpectral({ ...base, size: 224 });
  assert.equal(gpu.algorithm, "two-level");
  assert.equal(gpu.rowWorkgroupSize, 32 * gpu.rowTransformsPerGroup);
  assert.ok(gpu.rowTransformsPerGroup * 224 * 8 <= 32768);
  for (const size of [105, 63, 192, 60]) {
    const p = planSpectral({ ...base, size, cpuAdapter: true });
    assert.equal(p.algorithm, "stockham", `size ${size}`);
    assert.equal(p.binStride, p.bins);
  }
  assert.equal(
    planSpectral({ ...base, size: 224, algorithm: "stockham" }).algorithm,
    "stockham",
  );
  assert.throws(
    () => planSpectral({ ...base, size: 105, algorithm: "registers" }),
    /Cannot use the registers FFT for size 105/,
  );
});

Deno.test("planSpectral() keeps dispatch sizes within 65535 workgroups", () => {
  for (const algorithm of ["stockham", "two-level", "registers"] as const) {
    const p = planSpectral({
      size: 32,
      maxBinding: 2 ** 31,
      maxImages: 1e6,
      algorithm,
    });
    const planes = p.imagesPerChunk * p.channels;
    assert.ok(planes <= 65535, algorithm);
    assert.ok(
      Math.ceil((planes * 32) / (2 * p.rowTransformsPerGroup)) <= 65535,
      algorithm,
    );
  }
});
