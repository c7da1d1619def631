import assert from "node:assert/strict";
import { gpuAvailable } from "../gpu_helper.ts";
import { ModelSession } from "../../src/model/session.ts";
import { AccuracyMeter } from "../../src/model/accuracy.ts";
import { UserError } from "../../src/errors.ts";
import {
  floatTensor,
  graph,
  model,
  node,
  valueInfo,
} from "../../src/onnx/builder.ts";
import { DataType, encodeModel } from "../../src/onnx/proto.ts";
import {
  meanLinearModel,
  meanLinearOracle,
  writeTemp,
} from "../../src/testing/tiny_models.ts";

const W = Float32Array.from([1, -2, 0.5, 3, 0, 1, -1, 2, 0.25, 0.5, 4, -3]); // [3, 4]
const B = Float32Array.from([0.1, 0, -0.2, 0.3]);

function input(batch: number, size: number): Float32Array {
  return Float32Array.from(
    { length: batch * 3 * size * size },
    (_, i) => Math.sin(i * 0.37) * 0.5 + 0.5,
  );
}

Deno.test("ModelSession reads names and shapes and runs a tiny model like the float64 oracle", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hfss_model_" });
  try {
    const spec = { size: 6, classes: 4, weights: W, bias: B };
    const path = await writeTemp(meanLinearModel(spec), dir, "tiny.onnx");
    const m = await ModelSession.open(path, { threads: 1 });
    try {
      assert.equal(m.info.inputName, "x");
      assert.equal(m.info.outputName, "logits");
      assert.equal(m.info.size, 6);
      assert.equal(m.info.channels, 3);
      assert.equal(m.info.numClasses, 4);
      assert.deepEqual(m.info.inputShape, ["N", 3, 6, 6]);
      assert.equal(m.info.fixedBatch, undefined);
      const x = input(5, 6);
      const got = await m.run(x, 5);
      const want = meanLinearOracle(x, 5, spec);
      assert.equal(got.length, 20);
      got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-5));
    } finally {
      await m.release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ModelSession exposes the model's metadata_props as info.metadata (empty without any)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hfss_model_" });
  try {
    const spec = { size: 4, classes: 4, weights: W };
    const declared = {
      "hfss.normalization": "inception",
      "hfss.kind": "planted",
      "with space": "a, b = c",
    };
    const a = await ModelSession.open(
      await writeTemp(
        meanLinearModel({ ...spec, metadata: declared }),
        dir,
        "meta.onnx",
      ),
      { threads: 1 },
    );
    const b = await ModelSession.open(
      await writeTemp(meanLinearModel(spec), dir, "plain.onnx"),
      { threads: 1 },
    );
    try {
      assert.deepEqual(a.info.metadata, declared);
      assert.deepEqual(b.info.metadata, {});
    } finally {
      await a.release();
      await b.release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ModelSession chunks and pads for a fixed-batch model", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hfss_model_" });
  try {
    const spec = { size: 4, classes: 4, weights: W, batch: 2 };
    const m = await ModelSession.open(
      await writeTemp(meanLinearModel(spec), dir, "fixed.onnx"),
      { threads: 1 },
    );
    try {
      assert.equal(m.info.fixedBatch, 2);
      const x = input(5, 4);
      const got = await m.run(x, 5);
      const want = meanLinearOracle(x, 5, spec);
      assert.equal(got.length, 20);
      got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-5));
    } finally {
      await m.release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ModelSession rejects a model whose input size, channels or classes do not fit, in one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hfss_model_" });
  try {
    const m = await ModelSession.open(
      await writeTemp(
        meanLinearModel({ size: 32, classes: 4, weights: W }),
        dir,
        "s32.onnx",
      ),
      { threads: 1 },
    );
    try {
      const oneLine = (re: RegExp) => (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, re);
        assert.ok(!e.message.includes("\n"));
        return true;
      };
      assert.throws(
        () => m.checkFits({ size: 224 }),
        oneLine(/it expects 32x32 inputs, got 224x224/),
      );
      assert.throws(
        () => m.checkFits({ channels: 1 }),
        oneLine(/it expects 3 input channels, got 1/),
      );
      assert.throws(
        () => m.checkFits({ numClasses: 1000 }),
        oneLine(/it outputs 4 classes, the data has 1000/),
      );
      assert.throws(
        () => m.checkFits({ maxLabel: 9 }),
        oneLine(/it outputs 4 classes, the data has label 9/),
      );
      m.checkFits({ size: 32, channels: 3, numClasses: 4, maxLabel: 3 });
      await assert.rejects(
        () => m.run(new Float32Array(10), 1),
        oneLine(/expected 1x3x32x32 = 3072 values, got 10/),
      );
    } finally {
      await m.release();
    }
    // A rank-2 input is not an image classifier.
    const flat = encodeModel(model({
      graph: graph({
        nodes: [node("MatMul", ["x", "W"], ["y"])],
        inputs: [valueInfo("x", DataType.FLOAT, ["N", 12])],
        outputs: [valueInfo("y", DataType.FLOAT, ["N", 1])],
        initializers: [floatTensor("W", [12, 1], new Float32Array(12))],
      }),
    }));
    await assert.rejects(
      async () =>
        await ModelSession.open(await writeTemp(flat, dir, "flat.onnx")),
      /Cannot use model ".*flat\.onnx": expected an input of shape \[N,C,S,S\], got \[N,12\]/,
    );
    await assert.rejects(
      () => ModelSession.open(`${dir}/missing.onnx`),
      /Cannot open model ".*missing\.onnx": file not found/,
    );
    await Deno.writeTextFile(`${dir}/junk.onnx`, "not a model");
    await assert.rejects(
      () => ModelSession.open(`${dir}/junk.onnx`),
      UserError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AccuracyMeter computes top-1, top-5 and CE against hand values, with restricted logits", () => {
  const k = 7;
  // row 0: label 2 is the max -> top1; row 1: label 0 ranks 6th -> neither
  const logits = Float32Array.from([
    0,
    1,
    5,
    2,
    0,
    0,
    0,
    1,
    6,
    5,
    4,
    3,
    2,
    0,
  ]);
  const m = new AccuracyMeter();
  m.add(logits, [2, 0], k);
  const r = m.result();
  assert.equal(r.top1, 0.5);
  assert.equal(r.top5, 0.5);
  const ce = (row: number[], t: number) =>
    Math.log(row.reduce((a, v) => a + Math.exp(v), 0)) - row[t]!;
  const want = (ce([0, 1, 5, 2, 0, 0, 0], 2) + ce([1, 6, 5, 4, 3, 2, 0], 0)) /
    2;
  assert.ok(Math.abs(r.mean_ce - want) < 1e-9);
  // restricted to classes {0, 4, 5, 6}: row 1 label 4 (logit 3) is now the max
  const rm = new AccuracyMeter([0, 4, 5, 6]);
  rm.add(logits.subarray(7), [4], k);
  assert.equal(rm.result().top1, 1);
  assert.ok(Math.abs(rm.result().mean_ce - ce([1, 3, 2, 0], 1)) < 1e-9);
  // ties go to the lower class index (argmax picks the first)
  const tie = new AccuracyMeter();
  tie.add(Float32Array.from([3, 3, 0]), [1], 3);
  assert.equal(tie.result().top1, 0);
  assert.equal(tie.result().top5, 1);
});

Deno.test({
  name:
    "ModelSession with backend webgpu (onnxruntime-web/webgpu) matches the oracle",
  ignore: !gpuAvailable,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "hfss_model_" });
    try {
      const spec = { size: 8, classes: 4, weights: W, bias: B };
      const m = await ModelSession.open(
        await writeTemp(meanLinearModel(spec), dir, "gpu.onnx"),
        {
          backend: "webgpu",
        },
      );
      try {
        assert.equal(m.backend, "webgpu");
        const x = input(3, 8);
        const got = await m.run(x, 3);
        const want = meanLinearOracle(x, 3, spec);
        got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-4));
      } finally {
        await m.release();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
  sanitizeOps: false,
  sanitizeResources: false,
});
