/**
 * Racing on the planted model, simulated exactly on the CPU.
 *
 * Same construction as `simulate.ts` (masked logits follow from clean pair
 * energies, the candidates are the search's own `CandidatePools`), but every
 * (candidate, image) cross-entropy is kept, so a stage can be raced with any
 * rule (`race.ts`) and compared with exhaustive ranking on the very same
 * values. Each run follows its own lineage: stage k's parents are that run's
 * stage k−1 top-N. Used by `bench --only race` to choose the default rule
 * and by tests.
 */
import type { SymmetryMode } from "../dfm/symmetry.ts";
import { CandidatePools, type Lineage } from "../search/lineage.ts";
import { topN } from "../search/topn.ts";
import { type RaceParams, raceTable } from "../search/race.ts";
import {
  logitsFromEnergies,
  maskPairGains,
  type PlantedModelSpec,
} from "./model.ts";

/** Options of {@linkcode simulateRace}. */
export interface SimulateRaceOptions {
  spec: PlantedModelSpec;
  /** Clean pair energies [N, P] of the search images (image order = search order). */
  energies: Float64Array;
  labels: ArrayLike<number>;
  stages: number;
  candidates: number;
  proportion: number;
  topN: number;
  seed: number;
  /** Racing parameters; null ranks exhaustively. */
  race: RaceParams | null;
  /**
   * Parents of stage k > 1 from another run (its stage k−1), so that both
   * runs rank the same pools; default: this run's own previous stage.
   */
  parents?: readonly SimulatedRaceStage[];
  lineage?: Lineage;
  symmetry?: SymmetryMode;
}

/** One simulated stage. */
export interface SimulatedRaceStage {
  stage: number;
  /** Top-N candidate ids per class. */
  ids: number[][];
  /** masks[c][r]: S×S 0/1. */
  masks: Uint8Array[][];
  losses: number[][];
  /** Candidate × image evaluations spent and those of exhaustive ranking. */
  evaluations: number;
  evaluationsExhaustive: number;
}

/** Run the simulated staged search, raced or exhaustive. */
export function simulateRace(o: SimulateRaceOptions): SimulatedRaceStage[] {
  const { spec, energies, labels } = o;
  const s = spec.size, k = spec.classes, p = spec.pairs.length;
  const byClass: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]!]!.push(i);
  const classEnergy = byClass.map((idx) => {
    const e = new Float64Array(idx.length * p);
    idx.forEach((i, r) => e.set(energies.subarray(i * p, (i + 1) * p), r * p));
    return e;
  });
  const out: SimulatedRaceStage[] = [];
  let prev: SimulatedRaceStage | null = null;
  for (let stage = 1; stage <= o.stages; stage++) {
    const parent: SimulatedRaceStage | null = o.parents
      ? (o.parents[stage - 2] ?? null)
      : prev;
    const pools = new CandidatePools({
      seed: o.seed,
      stage,
      size: s,
      candidates: o.candidates,
      proportion: o.proportion,
      symmetry: o.symmetry ?? "exact",
      lineage: o.lineage ?? "per-class",
      ...(parent
        ? {
          parents: {
            stage: parent.stage,
            numClasses: k,
            ranksOf: (c: number) => parent.masks[c]!.length,
            mask: (c: number, r: number) => parent.masks[c]![r]!,
          },
        }
        : {}),
    });
    const m = pools.count;
    const losses = new Float64Array(m * k).fill(NaN);
    let evaluations = 0, exhaustive = 0;
    const masks: Uint8Array[][] = [];
    const ids: number[][] = [];
    for (let c = 0; c < k; c++) {
      const all = pools.masks(c);
      const n = byClass[c]!.length;
      const ce = new Float64Array(m * n);
      for (let j = 0; j < m; j++) {
        const gains = maskPairGains(
          all.subarray(j * s * s, (j + 1) * s * s),
          spec,
        );
        const logits = logitsFromEnergies(classEnergy[c]!, spec, { gains });
        for (let i = 0; i < n; i++) {
          let mx = -Infinity;
          for (let q = 0; q < k; q++) mx = Math.max(mx, logits[i * k + q]!);
          let se = 0;
          for (let q = 0; q < k; q++) se += Math.exp(logits[i * k + q]! - mx);
          ce[j * n + i] = mx + Math.log(se) - logits[i * k + c]!;
        }
      }
      const kept = o.race
        ? raceTable(ce, { numCandidates: m, images: n, params: o.race })
        : {
          survivors: Array.from({ length: m }, (_, j) => j),
          evaluations: m * n,
        };
      evaluations += kept.evaluations;
      exhaustive += m * n;
      for (const j of kept.survivors) {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += ce[j * n + i]!;
        losses[j * k + c] = n ? sum / n : NaN;
      }
    }
    const top = topN(losses, { numCandidates: m, numClasses: k, n: o.topN });
    for (let c = 0; c < k; c++) {
      const all = pools.masks(c);
      ids.push(top.indices[c]!);
      masks.push(
        top.indices[c]!.map((j) => all.slice(j * s * s, (j + 1) * s * s)),
      );
    }
    prev = {
      stage,
      ids,
      masks,
      losses: top.losses,
      evaluations,
      evaluationsExhaustive: exhaustive,
    };
    out.push(prev);
  }
  return out;
}
