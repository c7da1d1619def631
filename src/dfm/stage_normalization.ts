/**
 * The normalisation a DFM stage was searched with, from its manifest: the
 * recorded mean/std, under the preset's name when the search used a preset.
 */
import {
  kNormalizations,
  type Normalization,
  normalization,
  type NormalizeName,
} from "../data/preprocess.ts";
import type { StageManifest } from "./store.ts";

/** The stage's normalisation (what the search fed the model). */
export function stageNormalization(
  manifest: Pick<StageManifest, "normalization">,
): Normalization {
  const n = manifest.normalization;
  return {
    ...normalization({ mean: n.mean, std: n.std }),
    ...(n.name in kNormalizations ? { name: n.name as NormalizeName } : {}),
  };
}
