/**
 * A linear classifier z = W·flatten(x) + b over [N, 3, 4, 4] inputs, written
 * to a temp file, with its float64 logits and analytic input gradients (the
 * oracle of the FGSM tests).
 */
import { DataType, encodeModel } from "../../src/onnx/proto.ts";
import {
  floatTensor,
  graph,
  model,
  node,
  valueInfo,
} from "../../src/onnx/builder.ts";
import type { Rng } from "../../src/rng.ts";

export interface LinearModel {
  path: string;
  dir: string;
  W: Float64Array;
  b: Float64Array;
  /** Input values per sample. */
  D: number;
  K: number;
  /** Float64 logits of one sample. */
  logits(x: ArrayLike<number>): number[];
  /** Float64 input gradient of one sample's loss (`ce` or `reference`). */
  gradient(
    x: ArrayLike<number>,
    label: number,
    loss: "ce" | "reference",
  ): Float64Array;
}

export async function linearModel(rng: Rng, K: number): Promise<LinearModel> {
  const D = 3 * 4 * 4;
  const W = Float64Array.from(
    { length: K * D },
    () => Math.fround(rng.normal()),
  );
  const b = Float64Array.from({ length: K }, () => Math.fround(rng.normal()));
  const m = model({
    graph: graph({
      nodes: [
        node("Flatten", ["input"], ["flat"], { axis: 1 }),
        node("Gemm", ["flat", "W", "b"], ["logits"], { transB: 1 }),
      ],
      inputs: [valueInfo("input", DataType.FLOAT, ["N", 3, 4, 4])],
      outputs: [valueInfo("logits", DataType.FLOAT, ["N", K])],
      initializers: [floatTensor("W", [K, D], W), floatTensor("b", [K], b)],
    }),
  });
  const dir = await Deno.makeTempDir();
  const path = `${dir}/linear.onnx`;
  await Deno.writeFile(path, encodeModel(m));
  const logits = (x: ArrayLike<number>) =>
    Array.from({ length: K }, (_, k) => {
      let acc = b[k]!;
      for (let j = 0; j < D; j++) acc += W[k * D + j]! * x[j]!;
      return acc;
    });
  return {
    path,
    dir,
    W,
    b,
    D,
    K,
    logits,
    gradient(x, label, loss) {
      const z = logits(x);
      const mx = Math.max(...z);
      const ez = z.map((v) => Math.exp(v - mx));
      const sum = ez.reduce((p, v) => p + v, 0);
      const dz = z.map((_, k) =>
        loss === "ce"
          ? ez[k]! / sum - (k === label ? 1 : 0)
          : (k === label ? -1 : 0)
      );
      return Float64Array.from({ length: D }, (_, j) => {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += dz[k]! * W[k * D + j]!;
        return acc;
      });
    },
  };
}
