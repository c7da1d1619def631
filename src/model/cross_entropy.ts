/**
 * Cross-entropy of classifier logits, the one implementation every loss and
 * accuracy figure uses: `CE(z, y) = logsumexp(z) − z_y` in float64, with the
 * maximum subtracted before exponentiating.
 */

/**
 * Per-row cross-entropy `logsumexp(z) − z_y` in float64, and whether the row's
 * argmax equals its target (first maximum wins, as `argmax` does).
 *
 * @param logits row-major `[rows, numLogits]`
 * @param targets logit index per row
 * @returns `ce` (float64 per row) and `correct` (0/1 per row)
 * @example
 * ```ts
 * const { ce } = crossEntropyRows(new Float32Array([0, 0]), { rows: 1, numLogits: 2, targets: [0] });
 * // ce[0] === Math.LN2
 * ```
 */
export function crossEntropyRows(
  logits: ArrayLike<number>,
  opts: { rows: number; numLogits: number; targets: ArrayLike<number> },
): { ce: Float64Array; correct: Uint8Array } {
  const { rows, numLogits: k, targets } = opts;
  if (logits.length < rows * k) {
    throw new RangeError(
      `Cannot compute cross-entropy: ${logits.length} logits for ${rows} rows of ${k}`,
    );
  }
  const ce = new Float64Array(rows);
  const correct = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * k;
    let max = -Infinity;
    let arg = 0;
    for (let j = 0; j < k; j++) {
      const v = logits[o + j]!;
      if (v > max) {
        max = v;
        arg = j;
      }
    }
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(logits[o + j]! - max);
    const y = targets[r]!;
    ce[r] = Math.log(s) + max - logits[o + y]!;
    correct[r] = arg === y ? 1 : 0;
  }
  return { ce, correct };
}
