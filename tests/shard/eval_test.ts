import assert from "node:assert/strict";
import { join } from "node:path";
import { Rng } from "../../src/rng.ts";
import {
  type EvalClass,
  runEval,
  type RunEvalOptions,
} from "../../src/eval/runner.ts";
import { mergeEval, runEvalShard } from "../../src/shard/eval.ts";
import { UserError } from "../../src/errors.ts";
import { fakeWorld } from "../eval/_fake_world.ts";

// A small synthetic world: S = 8, K = 7 classes, a linear classifier whose
// weights are class templates; images are a template plus seeded noise.
const { K, classifier, filter, loader, lowPass, id, oodParts } = fakeWorld({
  classes: 7,
  rng: new Rng(5, ["eval-shard"]),
  idNoise: 0.4,
  idPerClass: 4,
  oodPerClass: 3,
});

const classes: EvalClass[] = [0, 1, 2, 3, 4, 5, 6].map((c) => ({
  classId: c,
  wnid: `w${c}`,
  mask: lowPass(1 + (c % 4)),
}));

function options(out: string, seed = 3): RunEvalOptions {
  return {
    out,
    classes,
    id,
    oodParts: oodParts(),
    classifier,
    filter,
    loader,
    mean: [0.5, 0.5, 0.5],
    std: [0.25, 0.25, 0.25],
    maskSpace: "normalized",
    resizeId: "crop",
    resizeOod: "squash",
    fprNegatives: 10,
    seed,
    batchSize: 3,
    config: {
      seed,
      filter: { kind: "cpu" },
      classes: classes.map((c) => c.classId),
    },
  };
}

const kFiles = [
  "config.json",
  "classes.jsonl",
  "per_class.csv",
  "per_part.csv",
  "summary.json",
];

async function mergeError(out: string): Promise<string> {
  try {
    await mergeEval(out);
  } catch (e) {
    assert.ok(e instanceof UserError, String(e));
    return e.message;
  }
  throw new Error("expected mergeEval() to refuse");
}

Deno.test("mergeEval() of three runEvalShard() shards, one interrupted and resumed, writes the unsharded run's files byte for byte", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const whole = join(tmp, "whole"), sharded = join(tmp, "sharded");
    await runEval(options(whole));
    // Shard 2 stops after one class (as if killed), is refused, then resumed.
    const first = await runEvalShard(
      { ...options(sharded), maxNewClasses: 1 },
      { index: 2, count: 3 },
    );
    assert.equal(first.summary.complete, false);
    for (const i of [1, 3]) {
      await runEvalShard(options(sharded), { index: i, count: 3 });
    }
    assert.match(await mergeError(sharded), /shard 2 of 3 is not finished/);
    const resumed = await runEvalShard(options(sharded), {
      index: 2,
      count: 3,
    });
    assert.deepEqual(resumed.classes, { first: 2, end: 5 });
    const merged = await mergeEval(sharded);
    assert.equal(merged.shards, 3);
    assert.equal(merged.summary.complete, true);
    assert.equal(merged.summary.classes, K);
    for (const f of kFiles) {
      assert.deepEqual(
        await Deno.readFile(join(sharded, f)),
        await Deno.readFile(join(whole, f)),
        f,
      );
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("mergeEval() refuses a missing or mismatched shard and writes nothing", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const out = join(tmp, "sharded");
    await runEvalShard(options(out), { index: 1, count: 2 });
    assert.match(await mergeError(out), /shard 2 of 2 is missing/);
    await runEvalShard(options(out, 4), { index: 2, count: 2 });
    assert.match(
      await mergeError(out),
      /shard 2 of 2 has another configuration than shard 1 \(seed: 4, shard 1: 3\)/,
    );
    for (const f of kFiles) {
      await assert.rejects(Deno.stat(join(out, f)), Deno.errors.NotFound);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
