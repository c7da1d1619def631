/**
 * How well a class's dominant frequency map (DFM) recovers its planted
 * frequencies.
 *
 * For class c with DFM M_c (S×S, 0/1, fftshifted layout, rank 0 of the
 * final stage) and planted bins T_c (both conjugate partners of every
 * planted pair, `planted.json`):
 * - recall_c = |{b ∈ T_c : M_c[b] = 1}| / |T_c| (higher is better);
 * - otherKept_c = |{b ∈ ∪_{k≠c} T_k : M_c[b] = 1}| / |∪_{k≠c} T_k|
 *   (lower is better: the DFM should drop other classes' shortcuts);
 * - keptFraction_c = mean of M_c over all S² bins: the recall (and the
 *   other-kept share) a mask of that size scores by chance.
 * Overall figures are unweighted means over classes.
 */

/** Per-class recovery figures. */
export interface ClassRecovery {
  label: number;
  recall: number;
  otherKept: number;
  keptFraction: number;
  plantedKept: number;
  plantedTotal: number;
  otherKeptBins: number;
  otherTotal: number;
}

/** Means over classes. */
export interface RecoverySummary {
  meanRecall: number;
  meanOtherKept: number;
  meanKeptFraction: number;
  classes: ClassRecovery[];
}

/**
 * Recovery figures of one class's DFM.
 *
 * @param mask S×S 0/1 mask (shifted layout), row-major
 * @param opts `size`, the class `label`, and `bins[k]` = planted bins [h, w] of class k
 * @example
 * ```ts
 * const bins = [[[1, 2], [31, 30]], [[3, 4], [29, 28]]] as [number, number][][];
 * const r = classRecovery(new Uint8Array(32 * 32).fill(1), { size: 32, label: 0, bins });
 * // r.recall === 1, r.otherKept === 1
 * ```
 */
export function classRecovery(
  mask: ArrayLike<number>,
  opts: {
    size: number;
    label: number;
    bins: readonly (readonly [number, number])[][];
  },
): ClassRecovery {
  const { size, label, bins } = opts;
  if (mask.length !== size * size) {
    throw new RangeError(
      `Cannot score mask: ${mask.length} values, expected ${size}×${size}`,
    );
  }
  const own = bins[label];
  if (!own) {
    throw new RangeError(
      `Cannot score mask: no planted bins for class ${label}`,
    );
  }
  const at = (
    b: readonly [number, number],
  ) => (mask[b[0] * size + b[1]]! ? 1 : 0);
  const plantedKept = own.reduce((s, b) => s + at(b), 0);
  let otherKeptBins = 0, otherTotal = 0;
  bins.forEach((list, k) => {
    if (k === label) return;
    for (const b of list) {
      otherKeptBins += at(b);
      otherTotal++;
    }
  });
  let ones = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) ones++;
  return {
    label,
    recall: own.length ? plantedKept / own.length : NaN,
    otherKept: otherTotal ? otherKeptBins / otherTotal : NaN,
    keptFraction: ones / mask.length,
    plantedKept,
    plantedTotal: own.length,
    otherKeptBins,
    otherTotal,
  };
}

/**
 * Recovery figures of every class and their means.
 *
 * @param masks one S×S mask per class, in label order
 * @param opts `size` and the planted bins of every class
 */
export function recoverySummary(
  masks: readonly ArrayLike<number>[],
  opts: { size: number; bins: readonly (readonly [number, number])[][] },
): RecoverySummary {
  const classes = masks.map((m, label) => classRecovery(m, { ...opts, label }));
  const mean = (f: (c: ClassRecovery) => number) =>
    classes.reduce((s, c) => s + f(c), 0) / Math.max(1, classes.length);
  return {
    meanRecall: mean((c) => c.recall),
    meanOtherKept: mean((c) => c.otherKept),
    meanKeptFraction: mean((c) => c.keptFraction),
    classes,
  };
}
