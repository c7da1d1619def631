/**
 * Tiny ONNX classifiers for tests, built in TypeScript:
 * logits[n][k] = sum_c mean_{h,w}(x[n][c]) * W[c][k] + b[k].
 */
import { floatTensor, graph, model, node, valueInfo } from "../onnx/builder.ts";
import { DataType, encodeModel } from "../onnx/proto.ts";

/** Options for `meanLinearModel()`. */
export interface TinyModelOptions {
  size: number;
  channels?: number;
  classes: number;
  /** Batch dim: a number (fixed) or a symbol. @default "N" */
  batch?: number | string;
  weights: Float32Array; // [channels, classes]
  bias?: Float32Array; // [classes]
  /** ONNX metadata_props to write (key → value). */
  metadata?: Record<string, string>;
}

/** Build the model bytes. */
export function meanLinearModel(o: TinyModelOptions): Uint8Array {
  const c = o.channels ?? 3;
  const n = o.batch ?? "N";
  const bias = o.bias ?? new Float32Array(o.classes);
  const m = model({
    graph: graph({
      nodes: [
        node("ReduceMean", ["x"], ["m"], { axes: [2, 3], keepdims: 0 }),
        node("MatMul", ["m", "W"], ["z"]),
        node("Add", ["z", "b"], ["logits"]),
      ],
      inputs: [valueInfo("x", DataType.FLOAT, [n, c, o.size, o.size])],
      outputs: [valueInfo("logits", DataType.FLOAT, [n, o.classes])],
      initializers: [
        floatTensor("W", [c, o.classes], o.weights),
        floatTensor("b", [o.classes], bias),
      ],
    }),
  });
  m.metadataProps = Object.entries(o.metadata ?? {}).map(([key, value]) => ({
    key,
    value,
  }));
  return encodeModel(m);
}

/** The same function in float64, as the test oracle. */
export function meanLinearOracle(
  x: Float32Array,
  batch: number,
  o: {
    size: number;
    channels?: number;
    classes: number;
    weights: Float32Array;
    bias?: Float32Array;
  },
): Float64Array {
  const c = o.channels ?? 3;
  const plane = o.size * o.size;
  const out = new Float64Array(batch * o.classes);
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < o.classes; k++) {
      let z = o.bias ? o.bias[k]! : 0;
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        const base = (b * c + ch) * plane;
        for (let i = 0; i < plane; i++) s += x[base + i]!;
        z += (s / plane) * o.weights[ch * o.classes + k]!;
      }
      out[b * o.classes + k] = z;
    }
  }
  return out;
}

/** Write a model to a temp file; returns its path. */
export async function writeTemp(
  bytes: Uint8Array,
  dir: string,
  name: string,
): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeFile(path, bytes);
  return path;
}
