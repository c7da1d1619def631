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
import { join } from "node:path";
import type { BenchContext } from "../context.ts";
import { preparePlanted } from "../../src/planted/prepare.ts";
import { defaultParams } from "../../src/planted/dataset.ts";
import { readStage, stageDir, stageMask } from "../../src/dfm/store.ts";
import { runSearch, type SearchOptions } from "../../src/search/search.ts";
import {
  plantedSimulationInputs,
  type SimulatedRaceStage,
  simulateRace,
} from "../../src/planted/race_simulate.ts";
import { recoverySummary } from "../../src/planted/metrics.ts";
import {
  defaultRaceParams,
  type RaceParams,
  raceTable,
} from "../../src/search/race.ts";

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
): {
  overlap: number;
  minOverlap: number;
  rank0: number;
  gap: number;
  /** Mean overlap of each class over the stages. */
  perClass: number[];
} {
  let ov = 0, min = 1, same = 0, n = 0, gap = 0;
  const perClass: number[] = [];
  raced.forEach((st, s) => {
    st.ids.forEach((ids, c) => {
      const e = exhaustive[s]!.ids[c]!;
      const o = e.length
        ? ids.filter((j) => e.includes(j)).length / e.length
        : 1;
      ov += o;
      perClass[c] = (perClass[c] ?? 0) + o / raced.length;
      min = Math.min(min, o);
      if (ids[0] === e[0]) same++;
      const g = st.losses[c]![0]! - exhaustive[s]!.losses[c]![0]!;
      if (Number.isFinite(g)) gap = Math.max(gap, g);
      n++;
    });
  });
  return { overlap: ov / n, minOverlap: min, rank0: same / n, gap, perClass };
}

function simulated(candidates: number, perClass: number) {
  const { params, spec, energies, labels, bins } = plantedSimulationInputs(
    perClass,
  );
  const base = {
    spec,
    energies,
    labels,
    stages: 4,
    candidates,
    proportion: 0.8,
    topN: 10,
    seed: params.seed,
  };
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

/** Top-N ids and losses of every class of a stage folder. */
async function stageTops(dir: string) {
  const st = await readStage(dir);
  return {
    ids: st.manifest.top.map((t) => t.candidates),
    losses: st.manifest.top.map((t) => t.losses.map((l) => l ?? NaN)),
    rank0: st.manifest.classes.map((_, c) => stageMask(st, c, 0)),
    manifest: st.manifest,
  };
}

/**
 * The real search on a written planted benchmark: exhaustive stages 1..4,
 * raced stages 1..4 (own lineage: wall time, evaluations, recall), and each
 * raced stage k > 1 again from the exhaustive stage k − 1 (same pools:
 * overlap and rank-0 against exhaustive).
 */
async function realSearch(
  ctx: BenchContext,
  o: { candidates: number; perClass: number; stages: number },
): Promise<Record<string, unknown>> {
  const tmp = await Deno.makeTempDir({ prefix: "hfss_bench_race_" });
  try {
    const params = defaultParams({ perClass: o.perClass });
    const prep = await preparePlanted(join(tmp, "planted"), params);
    const bins = prep.truth.classes.map((c) => c.bins);
    const stages = Array.from({ length: o.stages }, (_, i) => i + 1);
    const base: SearchOptions = {
      model: prep.modelPath,
      data: join(tmp, "planted", "images"),
      layout: "folders",
      stages,
      out: "",
      candidates: o.candidates,
      top: 10,
      split: 1,
      seed: params.seed,
      batchSize: 256,
      blockImages: 64,
      gpu: ctx.gpu!,
      log: () => {},
    };
    const race = defaultRaceParams(10);
    const recovery = async (out: string) => {
      const t = await stageTops(stageDir(out, o.stages));
      const r = recoverySummary(t.rank0, { size: params.size, bins });
      return { recall: r.meanRecall, other_kept: r.meanOtherKept };
    };
    ctx.log(
      `race: exhaustive search, stages 1-${o.stages}, N_B ${o.candidates}`,
    );
    const ex = await runSearch({ ...base, out: join(tmp, "exhaustive") });
    ctx.log("race: raced search, same stages");
    const ra = await runSearch({ ...base, out: join(tmp, "raced"), race });
    const sameTops = [];
    const exTops = [];
    for (const k of stages) {
      exTops.push(await stageTops(stageDir(join(tmp, "exhaustive"), k)));
      if (k === 1) {
        sameTops.push(await stageTops(stageDir(join(tmp, "raced"), 1)));
        continue;
      }
      ctx.log(`race: raced stage ${k} from the exhaustive stage ${k - 1}`);
      const out = join(tmp, `same${k}`);
      await runSearch({
        ...base,
        out,
        stages: [k],
        from: stageDir(join(tmp, "exhaustive"), k - 1),
        race,
      });
      sameTops.push(await stageTops(stageDir(out, k)));
    }
    const cmp = compareTops(sameTops, exTops);
    const sum = (s: typeof ex.stages, f: (x: typeof s[number]) => number) =>
      s.reduce((a, x) => a + f(x), 0);
    const spent = sameTops.reduce(
      (a, t) => a + Number(t.manifest.evaluations_spent),
      0,
    );
    const all = sameTops.reduce(
      (a, t) => a + Number(t.manifest.evaluations_exhaustive),
      0,
    );
    return {
      config: {
        classes: params.classes,
        images_per_class: o.perClass,
        candidates: o.candidates,
        stages: o.stages,
        rule: race.rule,
        slice: race.slice,
        keep: race.keep,
        min_keep: race.minKeep,
      },
      exhaustive: {
        evaluations: sum(ex.stages, (s) => s.evaluations),
        seconds: sum(ex.stages, (s) => s.seconds),
        ...(await recovery(join(tmp, "exhaustive"))),
      },
      raced: {
        evaluations: sum(ra.stages, (s) => s.evaluations),
        seconds: sum(ra.stages, (s) => s.seconds),
        ...(await recovery(join(tmp, "raced"))),
      },
      evaluations_ratio: sum(ex.stages, (s) => s.evaluations) /
        sum(ra.stages, (s) => s.evaluations),
      wall_time_ratio: sum(ex.stages, (s) => s.seconds) /
        sum(ra.stages, (s) => s.seconds),
      same_pools: {
        evaluations_ratio: all / spent,
        top_overlap: cmp.overlap,
        min_class_overlap: cmp.minOverlap,
        per_class_overlap: cmp.perClass.map((v) => +v.toFixed(3)).join(" "),
        rank0_identical: cmp.rank0,
        max_rank0_loss_gap: cmp.gap,
      },
    };
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/**
 * Evaluations exhaustive / raced of the default rule for M candidates and n
 * images per class: successive halving's cost depends on nothing else.
 */
function halvingBudget(): Record<string, number> {
  const out: Record<string, number> = {};
  const p = defaultRaceParams(10);
  for (const m of [60, 150, 300, 498]) {
    for (const n of [32, 64, 128, 256]) {
      const r = raceTable(new Float64Array(m * n), {
        numCandidates: m,
        images: n,
        params: p,
      });
      out[`m${m}_n${n}`] = (m * n) / r.evaluations;
    }
  }
  return out;
}

/** Run the suite. */
export async function run(ctx: BenchContext): Promise<Record<string, unknown>> {
  const figures: Record<string, unknown> = {
    default_rule_budget_ratio: halvingBudget(),
  };
  for (const nb of ctx.quick ? [60] : [300, 60]) {
    ctx.log(`race: simulated planted search, N_B ${nb}, 64 images per class`);
    figures[`simulated_nb${nb}`] = simulated(nb, 64);
  }
  if (!ctx.gpu) {
    figures.search = { skipped: "no WebGPU adapter" };
    return figures;
  }
  figures.search = await realSearch(ctx, {
    candidates: ctx.quick ? 60 : 300,
    perClass: 64,
    stages: ctx.quick ? 2 : 4,
  });
  return figures;
}
