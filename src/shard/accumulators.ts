/**
 * A search shard's accumulators as files: the per-(candidate, class) sums of
 * the shard's classes only, written as NumPy arrays so they can be read
 * without hfss.
 *
 * - `sums.npy`: float64 `[3, M, C_s]`: Σ cross-entropy, Σ cross-entropy / B_b
 *   (the reference loss's batch weight), Σ correct top-1; M candidates per
 *   pool, C_s the shard's classes (its range of class positions, in order);
 * - `counts.npy`: float64 `[C_s]`: images of each class that were evaluated.
 *
 * The values are the accumulator's own doubles, so placing every shard's
 * columns into one accumulator gives the unsharded run's accumulator bit for
 * bit (each cell was summed by one shard, in the unsharded image order).
 */
import type { ClassLossAccumulator } from "../search/loss.ts";
import { decodeNpy, encodeNpy } from "../dfm/npy.ts";
import type { ClassRange } from "./partition.ts";

/** File names of a search shard's data. */
export const kShardSumsFile = "sums.npy";
export const kShardCountsFile = "counts.npy";

/** The shard's columns of `acc` as `sums.npy` and `counts.npy` bytes. */
export function encodeShardSums(
  acc: ClassLossAccumulator,
  range: ClassRange,
): Record<string, Uint8Array> {
  const m = acc.numCandidates, k = acc.numClasses;
  const cs = range.end - range.first;
  const sums = new Float64Array(3 * m * cs);
  const parts = [acc.ceSum, acc.weightedSum, acc.correct];
  parts.forEach((src, p) => {
    for (let j = 0; j < m; j++) {
      for (let c = 0; c < cs; c++) {
        sums[(p * m + j) * cs + c] = src[j * k + range.first + c]!;
      }
    }
  });
  return {
    [kShardSumsFile]: encodeNpy(sums, "float64", [3, m, cs]),
    [kShardCountsFile]: encodeNpy(
      acc.count.slice(range.first, range.end),
      "float64",
      [cs],
    ),
  };
}

/**
 * Place a shard's columns into `acc` (which must have the run's M and K).
 * @throws Error naming the file whose shape does not fit
 */
export function placeShardSums(
  acc: ClassLossAccumulator,
  range: ClassRange,
  files: Record<string, Uint8Array>,
  source: string,
): void {
  const m = acc.numCandidates, k = acc.numClasses;
  const cs = range.end - range.first;
  const sums = decodeNpy(files[kShardSumsFile]!, `${source}/${kShardSumsFile}`);
  const counts = decodeNpy(
    files[kShardCountsFile]!,
    `${source}/${kShardCountsFile}`,
  );
  const want = `[3, ${m}, ${cs}]`;
  if (
    sums.dtype !== "float64" || `[${sums.shape.join(", ")}]` !== want
  ) {
    throw new Error(
      `${source}/${kShardSumsFile} is ${sums.dtype} [${
        sums.shape.join(", ")
      }], expected float64 ${want}`,
    );
  }
  if (
    counts.dtype !== "float64" || counts.shape.length !== 1 ||
    counts.shape[0] !== cs
  ) {
    throw new Error(
      `${source}/${kShardCountsFile} is ${counts.dtype} [${
        counts.shape.join(", ")
      }], expected float64 [${cs}]`,
    );
  }
  const data = sums.data as Float64Array;
  const parts = [acc.ceSum, acc.weightedSum, acc.correct];
  parts.forEach((dst, p) => {
    for (let j = 0; j < m; j++) {
      for (let c = 0; c < cs; c++) {
        dst[j * k + range.first + c] = data[(p * m + j) * cs + c]!;
      }
    }
  });
  acc.count.set(counts.data as Float64Array, range.first);
}
