/**
 * Per-class loss accumulators for the staged search.
 *
 * Conventions:
 * - Cross-entropy (`crossEntropyRows`, model/cross_entropy.ts) is computed
 *   once per (candidate, image) evaluation, in float64, and then
 *   segment-summed by class (the reference computes one masked mean CE per
 *   class and batch, 1000 times per batch; ranking only needs the sums).
 * - Classes are *positions* in the search's class list (0..numClasses−1);
 *   targets given to the model side are model logit indices.
 * - Accumulators are candidate-major: cell `m * numClasses + c` belongs to
 *   candidate `m` and class position `c`. Under per-class lineage, "candidate
 *   m of class c" is class c's own m-th candidate; the layout is the same.
 *
 * Two losses (option `loss`):
 * - `class-ce` (default): mean cross-entropy of the class's own images,
 *   `L_m(c) = (1/n_c) Σ_{y_i=c} CE_i` (NaN when the class has no image).
 * - `reference`: the reference's `validate_classwise` sum over its batches
 *   (hfss utils.py), `L_m(c) = Σ_b (1/B_b)[Σ_{i∈b, y_i=c} CE_i + (B_b − n_{b,c}) ln K]`
 *   with K the model's number of logits. "Batch" means: the search subset in
 *   the split's order, cut into consecutive batches of `batchSize` images
 *   (the last one shorter), exactly as the reference's DataLoader over `Da`.
 *   The weight `1/B_b` of each image and the candidate-independent constant
 *   `Σ_b (B_b − n_{b,c})/B_b · ln K` are fixed by that composition
 *   ({@link referenceBatching}), so the search may visit images in any order.
 */
import { UserError } from "../errors.ts";

/** Which per-class loss ranks the candidates. */
export type LossKind = "class-ce" | "reference";

/** The accepted `loss` values. */
export const kLossKinds: readonly LossKind[] = ["class-ce", "reference"];

/** Batch weights of the reference loss; see {@link referenceBatching}. */
export interface ReferenceBatching {
  /** `1/B_b` for every image of the subset, in the subset's order. */
  weight: Float64Array;
  /** Candidate-independent constant `Σ_b (B_b − n_{b,c})/B_b · ln K` per class position. */
  constant: Float64Array;
}

/**
 * The reference's batch composition for the reference loss: the subset in its
 * split order, consecutive batches of `batchSize` (last one shorter).
 *
 * @param classOf class position of every image of the subset, in split order
 * @returns per-image weights and per-class constants
 * @example
 * ```ts
 * const b = referenceBatching([0, 1, 1], { numClasses: 2, batchSize: 2, numLogits: 10 });
 * // b.weight = [0.5, 0.5, 1]; b.constant[0] = 0.5 * ln 10 + 1 * ln 10
 * ```
 */
export function referenceBatching(
  classOf: ArrayLike<number>,
  opts: { numClasses: number; batchSize: number; numLogits: number },
): ReferenceBatching {
  const { numClasses, batchSize, numLogits } = opts;
  const n = classOf.length;
  const lnK = Math.log(numLogits);
  const weight = new Float64Array(n);
  const constant = new Float64Array(numClasses);
  const counts = new Float64Array(numClasses);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const size = end - start;
    counts.fill(0);
    for (let i = start; i < end; i++) {
      weight[i] = 1 / size;
      counts[classOf[i]!]! += 1;
    }
    for (let c = 0; c < numClasses; c++) {
      constant[c]! += ((size - counts[c]!) / size) * lnK;
    }
  }
  return { weight, constant };
}

/**
 * Running per-(candidate, class) sums: cross-entropy, batch-weighted
 * cross-entropy (reference loss) and correct predictions, plus the image
 * count of each class. Float64 throughout; the order of additions is the
 * order of `add` calls, so a deterministic visiting order gives bit-identical
 * results across interrupted and uninterrupted runs.
 */
export class ClassLossAccumulator {
  readonly numCandidates: number;
  readonly numClasses: number;
  /** Σ CE, `[M, C]`. */
  readonly ceSum: Float64Array;
  /** Σ CE / B_b, `[M, C]`. */
  readonly weightedSum: Float64Array;
  /** Number of correct top-1 predictions, `[M, C]`. */
  readonly correct: Float64Array;
  /** Images of each class seen by each of its candidates, `[C]`. */
  readonly count: Float64Array;

  constructor(opts: { numCandidates: number; numClasses: number }) {
    this.numCandidates = opts.numCandidates;
    this.numClasses = opts.numClasses;
    const cells = opts.numCandidates * opts.numClasses;
    this.ceSum = new Float64Array(cells);
    this.weightedSum = new Float64Array(cells);
    this.correct = new Float64Array(cells);
    this.count = new Float64Array(opts.numClasses);
  }

  /** Add one evaluation of candidate `m` on an image of class position `c`. */
  add(m: number, c: number, ce: number, weight: number, correct: number): void {
    const i = m * this.numClasses + c;
    this.ceSum[i]! += ce;
    this.weightedSum[i]! += ce * weight;
    this.correct[i]! += correct;
  }

  /** Record that one more image of class `c` has been evaluated by all its candidates. */
  countImage(c: number): void {
    this.count[c]! += 1;
  }

  /**
   * Per-(candidate, class) losses `[M, C]`, candidate-major.
   * @param kind which loss
   * @param constant the reference constants (required for `reference`)
   */
  losses(kind: LossKind, constant?: Float64Array): Float64Array {
    const { numCandidates: m, numClasses: k } = this;
    const out = new Float64Array(m * k);
    for (let j = 0; j < m; j++) {
      for (let c = 0; c < k; c++) {
        const i = j * k + c;
        if (kind === "class-ce") {
          out[i] = this.count[c]! > 0 ? this.ceSum[i]! / this.count[c]! : NaN;
        } else {
          if (!constant) {
            throw new Error("Cannot compute the reference loss: no constants");
          }
          out[i] = this.weightedSum[i]! + constant[c]!;
        }
      }
    }
    return out;
  }

  /** Per-(candidate, class) top-1 accuracy `[M, C]` (NaN for a class with no image). */
  accuracy(): Float64Array {
    const { numCandidates: m, numClasses: k } = this;
    const out = new Float64Array(m * k);
    for (let j = 0; j < m; j++) {
      for (let c = 0; c < k; c++) {
        const n = this.count[c]!;
        out[j * k + c] = n > 0 ? this.correct[j * k + c]! / n : NaN;
      }
    }
    return out;
  }

  /** All state as one float64 buffer (for checkpoints). */
  toBytes(): Uint8Array {
    const cells = this.ceSum.length;
    const all = new Float64Array(3 * cells + this.numClasses);
    all.set(this.ceSum, 0);
    all.set(this.weightedSum, cells);
    all.set(this.correct, 2 * cells);
    all.set(this.count, 3 * cells);
    return new Uint8Array(all.buffer);
  }

  /** Restore state written by {@link toBytes}; throws when the shape differs. */
  loadBytes(bytes: Uint8Array): void {
    const cells = this.ceSum.length;
    const expect = (3 * cells + this.numClasses) * 8;
    if (bytes.byteLength !== expect) {
      throw new UserError(
        `Cannot restore accumulators: ${bytes.byteLength} bytes, expected ${expect}`,
      );
    }
    const copy = new Uint8Array(expect);
    copy.set(bytes);
    const all = new Float64Array(copy.buffer);
    this.ceSum.set(all.subarray(0, cells));
    this.weightedSum.set(all.subarray(cells, 2 * cells));
    this.correct.set(all.subarray(2 * cells, 3 * cells));
    this.count.set(all.subarray(3 * cells));
  }
}
