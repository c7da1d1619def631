import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { exportCorruptions } from "../../src/corrupt/export.ts";
import { exportCorruptionsParallel } from "../../src/corrupt/export_pool.ts";
import { resolveSubsets } from "../../src/corrupt/registry.ts";
import { loadFrostTextures } from "../../src/corrupt/frost.ts";
import { kFixtureDir } from "./_fixtures.ts";

/** Every file under `dir`, relative path -> bytes. */
async function files(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else out.set(relative(dir, p), await Deno.readFile(p));
    }
  };
  await walk(dir);
  return out;
}

Deno.test("exportCorruptionsParallel() writes the files of the one-thread export, frost included, and reports unreadable images", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hfss_corrupt_pool_" });
  try {
    const root = join(dir, "val");
    const samples: { path: string; folder: string }[] = [];
    for (let i = 0; i < 5; i++) {
      const folder = `n0000000${i % 2}`;
      await Deno.mkdir(join(root, folder), { recursive: true });
      const path = join(root, folder, `img_${i}.png`);
      if (i === 3) await Deno.writeTextFile(path, "not a picture");
      else await Deno.copyFile(join(kFixtureDir, `clean_${i % 2}.png`), path);
      samples.push({ path, folder });
    }
    // frost: the textures reach each worker once, not with every block
    const subsets = resolveSubsets(
      ["shot_noise/3", "glass_blur/1", "frost/2"],
      {
        frost: true,
      },
    );
    const frost = await loadFrostTextures(join(kFixtureDir, "frost"));
    const base = {
      root,
      samples,
      subsets,
      seed: 9,
      format: "jpeg" as const,
      frost,
    };
    const failedOne: string[] = [];
    const one = await exportCorruptions({
      ...base,
      out: join(dir, "one"),
      onError: (p) => failedOne.push(p),
    });
    const failedPool: string[] = [];
    const progress: number[] = [];
    const pool = await exportCorruptionsParallel({
      ...base,
      out: join(dir, "pool"),
      blockSize: 2,
      onError: (p) => failedPool.push(p),
      onProgress: (done) => progress.push(done),
    }, 2);
    assert.equal(pool.files_written, one.files_written);
    assert.equal(pool.files_written, 12);
    assert.equal(pool.images_failed, 1);
    assert.deepStrictEqual(failedPool, failedOne);
    assert.deepStrictEqual(progress, [...progress].sort((a, b) => a - b));
    assert.equal(progress.at(-1), 5);
    const a = await files(join(dir, "one"));
    const b = await files(join(dir, "pool"));
    assert.deepStrictEqual([...b.keys()].sort(), [...a.keys()].sort());
    for (const [k, v] of a) assert.deepStrictEqual(b.get(k), v, k);

    // A rerun on the pool keeps every file.
    const again = await exportCorruptionsParallel({
      ...base,
      out: join(dir, "pool"),
      blockSize: 2,
    }, 2);
    assert.equal(again.files_written, 0);
    assert.equal(again.files_skipped, 12);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
