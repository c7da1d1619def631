import assert from "node:assert/strict";
import { join } from "node:path";
import { encode as encodePng } from "fast-png";
import { corruptCrop, corruptionRng } from "../../src/corrupt/corrupt.ts";
import {
  frostDraws,
  kFrostTextureFiles,
  loadFrostTextures,
} from "../../src/corrupt/frost.ts";
import { kSeverities } from "../../src/corrupt/registry.ts";
import { decodeNpy } from "../../src/dfm/npy.ts";
import { sha256Hex } from "../../src/io/sha256.ts";
import { UserError } from "../../src/errors.ts";
import { kFixtureDir, loadFixtureImages } from "./_fixtures.ts";

// Written by `scripts/corruption_oracle.py frost-textures` and
// `frost-fixtures`: synthetic textures (PNG; JPEG 4:2:0, one progressive) and
// the oracle's frost rows with hfss's stream replayed.
const kFrostDir = join(kFixtureDir, "frost");
const meta = JSON.parse(
  await Deno.readTextFile(join(kFrostDir, "oracle.json")),
);
const expected = decodeNpy(
  await Deno.readFile(join(kFrostDir, "expected_rows.npy")),
).data as Uint8Array;
const textures = await loadFrostTextures(kFrostDir);
const { images } = await loadFixtureImages();

Deno.test("loadFrostTextures() decodes the textures to Pillow's pixels and hashes the files", async () => {
  assert.deepStrictEqual(
    textures.textures.map((t) => t.file),
    [...kFrostTextureFiles],
  );
  for (const t of textures.textures) {
    const want = meta.textures[t.file];
    assert.equal(t.sha256, want.sha256, t.file);
    assert.deepStrictEqual([t.image.height, t.image.width, 3], want.shape);
    assert.equal(await sha256Hex(t.image.data), want.rgb_sha256, t.file);
  }
});

Deno.test("frostDraws() draws the texture, then row and column offsets, as the oracle replays them", () => {
  const seen = new Set<number>();
  for (const key of meta.keys as string[]) {
    for (const severity of kSeverities) {
      const subset = { corruption: "frost" as const, severity };
      const d = frostDraws(corruptionRng(meta.seed, key, subset), textures);
      assert.deepStrictEqual(
        [d.index, d.top, d.left],
        meta.draws_index_top_left[`${key}/${severity}`],
        `${key}/${severity}`,
      );
      seen.add(d.index);
    }
  }
  // Every texture the original can pick, PNG and JPEG, is exercised.
  assert.deepStrictEqual([...seen].sort(), [0, 1, 2, 3, 4]);
});

Deno.test("corruptCrop() frost equals the numpy oracle exactly, severities 1-5 (same draws)", () => {
  const w = 224 * 3;
  const nr = meta.rows.length;
  const keys = meta.keys as string[];
  const perImage = keys.length / images.length;
  for (const [n, key] of keys.entries()) {
    const k = Math.floor(n / perImage);
    for (const severity of kSeverities) {
      const subset = { corruption: "frost" as const, severity };
      const out = corruptCrop(
        images[k]!,
        subset,
        corruptionRng(meta.seed, key, subset),
        textures,
      );
      const base = (n * 5 + severity - 1) * nr * w;
      let diff = 0;
      for (const [r, row] of (meta.rows as number[]).entries()) {
        for (let i = 0; i < w; i++) {
          if (out.data[row * w + i] !== expected[base + r * w + i]) diff++;
        }
      }
      assert.equal(diff, 0, `${key}/${severity}: ${diff} samples differ`);
    }
  }
});

Deno.test("corruptCrop() refuses frost without textures", () => {
  const s = { corruption: "frost" as const, severity: 2 as const };
  assert.throws(
    () => corruptCrop(images[0]!, s, corruptionRng(0, "k", s)),
    /photographs of frost/,
  );
});

Deno.test("loadFrostTextures() names the file that is missing, not an image or too small", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hfss_frost_" });
  try {
    for (const f of kFrostTextureFiles) {
      await Deno.copyFile(join(kFrostDir, f), join(dir, f));
    }
    await Deno.remove(join(dir, "frost4.jpg"));
    await assert.rejects(
      () => loadFrostTextures(dir),
      (e: unknown) =>
        e instanceof UserError &&
        e.message ===
          `Cannot read frost texture "${
            join(dir, "frost4.jpg")
          }": file not found`,
    );
    await Deno.writeFile(
      join(dir, "frost4.jpg"),
      new TextEncoder().encode("x"),
    );
    await assert.rejects(
      () => loadFrostTextures(dir),
      (e: unknown) =>
        e instanceof UserError && e.message.includes("frost4.jpg") &&
        /not a JPEG or PNG/.test(e.message),
    );
    await Deno.copyFile(join(kFrostDir, "frost4.jpg"), join(dir, "frost4.jpg"));
    // 224 rows: `randint(0, 0)` has nothing to draw from.
    await Deno.writeFile(
      join(dir, "frost2.png"),
      encodePng({
        width: 300,
        height: 224,
        data: new Uint8Array(300 * 224 * 3),
        channels: 3,
        depth: 8,
      }),
    );
    await assert.rejects(
      () => loadFrostTextures(dir),
      (e: unknown) =>
        e instanceof UserError && e.message.includes("frost2.png") &&
        /300x224/.test(e.message) && !e.message.includes("\n"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
