/**
 * Stage manifests for tests: the reference search's settings (stage 1, grid
 * 4, P 0.8, inception normalisation, normalised-space masking, squash),
 * with each test giving its size, classes and top-N lists and any field it
 * needs to differ.
 */
import {
  newStageManifest,
  type StageManifest,
  type StageManifestFields,
} from "../../src/dfm/store.ts";

/** A complete manifest from the test's fields over reference defaults. */
export function testManifest(
  fields:
    & Pick<StageManifestFields, "image_size" | "top_n" | "classes" | "top">
    & Partial<StageManifestFields>,
): StageManifest {
  return newStageManifest({
    model: { path: "m.onnx", sha256: null },
    stage: 1,
    grid: 4,
    seed: 1,
    P: 0.8,
    N_B: 3,
    candidates: 3,
    symmetry: "exact",
    loss: "reference",
    lineage: "global",
    normalization: {
      name: "inception",
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
    },
    masking: "normalized",
    resize: "squash",
    split: {},
    ...fields,
  });
}
