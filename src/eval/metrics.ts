/**
 * Classification metrics of the HFSS evaluation (reference-hfss.md §3.1, §5).
 *
 * Conventions: logits are row-major `[batch, K]` float32; a prediction is the
 * index of the first maximum (ties go to the lower index, as `torch.argmax`
 * on CPU and `numpy.argmax`). When a subset of classes is given (ImageNet-R/-A:
 * 200 of the 1000 classes), the argmax runs over that subset only and returns
 * the 1000-class id of the winner, which equals the reference's
 * `argmax(model(x)[:, mask])` compared with the class's position in the subset.
 *
 * Rates are exact ratios of integer counts in float64; a rate over zero images
 * is `NaN` (written as an empty CSV field / `null` in JSON).
 */

/**
 * Per-sample predicted class ids (argmax over the logits, optionally over a
 * subset of class ids only).
 *
 * @example
 * ```ts
 * argmaxRows(new Float32Array([0, 2, 1, 5, 4, 3]), 2); // Int32Array [1, 0]
 * argmaxRows(new Float32Array([0, 2, 1]), 1, { subset: [0, 2] }); // Int32Array [2]
 * ```
 */
export function argmaxRows(
  logits: Float32Array,
  batch: number,
  options: { subset?: readonly number[] } = {},
): Int32Array {
  if (batch <= 0) return new Int32Array(0);
  const k = logits.length / batch;
  if (!Number.isInteger(k)) {
    throw new RangeError(
      `Cannot take argmax: ${logits.length} logits do not split into ${batch} rows`,
    );
  }
  const out = new Int32Array(batch);
  const subset = options.subset;
  for (let b = 0; b < batch; b++) {
    const base = b * k;
    let best = -1;
    let bestV = -Infinity;
    if (subset) {
      for (const j of subset) {
        const v = logits[base + j]!;
        if (best < 0 || v > bestV) {
          best = j;
          bestV = v;
        }
      }
    } else {
      for (let j = 0; j < k; j++) {
        const v = logits[base + j]!;
        if (best < 0 || v > bestV) {
          best = j;
          bestV = v;
        }
      }
    }
    out[b] = best;
  }
  return out;
}

/** Correct count of a group of predictions against one true class. */
export interface TprCount {
  /** Number of images of the class. */
  n: number;
  /** Number predicted as the class. */
  correct: number;
}

/**
 * True-positive rate (per-class recall) `correct / n`; `NaN` when n = 0.
 *
 * @example
 * ```ts
 * rate(3, 4); // 0.75
 * ```
 */
export function rate(count: number, total: number): number {
  return total > 0 ? count / total : NaN;
}

/**
 * Count the predictions equal to `cls`.
 *
 * @example
 * ```ts
 * countClass(Int32Array.from([3, 1, 3]), 3); // 2
 * ```
 */
export function countClass(
  predictions: ArrayLike<number>,
  cls: number,
): number {
  let c = 0;
  for (let i = 0; i < predictions.length; i++) if (predictions[i] === cls) c++;
  return c;
}

/**
 * Per-class TPR from predictions and true labels:
 * `TPR_c = #{i : y_i = c ∧ p_i = c} / #{i : y_i = c}` for every class id that
 * occurs in `labels` (reference-hfss.md §3.1). Returns a map class → count.
 *
 * @example
 * ```ts
 * const m = perClassTpr([0, 1, 1], [0, 0, 1]);
 * m.get(0); // { n: 2, correct: 1 }
 * ```
 */
export function perClassTpr(
  predictions: ArrayLike<number>,
  labels: ArrayLike<number>,
): Map<number, TprCount> {
  if (predictions.length !== labels.length) {
    throw new RangeError(
      `Cannot count TPR: ${predictions.length} predictions for ${labels.length} labels`,
    );
  }
  const out = new Map<number, TprCount>();
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    let e = out.get(y);
    if (!e) out.set(y, e = { n: 0, correct: 0 });
    e.n++;
    if (predictions[i] === y) e.correct++;
  }
  return out;
}

/**
 * False-positive rate of class `cls` as in the ICCV'23 predecessor
 * (`Evaluation/verify_mask_imgn.py`): `FPR_c = FP/N` where N is the number of
 * images whose true class is not c, and FP the number of them predicted as c.
 * Applied to predictions made on DFM_c-filtered images, this is the DFM's
 * false-positive rate. `NaN` when N = 0.
 *
 * @example
 * ```ts
 * falsePositiveRate([2, 2, 0, 1], [2, 0, 0, 1], 2); // 1 / 3
 * ```
 */
export function falsePositiveRate(
  predictions: ArrayLike<number>,
  labels: ArrayLike<number>,
  cls: number,
): number {
  let n = 0;
  let fp = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === cls) continue;
    n++;
    if (predictions[i] === cls) fp++;
  }
  return rate(fp, n);
}

/**
 * Mean of the finite values (skipping `NaN`); `NaN` when none.
 *
 * @example
 * ```ts
 * nanMean([1, NaN, 3]); // 2
 * ```
 */
export function nanMean(values: readonly number[]): number {
  let s = 0;
  let n = 0;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    s += v;
    n++;
  }
  return n > 0 ? s / n : NaN;
}
