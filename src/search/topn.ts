/**
 * Top-N selection per class, as the reference's
 * `get_topn_subpolicies_classwise`: for every class, candidates sorted by loss
 * ascending with a stable sort (ties keep ascending candidate index), first N
 * kept (fewer when there are fewer candidates). NaN losses (a class without
 * images) sort after every number, so such a class keeps its first N
 * candidates. Losses are candidate-major `[M, C]`.
 */

/** Top-N of every class: `indices[c][r]` and `losses[c][r]`, rank 0 = lowest loss. */
export interface TopN {
  n: number;
  indices: number[][];
  losses: number[][];
}

/**
 * Select the N lowest-loss candidates of every class.
 *
 * @param losses candidate-major `[numCandidates, numClasses]`
 * @example
 * ```ts
 * const t = topN(new Float64Array([2, 1, 1, 1]), { numCandidates: 2, numClasses: 2, n: 1 });
 * // t.indices = [[1], [0]]
 * ```
 */
export function topN(
  losses: ArrayLike<number>,
  opts: { numCandidates: number; numClasses: number; n: number },
): TopN {
  const { numCandidates: m, numClasses: k, n } = opts;
  const indices: number[][] = [];
  const out: number[][] = [];
  for (let c = 0; c < k; c++) {
    const order = Array.from({ length: m }, (_, j) => j);
    const key = (j: number) => {
      const v = losses[j * k + c]!;
      return Number.isNaN(v) ? Infinity : v;
    };
    order.sort((a, b) => {
      const ka = key(a), kb = key(b);
      if (ka < kb) return -1;
      if (ka > kb) return 1;
      const na = Number.isNaN(losses[a * k + c]!);
      const nb = Number.isNaN(losses[b * k + c]!);
      if (na !== nb) return na ? 1 : -1;
      return a - b;
    });
    const kept = order.slice(0, Math.min(n, m));
    indices.push(kept);
    out.push(kept.map((j) => losses[j * k + c]!));
  }
  return { n, indices, losses: out };
}

/**
 * The reference's `best_loss` track: per class, the loss of candidate 0, then
 * the previous value unless candidate b's loss is strictly smaller.
 *
 * @returns candidate-major `[numCandidates, numClasses]`
 */
export function runningMin(
  losses: ArrayLike<number>,
  opts: { numCandidates: number; numClasses: number },
): Float64Array {
  const { numCandidates: m, numClasses: k } = opts;
  const out = new Float64Array(m * k);
  for (let c = 0; c < k; c++) {
    let best = NaN;
    for (let j = 0; j < m; j++) {
      const v = losses[j * k + c]!;
      if (j === 0 || v < best) best = v;
      out[j * k + c] = best;
    }
  }
  return out;
}
