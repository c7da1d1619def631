import { floatTensor, int64Tensor, node } from "../../../src/onnx/builder.ts";
import { Rng } from "../../../src/rng.ts";
import { checkTiny, randn, type TinyParts } from "./fd_harness.ts";

const rng = new Rng(61);
const D = [4, 5];

function one(
  nodes: TinyParts["nodes"],
  outDims: number[],
  inits: TinyParts["inits"] = [],
  opset = 17,
): TinyParts {
  // Tanh first so that a wrongly routed gradient changes the result
  return {
    inDims: D,
    nodes: [node("Tanh", ["x"], ["t"]), ...nodes],
    inits,
    out: "y",
    outDims,
    opset,
  };
}

const ints = (name: string, v: number[], scalar = false) =>
  int64Tensor(name, scalar ? [] : [v.length], v);

const cases: [string, TinyParts][] = [
  ["Flatten", one([node("Flatten", ["t"], ["y"], { axis: 1 })], [20])],
  [
    "Reshape (target from a Shape → Gather → Concat chain)",
    one(
      [
        node("Shape", ["t"], ["sh"]),
        node("Gather", ["sh", "zero"], ["n"], { axis: 0 }),
        node("Unsqueeze", ["n", "ax0"], ["n1"]),
        node("Concat", ["n1", "rest"], ["target"], { axis: 0 }),
        node("Reshape", ["t", "target"], ["y"]),
      ],
      [2, 10],
      [ints("zero", [0], true), ints("ax0", [0]), ints("rest", [2, 10])],
    ),
  ],
  [
    "Unsqueeze and Squeeze",
    one(
      [
        node("Unsqueeze", ["t", "ax"], ["u"]),
        node("Mul", ["u", "c"], ["uc"]),
        node("Squeeze", ["uc", "ax"], ["y"]),
      ],
      [4, 5],
      [ints("ax", [2]), floatTensor("c", [1, 4, 1, 5], randn(rng, 20))],
    ),
  ],
  [
    "Transpose",
    one(
      [
        node("Transpose", ["t"], ["tt"], { perm: [0, 2, 1] }),
        node("Mul", ["tt", "c"], ["y"]),
      ],
      [5, 4],
      [floatTensor("c", [5, 4], randn(rng, 20))],
    ),
  ],
  [
    "Expand (broadcast a live axis)",
    one(
      [
        node("ReduceMean", ["t"], ["m"], { axes: [1], keepdims: 1 }),
        node("Expand", ["m", "shape"], ["e"]),
        node("Mul", ["e", "c"], ["y"]),
      ],
      [3, 5],
      [ints("shape", [1, 3, 5]), floatTensor("c", [3, 5], randn(rng, 15))],
    ),
  ],
  [
    "Concat (live, live and constant class token along axis 1)",
    one(
      [
        node("Shape", ["t"], ["sh"]),
        node("Gather", ["sh", "zero"], ["n"], { axis: 0 }),
        node("Unsqueeze", ["n", "ax0"], ["n1"]),
        node("Concat", ["n1", "tail"], ["eshape"], { axis: 0 }),
        node("Expand", ["cls", "eshape"], ["clsN"]),
        node("Mul", ["t", "t"], ["t2"]),
        node("Concat", ["clsN", "t", "t2"], ["y"], { axis: 1 }),
      ],
      [9, 5],
      [
        ints("zero", [0], true),
        ints("ax0", [0]),
        ints("tail", [1, 5]),
        floatTensor("cls", [1, 1, 5], randn(rng, 5)),
      ],
    ),
  ],
  [
    "Split (three parts, one unused)",
    {
      inDims: D,
      nodes: [
        node("Tanh", ["x"], ["t"]),
        node("Split", ["t", "parts"], ["s0", "s1", "s2"], { axis: 2 }),
        node("Mul", ["s0", "s2"], ["y"]),
      ],
      inits: [ints("parts", [2, 1, 2])],
      out: "y",
      outDims: [4, 2],
      opset: 17,
    },
  ],
  [
    "Slice (step 2 from 1 on one axis, reversed on another)",
    one(
      [node("Slice", ["t", "st", "en", "ax", "sp"], ["y"])],
      [4, 2],
      [
        ints("st", [-1, 1]),
        ints("en", [-100, 5]),
        ints("ax", [1, 2]),
        ints(
          "sp",
          [-1, 2],
        ),
      ],
    ),
  ],
  [
    "Slice (step -2, and step 3 past the end)",
    one(
      [node("Slice", ["t", "st", "en", "ax", "sp"], ["y"])],
      [2, 2],
      [
        ints("st", [3, 0]),
        ints("en", [-10, 2 ** 40]),
        ints("ax", [-2, -1]),
        ints(
          "sp",
          [-2, 3],
        ),
      ],
    ),
  ],
  [
    "Slice + Concat (torch.roll)",
    one(
      [
        node("Slice", ["t", "a0", "a1", "ax"], ["head"]),
        node("Slice", ["t", "b0", "b1", "ax"], ["tail"]),
        node("Concat", ["head", "tail"], ["y"], { axis: 2 }),
      ],
      [4, 5],
      [
        ints("a0", [-2]),
        ints("a1", [2 ** 40]),
        ints("b0", [0]),
        ints("b1", [-2]),
        ints(
          "ax",
          [2],
        ),
      ],
    ),
  ],
  [
    "Pad (constant, positive and negative pads)",
    one(
      [node("Pad", ["t", "pads", "cv"], ["y"], { mode: "constant" })],
      [6, 4],
      [ints("pads", [0, 1, 0, 0, 1, -1]), floatTensor("cv", [], [0.5])],
    ),
  ],
  [
    "Pad (opset 18 axes input)",
    one(
      [node("Pad", ["t", "pads", "", "axes"], ["y"], { mode: "constant" })],
      [4, 8],
      [ints("pads", [2, 1]), ints("axes", [-1])],
      18,
    ),
  ],
  [
    "Gather (class token: scalar index on axis 1)",
    one(
      [node("Gather", ["t", "k"], ["y"], { axis: 1 })],
      [5],
      [ints("k", [0], true)],
    ),
  ],
  [
    "Gather (repeated and negative indices on the last axis)",
    one(
      [node("Gather", ["t", "idx"], ["y"], { axis: -1 })],
      [4, 4],
      [ints("idx", [4, -1, 0, 2])],
    ),
  ],
  [
    "Gather (2-D indices on axis 1)",
    one(
      [node("Gather", ["t", "idx"], ["y"], { axis: 1 })],
      [2, 2, 5],
      [int64Tensor("idx", [2, 2], [3, 1, 1, 0])],
    ),
  ],
];

for (const [what, parts] of cases) {
  Deno.test(`gradientModel() matches finite differences: ${what}`, async () => {
    await checkTiny(what, parts);
  });
}
