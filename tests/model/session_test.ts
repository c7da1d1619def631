import assert from "node:assert/strict";
import { gpuAvailable } from "../gpu_helper.ts";
import { ModelSession } from "../../src/model/session.ts";
import { AccuracyMeter } from "../../src/model/accuracy.ts";
import {
  floatTensor,
  graph,
  model,
  node,
  valueInfo,
} from "../../src/onnx/builder.ts";
import { DataType, encodeModel } from "../../src/onnx/proto.ts";
import {
  imageClassifier,
  type ImageClassifierOptions,
  imageClassifierOracle,
  meanLinearModel,
  meanLinearOracle,
  writeTemp,
} from "../../src/testing/tiny_models.ts";
import { OptionError, UserError } from "../../src/errors.ts";

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
      /Cannot use model ".*flat\.onnx": expected an image input \[N,C,H,W\] or \[N,H,W,C\], got \[N,12\]/,
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

// ------------------------------------------------------------ model intake --

/** Deterministic weights for `imageClassifier()`: rows x k. */
function weights(rows: number, k: number): Float32Array {
  return Float32Array.from(
    { length: rows * k },
    (_, i) => Math.cos(i * 1.7 + 0.3) * 0.5,
  );
}

/** Open `files` (name -> bytes) written to a temp folder, run `fn`, clean up. */
async function withModel(
  files: Record<string, Uint8Array>,
  open: { name: string; size?: number },
  fn: (m: ModelSession) => void | Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hfss_intake_" });
  try {
    for (const [name, bytes] of Object.entries(files)) {
      await Deno.writeFile(`${dir}/${name}`, bytes);
    }
    const m = await ModelSession.open(`${dir}/${open.name}`, {
      threads: 1,
      ...(open.size === undefined ? {} : { size: open.size }),
    });
    try {
      await fn(m);
    } finally {
      await m.release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Logits of the NCHW float32 variant of `o` on `x` (the reference every variant must equal). */
async function referenceLogits(
  o: ImageClassifierOptions,
  x: Float32Array,
  batch: number,
): Promise<Float32Array> {
  let got: Float32Array = new Float32Array();
  const { model } = imageClassifier({
    ...o,
    layout: "NCHW",
    float16: false,
    output: "NK",
    externalData: undefined,
  });
  await withModel({ "ref.onnx": model }, {
    name: "ref.onnx",
    size: o.size,
  }, async (m) => {
    got = await m.run(x, batch);
  });
  // The reference itself agrees with the float64 oracle.
  const want = imageClassifierOracle(x, batch, o);
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-4));
  return got;
}

function assertClose(
  got: Float32Array,
  want: ArrayLike<number>,
  tol: (w: number) => number,
): void {
  assert.equal(got.length, want.length);
  got.forEach((v, i) =>
    assert.ok(
      Math.abs(v - want[i]!) <= tol(want[i]!),
      `logit ${i}: ${v} vs ${want[i]}`,
    )
  );
}

Deno.test("ModelSession.open() reads an NHWC input and run() transposes NCHW images to it", async () => {
  const o: ImageClassifierOptions = {
    size: 5,
    classes: 4,
    weights: weights(3 * 25, 4),
    bias: B,
    layout: "NHWC",
  };
  const x = input(3, 5);
  const want = await referenceLogits(o, x, 3);
  await withModel({ "nhwc.onnx": imageClassifier(o).model }, {
    name: "nhwc.onnx",
  }, async (m) => {
    assert.equal(m.info.layout, "NHWC");
    assert.deepEqual(m.info.inputShape, ["N", 5, 5, 3]);
    assert.equal(m.info.size, 5);
    assert.equal(m.info.channels, 3);
    assertClose(await m.run(x, 3), want, () => 1e-6);
  });
});

Deno.test("ModelSession.open() takes the side of a symbolic-H/W model from `size`, else 224", async () => {
  const o: ImageClassifierOptions = {
    size: 6,
    classes: 4,
    weights: weights(3, 4),
    bias: B,
    symbolicSize: true,
  };
  const bytes = imageClassifier(o).model;
  await withModel({ "hw.onnx": bytes }, { name: "hw.onnx" }, (m) => {
    assert.equal(m.info.size, 224);
    assert.equal(m.info.sizeSource, "default");
    assert.deepEqual(m.info.inputShape, ["N", 3, "H", "W"]);
  });
  const x = input(2, 6);
  await withModel(
    { "hw.onnx": bytes },
    { name: "hw.onnx", size: 6 },
    async (m) => {
      assert.equal(m.info.size, 6);
      assert.equal(m.info.sizeSource, "option");
      assertClose(
        await m.run(x, 2),
        imageClassifierOracle(x, 2, o),
        () => 1e-5,
      );
    },
  );
  // NHWC with symbolic H/W too.
  const nhwc = imageClassifier({ ...o, layout: "NHWC" }).model;
  await withModel(
    { "hw.onnx": nhwc },
    { name: "hw.onnx", size: 6 },
    async (m) => {
      assert.equal(m.info.layout, "NHWC");
      assertClose(
        await m.run(x, 2),
        imageClassifierOracle(x, 2, o),
        () => 1e-5,
      );
    },
  );
  // A fixed-side model refuses another size, naming the option.
  const fixed = imageClassifier({
    ...o,
    symbolicSize: false,
    size: 4,
    weights: weights(48, 4),
  }).model;
  await assert.rejects(
    () =>
      withModel(
        { "f.onnx": fixed },
        { name: "f.onnx", size: 6 },
        async () => {},
      ),
    (e: unknown) => {
      assert.ok(e instanceof OptionError);
      assert.equal(e.option, "size");
      assert.match(e.problem, /f\.onnx" takes 4x4 inputs, got 6/);
      return true;
    },
  );
  await assert.rejects(
    () =>
      withModel(
        { "hw.onnx": bytes },
        { name: "hw.onnx", size: 0 },
        async () => {},
      ),
    OptionError,
  );
});

for (const output of ["NK11", "N1K"] as const) {
  Deno.test(`ModelSession reads K from a ${output === "NK11" ? "[N,K,1,1]" : "[N,1,K]"} output and returns [N,K] logits`, async () => {
    const o: ImageClassifierOptions = {
      size: 4,
      classes: 5,
      weights: weights(48, 5),
      bias: Float32Array.from([1, 2, 3, 4, 5]),
      output,
    };
    const x = input(3, 4);
    const want = await referenceLogits(o, x, 3);
    await withModel({ "m.onnx": imageClassifier(o).model }, {
      name: "m.onnx",
    }, async (m) => {
      assert.equal(m.info.numClasses, 5);
      assertClose(await m.run(x, 3), want, () => 0);
    });
  });
}

Deno.test("ModelSession measures an output it cannot size before running (fully convolutional, symbolic H/W)", async () => {
  const o: ImageClassifierOptions = {
    size: 4,
    classes: 7,
    weights: weights(3, 7),
    bias: Float32Array.from([0, 1, 2, 3, 4, 5, 6]),
    symbolicSize: true,
    output: "NKhw",
    batch: 2,
  };
  const bytes = imageClassifier(o).model;
  const x = input(3, 4);
  await withModel(
    { "fc.onnx": bytes },
    { name: "fc.onnx", size: 4 },
    async (m) => {
      assert.deepEqual(m.info.outputShape, [2, 7, "h", "w"]);
      assert.equal(m.info.numClasses, 7);
      assertClose(
        await m.run(x, 3),
        imageClassifierOracle(x, 3, o),
        () => 1e-5,
      );
    },
  );
  // At 5x5 the same model outputs [2,7,2,2]: not class logits.
  await assert.rejects(
    () =>
      withModel(
        { "fc.onnx": bytes },
        { name: "fc.onnx", size: 5 },
        async () => {},
      ),
    /^UserError: Cannot use model ".*fc\.onnx": output "logits" has shape \[2,7,2,2\]; expected class logits/,
  );
});

Deno.test("ModelSession.open() refuses other output shapes in one line naming the file, the output and its shape", async () => {
  const o: ImageClassifierOptions = {
    size: 4,
    classes: 3,
    weights: weights(48, 3),
    output: "NK22",
  };
  const check = (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.ok(!e.message.includes("\n"));
    assert.match(
      e.message,
      /^Cannot use model ".*bad\.onnx": output "logits" has shape \[(N|1),3,2,2\]; expected class logits \[N,K\], \[N,K,1,1\] or \[N,1,K\]$/,
    );
    return true;
  };
  await assert.rejects(
    () =>
      withModel(
        { "bad.onnx": imageClassifier(o).model },
        { name: "bad.onnx" },
        async () => {},
      ),
    check,
  );
});

Deno.test("ModelSession converts float32 to a float16 input and a float16 output back", async () => {
  const o: ImageClassifierOptions = {
    size: 4,
    classes: 4,
    weights: weights(48, 4),
    bias: B,
    float16: true,
    layout: "NHWC",
  };
  const x = input(3, 4);
  await withModel({ "h.onnx": imageClassifier(o).model }, {
    name: "h.onnx",
  }, async (m) => {
    assert.equal(m.info.inputType, "float16");
    assert.equal(m.info.outputType, "float16");
    const got = await m.run(x, 3);
    // The float64 function of the input rounded to float16, then the output
    // rounded to float16: equal up to float32 accumulation, which can move a
    // result across one float16 rounding boundary (one float16 ulp).
    const want = imageClassifierOracle(
      Float32Array.from(new Float16Array(x)),
      3,
      o,
    );
    assertClose(
      got,
      want,
      (w) => 2 ** (Math.floor(Math.log2(Math.abs(w))) - 10) * 1.5,
    );
    // And not merely close to the float32 function: the values are float16.
    got.forEach((v) => assert.equal(Math.f16round(v), v));
  });
});

Deno.test("ModelSession opens weights stored in an external data file next to the model", async () => {
  const o: ImageClassifierOptions = {
    size: 4,
    classes: 4,
    weights: weights(48, 4),
    bias: B,
    externalData: "ext.onnx.data",
  };
  const { model: bytes, data } = imageClassifier(o);
  const x = input(3, 4);
  const want = await referenceLogits(o, x, 3);
  await withModel({ "ext.onnx": bytes, "ext.onnx.data": data! }, {
    name: "ext.onnx",
  }, async (m) => {
    assert.deepEqual(m.info.externalData, ["ext.onnx.data"]);
    assertClose(await m.run(x, 3), want, () => 0);
  });
  await assert.rejects(
    () =>
      withModel({ "ext.onnx": bytes }, { name: "ext.onnx" }, async () => {}),
    /^UserError: Cannot open model ".*ext\.onnx": its external data file ".*ext\.onnx\.data" is missing \(it must lie next to the model\)$/,
  );
  const outside = imageClassifier({ ...o, externalData: "../w.data" }).model;
  await assert.rejects(
    () => withModel({ "o.onnx": outside }, { name: "o.onnx" }, async () => {}),
    /Cannot open model ".*o\.onnx": its external data file "\.\.\/w\.data" is outside the model's folder/,
  );
});

Deno.test("ModelSession runs a 10-class model and checkFits() names the dataset and the largest label", async () => {
  const o: ImageClassifierOptions = {
    size: 4,
    classes: 10,
    weights: weights(48, 10),
  };
  const x = input(2, 4);
  await withModel({ "k10.onnx": imageClassifier(o).model }, {
    name: "k10.onnx",
  }, async (m) => {
    assert.equal(m.info.numClasses, 10);
    assertClose(await m.run(x, 2), imageClassifierOracle(x, 2, o), () => 1e-5);
    m.checkFits({ maxLabel: 9, dataset: "cifar" });
    assert.throws(
      () => m.checkFits({ maxLabel: 10, dataset: "data/cifar" }),
      /^UserError: Cannot run model ".*k10\.onnx" on dataset "data\/cifar": it outputs 10 classes, the data has label 10 \(labels must be in \[0,10\)\)$/,
    );
  });
});
