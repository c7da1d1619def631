import assert from "node:assert/strict";
import { planSpectral } from "../../src/gpu/spectral_plan.ts";
import { UserError } from "../../src/errors.ts";

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
