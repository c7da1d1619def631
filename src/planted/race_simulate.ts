/**
 * The staged search on the planted model, simulated exactly on the CPU, raced
 * or exhaustive.
 *
 * The planted model sees an image only through its pair energies, and a mask
 * scales them by its squared effective gains (`model.ts`), so every
 * (candidate, image) cross-entropy follows from the clean energies without
 * any FFT or ONNX run. The candidates are the search's own `CandidatePools`.
 * Every cross-entropy of a class is kept, so a stage can be raced with any
 * rule (`race.ts`) or ranked exhaustively on the very same values
 * (`simulateSearch` in simulate.ts is the exhaustive case). Each run follows
 * its own lineage unless `parents` gives another run's stages. Used by
 * `bench --only race` to choose the default rule, and by tests.
 */
import { CandidatePools } from "../search/lineage.ts";
import type { SimulatedStage, SimulateOptions } from "./simulate.ts";
import { topN } from "../search/topn.ts";
import { type RaceParams, raceTable } from "../search/race.ts";
import { crossEntropyRows } from "../model/cross_entropy.ts";
import {
  logitsFromEnergies,
  maskPairGains,
  pairEnergies,
  type PlantedModelSpec,
} from "./model.ts";
import {
  defaultParams,
  generateImages,
  imagesToTensor,
  type PlantedParams,
  plantedTruth,
} from "./dataset.ts";
import { calibratePlanted } from "./prepare.ts";

/** Options of {@linkcode simulateRace}: the simulation's, plus the race. */
export interface SimulateRaceOptions extends SimulateOptions {
  /** Racing parameters; null ranks exhaustively. */
  race: RaceParams | null;
  /**
   * Parents of stage k > 1 from another run (its stage k−1), so that both
   * runs rank the same pools; default: this run's own previous stage.
   */
  parents?: readonly SimulatedRaceStage[];
}

/** One simulated stage, with its top-N ids and the evaluations spent. */
export interface SimulatedRaceStage extends SimulatedStage {
  /** Top-N candidate ids per class. */
  ids: number[][];
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
        ce.set(
          crossEntropyRows(logits, {
            rows: n,
            numLogits: k,
            targets: new Int32Array(n).fill(c),
          }).ce,
          j * n,
        );
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

/**
 * The planted benchmark as the simulation sees it: the default layout with
 * `perClass` images per class (training split), the model calibrated to a
 * clean cross-entropy of 0.3 (the demo's), the images' pair energies and
 * labels, and the ground truth's planted bins per class.
 */
export function plantedSimulationInputs(perClass: number): {
  params: PlantedParams;
  spec: PlantedModelSpec;
  energies: Float64Array;
  labels: number[];
  bins: [number, number][][];
} {
  const params = defaultParams({ perClass });
  const truth = plantedTruth(params);
  const images = generateImages(params, { split: "train", perClass });
  const { spec } = calibratePlanted(images, { truth, params, targetCe: 0.3 });
  return {
    params,
    spec,
    energies: pairEnergies(imagesToTensor(images, params.size), spec),
    labels: images.map((i) => i.label),
    bins: truth.classes.map((c) => c.bins),
  };
}
