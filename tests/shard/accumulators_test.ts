import assert from "node:assert/strict";
import {
  encodeShardSums,
  kShardSumsFile,
  placeShardSums,
} from "../../src/shard/accumulators.ts";
import { ClassLossAccumulator } from "../../src/search/loss.ts";
import { partitionClasses } from "../../src/shard/partition.ts";
import { Rng } from "../../src/rng.ts";

Deno.test("placeShardSums() of every shard's encodeShardSums() rebuilds the accumulator bit for bit", () => {
  const m = 7, k = 5;
  const full = new ClassLossAccumulator({ numCandidates: m, numClasses: k });
  const rng = new Rng(3, ["acc"]);
  for (let i = 0; i < 40; i++) {
    const c = rng.int(k);
    for (let j = 0; j < m; j++) {
      full.add(j, c, rng.float() * 7, 1 / (1 + rng.int(9)), rng.int(2));
    }
    full.countImage(c);
  }
  const rebuilt = new ClassLossAccumulator({ numCandidates: m, numClasses: k });
  for (const r of partitionClasses([1, 1, 1, 1, 1], 3)) {
    // A shard only holds its own classes' cells.
    const shard = new ClassLossAccumulator({ numCandidates: m, numClasses: k });
    shard.loadBytes(full.toBytes());
    placeShardSums(rebuilt, r, encodeShardSums(shard, r), "shard");
  }
  assert.deepEqual(rebuilt.toBytes(), full.toBytes());
});

Deno.test("placeShardSums() names a file whose shape does not fit", () => {
  const acc = new ClassLossAccumulator({ numCandidates: 4, numClasses: 3 });
  const files = encodeShardSums(acc, { first: 0, end: 2 });
  assert.throws(
    () => placeShardSums(acc, { first: 0, end: 3 }, files, "run/shard-1-of-1"),
    (e: Error) =>
      e.message.includes(`run/shard-1-of-1/${kShardSumsFile}`) &&
      e.message.includes("expected float64 [3, 4, 3]"),
  );
});
