import { floatTensor, int64Tensor, node } from "../../../src/onnx/builder.ts";
import { Rng } from "../../../src/rng.ts";
import { checkTiny, randn, type TinyParts } from "./fd_harness.ts";

const rng = new Rng(51);
const D = [2, 3, 4];

function one(
  nodes: TinyParts["nodes"],
  outDims = D,
  inits: TinyParts["inits"] = [],
  opset = 17,
): TinyParts {
  return { inDims: D, nodes, inits, out: "y", outDims, opset };
}

const cases: [string, TinyParts][] = [
  [
    "LayerNormalization (last axis, scale and bias)",
    one(
      [node("LayerNormalization", ["x", "g", "b"], ["y"], {
        axis: -1,
        epsilon: 1e-5,
      })],
      D,
      [
        floatTensor("g", [4], randn(rng, 4)),
        floatTensor("b", [4], randn(rng, 4)),
      ],
    ),
  ],
  [
    "LayerNormalization (last two axes, no bias)",
    one(
      [node("LayerNormalization", ["x", "g2"], ["y"], { axis: 2 })],
      D,
      [floatTensor("g2", [3, 4], randn(rng, 12))],
    ),
  ],
  ["Softmax (axis 1)", one([node("Softmax", ["x"], ["y"], { axis: 1 })])],
  ["Softmax (last axis)", one([node("Softmax", ["x"], ["y"], { axis: -1 })])],
  ["LogSoftmax", one([node("LogSoftmax", ["x"], ["y"], { axis: -1 })])],
  [
    "ReduceMean (axes attribute, keepdims 0)",
    one([node("ReduceMean", ["x"], ["y"], { axes: [1, -1], keepdims: 0 })], [
      3,
    ]),
  ],
  [
    "ReduceMean (opset 18 axes input)",
    one(
      [node("ReduceMean", ["x", "ax"], ["y"], { keepdims: 1 })],
      [2, 1, 4],
      [int64Tensor("ax", [1], [2])],
      18,
    ),
  ],
  [
    "ReduceSum (keepdims 0)",
    one(
      [node("ReduceSum", ["x", "ax"], ["y"], { keepdims: 0 })],
      [2, 4],
      [int64Tensor("ax", [1], [-2])],
    ),
  ],
];

for (const [what, parts] of cases) {
  Deno.test(`gradientModel() matches finite differences: ${what}`, async () => {
    await checkTiny(what, parts);
  });
}
