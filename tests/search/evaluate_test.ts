import assert from "node:assert/strict";
import { ClassLossAccumulator } from "../../src/search/loss.ts";
import { crossEntropyRows } from "../../src/model/cross_entropy.ts";
import { type Block, evaluateStage } from "../../src/search/evaluate.ts";
import { openCheckpoint } from "../../src/search/checkpoint.ts";

// A CPU stand-in for SpectralFilter (masking = elementwise product of a
// per-candidate gain with the image, enough to make every (candidate, image)
// pair distinct) and a linear "model" with 3 logits.
const S = 2, C = 1, AREA = C * S * S;

class FakeFilter {
  images = new Float32Array(0);
  n = 0;
  applies = 0;
  load(images: Float32Array, count: number) {
    this.images = images.slice(0, count * AREA);
    this.n = count;
  }
  uploadMasks(masks: Uint8Array, count: number) {
    return { count, masks: masks.slice(), [Symbol.dispose]() {} };
  }
  apply(
    set: { count: number; masks: Uint8Array },
    opts: { first?: number; count?: number } = {},
  ): Promise<Float32Array> {
    this.applies++;
    const first = opts.first ?? 0, count = opts.count ?? set.count;
    const out = new Float32Array(count * this.n * AREA);
    for (let m = 0; m < count; m++) {
      for (let b = 0; b < this.n; b++) {
        for (let i = 0; i < AREA; i++) {
          out[(m * this.n + b) * AREA + i] = this.images[b * AREA + i]! *
            (set.masks[(first + m) * S * S + (i % (S * S))]! + 0.5);
        }
      }
    }
    return Promise.resolve(out);
  }
}

class FakeModel {
  calls = 0;
  failAfter = Infinity;
  run(x: Float32Array, batch: number): Promise<Float32Array> {
    if (++this.calls > this.failAfter) throw new Error("killed");
    const out = new Float32Array(batch * 3);
    for (let r = 0; r < batch; r++) {
      const v = x.subarray(r * AREA, (r + 1) * AREA);
      out[r * 3] = v[0]! - v[1]!;
      out[r * 3 + 1] = v[2]! * 2;
      out[r * 3 + 2] = v[3]! - 0.3;
    }
    return Promise.resolve(out);
  }
}

const N = 9; // images
const classOf = [0, 1, 2, 0, 1, 2, 0, 0, 1];
const images = Float32Array.from(
  { length: N * AREA },
  (_, i) => Math.sin(i * 1.7),
);
const M = 5; // candidates
const masks = Uint8Array.from(
  { length: M * S * S },
  (_, i) => (i * 7 + 3) % 5 > 1 ? 1 : 0,
);
const blocks: Block[] = [[0, 1, 2], [3, 4, 5], [6, 7, 8]].map((indices) => ({
  indices,
  pool: 0,
}));

function options(
  filter: FakeFilter,
  model: FakeModel,
  acc: ClassLossAccumulator,
) {
  return {
    blocks,
    classOf,
    targetOf: classOf,
    weightOf: classOf.map(() => 1),
    numLogits: 3,
    batchSize: 6, // 2 candidates per model call with 3-image blocks
    numCandidates: M,
    poolKey: () => "shared",
    poolMasks: () => masks,
    loadImages: (idx: number[]) =>
      Promise.resolve({
        tensor: Float32Array.from(
          idx.flatMap((i) => [...images.subarray(i * AREA, (i + 1) * AREA)]),
        ),
        indices: idx,
      }),
    filter,
    model,
    acc,
    start: { block: 0, chunk: 0 },
  };
}

Deno.test("evaluateStage() accumulates every candidate x image pair once", async () => {
  const acc = new ClassLossAccumulator({ numCandidates: M, numClasses: 3 });
  const filter = new FakeFilter(), model = new FakeModel();
  const r = await evaluateStage(options(filter, model, acc));
  assert.equal(r.evaluations, M * N);
  assert.equal(model.calls, 3 * 3); // 3 blocks x ceil(5/2) chunks
  // Oracle: evaluate each pair directly.
  const want = new Float64Array(M * 3);
  for (let m = 0; m < M; m++) {
    for (let i = 0; i < N; i++) {
      const f = new FakeFilter();
      f.load(images.slice(i * AREA, (i + 1) * AREA), 1);
      const x = await f.apply({ count: M, masks }, { first: m, count: 1 });
      const z = await new FakeModel().run(x, 1);
      const { ce } = crossEntropyRows(z, {
        rows: 1,
        numLogits: 3,
        targets: [classOf[i]!],
      });
      want[m * 3 + classOf[i]!]! += ce[0]!;
    }
  }
  const got = acc.ceSum;
  for (let j = 0; j < want.length; j++) {
    assert.ok(Math.abs(got[j]! - want[j]!) < 1e-9);
  }
  assert.deepEqual([...acc.count], [4, 3, 2]);
  // Without overlap: same work, same bytes.
  const serial = new ClassLossAccumulator({ numCandidates: M, numClasses: 3 });
  await evaluateStage({
    ...options(new FakeFilter(), new FakeModel(), serial),
    overlap: false,
  });
  assert.deepEqual(serial.toBytes(), acc.toBytes());
});

Deno.test("evaluateStage() resumed from a mid-block checkpoint gives identical bytes", async () => {
  const full = new ClassLossAccumulator({ numCandidates: M, numClasses: 3 });
  await evaluateStage(options(new FakeFilter(), new FakeModel(), full));
  const dir = await Deno.makeTempDir();
  try {
    for (const failAfter of [1, 4, 5, 8]) {
      const config = { test: "resume", failAfter: 0 };
      const a = await openCheckpoint(dir, { config, restart: true });
      const model = new FakeModel();
      model.failAfter = failAfter;
      const acc = new ClassLossAccumulator({ numCandidates: M, numClasses: 3 });
      await assert.rejects(
        evaluateStage({
          ...options(new FakeFilter(), model, acc),
          checkpoint: a.checkpoint,
          checkpointSeconds: 0, // save at every chunk boundary
        }),
      );
      const b = await openCheckpoint(dir, { config });
      assert.ok(b.state && b.acc);
      const resumed = new ClassLossAccumulator({
        numCandidates: M,
        numClasses: 3,
      });
      resumed.loadBytes(b.acc);
      await evaluateStage({
        ...options(new FakeFilter(), new FakeModel(), resumed),
        start: b.state.position,
        checkpoint: b.checkpoint,
      });
      assert.deepEqual(
        resumed.toBytes(),
        full.toBytes(),
        `failAfter ${failAfter}`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openCheckpoint() refuses a changed configuration and names the option", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = await openCheckpoint(dir, {
      config: { candidates: 12, seed: 42 },
    });
    await a.checkpoint.save({ block: 1, chunk: 0 }, new Uint8Array(8), {
      evaluations: 1,
      images: 1,
      seconds: 0,
    });
    await assert.rejects(
      openCheckpoint(dir, {
        config: { candidates: 12, seed: 7 },
        optionOf: (k) => `option-${k}`,
      }),
      /option option-seed was 42, now 7 \(restart to discard the saved progress/,
    );
    const again = await openCheckpoint(dir, {
      config: { candidates: 12, seed: 42 },
    });
    assert.deepEqual(again.state?.position, { block: 1, chunk: 0 });
    const fresh = await openCheckpoint(dir, {
      config: { seed: 7 },
      restart: true,
    });
    assert.equal(fresh.state, null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
