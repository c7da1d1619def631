import assert from "node:assert/strict";
import { join } from "node:path";
import { Rng } from "../../src/rng.ts";
import { cpuFilter } from "../../src/fft/cpu_fft.ts";
import {
  type BatchLoader,
  type Classifier,
  type EvalClass,
  type EvalSample,
  runEval,
  type RunEvalOptions,
} from "../../src/eval/runner.ts";
import { mergeEval, runEvalShard } from "../../src/shard/eval.ts";
import { UserError } from "../../src/errors.ts";

// A small synthetic world: S = 8, K = 7 classes, a linear classifier whose
// weights are class templates; images are a template plus seeded noise.
const S = 8, K = 7, D = 3 * S * S;
const rng = new Rng(5, ["eval-shard"]);
const templates = Array.from(
  { length: K },
  () => Float32Array.from({ length: D }, () => rng.float()),
);

function pixelsOf(path: string, label: number): Float32Array {
  const r = new Rng(11, [path]);
  const noise = path.startsWith("ood") ? 0.9 : 0.4;
  return Float32Array.from(
    templates[label]!,
    (v) => Math.min(1, Math.max(0, 0.5 * v + noise * r.float())),
  );
}

const loader: BatchLoader = async function* (samples, { batchSize }) {
  for (let i = 0; i < samples.length; i += batchSize) {
    const chunk = samples.slice(i, i + batchSize);
    const t = new Float32Array(chunk.length * D);
    chunk.forEach((s, j) => t.set(pixelsOf(s.path, s.label), j * D));
    await Promise.resolve();
    yield { samples: chunk, tensor: t };
  }
};

const classifier: Classifier = {
  run(x, batch) {
    const out = new Float32Array(batch * K);
    for (let b = 0; b < batch; b++) {
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let i = 0; i < D; i++) {
          s += (templates[k]![i]! - 0.5) * x[b * D + i]!;
        }
        out[b * K + k] = s;
      }
    }
    return Promise.resolve(out);
  },
};

function lowPass(radius: number): Uint8Array {
  const m = new Uint8Array(S * S);
  for (let h = 0; h < S; h++) {
    for (let w = 0; w < S; w++) {
      if (Math.abs(h - 4) + Math.abs(w - 4) <= radius) m[h * S + w] = 1;
    }
  }
  return m;
}

const classes: EvalClass[] = [0, 1, 2, 3, 4, 5, 6].map((c) => ({
  classId: c,
  wnid: `w${c}`,
  mask: lowPass(1 + (c % 4)),
}));
const id: EvalSample[] = [];
const ood: EvalSample[] = [];
for (let c = 0; c < K; c++) {
  for (let i = 0; i < 4; i++) id.push({ path: `id/${c}/${i}`, label: c });
  for (let i = 0; i < 3; i++) ood.push({ path: `ood/${c}/${i}`, label: c });
}

function options(out: string, seed = 3): RunEvalOptions {
  return {
    out,
    classes,
    id,
    oodParts: [
      {
        name: "a/1",
        group: "a",
        samples: ood.filter((s) => !s.path.endsWith("/2")),
      },
      {
        name: "a/2",
        group: "a",
        samples: ood.filter((s) => s.path.endsWith("/2")),
      },
    ],
    classifier,
    filter: {
      apply: (images, count, mask, opts) =>
        Promise.resolve(
          cpuFilter(images.subarray(0, count * D), mask, {
            size: S,
            channels: 3,
            ...opts,
          }),
        ),
    },
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
