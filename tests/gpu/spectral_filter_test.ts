import assert from "node:assert/strict";
import { SpectralFilter } from "../../src/gpu/spectral_filter.ts";
import { dft2d, referenceFilter } from "../../src/fft/reference.ts";
import { UserError } from "../../src/errors.ts";
import type { FftAlgorithm } from "../../src/fft/plan.ts";
import { Rng } from "../../src/rng.ts";
import { gpuAvailable, withDevice } from "../gpu_helper.ts";
import { haveShared } from "../../src/testing/shared_data.ts";
import { loadFilterCases, maxAbsDiff } from "../fft/fixtures.ts";

const ignore = !gpuAvailable;

function noise(n: number, seed: number): Float32Array {
  const rng = new Rng(seed, ["tests/gpu/spectral_filter"]);
  return Float32Array.from({ length: n }, () => rng.float() * 2 - 1);
}

// Forward GPU spectrum vs float64 DFT, max error relative to the largest magnitude.
const kForwardCases: [number, number, number, FftAlgorithm][] = [
  [32, 3, 2, "registers"],
  [224, 1, 1, "registers"],
  [32, 3, 2, "two-level"],
  [224, 1, 1, "two-level"],
  [32, 3, 2, "stockham"],
  [224, 1, 1, "stockham"],
  [105, 1, 2, "stockham"],
  [60, 2, 1, "stockham"],
];
for (const [size, channels, images, algorithm] of kForwardCases) {
  Deno.test({
    name:
      `SpectralFilter forward spectrum matches the float64 DFT for ${size}x${size} (${algorithm})`,
    ignore,
    fn: () =>
      withDevice(async (gpu) => {
        using f = await SpectralFilter.create(gpu, {
          size,
          channels,
          maxImages: images,
          algorithm,
        });
        assert.equal(f.plan.algorithm, algorithm);
        const x = noise(images * channels * size * size, size);
        f.load(x, images);
        const got = await f.spectrum();
        const want = dft2d({
          re: Float64Array.from(x),
          im: new Float64Array(x.length),
        }, {
          rows: size,
          cols: size,
        });
        const bins = Math.floor(size / 2) + 1;
        let maxMag = 0, maxErr = 0;
        for (let p = 0; p < images * channels; p++) {
          for (let u = 0; u < size; u++) {
            for (let v = 0; v < bins; v++) {
              const i = (p * size + u) * size + v;
              const j = 2 * ((p * size + u) * bins + v);
              maxMag = Math.max(maxMag, Math.hypot(want.re[i]!, want.im[i]!));
              maxErr = Math.max(
                maxErr,
                Math.hypot(want.re[i]! - got[j]!, want.im[i]! - got[j + 1]!),
              );
            }
          }
        }
        assert.ok(maxErr / maxMag <= 1e-5, `relative error ${maxErr / maxMag}`);
      }),
  });
}

Deno.test({
  name:
    "SpectralFilter inverse(forward(x)) == x with an all-pass mask, several chunks",
  ignore,
  fn: () =>
    withDevice(async (gpu) => {
      const size = 63, channels = 3, images = 5;
      // a small binding limit forces 3 image chunks
      const maxBinding = 2 * channels * size * 32 * 8;
      using f = await SpectralFilter.create(gpu, {
        size,
        channels,
        maxImages: images,
        maxBinding,
      });
      assert.equal(f.plan.imagesPerChunk, 2);
      const x = noise(images * channels * size * size, 7);
      f.load(x, images);
      using ones = f.uploadMasks(new Uint8Array(size * size).fill(1), 1);
      const y = await f.apply(ones);
      assert.equal(y.length, x.length);
      assert.ok(maxAbsDiff(x, y) < 1e-5, `max diff ${maxAbsDiff(x, y)}`);
    }),
});

for (
  const [size, algorithm] of [
    [32, "registers"],
    [32, "two-level"],
    [63, "stockham"],
  ] as const
) {
  Deno.test({
    name:
      `SpectralFilter.apply() matches the float64 reference for arbitrary masks, scale and offset (${size}, ${algorithm})`,
    ignore,
    fn: () => applyMatchesReference(size, algorithm),
  });
}

function applyMatchesReference(
  size: number,
  algorithm: FftAlgorithm,
): Promise<void> {
  return withDevice(async (gpu) => {
    const channels = 3, images = 3, masks = 5;
    const bins = Math.floor(size / 2) + 1;
    using f = await SpectralFilter.create(gpu, {
      size,
      channels,
      maxImages: images,
      // two images per chunk, one mask per dispatch
      maxBinding: 2 * channels * size * (bins + 1) * 8,
      workBytes: 1,
      algorithm,
    });
    assert.equal(f.plan.imagesPerChunk, 2);
    const x = noise(images * channels * size * size, 3);
    const rng = new Rng(5, ["masks"]);
    // non-binary, non-symmetric masks exercise the (M(k)+M(-k))/2 gain
    const m = Float32Array.from(
      { length: masks * size * size },
      () => rng.float(),
    );
    f.load(x, images);
    using set = f.uploadMasks(m, masks);
    const scale = [2, 0.5, -1];
    const offset = [0.25, -1, 3];
    const out = await f.apply(set, { first: 1, count: 3, scale, offset });
    assert.equal(out.length, 3 * images * channels * size * size);
    const plane = size * size;
    let worst = 0;
    for (let k = 0; k < 3; k++) {
      const mask = m.subarray((1 + k) * plane, (2 + k) * plane);
      for (let b = 0; b < images; b++) {
        const img = x.subarray(
          b * channels * plane,
          (b + 1) * channels * plane,
        );
        const ref = referenceFilter(img, mask, size);
        for (let c = 0; c < channels; c++) {
          for (let i = 0; i < plane; i++) {
            const want = scale[c]! * ref[c * plane + i]! + offset[c]!;
            const got = out[((k * images + b) * channels + c) * plane + i]!;
            worst = Math.max(worst, Math.abs(want - got));
          }
        }
      }
    }
    assert.ok(worst < 1e-4, `max abs error ${worst}`);
  });
}

Deno.test({
  name:
    "SpectralFilter.apply() matches the numpy filter fixtures (reference and corrected masks)",
  ignore: ignore || !haveShared("fixtures/reference/filter.json"),
  fn: () =>
    withDevice(async (gpu) => {
      const cases = await loadFilterCases();
      assert.deepEqual(cases.map((c) => c.id), [
        "f32_a",
        "f32_b",
        "f224_a",
        "f224_b",
      ]);
      for (const c of cases) {
        using f = await SpectralFilter.create(gpu, {
          size: c.size,
          maxImages: 1,
        });
        f.load(Float32Array.from(c.image), 1);
        const masks = new Uint8Array(2 * c.size * c.size);
        masks.set(c.maskReference, 0);
        masks.set(c.maskCorrected, c.size * c.size);
        using set = f.uploadMasks(masks, 2);
        const out = await f.apply(set);
        const n = c.image.length;
        const eRef = maxAbsDiff(out.subarray(0, n), c.outputReference);
        const eCor = maxAbsDiff(out.subarray(n), c.outputCorrected);
        assert.ok(eRef < 1e-4, `${c.id} reference mask: ${eRef}`);
        assert.ok(eCor < 1e-4, `${c.id} corrected mask: ${eCor}`);
      }
    }),
});

Deno.test({
  name:
    "SpectralFilter splits images and masks across bindings and serialises concurrent applies",
  ignore,
  fn: () =>
    withDevice(async (gpu) => {
      const size = 32, images = 3, masks = 5;
      // one 1-channel 32x32 half spectrum (32 x 18 complex) per binding:
      // 3 image chunks and gain segments of 2 masks
      using f = await SpectralFilter.create(gpu, {
        size,
        channels: 1,
        maxImages: images,
        maxBinding: 32 * 18 * 8,
      });
      assert.equal(f.plan.imagesPerChunk, 1);
      const x = noise(images * size * size, 11);
      const rng = new Rng(13, ["segments"]);
      const m = Uint8Array.from({ length: masks * size * size }, () =>
        rng.float() < 0.4 ? 1 : 0);
      f.load(x, images);
      using set = f.uploadMasks(m, masks);
      const [all, tail] = await Promise.all([
        f.apply(set),
        f.apply(set, { first: 3 }),
      ]);
      assert.deepEqual(tail, all.subarray(3 * images * size * size));
      const plane = size * size;
      let worst = 0;
      for (let k = 0; k < masks; k++) {
        for (let b = 0; b < images; b++) {
          const ref = referenceFilter(
            x.subarray(b * plane, (b + 1) * plane),
            m.subarray(k * plane, (k + 1) * plane),
            size,
          );
          worst = Math.max(
            worst,
            maxAbsDiff(
              ref,
              all.subarray(
                (k * images + b) * plane,
                (k * images + b + 1) * plane,
              ),
            ),
          );
        }
      }
      assert.ok(worst < 1e-4, `max abs error ${worst}`);
      const pending = f.apply(set);
      assert.throws(() =>
        f.load(x, images), /apply\(\) is still running/);
      await pending;
    }),
});

Deno.test({
  name: "SpectralFilter rejects bad loads and misuse with clear errors",
  ignore,
  fn: () =>
    withDevice(async (gpu) => {
      using f = await SpectralFilter.create(gpu, {
        size: 8,
        channels: 1,
        maxImages: 2,
      });
      using set = f.uploadMasks(new Uint8Array(64).fill(1), 1);
      await assert.rejects(() => f.apply(set), /no images are loaded/);
      assert.throws(() => f.load(new Float32Array(3 * 64), 3), UserError);
      assert.throws(
        () => f.load(new Float32Array(10), 1),
        /got 10 values, need 64/,
      );
      assert.throws(() => f.uploadMasks(new Uint8Array(10), 1), UserError);
      f.load(new Float32Array(64).fill(1), 1);
      await assert.rejects(() => f.apply(set, { first: 1 }), UserError);
      const out = await f.apply(set);
      assert.ok(maxAbsDiff(out, new Float32Array(64).fill(1)) < 1e-6);
      await assert.rejects(
        () => SpectralFilter.create(gpu, { size: 22 }),
        /prime factor 11/,
      );
    }),
});
