/**
 * A small DFM stage for eval tests, written with src/dfm/store.ts from
 * generated stage-1 candidate masks (no search needed). Classes listed in
 * `allPass` get an all-ones mask (the filter is then the identity, an oracle:
 * TPR with DFM must equal TPR without).
 */
import { generateDraw } from "../../src/dfm/candidates.ts";
import { newStageManifest, writeStage } from "../../src/dfm/store.ts";
import { classIndexToWnid, className } from "../../src/data/labels.ts";
import { Rng } from "../../src/rng.ts";

/** Write a stage folder with one rank-0 mask per class. */
export async function writeTestStage(
  dir: string,
  opts: {
    classes: number[];
    size: number;
    allPass?: number[];
    normalization?: string;
  },
): Promise<void> {
  const s = opts.size;
  const k = opts.classes.length;
  const masks = new Uint8Array(k * s * s);
  opts.classes.forEach((c, i) => {
    let m: Uint8Array;
    if (opts.allPass?.includes(c)) m = new Uint8Array(s * s).fill(1);
    else {
      const draw = generateDraw({
        size: s,
        stage: 1,
        proportion: 0.8,
        rng: new Rng(5).fork("class", c),
      });
      m = draw.masks[i % draw.masks.length]!;
    }
    masks.set(m, i * s * s);
  });
  const norm = opts.normalization === "imagenet"
    ? {
      name: "imagenet",
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    }
    : { name: "inception", mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
  const manifest = newStageManifest({
    model: { path: "test", sha256: null },
    image_size: s,
    stage: 1,
    grid: 4,
    seed: 5,
    P: 0.8,
    N_B: 3,
    candidates: 3,
    top_n: 1,
    symmetry: "exact",
    loss: "test",
    lineage: "global",
    normalization: norm,
    masking: "normalized",
    resize: "squash",
    split: { note: "test stage written from generated candidates" },
    classes: opts.classes.map((c) => ({
      index: c,
      wnid: classIndexToWnid(c),
      name: className(c),
    })),
    top: opts.classes.map(() => ({
      candidates: [0],
      losses: [0],
      parents: [null],
    })),
  });
  await writeStage(dir, { manifest, masks, losses: new Float64Array(k) });
}
