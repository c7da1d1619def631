import assert from "node:assert/strict";
import {
  checkRaceParams,
  defaultRaceParams,
  type RaceParams,
  RaceState,
  raceTable,
  survivors,
} from "../../src/search/race.ts";
import { OptionError } from "../../src/errors.ts";
import { join } from "node:path";
import { gpuAvailable } from "../gpu_helper.ts";
import { runSearch } from "../../src/search/search.ts";
import { readStage, stageMask } from "../../src/dfm/store.ts";
import { defaultParams } from "../../src/planted/dataset.ts";
import { preparePlanted } from "../../src/planted/prepare.ts";
import { recoverySummary } from "../../src/planted/metrics.ts";
import {
  writeTinyDataset,
  writeTinyModel,
} from "../../src/testing/tiny_search.ts";

function params(over: Partial<RaceParams>): RaceParams {
  return { ...defaultRaceParams(1), minKeep: 1, ...over };
}

/** Sums of per-image values, one row per candidate. */
function stats(rows: number[][], ids = rows.map((_, i) => i)) {
  return {
    ids,
    sum: rows.map((r) => r.reduce((a, b) => a + b, 0)),
    sumSq: rows.map((r) => r.reduce((a, b) => a + b * b, 0)),
    t: rows[0]!.length,
    range: Math.max(...rows.flat()) - Math.min(...rows.flat()),
  };
}

// Hand-computed: candidate 0 has mean 1, sample variance 4/3; candidate 1
// mean 3, variance 0; candidate 2 mean 1.5, sample variance 1/3 (t = 4).
const kRows = [[0, 2, 0, 2], [3, 3, 3, 3], [1, 2, 1, 2]];

Deno.test("survivors() halving keeps ceil(keep x live) by mean, ties by id, at least minKeep", () => {
  const s = stats([[5], [1], [4], [2], [3]]);
  assert.deepEqual(survivors(s, params({ rule: "halving", keep: 0.5 })), [
    1,
    3,
    4,
  ]);
  assert.deepEqual(
    survivors(s, params({ rule: "halving", keep: 0.5, minKeep: 4 })),
    [1, 2, 3, 4],
  );
  const tie = stats([[2], [1], [1], [1]], [7, 3, 9, 5]);
  assert.deepEqual(survivors(tie, params({ rule: "halving", keep: 0.5 })), [
    3,
    5,
  ]);
});

Deno.test("survivors() gaussian drops a candidate whose lower bound is above the N-th upper bound", () => {
  // z = 1: UCB0 = 1 + sqrt(1/3) = 1.577; LCB1 = 3 > 1.577 (dropped);
  // LCB2 = 1.5 - sqrt(1/12) = 1.211 <= 1.577 (kept).
  assert.deepEqual(
    survivors(stats(kRows), params({ rule: "gaussian", z: 1 })),
    [0, 2],
  );
  // z = 0: bounds are the means; the bar is candidate 0's mean 1.
  assert.deepEqual(
    survivors(stats(kRows), params({ rule: "gaussian", z: 0 })),
    [0],
  );
  // top 2: the bar is the second smallest upper bound (1.789 at z = 1).
  assert.deepEqual(
    survivors(stats(kRows), params({ rule: "gaussian", z: 1, top: 2 })),
    [0, 2],
  );
  // The floor keeps the best by mean even when the bounds would drop them.
  assert.deepEqual(
    survivors(stats(kRows), params({ rule: "gaussian", z: 0, minKeep: 2 })),
    [0, 2],
  );
});

Deno.test("survivors() bernstein uses sqrt(2 V l / t) + 3 R l / t with l = ln(3/delta)", () => {
  const delta = 3 / Math.E ** 2; // l = 2
  // R = 0.5: h0 = 1 + 0.75, h1 = 0.75: LCB1 = 2.25 < UCB0 = 2.75, all kept.
  assert.deepEqual(
    survivors(stats(kRows), params({ rule: "bernstein", delta, range: 0.5 })),
    [0, 1, 2],
  );
  // R = 0.1: UCB0 = 1 + 1.15 = 2.15, LCB1 = 3 - 0.15 = 2.85 (dropped),
  // LCB2 = 1.5 - 0.65 = 0.85 (kept).
  assert.deepEqual(
    survivors(stats(kRows), params({ rule: "bernstein", delta, range: 0.1 })),
    [0, 2],
  );
  // R = 0: the observed range 3 makes every bound wide.
  assert.deepEqual(
    survivors(stats(kRows), params({ rule: "bernstein", delta, range: 0 })),
    [0, 1, 2],
  );
});

Deno.test("RaceState runs slices, spends the hand-counted evaluations and drops nothing after the last slice", () => {
  // 4 candidates, 10 images, slices of 4: 4x4 + 2x4 + 1x2 = 26 evaluations.
  const values = [
    [4, 4, 4, 4, 4, 4, 4, 4, 4, 4],
    [1, 1, 1, 1, 9, 9, 9, 9, 9, 9],
    [3, 3, 3, 3, 3, 3, 3, 3, 3, 3],
    [2, 2, 2, 2, 1, 1, 1, 1, 1, 1],
  ].flat();
  const p = params({ rule: "halving", keep: 0.5, slice: 4 });
  const r = raceTable(values, { numCandidates: 4, images: 10, params: p });
  assert.equal(r.evaluations, 26);
  // After slice 1: means 4, 1, 3, 2 -> keep 1, 3; after slice 2: sums 40, 12 -> keep 3.
  assert.deepEqual(r.survivors, [3]);
  const none = raceTable(values, {
    numCandidates: 4,
    images: 10,
    params: params({ rule: "none", slice: 4 }),
  });
  assert.deepEqual(none, { survivors: [0, 1, 2, 3], evaluations: 40 });
});

Deno.test("RaceState toBytes() and loadBytes() resume a race exactly", () => {
  const p = params({ rule: "gaussian", z: 1, slice: 2 });
  const make = () =>
    new RaceState({ params: p, numCandidates: 3, imagesOf: [4, 6] });
  const a = make();
  for (let i = 0; i < 2; i++) {
    for (const j of a.alive(1)) a.add(1, j, kRows[j]![i]!);
  }
  a.endSlice(1);
  const b = make();
  b.loadBytes(a.toBytes());
  assert.deepEqual(b.toBytes(), a.toBytes());
  assert.deepEqual(b.alive(1), a.alive(1));
  assert.deepEqual(b.nextSlice(1), [2, 4]);
  assert.deepEqual(b.nextSlice(0), [0, 2]);
  assert.throws(() => b.loadBytes(new Uint8Array(8)), /Cannot restore/);
});

Deno.test("checkRaceParams() names the option key of a bad value", () => {
  assert.throws(
    () => checkRaceParams(params({ keep: 0 })),
    (e) => e instanceof OptionError && e.option === "raceKeep",
  );
  assert.throws(
    () => checkRaceParams(params({ slice: 0 })),
    (e) => e instanceof OptionError && e.option === "raceSlice",
  );
  assert.throws(
    () => checkRaceParams(params({ rule: "x" as RaceParams["rule"] })),
    (e) => e instanceof OptionError && e.option === "race",
  );
});

// End to end: runSearch with racing.

const kGpu = { ignore: !gpuAvailable, sanitizeResources: false };

Deno.test({
  name:
    "runSearch() racing with elimination disabled writes the exhaustive stages byte for byte",
  ...kGpu,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "hfss_race_none_" });
    try {
      const model = join(tmp, "tiny.onnx");
      await writeTinyModel(model, { size: 32, classes: 3 });
      const data = join(tmp, "data");
      await writeTinyDataset(data, { size: 32, classes: 3, perClass: 7 });
      const search = (out: string, race?: RaceParams) =>
        runSearch({
          model,
          data,
          stages: [1, 2],
          out: join(tmp, out),
          candidates: 12,
          top: 3,
          split: 1,
          batchSize: 10,
          blockImages: 4,
          normalize: "inception",
          log: () => {},
          ...(race ? { race } : {}),
        });
      const ex = await search("exhaustive");
      const none = await search("none", {
        ...defaultRaceParams(3),
        rule: "none",
        slice: 3,
      });
      for (const k of [1, 2]) {
        const a = join(tmp, "exhaustive", `stage${k}`);
        const b = join(tmp, "none", `stage${k}`);
        for (const f of ["masks.npy", "losses.npy"]) {
          assert.deepEqual(
            await Deno.readFile(join(b, f)),
            await Deno.readFile(join(a, f)),
            `stage ${k} ${f}`,
          );
        }
        const ma = (await readStage(a)).manifest;
        const mb = (await readStage(b)).manifest;
        assert.deepEqual(mb.top, ma.top);
        // The recorded configuration names the race; nothing else differs.
        const extraB = structuredClone(mb.extra) as {
          search: { configuration?: Record<string, unknown> };
        };
        assert.equal(
          (extraB.search.configuration?.race as { rule: string }).rule,
          "none",
        );
        delete extraB.search.configuration?.race;
        assert.deepEqual(extraB, ma.extra);
        // Only raced stages carry the race fields.
        assert.equal(ma.race, undefined);
        assert.equal(mb.race!.rule, "none");
        assert.equal(mb.evaluations_spent, 12 * 21);
        assert.equal(mb.evaluations_exhaustive, 12 * 21);
      }
      assert.deepEqual(
        none.stages.map((s) => s.evaluations),
        ex.stages.map((s) => s.evaluations),
      );
      // Racing is part of the configuration: another rule is refused on resume.
      await assert.rejects(
        search("none", { ...defaultRaceParams(3), slice: 3 }),
        /Cannot resume the search/,
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "runSearch() raced on the planted benchmark keeps recall >= 0.9 with fewer evaluations",
  ...kGpu,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "hfss_race_planted_" });
    try {
      const params = defaultParams({ perClass: 64 });
      const prep = await preparePlanted(join(tmp, "planted"), params);
      const search = (out: string) =>
        runSearch({
          model: prep.modelPath,
          data: join(tmp, "planted", "images"),
          layout: "folders",
          stages: [1, 2, 3, 4],
          out: join(tmp, out),
          candidates: 60,
          top: 10,
          split: 1,
          seed: params.seed,
          batchSize: 256,
          blockImages: 64,
          race: defaultRaceParams(10),
          log: () => {},
        });
      const r = await search("raced");
      const last = await readStage(join(tmp, "raced", "stage4"));
      const rank0 = last.manifest.classes.map((_, c) => stageMask(last, c, 0));
      const rec = recoverySummary(rank0, {
        size: params.size,
        bins: prep.truth.classes.map((c) => c.bins),
      });
      assert.ok(rec.meanRecall >= 0.9, `recall ${rec.meanRecall}`);
      const spent = r.stages.reduce((a, s) => a + s.evaluations, 0);
      const all = r.stages.reduce(
        (a, s) => a + s.candidates * s.images,
        0,
      );
      assert.ok(spent < all / 1.5, `${spent} of ${all}`);
      assert.equal(last.manifest.evaluations_spent, r.stages[3]!.evaluations);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "runSearch() raced, interrupted at any point and rerun, writes byte-identical stages",
  ...kGpu,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "hfss_race_resume_" });
    try {
      const model = join(tmp, "tiny.onnx");
      await writeTinyModel(model, { size: 32, classes: 3 });
      const data = join(tmp, "data");
      await writeTinyDataset(data, { size: 32, classes: 3, perClass: 7 });
      const race = { ...defaultRaceParams(2), slice: 2 };
      const search = (out: string, stopAfter = Infinity) => {
        let seen = 0;
        return runSearch({
          model,
          data,
          stages: [1, 2],
          out: join(tmp, out),
          candidates: 12,
          top: 2,
          split: 1,
          batchSize: 10,
          normalize: "inception",
          checkpointSeconds: 0,
          race,
          log: () => {},
          progress: {
            start() {},
            tick(n) {
              seen += n;
              if (seen > stopAfter) throw new Error("interrupted");
            },
            finish() {},
          },
        });
      };
      const full = await search("full");
      const spent = full.stages.reduce((a, s) => a + s.evaluations, 0);
      // Interrupt three times (each run counts its own evaluations), then
      // let it finish.
      for (const stop of [15, Math.floor(spent / 3), Math.floor(spent / 3)]) {
        await assert.rejects(search("resumed", stop), /interrupted/);
      }
      const resumed = await search("resumed");
      assert.ok(resumed.stages.some((s) => s.resumed || s.skipped));
      for (const k of [1, 2]) {
        for (const f of ["masks.npy", "losses.npy", "manifest.json"]) {
          assert.deepEqual(
            await Deno.readFile(join(tmp, "resumed", `stage${k}`, f)),
            await Deno.readFile(join(tmp, "full", `stage${k}`, f)),
            `stage ${k} ${f}`,
          );
        }
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
