/**
 * Clean accuracy of a model on a whole dataset: checks that the data fits
 * the model (classes, channels), takes a seeded subset when asked, measures
 * each subset (ImageNet-C corruption/severity, …) and pools them.
 */
import type { Dataset, Sample } from "../data/dataset.ts";
import { Rng } from "../rng.ts";
import {
  type CleanAccuracy,
  evaluateClean,
  type EvaluateOptions,
  poolAccuracy,
} from "./accuracy.ts";
import type { ModelSession } from "./session.ts";

/**
 * Refuse data the model cannot classify: ImageNet layouts need 1000 outputs,
 * folder/CSV layouts an output for their largest label, and RGB images a
 * 3-channel input.
 */
export function checkDataFits(model: ModelSession, ds: Dataset): void {
  const dataset = ds.root;
  if (model.info.channels !== 3) model.checkFits({ channels: 3, dataset });
  const imagenet = ds.layout !== "folders" && ds.layout !== "labels-csv";
  if (imagenet) {
    model.checkFits({ numClasses: 1000, dataset });
  } else {
    const maxLabel = Math.max(...ds.classes.map((c) => c.index));
    model.checkFits({ maxLabel, dataset });
  }
}

/** A seeded subset of at most `limit` samples (order kept); keyed by `key`. */
export function limitSamples(
  samples: readonly Sample[],
  limit: number | undefined,
  seed: number,
  key: string,
): Sample[] {
  if (limit === undefined || limit >= samples.length) return [...samples];
  const pick = new Set(
    new Rng(seed).fork("limit", key).sample(samples.length, limit),
  );
  return samples.filter((_, i) => pick.has(i));
}

/** Accuracy of a dataset, pooled and per subset. */
export interface DatasetAccuracy {
  result: CleanAccuracy;
  /** Per subset, when the dataset has subsets. */
  subsets?: { name: string; result: CleanAccuracy }[];
}

/**
 * Measure `samples` of `ds` (all of them, or a subset from
 * {@linkcode limitSamples}), subset by subset, and pool.
 */
export async function measureDataset(
  model: ModelSession,
  ds: Dataset,
  samples: readonly Sample[],
  options: Omit<EvaluateOptions, "validLabels">,
): Promise<DatasetAccuracy> {
  const groups = ds.subsets
    ? ds.subsets.map((s) => ({
      name: s.name,
      samples: samples.filter((x) => x.subset === s.name),
    }))
    : [{ name: "", samples }];
  const subsets: { name: string; result: CleanAccuracy }[] = [];
  for (const g of groups) {
    if (g.samples.length === 0) continue;
    const result = await evaluateClean(model, g.samples, {
      ...options,
      ...(ds.validLabels ? { validLabels: ds.validLabels } : {}),
    });
    subsets.push({ name: g.name, result });
  }
  const result = poolAccuracy(subsets.map((s) => s.result));
  return ds.subsets ? { result, subsets } : { result };
}
