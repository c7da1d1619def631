import { floatTensor, node } from "../../../src/onnx/builder.ts";
import { Rng } from "../../../src/rng.ts";
import { checkTiny, randn, type TinyParts } from "./fd_harness.ts";

const rng = new Rng(41);

const cases: [string, TinyParts][] = [
  [
    "Gemm (transA, transB, alpha, beta, live C)",
    {
      inDims: [4],
      nodes: [
        node("Gemm", ["x", "w"], ["g1"], { transB: 1, alpha: 0.5 }),
        node("Transpose", ["x"], ["xt"], { perm: [1, 0] }),
        node("Gemm", ["xt", "w2", "g1"], ["y"], { transA: 1, beta: 2 }),
      ],
      inits: [
        floatTensor("w", [5, 4], randn(rng, 20, 0.5)),
        floatTensor("w2", [4, 5], randn(rng, 20, 0.5)),
      ],
      out: "y",
      outDims: [5],
    },
  ],
  [
    "MatMul (3-D activation times 2-D weight)",
    {
      inDims: [3, 4],
      nodes: [node("MatMul", ["x", "w"], ["y"])],
      inits: [floatTensor("w", [4, 5], randn(rng, 20, 0.5))],
      out: "y",
      outDims: [3, 5],
    },
  ],
  [
    "MatMul (4-D, both live: attention scores)",
    {
      inDims: [2, 3, 4],
      nodes: [
        node("Transpose", ["x"], ["xt"], { perm: [0, 1, 3, 2] }),
        node("MatMul", ["x", "xt"], ["y"]),
      ],
      out: "y",
      outDims: [2, 3, 3],
    },
  ],
  [
    "MatMul (4-D, live operand broadcast over heads)",
    {
      inDims: [2, 3, 4],
      nodes: [
        node("ReduceMean", ["x"], ["m"], { axes: [1], keepdims: 1 }),
        node("Transpose", ["x"], ["xt"], { perm: [0, 1, 3, 2] }),
        node("MatMul", ["m", "xt"], ["y"]),
      ],
      out: "y",
      outDims: [2, 3, 3],
    },
  ],
  [
    "MatMul (constant batch-1 operand broadcast over the batch)",
    {
      inDims: [3, 4],
      nodes: [node("MatMul", ["c", "x"], ["y"])],
      inits: [floatTensor("c", [1, 2, 3], randn(rng, 6))],
      out: "y",
      outDims: [2, 4],
    },
  ],
];

for (const [what, parts] of cases) {
  Deno.test(`gradientModel() matches finite differences: ${what}`, async () => {
    await checkTiny(what, parts);
  });
}
