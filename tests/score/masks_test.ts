import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeNpy } from "../../src/dfm/npy.ts";
import { writeStage } from "../../src/dfm/store.ts";
import { npyMasks, readScoreMasks } from "../../src/score/masks.ts";
import { testManifest } from "../dfm/_manifest.ts";

const S = 4, A = S * S;
const pattern = (i: number) =>
  Uint8Array.from({ length: A }, (_, k) => (k * 3 + i) % 5 < 2 ? 1 : 0);

Deno.test("npyMasks() reads [n,S,S] and [K,N,S,S] arrays in C order, with origins", () => {
  const flat = new Uint8Array(6 * A);
  for (let i = 0; i < 6; i++) flat.set(pattern(i), i * A);
  const a = npyMasks("a.npy", encodeNpy(flat, "uint8", [6, S, S]));
  assert.equal(a.count, 6);
  assert.equal(a.size, S);
  assert.deepEqual(a.masks, flat);
  assert.deepEqual(a.origins[4], {
    classPos: null,
    classId: null,
    wnid: null,
    rank: null,
  });
  const b = npyMasks("b.npy", encodeNpy(flat, "uint8", [2, 3, S, S]));
  assert.deepEqual(b.masks, flat);
  // Mask 4 of [2, 3, S, S] is [1, 1].
  assert.deepEqual(b.origins[4], {
    classPos: 1,
    classId: null,
    wnid: null,
    rank: 1,
  });
  const f = npyMasks(
    "f.npy",
    encodeNpy(Float32Array.from(flat), "float32", [6, S, S]),
  );
  assert.deepEqual(f.masks, flat);
});

Deno.test("npyMasks() refuses non-binary values, wrong shapes and names the file", () => {
  const bad = Float64Array.from(
    { length: 2 * A },
    (_, i) => i === A + 5 ? 0.5 : 1,
  );
  assert.throws(
    () => npyMasks("g.npy", encodeNpy(bad, "float64", [2, S, S])),
    /Cannot read masks "g.npy": mask 1 has value 0.5 at \(1, 1\), expected 0 or 1/,
  );
  assert.throws(
    () =>
      npyMasks("h.npy", encodeNpy(new Uint8Array(2 * 12), "uint8", [2, 3, 4])),
    /Cannot read masks "h.npy": masks are 3x4, expected square masks/,
  );
  assert.throws(
    () => npyMasks("i.npy", encodeNpy(new Uint8Array(A), "uint8", [S, S])),
    /Cannot read masks "i.npy": shape is \[4, 4\]/,
  );
  assert.throws(
    () => npyMasks("j.npy", new Uint8Array([1, 2, 3])),
    /Cannot read masks "j.npy"/,
  );
});

Deno.test("readScoreMasks() takes every filled rank of every class of a stage folder", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const n = 2, k = 3;
    const masks = new Uint8Array(k * n * A);
    const top = [
      { candidates: [4, 0], losses: [0.25, 0.5], parents: [null, null] },
      { candidates: [8], losses: [2.5], parents: [null] },
      { candidates: [1, 2], losses: [1, 2], parents: [null, null] },
    ];
    top.forEach((t, c) =>
      t.candidates.forEach((id, r) => masks.set(pattern(id), (c * n + r) * A))
    );
    const manifest = testManifest({
      image_size: S,
      top_n: n,
      classes: [{ index: 0, wnid: "n01440764" }, { index: 10 }, { index: 20 }],
      top,
    });
    const losses = Float64Array.from([0.25, 0.5, 2.5, NaN, 1, 2]);
    await writeStage(join(dir, "stage1"), { manifest, masks, losses });
    const m = await readScoreMasks(join(dir, "stage1"));
    assert.equal(m.kind, "stage");
    assert.equal(m.count, 5);
    assert.deepEqual(
      m.origins.map((o) => [o.classPos, o.classId, o.rank]),
      [[0, 0, 0], [0, 0, 1], [1, 10, 0], [2, 20, 0], [2, 20, 1]],
    );
    assert.equal(m.origins[0]!.wnid, "n01440764");
    assert.deepEqual(m.masks.subarray(3 * A, 4 * A), pattern(1));
    await assert.rejects(
      readScoreMasks(join(dir, "missing")),
      /Cannot read masks ".*missing": file not found/,
    );
    await assert.rejects(readScoreMasks(dir), /not a readable stage folder/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
