/**
 * The planted benchmark is recoverable: the exact pair-energy simulation of
 * the staged search (same candidates as `runSearch`) reaches the goal
 * with the demo defaults, for both layouts, without a GPU.
 */
import assert from "node:assert/strict";
import {
  defaultParams,
  generateImages,
  imagesToTensor,
  plantedTruth,
} from "../../src/planted/dataset.ts";
import { pairEnergies } from "../../src/planted/model.ts";
import { calibratePlanted } from "../../src/planted/prepare.ts";
import { simulateSearch } from "../../src/planted/simulate.ts";
import { recoverySummary } from "../../src/planted/metrics.ts";
import { kDemoDefaults } from "../../src/planted/demo.ts";

Deno.test("simulateSearch() with the demo defaults: final recall >= 0.9, other-kept <= 0.2, both layouts", () => {
  for (const layout of ["default", "lowhigh"] as const) {
    const params = defaultParams({ layout, perClass: kDemoDefaults.perClass });
    const truth = plantedTruth(params);
    const images = generateImages(params, {
      split: "train",
      perClass: params.perClass,
    });
    const { spec } = calibratePlanted(images, {
      truth,
      params,
      targetCe: kDemoDefaults.targetCe,
    });
    const stages = simulateSearch({
      spec,
      energies: pairEnergies(imagesToTensor(images, params.size), spec),
      labels: images.map((i) => i.label),
      stages: 4,
      candidates: kDemoDefaults.candidates,
      proportion: kDemoDefaults.proportion,
      topN: kDemoDefaults.top,
      seed: params.seed,
    });
    const bins = truth.classes.map((c) => c.bins);
    const last = recoverySummary(stages[3]!.masks.map((m) => m[0]!), {
      size: 32,
      bins,
    });
    assert.ok(last.meanRecall >= 0.9, `${layout}: recall ${last.meanRecall}`);
    assert.ok(
      last.meanOtherKept <= 0.2,
      `${layout}: other-kept ${last.meanOtherKept}`,
    );
    // Not trivially small masks: chance recall is the kept fraction.
    assert.ok(last.meanKeptFraction > 0.1 && last.meanKeptFraction < 0.5);
    // Stage losses ascend with rank (top-N order).
    for (const l of stages[3]!.losses) {
      for (let r = 1; r < l.length; r++) assert.ok(l[r]! >= l[r - 1]!);
    }
  }
});
