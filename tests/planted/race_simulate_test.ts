/**
 * Racing on the planted benchmark (exact pair-energy simulation, the search's
 * own candidates): the default rule keeps the planted recall and spends at
 * least 3x fewer evaluations than exhaustive ranking; with nothing dropped it
 * is exhaustive ranking.
 */
import assert from "node:assert/strict";
import {
  plantedSimulationInputs,
  simulateRace,
} from "../../src/planted/race_simulate.ts";
import { recoverySummary } from "../../src/planted/metrics.ts";
import { defaultRaceParams } from "../../src/search/race.ts";

Deno.test("simulateRace() with the default rule: recall >= 0.9 and >= 3x fewer evaluations on 64 images per class", () => {
  const { params, spec, energies, labels, bins } = plantedSimulationInputs(64);
  const base = {
    spec,
    energies,
    labels,
    stages: 4,
    candidates: 150,
    proportion: 0.8,
    topN: 10,
    seed: params.seed,
  };
  const raced = simulateRace({ ...base, race: defaultRaceParams(10) });
  const last = recoverySummary(raced[3]!.masks.map((m) => m[0]!), {
    size: 32,
    bins,
  });
  assert.ok(last.meanRecall >= 0.9, `recall ${last.meanRecall}`);
  const spent = raced.reduce((a, s) => a + s.evaluations, 0);
  const all = raced.reduce((a, s) => a + s.evaluationsExhaustive, 0);
  // Stage 4 is bin-level (S = 32): one variant per draw, 50 candidates.
  assert.equal(all, (3 * 150 + 50) * 640);
  assert.ok(all / spent >= 3, `ratio ${all / spent}`);
  // Rule "none" is exhaustive ranking: same top-N, same losses, all evaluations.
  const exhaustive = simulateRace({ ...base, stages: 1, race: null });
  const none = simulateRace({
    ...base,
    stages: 1,
    race: { ...defaultRaceParams(10), rule: "none" },
  });
  assert.deepEqual(none[0]!.ids, exhaustive[0]!.ids);
  assert.deepEqual(none[0]!.losses, exhaustive[0]!.losses);
  assert.equal(none[0]!.evaluations, exhaustive[0]!.evaluationsExhaustive);
});
