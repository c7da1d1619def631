import assert from "node:assert/strict";
import { ClassLossAccumulator } from "../../src/search/loss.ts";
import { crossEntropyRows } from "../../src/model/cross_entropy.ts";
import { evaluateStage } from "../../src/search/evaluate.ts";
import {
  loadRaceStateBytes,
  newRaceQueue,
  raceStage,
  raceValue,
  survivorLosses,
} from "../../src/search/race_stage.ts";
import {
  defaultRaceParams,
  type RaceParams,
  RaceState,
  raceTable,
} from "../../src/search/race.ts";
import { openCheckpoint } from "../../src/search/checkpoint.ts";

// CPU stand-ins for SpectralFilter and the model (as in evaluate_test.ts).
const S = 2, AREA = S * S;

class FakeFilter {
  images = new Float32Array(0);
  n = 0;
  load(images: Float32Array, count: number) {
    this.images = images.slice(0, count * AREA);
    this.n = count;
  }
  uploadMasks(masks: Uint8Array, count: number) {
    return {
      count,
      masks: masks.slice(0, count * AREA),
      [Symbol.dispose]() {},
    };
  }
  apply(
    set: { count: number; masks: Uint8Array },
    opts: { first?: number; count?: number } = {},
  ): Promise<Float32Array> {
    const first = opts.first ?? 0, count = opts.count ?? set.count;
    const out = new Float32Array(count * this.n * AREA);
    for (let m = 0; m < count; m++) {
      for (let b = 0; b < this.n; b++) {
        for (let i = 0; i < AREA; i++) {
          out[(m * this.n + b) * AREA + i] = this.images[b * AREA + i]! *
            (set.masks[(first + m) * AREA + i]! * 0.7 + 0.3);
        }
      }
    }
    return Promise.resolve(out);
  }
}

class FakeModel {
  calls: number[] = [];
  failAfter = Infinity;
  run(x: Float32Array, batch: number): Promise<Float32Array> {
    if (this.calls.length >= this.failAfter) throw new Error("killed");
    this.calls.push(batch);
    const out = new Float32Array(batch * 3);
    for (let r = 0; r < batch; r++) {
      const v = x.subarray(r * AREA, (r + 1) * AREA);
      out[r * 3] = 3 * v[0]! - v[1]!;
      out[r * 3 + 1] = v[2]! * 2 + v[1]!;
      out[r * 3 + 2] = v[3]! - 0.3 * v[0]!;
    }
    return Promise.resolve(out);
  }
}

// 3 classes with 7, 5 and 4 images (interleaved in subset order), 9 candidates.
const classOf = [0, 1, 2, 0, 0, 1, 2, 0, 1, 0, 2, 1, 0, 2, 1, 0];
const N = classOf.length, K = 3, M = 9;
const images = Float32Array.from(
  { length: N * AREA },
  (_, i) => Math.sin(i * 1.3) + 0.2 * Math.cos(i * 0.7),
);
const masks = Uint8Array.from(
  { length: M * AREA },
  (_, i) => (i * 7 + 3) % 5 > 1 ? 1 : 0,
);
const classImages = [0, 1, 2].map((c) =>
  classOf.flatMap((k, i) => (k === c ? [i] : []))
);
const loadImages = (idx: number[]) =>
  Promise.resolve({
    tensor: Float32Array.from(
      idx.flatMap((i) => [...images.subarray(i * AREA, (i + 1) * AREA)]),
    ),
    indices: idx,
  });

async function exhaustiveAcc(): Promise<ClassLossAccumulator> {
  const acc = new ClassLossAccumulator({ numCandidates: M, numClasses: K });
  await evaluateStage({
    blocks: classImages.map((idx, c) => ({ indices: [...idx], pool: c })),
    classOf,
    targetOf: classOf,
    weightOf: classOf.map((_, i) => 1 / (1 + (i % 3))),
    numLogits: 3,
    batchSize: 64,
    numCandidates: M,
    poolKey: (c) => `class:${c}`,
    poolMasks: () => masks,
    loadImages,
    filter: new FakeFilter(),
    model: new FakeModel(),
    acc,
    start: { block: 0, chunk: 0 },
  });
  return acc;
}

function raceOptions(params: RaceParams, model = new FakeModel()) {
  const acc = new ClassLossAccumulator({ numCandidates: M, numClasses: K });
  const race = new RaceState({
    params,
    numCandidates: M,
    imagesOf: classImages.map((i) => i.length),
  });
  return {
    classImages,
    targetOf: classOf,
    weightOf: classOf.map((_, i) => 1 / (1 + (i % 3))),
    valueOf: (_c: number, _i: number, ce: number) => ce,
    numLogits: 3,
    batchSize: 5,
    poolMasks: () => masks,
    loadImages,
    filter: new FakeFilter(),
    model,
    acc,
    race,
    queue: newRaceQueue(),
  };
}

const params = (over: Partial<RaceParams>) => ({
  ...defaultRaceParams(2),
  slice: 2,
  ...over,
});

Deno.test("raceStage() with rule none gives the exhaustive accumulators bit for bit, in full mixed batches", async () => {
  const want = await exhaustiveAcc();
  const o = raceOptions(params({ rule: "none" }));
  const r = await raceStage(o);
  assert.equal(r.evaluations, M * N);
  assert.deepEqual(o.acc.toBytes(), want.toBytes());
  // Calls are full (4 or 5 rows: whole candidates of 2-image slices, units
  // of several classes mixed) until the race's tail, where a class's next
  // slice waits for the call that closes the current one.
  const calls = (o.model as FakeModel).calls;
  assert.equal(calls.reduce((a, b) => a + b, 0), M * N);
  assert.ok(calls.filter((b) => b < 4).length <= 3, `${calls}`);
  assert.ok(calls.slice(0, 20).every((b) => b >= 4), `${calls}`);
});

Deno.test("raceStage() keeps survivors' losses exact and spends the race's evaluations", async () => {
  const want = await exhaustiveAcc();
  const o = raceOptions(params({ rule: "halving", keep: 0.5, minKeep: 2 }));
  const r = await raceStage(o);
  // 9 -> 5 -> 3 -> 2 live candidates per slice of 2 images:
  // class 0 (7 images): 9*2 + 5*2 + 3*2 + 2*1 = 36; class 1 (5): 9*2 + 5*2 + 3*1 = 31;
  // class 2 (4): 9*2 + 5*2 = 28.
  assert.equal(r.evaluations, 36 + 31 + 28);
  for (let c = 0; c < K; c++) {
    const live = o.race.alive(c);
    assert.ok(live.length >= 2 && live.length < M);
    for (const m of live) {
      assert.equal(o.acc.ceSum[m * K + c], want.ceSum[m * K + c]);
      assert.equal(o.acc.weightedSum[m * K + c], want.weightedSum[m * K + c]);
    }
    // Oracle: the same rule on the table of pairwise cross-entropies.
    const n = classImages[c]!.length;
    const table = new Float64Array(M * n);
    for (let m = 0; m < M; m++) {
      for (let b = 0; b < n; b++) {
        table[m * n + b] = await pairCe(m, classImages[c]![b]!, c);
      }
    }
    const sim = raceTable(table, {
      numCandidates: M,
      images: n,
      params: o.race.params,
    });
    assert.deepEqual(live, sim.survivors, `class ${c}`);
  }
  assert.deepEqual([...o.acc.count], [7, 5, 4]);
});

Deno.test("raceStage() resumed from any checkpoint gives identical state", async () => {
  const p = params({ rule: "halving", keep: 0.5, minKeep: 2 });
  const full = raceOptions(p);
  await raceStage(full);
  const total = (full.model as FakeModel).calls.length;
  const dir = await Deno.makeTempDir();
  try {
    for (const failAfter of [1, 3, 6, total - 1]) {
      const config = { test: "race" };
      const a = await openCheckpoint(dir, { config, restart: true });
      const model = new FakeModel();
      model.failAfter = failAfter;
      await assert.rejects(
        raceStage({
          ...raceOptions(p, model),
          checkpoint: a.checkpoint,
          checkpointSeconds: 0,
        }),
      );
      const b = await openCheckpoint(dir, { config });
      assert.ok(b.state && b.acc);
      const o = raceOptions(p);
      const queue = loadRaceStateBytes(b.acc, o.acc, o.race);
      await raceStage({ ...o, queue, checkpoint: b.checkpoint });
      assert.deepEqual(o.acc.toBytes(), full.acc.toBytes(), `${failAfter}`);
      assert.deepEqual(o.race.toBytes(), full.race.toBytes(), `${failAfter}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function pairCe(m: number, i: number, label: number): Promise<number> {
  const f = new FakeFilter();
  f.load(images.slice(i * AREA, (i + 1) * AREA), 1);
  const x = await f.apply({ count: M, masks }, { first: m, count: 1 });
  const z = await new FakeModel().run(x, 1);
  return crossEntropyRows(z, { rows: 1, numLogits: 3, targets: [label] })
    .ce[0]!;
}

Deno.test("raceStage() accumulates the model's cross-entropy of each evaluated pair", async () => {
  const o = raceOptions(params({ rule: "none" }));
  await raceStage(o);
  // Oracle for one cell: candidate 4, class 1, pair by pair.
  let want = 0;
  for (const i of classImages[1]!) want += await pairCe(4, i, 1);
  assert.ok(Math.abs(o.acc.ceSum[4 * K + 1]! - want) < 1e-12);
});

Deno.test("raceValue() orders candidates as the loss does; survivorLosses() hides dropped candidates", () => {
  const classOf = [0, 1, 0, 0];
  const weightOf = [0.5, 0.5, 0.5, 1];
  const ce = raceValue("class-ce", { classOf, weightOf, numClasses: 2 });
  assert.equal(ce(0, 3, 1.25), 1.25);
  // Class 0: n = 3, Σw = 2, so image 3 (w = 1) counts 1 · 3/2.
  const ref = raceValue("reference", { classOf, weightOf, numClasses: 2 });
  assert.equal(ref(0, 3, 2), 3);
  assert.equal(ref(0, 0, 2), 1.5);
  // Mean of the values = (Σ w ce) · n/Σw / n: the loss up to its constant.
  const ces = [0.2, 0, 0.7, 1.1];
  const mean = [0, 2, 3].reduce((s, i) => s + ref(0, i, ces[i]!), 0) / 3;
  const loss = [0, 2, 3].reduce((s, i) => s + weightOf[i]! * ces[i]!, 0);
  assert.ok(Math.abs(mean - loss / 2) < 1e-15);

  const race = new RaceState({
    params: params({ rule: "halving", minKeep: 2 }),
    numCandidates: 3,
    imagesOf: [4, 4],
  });
  race.live[1] = 0; // class 0, candidate 1
  race.live[3 + 2] = 0; // class 1, candidate 2
  const l = survivorLosses(Float64Array.from([1, 2, 3, 4, 5, 6]), race);
  assert.deepEqual([...l], [1, 2, NaN, 4, 5, NaN]);
});
