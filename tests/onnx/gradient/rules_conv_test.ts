import { floatTensor, node } from "../../../src/onnx/builder.ts";
import { Rng } from "../../../src/rng.ts";
import { checkTiny, randn, type TinyParts } from "./fd_harness.ts";

const rng = new Rng(31);
const C = 3, H = 7, W = 6;

function spatial(
  nodes: TinyParts["nodes"],
  outDims: number[],
  inits: TinyParts["inits"] = [],
): TinyParts {
  return { inDims: [C, H, W], nodes, inits, out: "y", outDims };
}

const cases: [string, TinyParts][] = [
  [
    "Conv (grouped, strided, asymmetric pads, bias)",
    spatial(
      [node("Conv", ["x", "w", "b"], ["y"], {
        group: 3,
        strides: [2, 2],
        pads: [1, 0, 2, 1],
        kernel_shape: [3, 3],
      })],
      [6, 4, 3],
      [
        floatTensor("w", [6, 1, 3, 3], randn(rng, 54, 0.5)),
        floatTensor("b", [6], randn(rng, 6)),
      ],
    ),
  ],
  [
    "Conv (auto_pad SAME_UPPER, stride 2)",
    spatial(
      [node("Conv", ["x", "w2"], ["y"], {
        auto_pad: "SAME_UPPER",
        strides: [2, 2],
        kernel_shape: [3, 3],
      })],
      [2, 4, 3],
      [floatTensor("w2", [2, 3, 3, 3], randn(rng, 54, 0.5))],
    ),
  ],
  [
    "Conv (dilation 2, padding 2)",
    spatial(
      [node("Conv", ["x", "w3"], ["y"], {
        dilations: [2, 2],
        pads: [2, 2, 2, 2],
        kernel_shape: [3, 3],
      })],
      [2, 7, 6],
      [floatTensor("w3", [2, 3, 3, 3], randn(rng, 54, 0.5))],
    ),
  ],
  [
    "MaxPool (overlapping windows, padding)",
    spatial(
      [node("MaxPool", ["x"], ["y"], {
        kernel_shape: [3, 3],
        strides: [2, 2],
        pads: [1, 1, 1, 0],
      })],
      [3, 4, 3],
    ),
  ],
  [
    "AveragePool (count_include_pad 0)",
    spatial(
      [node("AveragePool", ["x"], ["y"], {
        kernel_shape: [3, 2],
        strides: [2, 2],
        pads: [1, 0, 1, 0],
      })],
      [3, 4, 3],
    ),
  ],
  [
    "AveragePool (count_include_pad 1)",
    spatial(
      [node("AveragePool", ["x"], ["y"], {
        kernel_shape: [3, 3],
        strides: [2, 2],
        pads: [1, 1, 1, 0],
        count_include_pad: 1,
      })],
      [3, 4, 3],
    ),
  ],
  [
    "GlobalAveragePool",
    spatial([node("GlobalAveragePool", ["x"], ["y"])], [3, 1, 1]),
  ],
  [
    "BatchNormalization (inference)",
    spatial(
      [node("BatchNormalization", ["x", "s", "bb", "mu", "var"], ["y"], {
        epsilon: 1e-3,
      })],
      [C, H, W],
      [
        floatTensor("s", [C], randn(rng, C)),
        floatTensor("bb", [C], randn(rng, C)),
        floatTensor("mu", [C], randn(rng, C, 0.1)),
        floatTensor("var", [C], [0.5, 1.2, 2]),
      ],
    ),
  ],
];

for (const [what, parts] of cases) {
  Deno.test(`gradientModel() matches finite differences: ${what}`, async () => {
    await checkTiny(what, parts);
  });
}
