/**
 * Clean accuracy of a classifier on a dataset: top-1, top-5 and mean
 * cross-entropy (natural log, softmax over the valid logits), streaming.
 *
 * When `validLabels` is given (ImageNet-R/-A), predictions and the softmax are
 * restricted to those logits (hendrycks `eval.py`: `net(x)[:, mask]`).
 */
import type { Sample } from "../data/dataset.ts";
import { loadBatches, type LoaderOptions } from "../data/loader.ts";
import { type Normalization, normalizeTensor } from "../data/preprocess.ts";
import type { ModelSession } from "./session.ts";
import { crossEntropyRows } from "./cross_entropy.ts";

/** Running top-1/top-5/CE counts. */
export class AccuracyMeter {
  images = 0;
  top1 = 0;
  top5 = 0;
  ceSum = 0;
  readonly #valid: number[] | undefined;
  /** Position of each valid logit among the valid ones. */
  readonly #position: Map<number, number> | undefined;

  constructor(validLabels?: readonly number[]) {
    this.#valid = validLabels ? [...validLabels] : undefined;
    this.#position = validLabels
      ? new Map(validLabels.map((l, j) => [l, j]))
      : undefined;
  }

  /** Add a batch of logits [n, k] with their labels. */
  add(logits: Float32Array, labels: readonly number[], k: number): void {
    const idx = this.#valid;
    const m = idx ? idx.length : k;
    const n = labels.length;
    // Restricted logits: the valid columns gathered, targets as positions among them.
    let rows: Float32Array = logits;
    let targets: ArrayLike<number> = labels;
    if (idx) {
      rows = new Float32Array(n * m);
      const pos = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < m; j++) rows[i * m + j] = logits[i * k + idx[j]!]!;
        const p = this.#position!.get(labels[i]!);
        if (p === undefined) {
          throw new RangeError(
            `Cannot score label ${labels[i]}: not one of the ${m} valid logits`,
          );
        }
        pos[i] = p;
      }
      targets = pos;
    }
    const { ce } = crossEntropyRows(rows, { rows: n, numLogits: m, targets });
    for (let i = 0; i < n; i++) {
      const row = logits.subarray(i * k, (i + 1) * k);
      const label = labels[i]!;
      const target = row[label]!;
      this.ceSum += ce[i]!;
      // Rank = number of valid logits strictly greater (ties resolved toward the target's lower index).
      let greater = 0;
      for (let j = 0; j < m; j++) {
        const cls = idx ? idx[j]! : j;
        const v = row[cls]!;
        if (v > target || (v === target && cls < label)) greater++;
      }
      if (greater === 0) this.top1++;
      if (greater < 5) this.top5++;
      this.images++;
    }
  }

  /** Fractions and mean CE (NaN when empty). */
  result(): { images: number; top1: number; top5: number; mean_ce: number } {
    const n = this.images;
    return {
      images: n,
      top1: n ? this.top1 / n : NaN,
      top5: n ? this.top5 / n : NaN,
      mean_ce: n ? this.ceSum / n : NaN,
    };
  }
}

/** Options for `evaluateClean()`. */
export interface EvaluateOptions extends Omit<LoaderOptions, "size"> {
  normalization: Normalization;
  validLabels?: readonly number[];
  /** Called after each batch with the number of images it held. */
  onBatch?: (n: number) => void;
}

/** Result of `evaluateClean()`. */
export interface CleanAccuracy {
  images: number;
  failed: number;
  top1: number;
  top5: number;
  mean_ce: number;
  seconds: number;
  images_per_s: number;
  /** Seconds spent waiting for decoded batches and in inference. */
  decode_wait_s: number;
  inference_s: number;
}

/** Stream samples through the model and measure clean accuracy. */
export async function evaluateClean(
  model: ModelSession,
  samples: readonly Sample[],
  options: EvaluateOptions,
): Promise<CleanAccuracy> {
  const meter = new AccuracyMeter(options.validLabels);
  const size = model.info.size;
  let failed = 0;
  const userOnError = options.onError;
  const t0 = performance.now();
  let decodeWait = 0;
  let inference = 0;
  let tw = performance.now();
  for await (
    const batch of loadBatches(samples, {
      ...options,
      size,
      onError: (s, e) => {
        failed++;
        if (userOnError) userOnError(s, e);
      },
    })
  ) {
    const ti = performance.now();
    decodeWait += ti - tw;
    const n = batch.samples.length;
    normalizeTensor(batch.tensor, options.normalization, size);
    const logits = await model.run(batch.tensor, n);
    meter.add(logits, batch.samples.map((s) => s.label), model.info.numClasses);
    tw = performance.now();
    inference += tw - ti;
    options.onBatch?.(n);
  }
  const seconds = (performance.now() - t0) / 1000;
  const r = meter.result();
  return {
    ...r,
    failed,
    seconds,
    images_per_s: seconds > 0 ? r.images / seconds : 0,
    decode_wait_s: decodeWait / 1000,
    inference_s: inference / 1000,
  };
}

/** Pool accuracies of disjoint image sets, weighted by their image counts. */
export function poolAccuracy(rs: readonly CleanAccuracy[]): CleanAccuracy {
  const images = rs.reduce((a, r) => a + r.images, 0);
  const w = (f: (r: CleanAccuracy) => number) =>
    images
      ? rs.reduce((a, r) => a + (r.images ? f(r) * r.images : 0), 0) / images
      : NaN;
  const seconds = rs.reduce((a, r) => a + r.seconds, 0);
  return {
    images,
    failed: rs.reduce((a, r) => a + r.failed, 0),
    top1: w((r) => r.top1),
    top5: w((r) => r.top5),
    mean_ce: w((r) => r.mean_ce),
    seconds,
    images_per_s: seconds > 0 ? images / seconds : 0,
    decode_wait_s: rs.reduce((a, r) => a + r.decode_wait_s, 0),
    inference_s: rs.reduce((a, r) => a + r.inference_s, 0),
  };
}
