import assert from "node:assert/strict";
import { join } from "node:path";
import {
  checkCorruptRecord,
  CorruptRecordError,
  kCorruptRecordFile,
} from "../../src/corrupt/record.ts";
import type { CorruptionSubset } from "../../src/corrupt/registry.ts";

const kNoise: CorruptionSubset = { corruption: "gaussian_noise", severity: 1 };
const kBlur: CorruptionSubset = { corruption: "zoom_blur", severity: 2 };

function record(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    generator_version: 1,
    subsets: ["gaussian_noise/1"],
    seed: 1,
    format: "jpeg",
    device: "cpu",
    frost_textures: null,
    not_generated: { frost: "no textures" },
    ...over,
  };
}

async function withRecord(
  saved: Record<string, unknown> | string | null,
  body: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hfss_corrupt_record_" });
  try {
    if (saved !== null) {
      await Deno.writeTextFile(
        join(dir, kCorruptRecordFile),
        typeof saved === "string" ? saved : JSON.stringify(saved),
      );
    }
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("checkCorruptRecord() returns this run's record for a new or empty folder", async () => {
  await withRecord(null, async (dir) => {
    const current = record();
    assert.equal(await checkCorruptRecord(dir, current, [kNoise]), current);
    assert.equal(
      await checkCorruptRecord(join(dir, "missing"), current, [kNoise]),
      current,
    );
  });
});

Deno.test("checkCorruptRecord() joins the subsets and adds frost textures on a matching rerun", async () => {
  // A record without a generator version was written by version 1.
  const { generator_version: _, ...old } = record();
  await withRecord(old, async (dir) => {
    const textures = [{ file: "frost1.png", sha256: "ab".repeat(32) }];
    const r = await checkCorruptRecord(
      dir,
      record({ subsets: ["zoom_blur/2"], frost_textures: textures }),
      [kBlur],
    );
    assert.deepStrictEqual(r.subsets, ["gaussian_noise/1", "zoom_blur/2"]);
    assert.deepStrictEqual(r.frost_textures, textures);
    assert.deepStrictEqual(r.not_generated, {});
  });
});

Deno.test("checkCorruptRecord() refuses another seed, naming the option key, worded by the caller", async () => {
  await withRecord(record(), async (dir) => {
    const err = await checkCorruptRecord(dir, record({ seed: 2 }), [kNoise])
      .then(() => null, (e) => e);
    assert.ok(err instanceof CorruptRecordError);
    assert.equal(err.option, "seed");
    assert.equal(err.exitCode, 2);
    assert.match(err.message, /records seed 1, this run has 2/);
    assert.match(err.message, /recorded seed\)$/);
    assert.match(
      err.describe((k) => `<${k}>`),
      /choose another <out>, or rerun with the recorded <seed>\)$/,
    );
  });
});

Deno.test("checkCorruptRecord() refuses another generator version, blur device or texture set", async () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [
      { generator_version: 99 },
      "out",
      /records generator version 1, this run has 99 \(another hfss version/,
    ],
    [
      { device: "gpu" },
      "corruptDevice",
      /records device cpu, this run has gpu/,
    ],
  ];
  const a = [{ file: "frost1.png", sha256: "ab".repeat(32) }];
  const b = [{ file: "frost1.png", sha256: "cd".repeat(32) }];
  cases.push([
    { frost_textures: b },
    "frostTextures",
    /records frost textures frost1\.png sha256 abababababab…, this run has frost1\.png sha256 cdcdcdcdcdcd…/,
  ]);
  for (const [change, option, message] of cases) {
    const saved = record(change.frost_textures ? { frost_textures: a } : {});
    await withRecord(saved, async (dir) => {
      const err = await checkCorruptRecord(dir, record(change), [kNoise])
        .then(() => null, (e) => e);
      assert.ok(err instanceof CorruptRecordError, option);
      assert.equal(err.option, option);
      assert.match(err.message, message);
    });
  }
});

Deno.test("checkCorruptRecord() refuses a non-empty folder without a record, and a broken record", async () => {
  await withRecord(null, async (dir) => {
    await Deno.writeTextFile(join(dir, "stray.txt"), "x");
    const err = await checkCorruptRecord(dir, record(), [kNoise])
      .then(() => null, (e) => e);
    assert.ok(err instanceof CorruptRecordError);
    assert.equal(err.option, "out");
    assert.match(err.message, /not empty and has no hfss_corrupt\.json/);
  });
  await withRecord("{ not json", async (dir) => {
    const err = await checkCorruptRecord(dir, record(), [kNoise])
      .then(() => null, (e) => e);
    assert.ok(err instanceof CorruptRecordError);
    assert.match(
      err.message,
      /^Cannot read ".*hfss_corrupt\.json": .*\(choose another out\)$/,
    );
  });
});
