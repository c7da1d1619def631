/**
 * Shards of a run: which part of a stage's (or an evaluation's) classes one
 * independent process computes.
 *
 * A shard is "i of n", 1-based (shard option 2/3, folder `shard-2-of-3/`), as
 * test runners number their shards. Shards are contiguous ranges of class
 * positions in the run's fixed class order, and a class is never split:
 * every accumulator cell of the search (candidate × class) is then summed by
 * exactly one shard, in the same image order and with the same model calls
 * as an unsharded run, so the merged result is the unsharded one bit for bit
 * (float addition is not associative; splitting a class would change the
 * order of its sum). Ranges are balanced by a per-class weight (the number
 * of the class's images for the search, 1 for the evaluation).
 */
import { OptionError } from "../errors.ts";

/** Shard `index` of `count`, 1-based. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** Class positions `[first, end)` of one shard. */
export interface ClassRange {
  first: number;
  end: number;
}

/**
 * Parse `i/n` (1 ≤ i ≤ n).
 *
 * @param option the option key named in errors
 * @example
 * ```ts
 * parseShard("2/3"); // { index: 2, count: 3 }
 * ```
 */
export function parseShard(spec: string, option = "shard"): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(spec);
  if (!m) {
    throw new OptionError(
      option,
      `expected i/n (shard i of n, 1-based), got "${spec}"`,
    );
  }
  const index = Number(m[1]), count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) {
    throw new OptionError(
      option,
      `expected 1 <= i <= n in i/n, got "${spec}"`,
    );
  }
  return { index, count };
}

/** Folder name of a shard: `shard-<i>-of-<n>`. */
export function shardName(s: ShardSpec): string {
  return `shard-${s.index}-of-${s.count}`;
}

/** The shard a folder name stands for, or null when it is not a shard folder. */
export function parseShardName(name: string): ShardSpec | null {
  const m = /^shard-(\d+)-of-(\d+)$/.exec(name);
  if (!m) return null;
  const index = Number(m[1]), count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) return null;
  if (name !== shardName({ index, count })) return null; // no leading zeros
  return { index, count };
}

/**
 * Split class positions `0..K−1` into `count` contiguous, non-empty ranges of
 * about equal total weight. Pure and deterministic: boundary i is the prefix
 * position whose cumulative weight is nearest to `i/count` of the total (the
 * lower position on a tie), kept at least one class from its neighbours.
 *
 * @param weights non-negative work per class position (all zero: equal weights)
 * @param count number of shards, 1 ≤ count ≤ K
 * @example
 * ```ts
 * partitionClasses([64, 64, 64, 64, 64, 64], 3);
 * // [{first: 0, end: 2}, {first: 2, end: 4}, {first: 4, end: 6}]
 * ```
 */
export function partitionClasses(
  weights: ArrayLike<number>,
  count: number,
): ClassRange[] {
  const k = weights.length;
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`Cannot split into ${count} shards`);
  }
  if (count > k) {
    throw new OptionError(
      "shard",
      `${count} shards for ${k} classes: a shard holds whole classes, so use at most ${k}`,
    );
  }
  const w = Array.from(weights, (x) => {
    if (!(x >= 0) || !Number.isFinite(x)) {
      throw new RangeError(`Cannot split classes: weight ${x}`);
    }
    return x;
  });
  let total = w.reduce((a, b) => a + b, 0);
  if (total === 0) {
    w.fill(1);
    total = k;
  }
  const prefix = new Float64Array(k + 1);
  for (let c = 0; c < k; c++) prefix[c + 1] = prefix[c]! + w[c]!;
  const bounds = [0];
  for (let i = 1; i < count; i++) {
    const target = (total * i) / count;
    let p = 1;
    while (p < k && prefix[p]! < target) p++;
    // p is the first prefix reaching the target; p − 1 may be nearer.
    if (p > 1 && target - prefix[p - 1]! <= prefix[p]! - target) p--;
    const lo = bounds[i - 1]! + 1; // non-empty
    const hi = k - (count - i); // room for the remaining shards
    bounds.push(Math.min(hi, Math.max(lo, p)));
  }
  bounds.push(k);
  return Array.from({ length: count }, (_, i) => ({
    first: bounds[i]!,
    end: bounds[i + 1]!,
  }));
}

/** The range of shard `s` (convenience over {@link partitionClasses}). */
export function shardClasses(
  weights: ArrayLike<number>,
  s: ShardSpec,
): ClassRange {
  return partitionClasses(weights, s.count)[s.index - 1]!;
}
