import assert from "node:assert/strict";
import { join } from "node:path";
import { syntheticJpeg } from "../../src/testing/synthetic_jpeg.ts";
import { openDataset, type Sample } from "../../src/data/dataset.ts";
import { readImage } from "../../src/data/decode.ts";
import { loadBatches, startDecodeWorkers } from "../../src/data/loader.ts";
import { toTensor } from "../../src/data/preprocess.ts";
import { kImagenetWnids } from "../../src/data/labels.ts";

function jpeg(w: number, h: number, seed: number): Promise<Uint8Array> {
  return syntheticJpeg(w, h, (i) => [
    (i * seed) % 256,
    (i + seed * 40) % 256,
    (seed * 90) % 256,
  ]);
}

async function makeTree(root: string): Promise<void> {
  let k = 0;
  for (const c of [0, 1, 2]) {
    const dir = join(root, kImagenetWnids[c]!);
    await Deno.mkdir(dir, { recursive: true });
    for (let i = 0; i < 3; i++) {
      k++;
      await Deno.writeFile(
        join(dir, `img${i}.jpg`),
        await jpeg(20 + 3 * k, 17 + k, k),
      );
    }
  }
  // a corrupt JPEG in class 1: a valid header, then garbage
  const bad = (await jpeg(30, 30, 99)).slice(0, 40);
  await Deno.writeFile(join(root, kImagenetWnids[1]!, "img1_corrupt.jpg"), bad);
}

Deno.test("loadBatches() streams ordered batches, reports and skips a corrupt JPEG, workers (started or kept) or not", async () => {
  const root = await Deno.makeTempDir({ prefix: "hfss_loader_" });
  try {
    await makeTree(root);
    const ds = await openDataset(root);
    assert.equal(ds.samples.length, 10);
    const good = ds.samples.filter((s) => !s.path.includes("corrupt"));
    const size = 16;
    const plane = 3 * size * size;
    const expected = await Promise.all(
      good.map(async (s) =>
        toTensor(await readImage(s.path), { size, resize: "crop" })
      ),
    );
    // a pool kept across calls, used twice (as the evaluation does)
    using pool = startDecodeWorkers(2);
    assert.ok(pool);
    for (const workers of [0, 2, pool, pool]) {
      const label = typeof workers === "number" ? workers : "kept pool";
      const errors: [Sample, Error][] = [];
      const seen: Sample[] = [];
      const sizes: number[] = [];
      for await (
        const b of loadBatches(ds.samples, {
          batchSize: 4,
          size,
          resize: "crop",
          ...(typeof workers === "number" ? { workers } : { pool: workers }),
          concurrency: 3,
          onError: (s, e) => errors.push([s, e]),
        })
      ) {
        sizes.push(b.samples.length);
        assert.equal(b.tensor.length, b.samples.length * plane);
        b.samples.forEach((s, i) => {
          const want = expected[good.indexOf(s)]!;
          assert.deepEqual(
            b.tensor.subarray(i * plane, (i + 1) * plane),
            want,
            `workers=${label} ${s.path}`,
          );
        });
        seen.push(...b.samples);
      }
      assert.deepEqual(sizes, [4, 4, 1], `workers=${label}`);
      assert.deepEqual(seen, good);
      assert.equal(errors.length, 1);
      assert.ok(errors[0]![0].path.endsWith("img1_corrupt.jpg"));
      assert.match(
        errors[0]![1].message,
        /^Cannot decode image ".*img1_corrupt\.jpg": /,
      );
    }
    // without onError, the first failure is thrown
    await assert.rejects(async () => {
      for await (
        const _ of loadBatches(ds.samples, { batchSize: 2, size })
      ) { /* drain */ }
    }, /img1_corrupt\.jpg/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("loadBatches() passes interpolation to toTensor(), in workers too", async () => {
  const root = await Deno.makeTempDir({ prefix: "hfss_loader_" });
  try {
    await makeTree(root);
    const ds = await openDataset(root);
    const good = ds.samples.filter((s) => !s.path.includes("corrupt"));
    const size = 12;
    const plane = 3 * size * size;
    for (const interpolation of ["bilinear", "bicubic"] as const) {
      const expected = await Promise.all(
        good.map(async (s) =>
          toTensor(await readImage(s.path), { size, interpolation })
        ),
      );
      for (const workers of [0, 1]) {
        let i = 0;
        for await (
          const b of loadBatches(good, {
            batchSize: 4,
            size,
            interpolation,
            workers,
          })
        ) {
          for (let j = 0; j < b.samples.length; j++, i++) {
            assert.deepEqual(
              b.tensor.subarray(j * plane, (j + 1) * plane),
              expected[i],
            );
          }
        }
        assert.equal(i, good.length);
      }
    }
    // The two filters give different tensors on these images.
    const img = await readImage(good[0]!.path);
    assert.notDeepEqual(
      toTensor(img, { size, interpolation: "bilinear" }),
      toTensor(img, { size, interpolation: "bicubic" }),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
