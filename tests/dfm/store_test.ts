import assert from "node:assert/strict";
import { join } from "node:path";
import { UserError } from "../../src/errors.ts";
import { generateCandidates } from "../../src/dfm/candidates.ts";
import { decodeNpy, encodeNpy } from "../../src/dfm/npy.ts";
import {
  findClass,
  readStage,
  readStageMask,
  type StageData,
  stageDir,
  stageMask,
  writeStage,
} from "../../src/dfm/store.ts";
import { testManifest } from "./_manifest.ts";

/** A small stage: 3 classes, top-2, S = 32, built from real candidates. */
function sampleStage(): StageData {
  const s = 32, k = 3, n = 2;
  const cands = generateCandidates({
    size: s,
    stage: 1,
    count: 9,
    proportion: 0.8,
    seed: 5,
  });
  const masks = new Uint8Array(k * n * s * s);
  const losses = new Float64Array(k * n).fill(NaN);
  const top = [
    { candidates: [4, 0], losses: [0.25, 1 / 3], parents: [null, null] },
    { candidates: [8], losses: [2.5], parents: [null] },
    { candidates: [], losses: [], parents: [] },
  ];
  top.forEach((t, c) =>
    t.candidates.forEach((id, r) => {
      masks.set(cands.masks[id]!, (c * n + r) * s * s);
      losses[c * n + r] = t.losses[r]!;
    })
  );
  const manifest = testManifest({
    model: { path: "models/m.onnx", sha256: "ab".repeat(32) },
    image_size: s,
    seed: 5,
    N_B: 9,
    candidates: 9,
    top_n: n,
    split: { root: "images", fraction: 0.05, seed: 5, images: 12 },
    classes: [
      { index: 0, wnid: "n01440764", name: "tench" },
      { index: 10, wnid: "n01530575", name: "brambling" },
      { index: 20 },
    ],
    top,
  });
  return { manifest, masks, losses };
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("writeStage() and readStage() round-trip a stage folder", async () => {
  await withDir(async (out) => {
    const st = sampleStage();
    const dir = stageDir(out, 1);
    assert.equal(dir, join(out, "stage1"));
    await writeStage(dir, st);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["losses.npy", "manifest.json", "masks.npy"]);
    const back = await readStage(dir);
    assert.deepEqual(back.manifest, st.manifest);
    assert.deepEqual(back.masks, st.masks);
    assert.deepEqual(back.losses, st.losses);
    // numpy-visible layout: [K, N, S, S] uint8 and [K, N] float64
    const m = decodeNpy(await Deno.readFile(join(dir, "masks.npy")));
    assert.deepEqual(m.shape, [3, 2, 32, 32]);
    assert.equal(m.dtype, "uint8");
    const l = decodeNpy(await Deno.readFile(join(dir, "losses.npy")));
    assert.deepEqual(l.shape, [3, 2]);
    assert.equal((l.data as Float64Array)[1], 1 / 3);
    assert.ok(Number.isNaN((l.data as Float64Array)[3]));
    // one mask by seeking equals the in-memory view
    for (const [c, r] of [[0, 0], [0, 1], [1, 0], [2, 1]] as const) {
      assert.deepEqual(
        await readStageMask(dir, { classPos: c, rank: r }),
        stageMask(back, c, r).slice(),
      );
    }
    assert.equal(findClass(back.manifest, "n01530575"), 1);
    assert.equal(findClass(back.manifest, 20), 2);
    assert.equal(findClass(back.manifest, "tench"), 0);
    assert.throws(() => findClass(back.manifest, "7"), /Cannot find class "7"/);
    assert.ok(!st.masks.subarray(0, 1024).every((v) => v === 0));
  });
});

async function expectError(dir: string, pattern: RegExp) {
  await assert.rejects(readStage(dir), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("readStage() rejects corrupted files with errors naming the file", async () => {
  await withDir(async (out) => {
    const dir = stageDir(out, 1);
    const st = sampleStage();
    const masksPath = join(dir, "masks.npy");
    const write = () => writeStage(dir, st);

    await write();
    const bytes = await Deno.readFile(masksPath);
    await Deno.writeFile(masksPath, bytes.subarray(0, bytes.length - 100));
    await expectError(
      dir,
      /Cannot read npy file ".*stage1\/masks\.npy": truncated data/,
    );
    await assert.rejects(
      readStageMask(dir, { classPos: 0, rank: 0 }),
      /masks\.npy": \d+ bytes, expected/,
    );

    await write();
    const bad = await Deno.readFile(masksPath);
    bad[bad.length - 1] = 2;
    await Deno.writeFile(masksPath, bad);
    await expectError(
      dir,
      /masks\.npy": value 2 at element 6143 is not 0 or 1/,
    );

    await write();
    await Deno.writeFile(
      masksPath,
      encodeNpy(new Float32Array(st.masks), "float32", [3, 2, 32, 32]),
    );
    await expectError(dir, /masks\.npy": dtype is float32, expected uint8/);

    await write();
    await Deno.writeFile(
      masksPath,
      encodeNpy(st.masks, "uint8", [2, 3, 32, 32]),
    );
    await expectError(
      dir,
      /masks\.npy": shape is \[2, 3, 32, 32\], expected \[3, 2, 32, 32\]/,
    );

    await write();
    await Deno.writeFile(
      join(dir, "losses.npy"),
      encodeNpy(st.losses, "float32", [3, 2]),
    );
    await expectError(dir, /losses\.npy": dtype is float32, expected float64/);

    const manifestPath = join(dir, "manifest.json");
    await write();
    const json = JSON.parse(await Deno.readTextFile(manifestPath));
    await Deno.writeTextFile(
      manifestPath,
      JSON.stringify({ ...json, format_version: 2 }),
    );
    await expectError(
      dir,
      /manifest\.json": format version 2 is newer than this hfss reads \(1\)/,
    );
    await Deno.writeTextFile(
      manifestPath,
      JSON.stringify({ ...json, top: json.top.slice(1) }),
    );
    await expectError(dir, /top must have one entry per class \(3\)/);
    await Deno.writeTextFile(manifestPath, "{ not json");
    await expectError(dir, /manifest\.json": invalid JSON/);
    await Deno.remove(manifestPath);
    await expectError(dir, /manifest\.json": file not found/);
  });
});

Deno.test("writeStage() refuses arrays that disagree with the manifest", async () => {
  await withDir(async (out) => {
    const st = sampleStage();
    await assert.rejects(
      writeStage(out, { ...st, masks: st.masks.subarray(1024) }),
      /masks hold 5120 values, expected \[3, 2, 32, 32\]/,
    );
    await assert.rejects(
      writeStage(out, {
        ...st,
        manifest: { ...st.manifest, symmetry: "odd" as "exact" },
      }),
      /symmetry "odd" is not one of exact, reference/,
    );
    assert.deepEqual([...Deno.readDirSync(out)], []);
  });
});
