import assert from "node:assert/strict";
import * as ort from "onnxruntime-web";
import {
  DataType,
  decodeModel,
  encodeModel,
  type ModelProto,
} from "../../../src/onnx/proto.ts";
import {
  floatTensor,
  graph,
  int64Tensor,
  int8Tensor,
  model,
  node,
  valueInfo,
} from "../../../src/onnx/builder.ts";
import {
  buildGradientModel,
  type GradientLoss,
  UnsupportedOperatorError,
} from "../../../src/onnx/gradient/graph.ts";
import { Rng } from "../../../src/rng.ts";
import jpeg from "jpeg-js";
import { haveShared, shared } from "../../../src/testing/shared_data.ts";
import { checkTiny, cosine, lossOf, randn } from "./fd_harness.ts";
import { UserError } from "../../../src/errors.ts";

ort.env.wasm.numThreads = 1;

interface Harness {
  grad: Float32Array;
  lossOut: Float32Array;
  /** Sum over the batch of the float64 loss computed from the ORIGINAL model's logits. */
  L(x: Float32Array): Promise<number>;
  release(): Promise<void>;
}

async function harness(
  m: ModelProto,
  x: Float32Array,
  shape: number[],
  labels: number[],
  loss: GradientLoss,
  names = { input: "x", output: "z" },
): Promise<Harness> {
  const gm = await buildGradientModel(m, { loss });
  const gs = await ort.InferenceSession.create(encodeModel(gm));
  const fs = await ort.InferenceSession.create(encodeModel(m));
  const out = await gs.run({
    [names.input]: new ort.Tensor("float32", x, shape),
    label: new ort.Tensor("int64", BigInt64Array.from(labels, BigInt), [
      labels.length,
    ]),
  });
  await gs.release();
  const K = (out[names.output]!.dims[1]) as number;
  return {
    grad: out.grad_input!.data as Float32Array,
    lossOut: out.loss!.data as Float32Array,
    async L(v) {
      const o = await fs.run({
        [names.input]: new ort.Tensor("float32", v, shape),
      });
      const z = o[names.output]!.data as Float32Array;
      let s = 0;
      for (let n = 0; n < labels.length; n++) {
        s += lossOf(z.subarray(n * K, (n + 1) * K), labels[n]!, loss);
      }
      return s;
    },
    release: () => fs.release(),
  };
}

/** Per-coordinate central differences on every coordinate; returns the cosine with the graph gradient. */
async function perCoordinate(
  h: Harness,
  x: Float32Array,
  step = 1e-2,
): Promise<number> {
  const fd = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const xp = x.slice(), xm = x.slice();
    xp[i] = x[i]! + step;
    xm[i] = x[i]! - step;
    fd[i] = ((await h.L(xp)) - (await h.L(xm))) / (2 * step);
  }
  const cos = cosine(h.grad, fd);
  console.log(
    `per-coordinate cosine ${cos.toFixed(6)} over ${x.length} coordinates`,
  );
  return cos;
}

const rank4 = (n: number, c: number, h: number, w: number) => [n, c, h, w];

/** A conv classifier head appended to a feature tensor `f` of shape [N,C,H,W]. */
function head(rng: Rng, f: string, c: number, k: number, pre = "h") {
  return {
    nodes: [
      node("GlobalAveragePool", [f], [`${pre}_gap`]),
      node("Flatten", [`${pre}_gap`], [`${pre}_flat`], { axis: 1 }),
      node("Gemm", [`${pre}_flat`, `${pre}_W`, `${pre}_b`], ["z"], {
        transB: 1,
      }),
    ],
    inits: [
      floatTensor(`${pre}_W`, [k, c], randn(rng, k * c)),
      floatTensor(`${pre}_b`, [k], randn(rng, k)),
    ],
  };
}

Deno.test("gradientModel() matches finite differences: grouped strided conv with odd sizes, BN, Clip, Add", async () => {
  const rng = new Rng(11);
  const N = 3, C = 4, H = 7, W = 9, M = 6, K = 5;
  const hd = head(rng, "a", M, K);
  const m = model({
    graph: graph({
      nodes: [
        node("Conv", ["x", "w1", "b1"], ["c1"], {
          group: 2,
          strides: [2, 2],
          pads: [1, 0, 1, 2],
          kernel_shape: [3, 3],
        }),
        node("BatchNormalization", ["c1", "s", "bb", "mu", "var"], ["bn"], {
          epsilon: 1e-3,
        }),
        node("Clip", ["bn", "lo", "hi"], ["r6"]),
        node("Conv", ["r6", "w2"], ["dw"], {
          group: M,
          pads: [1, 1, 1, 1],
          kernel_shape: [3, 3],
        }),
        node("Add", ["dw", "r6"], ["res"]),
        node("Add", ["res", "cb"], ["a"]),
        ...hd.nodes,
      ],
      inputs: [valueInfo("x", DataType.FLOAT, ["N", C, H, W])],
      outputs: [valueInfo("z", DataType.FLOAT, ["N", K])],
      initializers: [
        floatTensor("w1", [M, C / 2, 3, 3], randn(rng, M * 2 * 9, 0.5)),
        floatTensor("b1", [M], randn(rng, M, 0.1)),
        floatTensor("s", [M], randn(rng, M)),
        floatTensor("bb", [M], randn(rng, M)),
        floatTensor("mu", [M], randn(rng, M, 0.1)),
        floatTensor(
          "var",
          [M],
          Float32Array.from({ length: M }, () => 0.5 + rng.float()),
        ),
        floatTensor("lo", [], [-1.5]),
        floatTensor("hi", [], [2]),
        floatTensor("w2", [M, 1, 3, 3], randn(rng, M * 9, 0.5)),
        floatTensor("cb", [1, M, 1, 1], randn(rng, M)),
        ...hd.inits,
      ],
    }),
  });
  const shape = rank4(N, C, H, W);
  const x = randn(rng, N * C * H * W);
  for (const loss of ["ce", "reference"] as const) {
    const h = await harness(m, x, shape, [1, 3, 0], loss);
    try {
      const cos = await perCoordinate(h, x, 1e-3);
      assert.ok(cos >= 0.999, `${loss}: cosine ${cos}`);
      assert.ok(
        Math.abs(h.lossOut.reduce((p, v) => p + v, 0) - (await h.L(x))) < 1e-4,
      );
    } finally {
      await h.release();
    }
  }
});

Deno.test("gradientModel() matches finite differences: MaxPool, AveragePool, Concat, Slice, Pad, Transpose, Softmax, MatMul", async () => {
  const rng = new Rng(12);
  const N = 2, C = 3, H = 9, W = 7, K = 4;
  const M = 2 * C;
  const hd = head(rng, "cat2", M + C, K);
  const m = model({
    graph: graph({
      nodes: [
        node("Identity", ["x"], ["x0"]),
        // overlapping windows, odd size, padding
        node("MaxPool", ["x0"], ["mp"], {
          kernel_shape: [3, 3],
          strides: [2, 2],
          pads: [1, 1, 1, 0],
        }),
        node("AveragePool", ["x0"], ["ap"], {
          kernel_shape: [3, 2],
          strides: [2, 2],
          pads: [1, 0, 1, 0],
        }),
        node("AveragePool", ["x0"], ["ap1"], {
          kernel_shape: [3, 3],
          strides: [2, 2],
          pads: [1, 1, 1, 0],
          count_include_pad: 1,
        }),
        node("Add", ["ap", "ap1"], ["apsum"]),
        node("Concat", ["mp", "apsum"], ["cat"], { axis: 1 }),
        // channel reversal + crop: Slice with step -1 and a positive slice
        node("Slice", ["cat", "s_st", "s_en", "s_ax", "s_sp"], ["rev"]),
        node("Pad", ["rev", "pads"], ["padded"], { mode: "constant" }),
        // spatial softmax attention: Transpose + Softmax + Mul
        node("Transpose", ["padded"], ["tr"], { perm: [0, 1, 3, 2] }),
        node("Softmax", ["tr"], ["sm"], { axis: -1 }),
        node("Mul", ["sm", "tr"], ["att"]),
        node("MatMul", ["att", "mm"], ["mmo"]),
        node("Reshape", ["mmo", "rshape"], ["flatr"]),
        node("Reshape", ["flatr", "rshape2"], ["back"]),
        node("Concat", ["back", "cat_small"], ["cat2"], { axis: 1 }),
        ...hd.nodes,
      ],
      inputs: [valueInfo("x", DataType.FLOAT, ["N", C, H, W])],
      outputs: [valueInfo("z", DataType.FLOAT, ["N", K])],
      initializers: [
        int64Tensor("s_st", [2], [-1, 1]),
        int64Tensor("s_en", [2], [-100, 5]),
        int64Tensor("s_ax", [2], [1, 2]),
        int64Tensor("s_sp", [2], [-1, 1]),
        int64Tensor("pads", [8], [0, 0, 1, 0, 0, 0, 0, 2]),
        floatTensor("mm", [5, 3], randn(rng, 15)),
        int64Tensor("rshape", [2], [0, -1]),
        int64Tensor("rshape2", [4], [0, M, 5, 3]),
        floatTensor("cat_small", [1, C, 5, 3], randn(rng, C * 15)),
        ...hd.inits,
      ],
    }),
  });
  // cat_small has batch 1; Concat needs equal batches, so it is expanded first.
  m.graph!.node.splice(
    m.graph!.node.findIndex((n) => n.output[0] === "cat2"),
    0,
    node("Expand", ["cat_small", "exp_shape"], ["cat_small_b"]),
  );
  m.graph!.node.find((n) => n.output[0] === "cat2")!.input[1] = "cat_small_b";
  m.graph!.initializer.push(int64Tensor("exp_shape", [4], [N, C, 5, 3]));
  const x = randn(rng, N * C * H * W);
  const h = await harness(m, x, [N, C, H, W], [0, 3], "ce");
  try {
    const cos = await perCoordinate(h, x, 1e-3);
    assert.ok(cos >= 0.999, `cosine ${cos}`);
  } finally {
    await h.release();
  }
});

Deno.test("gradientModel() matches finite differences: Gemm/MatMul variants, Mul/Div/Sub with live operands, activations, DequantizeLinear weights", async () => {
  const rng = new Rng(13);
  const N = 3, D = 6, K = 4;
  const m = model({
    graph: graph({
      nodes: [
        node("DequantizeLinear", ["wq", "wscale", "wzero"], ["w"]),
        node("Gemm", ["x", "w"], ["g1"], { transB: 1, alpha: 0.5 }),
        node("Gemm", ["x", "w2", "gb"], ["g2"], { transA: 0, beta: 2 }),
        node("Transpose", ["x"], ["xt"], { perm: [1, 0] }),
        node("Gemm", ["xt", "w2"], ["g3"], { transA: 1 }),
        node("Sigmoid", ["g1"], ["sg"]),
        node("Tanh", ["g2"], ["th"]),
        node("HardSwish", ["g3"], ["hs"]),
        node("LeakyRelu", ["g3"], ["lr"], { alpha: 0.1 }),
        node("Mul", ["sg", "th"], ["p1"]),
        node("Div", ["hs", "den"], ["p2"]),
        node("Sub", ["p1", "p2"], ["p3"]),
        node("Add", ["p3", "lr"], ["p4"]),
        node("Div", ["p4", "den2"], ["p5"]),
        node("Relu", ["p5"], ["p6"]),
        node("MatMul", ["p6", "mw"], ["z0"]),
        node("Mul", ["z0", "z0"], ["zsq"]),
        node("Add", ["z0", "zsq"], ["z1"]),
        node("Softmax", ["z1"], ["zs"], { axis: 1 }),
        node("Mul", ["zs", "scale"], ["z"]),
      ],
      inputs: [valueInfo("x", DataType.FLOAT, ["N", D])],
      outputs: [valueInfo("z", DataType.FLOAT, ["N", K])],
      initializers: [
        int8Tensor(
          "wq",
          [5, D],
          Array.from({ length: 5 * D }, () => rng.int(200) - 100),
          { signed: true },
        ),
        floatTensor("wscale", [], [0.02]),
        int8Tensor("wzero", [], [3], { signed: true }),
        floatTensor("w2", [D, 5], randn(rng, 5 * D, 0.5)),
        floatTensor("gb", [1, 5], randn(rng, 5)),
        floatTensor(
          "den",
          [5],
          Float32Array.from({ length: 5 }, () => 1 + rng.float()),
        ),
        floatTensor("mw", [5, K], randn(rng, 5 * K)),
        floatTensor("scale", [K], [3, 1, 2, 5]),
      ],
    }),
    opset: 14, // HardSwish
  });
  // den2 is live: a per-sample scalar computed from x
  m.graph!.node.splice(
    0,
    0,
    node("ReduceSum", ["x", "ax1"], ["xs"], { keepdims: 1 }),
  );
  m.graph!.node.splice(1, 0, node("Mul", ["xs", "xs"], ["xs2"]));
  m.graph!.node.splice(2, 0, node("Add", ["xs2", "one"], ["den2"]));
  m.graph!.initializer.push(
    int64Tensor("ax1", [1], [1]),
    floatTensor("one", [], [1]),
  );
  const x = randn(rng, N * D);
  for (const loss of ["ce", "reference"] as const) {
    const h = await harness(m, x, [N, D], [1, 0, 3], loss);
    try {
      const cos = await perCoordinate(h, x, 1e-3);
      assert.ok(cos >= 0.999, `${loss}: cosine ${cos}`);
    } finally {
      await h.release();
    }
  }
});

Deno.test("gradientModel() names an unsupported operator on the differentiable path", async () => {
  const m = model({
    graph: graph({
      nodes: [
        node("Cos", ["cw"], ["cabs"], {}, { name: "const_cos" }), // constant: fine
        node("Mul", ["x", "cabs"], ["m"]),
        node("Cos", ["m"], ["a"], {}, { name: "the_cos" }),
        node("Gemm", ["a", "w"], ["z"], { transB: 1 }),
      ],
      inputs: [valueInfo("x", DataType.FLOAT, ["N", 3])],
      outputs: [valueInfo("z", DataType.FLOAT, ["N", 2])],
      initializers: [
        floatTensor("cw", [3], [1, -2, 3]),
        floatTensor("w", [2, 3], [1, 2, 3, 4, 5, 6]),
      ],
    }),
  });
  await assert.rejects(
    () => buildGradientModel(m),
    (e: unknown) =>
      e instanceof UnsupportedOperatorError && e instanceof UserError &&
      e.opType === "Cos" && !e.message.includes("\n") &&
      e.nodeName === "the_cos" &&
      /Cos.*"the_cos"/.test(e.message),
  );
  // A weight that depends on the input is refused with a clear message.
  const m2 = model({
    graph: graph({
      nodes: [node("Conv", ["x", "x"], ["z4"]), node("Flatten", ["z4"], ["z"])],
      inputs: [valueInfo("x", DataType.FLOAT, [1, 1, 2, 2])],
      outputs: [valueInfo("z", DataType.FLOAT, [1, 1])],
    }),
  });
  await assert.rejects(
    () => buildGradientModel(m2),
    /Conv.*input 1 \("x"\) depends on the image input/,
  );
});

/** A real validation image, nearest-neighbour resized to S×S, normalised as x = p/127.5 − 1. */
function realImage(S: number): { x: Float32Array; label: number } {
  const dir = shared("data/images/imagenet_val_subset");
  const line = Deno.readTextFileSync(`${dir}/labels.csv`).split("\n")[1]!;
  const [file, label] = line.split(",");
  const img = jpeg.decode(Deno.readFileSync(`${dir}/${file}`), {
    useTArray: true,
  });
  const x = new Float32Array(3 * S * S);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < S; y++) {
      for (let xx = 0; xx < S; xx++) {
        const sy = Math.floor((y * img.height) / S);
        const sx = Math.floor((xx * img.width) / S);
        x[c * S * S + y * S + xx] =
          img.data[(sy * img.width + sx) * 4 + c]! / 127.5 - 1;
      }
    }
  }
  return { x, label: Number(label) };
}

for (
  const [file, losses] of [
    ["mobilenet_v1_0.25_128_quant.onnx", ["ce", "reference"]],
    ["mobilenet_v2_1.0_224_quant.onnx", ["ce", "reference"]],
  ] as const
) {
  Deno.test({
    name:
      `gradientModel() of ${file} matches central differences along random directions`,
    ignore: !haveShared("data/models") ||
      !haveShared("data/images/imagenet_val_subset"),
    async fn() {
      const m = decodeModel(Deno.readFileSync(shared(`data/models/${file}`)));
      const S = m.graph!.input[0]!.type!.tensorType!.shape!.dim[2]!.dimValue!;
      const { x, label } = realImage(S);
      const rng = new Rng(5, [file]);
      for (const loss of losses) {
        const h = await harness(m, x, [1, 3, S, S], [label], loss, {
          input: "input",
          output: "logits",
        });
        try {
          assert.ok(
            Math.abs(h.lossOut[0]! - (await h.L(x))) <
              1e-3 * Math.max(1, Math.abs(h.lossOut[0]!)),
          );
          // Directional derivatives g·d against (L(x+hd) − L(x−hd)) / 2h. The step is small
          // because ReLU6 kinks make the loss piecewise smooth at the scale of ~1e-3.
          const step = 1e-4;
          const a: number[] = [];
          const b: number[] = [];
          for (let k = 0; k < 8; k++) {
            const d = randn(rng, x.length);
            let gd = 0;
            const xp = new Float32Array(x.length);
            const xm = new Float32Array(x.length);
            for (let i = 0; i < x.length; i++) {
              gd += h.grad[i]! * d[i]!;
              xp[i] = x[i]! + step * d[i]!;
              xm[i] = x[i]! - step * d[i]!;
            }
            a.push(gd);
            b.push(((await h.L(xp)) - (await h.L(xm))) / (2 * step));
          }
          const cos = cosine(a, b);
          console.log(
            `${file} ${loss}: cosine ${cos.toFixed(5)} over 8 directions`,
          );
          assert.ok(cos >= 0.99, `${file} ${loss}: cosine ${cos}`);
        } finally {
          await h.release();
        }
      }
    },
  });
}

Deno.test("gradientModel() treats shape-only subgraphs as constants, even through operators without a rule", async () => {
  // A Reshape target and an additive mask computed from Shape with Range,
  // Mod, Cast, ConstantOfShape and ScatterND: none of them carries gradient.
  await checkTiny("shape-only subgraphs", {
    inDims: [2, 6],
    nodes: [
      node("Shape", ["x"], ["sh"]),
      node("Gather", ["sh", "one"], ["c"], { axis: 0 }),
      node("Cast", ["c"], ["cf"], { to: DataType.FLOAT }),
      node("Cast", ["cf"], ["ci"], { to: DataType.INT64 }),
      node("Range", ["zero", "ci", "one"], ["r"]),
      node("Mod", ["r", "two"], ["parity"]),
      node("Unsqueeze", ["ci", "ax0"], ["ci1"]),
      node("Concat", ["minus1", "ci1", "three"], ["target"], { axis: 0 }),
      node("Reshape", ["x", "target"], ["xr"]), // [N, 2, 3, 2]
      node("ConstantOfShape", ["sh"], ["zeros"], {
        value: floatTensor("value", [1], [0]),
      }),
      node("ScatterND", ["zeros", "idx", "upd"], ["maskflat"]),
      node("Reshape", ["maskflat", "target"], ["mask"]),
      node("Cast", ["parity"], ["pf"], { to: DataType.FLOAT }),
      node("Add", ["xr", "mask"], ["xm"]),
      node("Mul", ["xm", "xm"], ["sq"]),
      node("Unsqueeze", ["pf", "ax_tail"], ["pfu"]),
      node("Add", ["sq", "pfu"], ["y"]),
    ],
    inits: [
      int64Tensor("one", [], [1]),
      int64Tensor("zero", [], [0]),
      int64Tensor("two", [], [2]),
      int64Tensor("ax0", [1], [0]),
      int64Tensor("ax_tail", [2], [1, 2]),
      int64Tensor("minus1", [1], [-1]),
      int64Tensor("three", [2], [3, 2]),
      int64Tensor("idx", [1, 2], [0, 1]),
      floatTensor("upd", [1, 6], [1, 2, 3, 4, 5, 6]),
    ],
    out: "y",
    outDims: [2, 3, 2],
  });
});
