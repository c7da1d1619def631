/**
 * `loadGeneratedBatches()` on worker threads against the calling thread, on
 * real ImageNet validation images: same tensors bit for bit, same batches,
 * same skipped files, whatever the number of workers.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openDataset } from "../../src/data/dataset.ts";
import {
  generatedParts,
  type GeneratedSample,
  loadGeneratedBatches,
  startGenerateWorkers,
} from "../../src/corrupt/generated.ts";
import {
  type FrostTextures,
  loadFrostTextures,
} from "../../src/corrupt/frost.ts";
import { GpuBlur } from "../../src/corrupt/gpu_blur.ts";
import { resolveSubsets } from "../../src/corrupt/registry.ts";
import type { CorruptFormat } from "../../src/corrupt/corrupt.ts";
import { haveShared, shared } from "../../src/testing/shared_data.ts";
import { gpuAvailable, withDevice } from "../gpu_helper.ts";
import { kFixtureDir } from "./_fixtures.ts";

const kImages = "data/images/imagenet_val_subset";
const ignore = !haveShared(`${kImages}/labels.csv`);

/** Drained batches: batch sizes, sample keys (subset/key), errors, one tensor. */
interface Drained {
  sizes: number[];
  keys: string[];
  errors: string[];
  tensor: Float32Array;
}

async function drain(
  batches: AsyncGenerator<{ samples: GeneratedSample[]; tensor: Float32Array }>,
  errors: string[],
): Promise<Drained> {
  const sizes: number[] = [];
  const keys: string[] = [];
  const parts: Float32Array[] = [];
  for await (const b of batches) {
    sizes.push(b.samples.length);
    for (const s of b.samples) {
      keys.push(`${s.subset.corruption}/${s.subset.severity}/${s.key}`);
    }
    assert.equal(b.tensor.length, b.samples.length * 3 * 112 * 112);
    parts.push(b.tensor);
  }
  const tensor = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    tensor.set(p, at);
    at += p.length;
  }
  return { sizes, keys, errors, tensor };
}

/**
 * The first `n` images of the val subset (copied under `dir` with `copy`)
 * plus one file that is not an image, as generated samples in the
 * evaluation's order (subset by subset).
 */
async function samplesOf(
  dir: string,
  n: number,
  subsets: string[],
  copy = false,
): Promise<GeneratedSample[]> {
  const ds = await openDataset(shared(kImages));
  const root = join(dir, "val");
  await Deno.mkdir(root);
  const clean = await Promise.all(
    ds.samples.slice(0, n).map(async (s, i) => {
      if (!copy) return { path: s.path, label: i };
      const path = join(root, `img_${i}.JPEG`);
      await Deno.copyFile(s.path, path);
      return { path, label: i };
    }),
  );
  const bad = join(root, "broken.JPEG");
  await Deno.writeTextFile(bad, "not a picture");
  clean.splice(3, 0, { path: bad, label: 99 });
  return generatedParts(
    shared(kImages),
    clean,
    resolveSubsets(subsets, { frost: true }),
  )
    .flatMap((p) => p.samples);
}

function load(
  samples: GeneratedSample[],
  o: {
    format: CorruptFormat;
    workers?: number;
    frost: FrostTextures;
    gpu?: GpuBlur;
    pool?: ReturnType<typeof startGenerateWorkers>;
  },
): Promise<Drained> {
  const errors: string[] = [];
  return drain(
    loadGeneratedBatches(samples, {
      batchSize: 5,
      size: 112,
      resize: "crop",
      interpolation: "bicubic",
      seed: 11,
      format: o.format,
      frost: o.frost,
      gpu: o.gpu ?? null,
      ...(o.workers !== undefined ? { workers: o.workers } : {}),
      ...(o.pool ? { pool: o.pool } : {}),
      onError: (s, e) => errors.push(`${s.key}: ${e.message}`),
    }),
    errors,
  );
}

function assertSame(got: Drained, want: Drained, what: string): void {
  assert.deepStrictEqual(got.sizes, want.sizes, `${what}: batch sizes`);
  assert.deepStrictEqual(got.keys, want.keys, `${what}: samples`);
  assert.deepStrictEqual(got.errors, want.errors, `${what}: errors`);
  assert.equal(got.tensor.length, want.tensor.length, `${what}: length`);
  // bit for bit, NaN-safe and without a slow structural diff
  const a = new Uint32Array(got.tensor.buffer);
  const b = new Uint32Array(want.tensor.buffer);
  let diff = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      diff = i;
      break;
    }
  }
  assert.equal(diff, -1, `${what}: tensors differ at ${diff}`);
}

Deno.test({
  name:
    "loadGeneratedBatches() gives the calling thread's tensors on 1 and 2 workers, jpeg and png, skipping an unreadable file",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "hfss_generated_" });
    try {
      const frost = await loadFrostTextures(join(kFixtureDir, "frost"));
      const samples = await samplesOf(dir, 9, [
        "gaussian_noise/3",
        "defocus_blur/2",
        "zoom_blur/1",
        "frost/3",
        "jpeg_compression/4",
      ]);
      assert.equal(samples.length, 50);
      for (const format of ["jpeg", "png"] as const) {
        const want = await load(samples, { format, frost, workers: 0 });
        assert.equal(want.keys.length, 45);
        assert.equal(want.errors.length, 5);
        assert.match(
          want.errors[0]!,
          /broken\.JPEG: Cannot decode image ".*broken\.JPEG"/,
        );
        // the subsets differ from one another and the formats from each other
        const plane = 3 * 112 * 112;
        assert.notDeepStrictEqual(
          want.tensor.subarray(0, plane),
          want.tensor.subarray(9 * plane, 10 * plane),
        );
        for (const workers of [1, 2]) {
          assertSame(
            await load(samples, { format, frost, workers }),
            want,
            `${format}, ${workers} workers`,
          );
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "loadGeneratedBatches() on a kept pool gives the same tensors call after call from the crops its workers keep, and fails as the calling thread on frost without textures",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "hfss_generated_" });
    try {
      const frost = await loadFrostTextures(join(kFixtureDir, "frost"));
      const samples = await samplesOf(dir, 6, [
        "shot_noise/2",
        "motion_blur/3",
      ], true);
      const want = await load(samples, { format: "jpeg", frost, workers: 0 });
      assert.equal(want.keys.length, 12);
      const pool = startGenerateWorkers(2, { frost });
      assert.ok(pool);
      try {
        assertSame(
          await load(samples, { format: "jpeg", frost, pool }),
          want,
          "first call",
        );
        // the second call finds every crop the first left in the worker it
        // goes to: the images are no longer on disk
        for (const s of samples) {
          if (!s.path.endsWith("broken.JPEG")) {
            await Deno.remove(s.path).catch(() => {});
          }
        }
        assertSame(
          await load(samples, { format: "jpeg", frost, pool }),
          want,
          "second call, files removed",
        );
      } finally {
        pool.terminate();
      }
      await Deno.mkdir(join(dir, "b"));
      const noFrost = await samplesOf(join(dir, "b"), 2, ["frost/1"]);
      for (const workers of [0, 2]) {
        await assert.rejects(
          () =>
            drain(
              loadGeneratedBatches(noFrost, {
                batchSize: 2,
                size: 112,
                seed: 1,
                format: "png",
                workers,
                onError: () => {},
              }),
              [],
            ),
          /Cannot generate frost/,
          `${workers} workers`,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "loadGeneratedBatches() keeps GPU blurs on the calling thread: with a GpuBlur, 2 workers give the tensors of none",
  ignore: ignore || !gpuAvailable,
  fn: () =>
    withDevice(async (gpu) => {
      const dir = await Deno.makeTempDir({ prefix: "hfss_generated_" });
      try {
        using blur = await GpuBlur.create(gpu.device);
        const frost = await loadFrostTextures(join(kFixtureDir, "frost"));
        const samples = await samplesOf(dir, 6, [
          "contrast/2",
          "defocus_blur/1",
          "gaussian_noise/1",
          "zoom_blur/1",
        ]);
        const want = await load(samples, {
          format: "jpeg",
          frost,
          gpu: blur,
          workers: 0,
        });
        assert.equal(want.keys.length, 24);
        assertSame(
          await load(samples, { format: "jpeg", frost, gpu: blur, workers: 2 }),
          want,
          "gpu, 2 workers",
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }),
});
