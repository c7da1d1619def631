/**
 * Tiny ONNX classifiers for tests, built in TypeScript:
 * logits[n][k] = sum_c mean_{h,w}(x[n][c]) * W[c][k] + b[k].
 */
import {
  floatTensor,
  graph,
  int64Tensor,
  model,
  node,
  valueInfo,
} from "../onnx/builder.ts";
import { DataType, encodeModel, kDataLocationExternal } from "../onnx/proto.ts";

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

/** Options of `imageClassifier()`: one model per intake case, same function. */
export interface ImageClassifierOptions {
  /** Side S; with `symbolicSize` the declared H/W are "H"/"W" (any side runs). */
  size: number;
  classes: number;
  /** Weights: `[3*S*S, K]` in NCHW flatten order, or `[3, K]` with `symbolicSize` (mean-pooled). */
  weights: Float32Array;
  bias?: Float32Array;
  layout?: "NCHW" | "NHWC";
  symbolicSize?: boolean;
  /** Input and output as float16 (Cast at both ends). */
  float16?: boolean;
  /**
   * Output shape: `[N,K]`, `[N,K,1,1]` or `[N,1,K]`; "NK22" builds a bad
   * `[N,K,2,2]`; "NKhw" (with `symbolicSize`) a fully convolutional
   * `[N,K,H-S+1,W-S+1]` (an S x S average pool, then the class projection per
   * position), which ort cannot size before running and which is `[N,K,1,1]`
   * only for S x S inputs.
   */
  output?: "NK" | "NK11" | "N1K" | "NK22" | "NKhw";
  /** Store W and b in this external data file (relative to the model). */
  externalData?: string;
  batch?: number | string;
}

/**
 * A tiny image classifier in any of the layouts and types the session accepts:
 * logits = flatten(x_NCHW) @ W + b (or mean over H,W with `symbolicSize`). An
 * NHWC input is transposed to NCHW inside the graph and float16 is cast to
 * float32 at the input and back at the output, so every variant computes the
 * NCHW float32 function. Returns the model bytes and, with `externalData`,
 * the data file's bytes.
 */
export function imageClassifier(
  o: ImageClassifierOptions,
): { model: Uint8Array; data?: Uint8Array } {
  const layout = o.layout ?? "NCHW";
  const n = o.batch ?? "N";
  const k = o.classes;
  const [h, w] = o.symbolicSize ? ["H", "W"] : [o.size, o.size];
  const inDims = layout === "NCHW" ? [n, 3, h, w] : [n, h, w, 3];
  const type = o.float16 ? DataType.FLOAT16 : DataType.FLOAT;
  const nodes = [];
  let x = "x";
  if (o.float16) {
    nodes.push(node("Cast", [x], ["xf"], { to: DataType.FLOAT }));
    x = "xf";
  }
  if (layout === "NHWC") {
    nodes.push(node("Transpose", [x], ["xt"], { perm: [0, 3, 1, 2] }));
    x = "xt";
  }
  const shape = o.output ?? "NK";
  if (shape === "NKhw") {
    nodes.push(
      node("AveragePool", [x], ["p"], { kernel_shape: [o.size, o.size] }),
    );
    nodes.push(node("Transpose", ["p"], ["f"], { perm: [0, 2, 3, 1] }));
  } else if (o.symbolicSize) {
    nodes.push(node("ReduceMean", [x], ["f"], { axes: [2, 3], keepdims: 0 }));
  } else {
    nodes.push(node("Flatten", [x], ["f"], { axis: 1 }));
  }
  nodes.push(node("MatMul", ["f", "W"], ["z"]));
  nodes.push(node("Add", ["z", "b"], ["y"]));
  const initializers = [
    floatTensor("W", [o.weights.length / k, k], o.weights),
    floatTensor("b", [k], o.bias ?? new Float32Array(k)),
  ];
  let y = "y";
  if (shape === "NKhw") {
    nodes.push(node("Transpose", [y], ["yt"], { perm: [0, 3, 1, 2] }));
    y = "yt";
  } else if (shape !== "NK") {
    const target = shape === "N1K"
      ? [0, 1, k]
      : shape === "NK11"
      ? [0, k, 1, 1]
      : [0, k, 2, 2];
    if (shape === "NK22") {
      nodes.push(node("Unsqueeze", [y, "ax"], ["y4"]));
      nodes.push(node("Expand", ["y4", "rep"], ["y5"]));
      initializers.push(int64Tensor("ax", [2], [2, 3]));
      initializers.push(int64Tensor("rep", [4], [1, 1, 2, 2]));
      y = "y5";
    } else {
      nodes.push(node("Reshape", [y, "shape"], ["yr"]));
      initializers.push(int64Tensor("shape", [target.length], target));
      y = "yr";
    }
  }
  if (o.float16) {
    nodes.push(node("Cast", [y], ["logits"], { to: DataType.FLOAT16 }));
  } else {
    nodes.push(node("Identity", [y], ["logits"]));
  }
  const outDims = shape === "NK"
    ? [n, k]
    : shape === "N1K"
    ? [n, 1, k]
    : shape === "NK11"
    ? [n, k, 1, 1]
    : shape === "NK22"
    ? [n, k, 2, 2]
    : [n, k, "h", "w"];
  let data: Uint8Array | undefined;
  if (o.externalData) {
    const parts: Uint8Array[] = [];
    let offset = 0;
    for (const t of initializers.slice(0, 2)) {
      const raw = t.rawData!;
      t.externalData = [
        { key: "location", value: o.externalData },
        { key: "offset", value: String(offset) },
        { key: "length", value: String(raw.length) },
      ];
      t.dataLocation = kDataLocationExternal;
      delete t.rawData;
      parts.push(raw);
      offset += raw.length;
    }
    data = new Uint8Array(offset);
    let at = 0;
    for (const p of parts) {
      data.set(p, at);
      at += p.length;
    }
  }
  const bytes = encodeModel(model({
    graph: graph({
      nodes,
      inputs: [valueInfo("x", type, inDims)],
      outputs: [valueInfo("logits", type, outDims)],
      initializers,
    }),
  }));
  return data ? { model: bytes, data } : { model: bytes };
}

/** `imageClassifier()`'s function in float64 on an NCHW float32 input. */
export function imageClassifierOracle(
  x: ArrayLike<number>,
  batch: number,
  o: ImageClassifierOptions,
): Float64Array {
  const k = o.classes;
  const per = x.length / batch;
  const plane = per / 3;
  const out = new Float64Array(batch * k);
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < k; j++) {
      let z = o.bias ? o.bias[j]! : 0;
      if (o.symbolicSize || o.output === "NKhw") {
        for (let c = 0; c < 3; c++) {
          let s = 0;
          for (let i = 0; i < plane; i++) s += x[b * per + c * plane + i]!;
          z += (s / plane) * o.weights[c * k + j]!;
        }
      } else {
        for (let i = 0; i < per; i++) {
          z += x[b * per + i]! * o.weights[i * k + j]!;
        }
      }
      out[b * k + j] = z;
    }
  }
  return out;
}
