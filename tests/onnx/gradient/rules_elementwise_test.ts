import { DataType } from "../../../src/onnx/proto.ts";
import { floatTensor, int64Tensor, node } from "../../../src/onnx/builder.ts";
import { checkTiny, type TinyParts } from "./fd_harness.ts";

const D = [2, 3];

/** `op(x)` followed by the head. */
function unary(
  op: string,
  attrs: Parameters<typeof node>[3] = {},
  extra: string[] = [],
  inits: TinyParts["inits"] = [],
): TinyParts {
  return {
    inDims: D,
    nodes: [node(op, ["x", ...extra], ["y"], attrs)],
    inits,
    out: "y",
    outDims: D,
  };
}

const cases: [string, TinyParts, { positive?: boolean; scale?: number }?][] = [
  ["Identity", unary("Identity")],
  ["Dropout", unary("Dropout", { seed: 0 })],
  ["Relu", unary("Relu")],
  ["LeakyRelu", unary("LeakyRelu", { alpha: 0.1 })],
  [
    "Clip",
    unary("Clip", {}, ["lo", "hi"], [
      floatTensor("lo", [], [-0.5]),
      floatTensor("hi", [], [0.7]),
    ]),
  ],
  [
    "Clip (max only)",
    unary("Clip", {}, ["", "hi"], [floatTensor("hi", [], [0.3])]),
  ],
  ["Sigmoid", unary("Sigmoid")],
  ["Tanh", unary("Tanh")],
  ["HardSigmoid", unary("HardSigmoid", { alpha: 0.2, beta: 0.4 }), {
    scale: 3,
  }],
  ["HardSwish", unary("HardSwish"), { scale: 3 }],
  ["Neg", unary("Neg")],
  ["Exp", unary("Exp")],
  ["Log", unary("Log"), { positive: true }],
  ["Sqrt", unary("Sqrt"), { positive: true }],
  ["Reciprocal", unary("Reciprocal"), { positive: true }],
  ["Abs", unary("Abs")],
  ["Erf", unary("Erf")],
  ["Softplus", unary("Softplus")],
  [
    "Cast (float to float; float to int carries nothing)",
    {
      inDims: D,
      nodes: [
        node("Cast", ["x"], ["c"], { to: DataType.FLOAT }),
        node("Mul", ["x", "three"], ["x3"]),
        node("Cast", ["x3"], ["xi"], { to: DataType.INT64 }),
        node("Cast", ["xi"], ["xf"], { to: DataType.FLOAT }),
        node("Mul", ["c", "c"], ["c2"]),
        node("Add", ["c2", "xf"], ["y"]),
      ],
      inits: [floatTensor("three", [], [3])],
      out: "y",
      outDims: D,
    },
  ],
];

/** Binary arithmetic with both operands live, one broadcast along the last axis. */
function binary(op: string, swap = false): TinyParts {
  const a = "x", b = "xm";
  return {
    inDims: D,
    nodes: [
      node("ReduceMean", ["x"], ["m"], { axes: [2], keepdims: 1 }),
      // keep the broadcast operand away from 0 for Div/Pow
      node("Mul", ["m", "m"], ["m2"]),
      node("Add", ["m2", "half"], ["xm"]),
      node(op, swap ? [b, a] : [a, b], ["y"]),
    ],
    inits: [floatTensor("half", [], [0.5])],
    out: "y",
    outDims: D,
  };
}

cases.push(
  ["Add (broadcast, both live)", binary("Add")],
  ["Sub (broadcast, both live)", binary("Sub", true)],
  ["Mul (broadcast, both live)", binary("Mul")],
  ["Div (broadcast, both live)", binary("Div")],
  ["Pow (live base, live exponent)", binary("Pow", true), { positive: true }],
  [
    "Sum (three inputs, one constant)",
    {
      inDims: D,
      nodes: [
        node("Tanh", ["x"], ["t"]),
        node("Sum", ["x", "t", "c"], ["y"]),
      ],
      inits: [floatTensor("c", [3], [1, 2, 3])],
      out: "y",
      outDims: D,
    },
  ],
  [
    "Pow (float and integer constant exponents)",
    {
      inDims: D,
      nodes: [
        node("Pow", ["x", "two"], ["p2"]),
        node("Pow", ["x", "three"], ["p3"]),
        node("Add", ["p2", "p3"], ["y"]),
      ],
      inits: [floatTensor("two", [], [2]), int64Tensor("three", [], [3])],
      out: "y",
      outDims: D,
    },
  ],
  [
    "Where (condition from the input, both branches live)",
    {
      inDims: D,
      nodes: [
        node("Greater", ["x", "zero"], ["pos"]),
        node("Mul", ["x", "x"], ["sq"]),
        node("Where", ["pos", "sq", "x"], ["y"]),
      ],
      inits: [floatTensor("zero", [], [0])],
      out: "y",
      outDims: D,
    },
  ],
);

for (const [what, parts, opts] of cases) {
  Deno.test(`gradientModel() matches finite differences: ${what}`, async () => {
    await checkTiny(what, parts, opts);
  });
}
