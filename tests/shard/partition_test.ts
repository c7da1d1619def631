import assert from "node:assert/strict";
import {
  parseShard,
  parseShardName,
  partitionClasses,
  shardClasses,
  shardName,
} from "../../src/shard/partition.ts";
import { OptionError } from "../../src/errors.ts";
import { Rng } from "../../src/rng.ts";

function throwsOption(fn: () => unknown): OptionError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof OptionError, String(e));
    return e;
  }
  throw new Error("expected an OptionError");
}

Deno.test("parseShard() reads i/n and refuses out-of-range or malformed specs", () => {
  assert.deepEqual(parseShard("2/3"), { index: 2, count: 3 });
  assert.deepEqual(parseShard(" 1 / 1 "), { index: 1, count: 1 });
  for (const bad of ["0/3", "4/3", "1/0", "2", "a/b", "-1/3", "1.5/3"]) {
    const e = throwsOption(() => parseShard(bad));
    assert.deepEqual(e.option, "shard");
  }
});

Deno.test("shardName() and parseShardName() round-trip and reject other names", () => {
  assert.deepEqual(shardName({ index: 2, count: 3 }), "shard-2-of-3");
  assert.deepEqual(parseShardName("shard-2-of-3"), { index: 2, count: 3 });
  for (const bad of ["shard-0-of-3", "shard-4-of-3", "shard-02-of-3", "x"]) {
    assert.deepEqual(parseShardName(bad), null);
  }
});

/** Checks every partition invariant; returns the per-shard weights. */
function checkPartition(weights: number[], n: number): number[] {
  const ranges = partitionClasses(weights, n);
  assert.deepEqual(ranges.length, n);
  assert.deepEqual(ranges[0]!.first, 0);
  assert.deepEqual(ranges[n - 1]!.end, weights.length);
  for (let i = 0; i < n; i++) {
    const r = ranges[i]!;
    if (r.end <= r.first) throw new Error(`shard ${i + 1} is empty`);
    if (i > 0) assert.deepEqual(r.first, ranges[i - 1]!.end);
  }
  // Pure: the same input gives the same ranges.
  assert.deepEqual(partitionClasses(weights, n), ranges);
  return ranges.map((r) =>
    weights.slice(r.first, r.end).reduce((a, b) => a + b, 0)
  );
}

Deno.test("partitionClasses() gives equal shards for equal weights", () => {
  assert.deepEqual(partitionClasses([64, 64, 64, 64, 64, 64], 3), [
    { first: 0, end: 2 },
    { first: 2, end: 4 },
    { first: 4, end: 6 },
  ]);
  for (const [k, n] of [[1000, 7], [10, 3], [10, 10], [5, 1], [1000, 64]]) {
    const sizes = partitionClasses(new Array(k!).fill(1), n!).map((r) =>
      r.end - r.first
    );
    const min = Math.min(...sizes), max = Math.max(...sizes);
    if (max - min > 1) throw new Error(`sizes ${sizes} for ${k} / ${n}`);
  }
});

Deno.test("partitionClasses() keeps every shard within two classes of its ideal share", () => {
  const rng = new Rng(7, ["partition"]);
  for (let trial = 0; trial < 200; trial++) {
    const k = 1 + Math.floor(rng.float() * 60);
    const n = 1 + Math.floor(rng.float() * k);
    const weights = Array.from(
      { length: k },
      () => Math.floor(rng.float() * 100),
    );
    const got = checkPartition(weights, n);
    const total = weights.reduce((a, b) => a + b, 0);
    const maxW = Math.max(...weights);
    if (total === 0) continue;
    for (const g of got) {
      // A boundary is off its ideal position by at most one class's weight
      // on each side (nearest prefix), unless forced by non-emptiness.
      if (g > total / n + 2 * maxW) {
        throw new Error(`shard weight ${g} of ${total}/${n}: ${weights}`);
      }
    }
  }
});

Deno.test("partitionClasses() treats all-zero weights as equal and refuses more shards than classes", () => {
  assert.deepEqual(partitionClasses([0, 0, 0, 0], 2), [
    { first: 0, end: 2 },
    { first: 2, end: 4 },
  ]);
  const e = throwsOption(() => partitionClasses([1, 1], 3));
  assert.deepEqual(e.option, "shard");
  assert.deepEqual(shardClasses([5, 1, 1, 1, 1, 1], { index: 1, count: 2 }), {
    first: 0,
    end: 1,
  });
});
