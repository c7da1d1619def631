import assert from "node:assert/strict";
import {
  benchRaceFactor,
  benchRate,
  formatDuration,
  kPaperSetting,
  projectSearch,
} from "../../src/shard/projection.ts";

function close(a: number, b: number): void {
  assert.ok(Math.abs(a - b) <= 1e-12 * Math.abs(b), `${a} vs ${b}`);
}

const base = {
  ...kPaperSetting,
  evaluationsPerSecond: 1000,
  stageOverheadSeconds: 0,
  raceFactor: 1,
};

Deno.test("projectSearch() counts the paper's 191 million evaluations and divides them over shards", () => {
  const one = projectSearch({ ...base, shards: 1 });
  assert.equal(one.evaluations, 1000 * 64 * 498 * 6);
  close(one.totalSeconds, one.evaluations / 1000);
  assert.equal(one.speedup, 1);
  const ten = projectSearch({ ...base, shards: 10 });
  assert.equal(ten.maxShardClasses, 100);
  close(ten.totalSeconds, 100 * 64 * 498 * 6 / 1000);
  close(ten.speedup, 10);
});

Deno.test("projectSearch() waits for the largest shard and adds the per-stage overhead", () => {
  // 1000 classes over 7 shards: the largest holds 143 classes.
  const p = projectSearch({ ...base, shards: 7, stageOverheadSeconds: 30 });
  assert.equal(p.maxShardClasses, 143);
  close(p.stageSeconds, 143 * 64 * 498 / 1000 + 30);
  close(p.totalSeconds, 6 * p.stageSeconds);
  const raced = projectSearch({ ...base, shards: 7, raceFactor: 4 });
  close(raced.stageSeconds, 143 * 64 * 498 / 1000 / 4);
});

Deno.test("benchRate() reads the search rate of a pipeline bench result", () => {
  const json = {
    cpus: 2,
    adapter: { description: "llvmpipe" },
    figures: {
      config: { backend: "wasm" },
      "mobilenet_v1_0.25_128": { search_evaluations_per_s: 577 },
      "mobilenet_v2_1.0_224": { search_evaluations_per_s: 46.9 },
    },
  };
  assert.deepEqual(benchRate(json), {
    name: "mobilenet_v2_1.0_224",
    evaluationsPerSecond: 46.9,
    adapter: "llvmpipe",
    cpus: 2,
  });
  assert.equal(
    benchRate(json, "mobilenet_v1_0.25_128").evaluationsPerSecond,
    577,
  );
  assert.throws(() => benchRate(json, "resnet"), /no case "resnet"/);
  assert.throws(() => benchRate({ figures: { fft: {} } }), /--only pipeline/);
});

Deno.test("formatDuration() picks a readable unit", () => {
  assert.equal(formatDuration(52), "52 s");
  assert.equal(formatDuration(600), "10.0 min");
  assert.equal(formatDuration(5 * 3600), "5.0 h");
  assert.equal(formatDuration(9.2 * 86400), "9.2 days");
});

Deno.test("benchRaceFactor() reads the racing ratio of the setting from a race bench result", () => {
  const json = {
    figures: { default_rule_budget_ratio: { m498_n64: 3.88, m60_n32: 1.85 } },
  };
  assert.equal(benchRaceFactor(json, 498, 64), 3.88);
  assert.throws(
    () => benchRaceFactor(json, 498, 32),
    /no racing figure m498_n32/,
  );
  assert.throws(() => benchRaceFactor({ figures: {} }, 498, 64), /--only race/);
});
