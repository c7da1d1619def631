/**
 * race suite: racing (`search --race`) side by side with exhaustive search.
 *
 * Part 1, `simulated`: the planted benchmark (10 classes, 64 images per
 * class, S = 32, top 10, four stages), every (candidate, image)
 * cross-entropy computed exactly from pair energies (`race_simulate.ts`,
 * the search's own candidates). For each rule: candidate × image
 * evaluations exhaustive / raced (`ratio`), top-N overlap per class and
 * rank-0 identity against exhaustive ranking of the same pools (each stage
 * raced from the exhaustive run's parents), the largest rank-0 loss gap, and
 * the end-to-end raced run's planted recall and other-kept. At N_B 300 and
 * N_B 60.
 *
 * Part 2, `search`: the real search (`runSearch`, GPU filter, ONNX model) on
 * a written planted benchmark, exhaustive and raced with the default rule, in
 * the same run: evaluations, wall time, overlap, rank-0 identity or loss gap,
 * recall and other-kept.
 */
import type { BenchContext } from "../context.ts";
import {
  defaultParams,
  generateImages,
  imagesToTensor,
  plantedTruth,
} from "../../src/planted/dataset.ts";
import { pairEnergies } from "../../src/planted/model.ts";
import { calibratePlanted } from "../../src/planted/prepare.ts";
import {
  type SimulatedRaceStage,
  simulateRace,
} from "../../src/planted/race_simulate.ts";
import { recoverySummary } from "../../src/planted/metrics.ts";
import { defaultRaceParams, type RaceParams } from "../../src/search/race.ts";

/** Rules measured, by name. */
export const kMeasuredRules: [string, Partial<RaceParams>][] = [
  ["halving_s8_k0.5", { rule: "halving", slice: 8, keep: 0.5 }],
  ["halving_s4_k0.5", { rule: "halving", slice: 4, keep: 0.5 }],
  ["halving_s8_k0.33", { rule: "halving", slice: 8, keep: 1 / 3 }],
  ["halving_s16_k0.5", { rule: "halving", slice: 16, keep: 0.5 }],
  ["gaussian_s8_z2", { rule: "gaussian", slice: 8, z: 2 }],
  ["gaussian_s8_z1", { rule: "gaussian", slice: 8, z: 1 }],
  ["gaussian_s8_z0.5", { rule: "gaussian", slice: 8, z: 0.5 }],
  ["bernstein_s8_d0.05", { rule: "bernstein", slice: 8, delta: 0.05 }],
];

/** Overlap, rank-0 identity and loss gap of raced stages against exhaustive ones. */
export function compareTops(
  raced: readonly { ids: number[][]; losses: number[][] }[],
  exhaustive: readonly { ids: number[][]; losses: number[][] }[],
): { overlap: number; minOverlap: number; rank0: number; gap: number } {
  let ov = 0, min = 1, same = 0, n = 0, gap = 0;
  raced.forEach((st, s) => {
    st.ids.forEach((ids, c) => {
      const e = exhaustive[s]!.ids[c]!;
      const o = e.length
        ? ids.filter((j) => e.includes(j)).length / e.length
        : 1;
      ov += o;
      min = Math.min(min, o);
      if (ids[0] === e[0]) same++;
      const g = st.losses[c]![0]! - exhaustive[s]!.losses[c]![0]!;
      if (Number.isFinite(g)) gap = Math.max(gap, g);
      n++;
    });
  });
  return { overlap: ov / n, minOverlap: min, rank0: same / n, gap };
}

function simulated(candidates: number, perClass: number) {
  const params = defaultParams({ perClass });
  const truth = plantedTruth(params);
  const images = generateImages(params, { split: "train", perClass });
  const { spec } = calibratePlanted(images, { truth, params, targetCe: 0.3 });
  const base = {
    spec,
    energies: pairEnergies(imagesToTensor(images, params.size), spec),
    labels: images.map((i) => i.label),
    stages: 4,
    candidates,
    proportion: 0.8,
    topN: 10,
    seed: params.seed,
  };
  const bins = truth.classes.map((c) => c.bins);
  const recovery = (st: SimulatedRaceStage[]) => {
    const r = recoverySummary(st.at(-1)!.masks.map((m) => m[0]!), {
      size: params.size,
      bins,
    });
    return { recall: r.meanRecall, other_kept: r.meanOtherKept };
  };
  const exhaustive = simulateRace({ ...base, race: null });
  const out: Record<string, unknown> = {
    exhaustive: {
      evaluations: exhaustive.reduce((a, s) => a + s.evaluations, 0),
      ...recovery(exhaustive),
    },
  };
  for (const [name, over] of kMeasuredRules) {
    const race = { ...defaultRaceParams(10), ...over };
    const same = simulateRace({ ...base, race, parents: exhaustive });
    const spent = same.reduce((a, s) => a + s.evaluations, 0);
    const all = same.reduce((a, s) => a + s.evaluationsExhaustive, 0);
    const cmp = compareTops(same, exhaustive);
    const chain = simulateRace({ ...base, race });
    out[name] = {
      ratio: all / spent,
      top_overlap: cmp.overlap,
      min_class_overlap: cmp.minOverlap,
      rank0_identical: cmp.rank0,
      max_rank0_loss_gap: cmp.gap,
      ...recovery(chain),
    };
  }
  return out;
}

/** Run the suite. */
export function run(ctx: BenchContext): Promise<Record<string, unknown>> {
  const figures: Record<string, unknown> = {};
  for (const nb of ctx.quick ? [60] : [300, 60]) {
    ctx.log(`race: simulated planted search, N_B ${nb}, 64 images per class`);
    figures[`simulated_nb${nb}`] = simulated(nb, 64);
  }
  return Promise.resolve(figures);
}
