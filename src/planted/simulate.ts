/**
 * Quick CPU simulation of the staged search on the planted model.
 *
 * The planted model sees an image only through its pair energies e_j, and a
 * mask scales e_j by the squared effective gain g_j² at pair j
 * (`model.ts`). So the masked cross-entropy of every (candidate, image) can be
 * computed from the clean energies without any FFT or ONNX run, in
 * microseconds. The candidates are the real ones: the same `CandidatePools`
 * (lineage, per-draw streams) and `generateDraw` (variants A, B, C, symmetry)
 * as the search, ranked by mean class cross-entropy (`class-ce`) with the
 * search's stable top-N. Used to choose the demo's defaults and to
 * cross-check the real search's losses (tests/cli/demo_test.ts: stage-1
 * losses and rank-0 masks agree with `runSearch`); not a replacement for it.
 *
 * Sweep behind the demo defaults (S = 32, 10 classes, 40 images per class,
 * P = 0.8, top 10, per-class lineage, calibrated CE 0.3; final stage 4,
 * seed 42, default layout): N_B 150 → recall 1.00, other-kept 0.00;
 * N_B 60 → 1.00 / 0.05; N_B 30 → 1.00 / 0.14. N_B 60 over seeds 1–5 and
 * both layouts: recall 1.00, other-kept 0.03–0.07. Shared lineage (the
 * reference) at N_B 60: recall 0.80, other-kept 0.17. A near-saturated model
 * (calibrated CE 0.02) → other-kept 0.08.
 */
import type { SymmetryMode } from "../dfm/symmetry.ts";
import type { Lineage } from "../search/lineage.ts";
import type { PlantedModelSpec } from "./model.ts";
import { simulateRace } from "./race_simulate.ts";

/** Options of {@linkcode simulateSearch}. */
export interface SimulateOptions {
  spec: PlantedModelSpec;
  /** Clean pair energies [N, P] of the search images. */
  energies: Float64Array;
  labels: ArrayLike<number>;
  stages: number;
  /** N_B per pool. */
  candidates: number;
  proportion: number;
  topN: number;
  seed: number;
  lineage?: Lineage;
  symmetry?: SymmetryMode;
}

/** Top-N masks per class of one simulated stage. */
export interface SimulatedStage {
  stage: number;
  /** masks[c][r]: S×S 0/1. */
  masks: Uint8Array[][];
  losses: number[][];
}

/** Run the simulated staged search (exhaustive ranking, `race_simulate.ts`). */
export function simulateSearch(opts: SimulateOptions): SimulatedStage[] {
  return simulateRace({ ...opts, race: null }).map((st) => ({
    stage: st.stage,
    masks: st.masks,
    losses: st.losses,
  }));
}
