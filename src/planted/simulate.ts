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
import { CandidatePools, type Lineage } from "../search/lineage.ts";
import { topN } from "../search/topn.ts";
import { crossEntropyRows } from "../model/cross_entropy.ts";
import {
  logitsFromEnergies,
  maskPairGains,
  type PlantedModelSpec,
} from "./model.ts";

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

/** Run the simulated staged search. */
export function simulateSearch(opts: SimulateOptions): SimulatedStage[] {
  const { spec, energies, labels } = opts;
  const s = spec.size, k = spec.classes, p = spec.pairs.length;
  const byClass: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]!]!.push(i);
  const classEnergy = byClass.map((idx) => {
    const e = new Float64Array(idx.length * p);
    idx.forEach((i, r) => e.set(energies.subarray(i * p, (i + 1) * p), r * p));
    return e;
  });
  const out: SimulatedStage[] = [];
  let prev: SimulatedStage | null = null;
  for (let stage = 1; stage <= opts.stages; stage++) {
    const parentStage: SimulatedStage | null = prev;
    const pools = new CandidatePools({
      seed: opts.seed,
      stage,
      size: s,
      candidates: opts.candidates,
      proportion: opts.proportion,
      symmetry: opts.symmetry ?? "exact",
      lineage: opts.lineage ?? "per-class",
      ...(parentStage
        ? {
          parents: {
            stage: parentStage.stage,
            numClasses: k,
            ranksOf: (c: number) => parentStage.masks[c]!.length,
            mask: (c: number, r: number) => parentStage.masks[c]![r]!,
          },
        }
        : {}),
    });
    const m = pools.count;
    const losses = new Float64Array(m * k);
    const masksOf: Uint8Array[] = [];
    for (let c = 0; c < k; c++) {
      const all = pools.masks(c);
      if (c === 0 || !pools.shared) {
        masksOf.length = 0;
        for (let j = 0; j < m; j++) {
          masksOf.push(all.slice(j * s * s, (j + 1) * s * s));
        }
      }
      const e = classEnergy[c]!;
      const n = byClass[c]!.length;
      for (let j = 0; j < m; j++) {
        const gains = maskPairGains(masksOf[j]!, spec);
        const logits = logitsFromEnergies(e, spec, { gains });
        const rows = crossEntropyRows(logits, {
          rows: n,
          numLogits: k,
          targets: new Int32Array(n).fill(c),
        });
        let ce = 0;
        for (let i = 0; i < n; i++) ce += rows.ce[i]!;
        losses[j * k + c] = n ? ce / n : NaN;
      }
    }
    const top = topN(losses, { numCandidates: m, numClasses: k, n: opts.topN });
    const masks: Uint8Array[][] = [];
    for (let c = 0; c < k; c++) {
      const all = pools.masks(c);
      masks.push(
        top.indices[c]!.map((j) => all.slice(j * s * s, (j + 1) * s * s)),
      );
    }
    prev = { stage, masks, losses: top.losses };
    out.push(prev);
  }
  return out;
}
