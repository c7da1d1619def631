/**
 * Finite-difference checks of gradient models: the graph's input gradient
 * against per-coordinate central differences of the loss of the original
 * model, run in float64 where onnxruntime supports every operator in double
 * (else float32 with a larger step), with the loss summed in float64.
 */
import * as ort from "onnxruntime-web";
import {
  DataType,
  encodeModel,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  tensorToFloat64,
} from "../../../src/onnx/proto.ts";
import {
  floatTensor,
  graph,
  model,
  node,
  valueInfo,
} from "../../../src/onnx/builder.ts";
import {
  buildGradientModel,
  type GradientLoss,
} from "../../../src/onnx/gradient/graph.ts";
import { Rng } from "../../../src/rng.ts";

ort.env.wasm.numThreads = 1;

/** Float64 loss of one sample's logits (independent oracle for the graph's loss). */
export function lossOf(
  z: ArrayLike<number>,
  label: number,
  loss: GradientLoss,
): number {
  if (loss === "reference") return -z[label]!;
  let mx = -Infinity;
  for (let i = 0; i < z.length; i++) mx = Math.max(mx, z[i]!);
  let s = 0;
  for (let i = 0; i < z.length; i++) s += Math.exp(z[i]! - mx);
  return -(z[label]! - mx - Math.log(s));
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

/** ||a - b|| / ||b||. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    bb += b[i]! ** 2;
  }
  return Math.sqrt(d / bb);
}

export function randn(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * rng.normal());
}

function tensorToDouble(t: TensorProto): TensorProto {
  if (t.dataType !== DataType.FLOAT) return t;
  const v = new Float64Array(tensorToFloat64(t));
  return {
    dims: [...t.dims],
    dataType: DataType.DOUBLE,
    name: t.name,
    rawData: new Uint8Array(v.buffer),
  };
}

function nodeToDouble(n: NodeProto): NodeProto {
  return {
    ...n,
    attribute: n.attribute.map((a) => {
      if (a.t) return { ...a, t: tensorToDouble(a.t) };
      if (n.opType === "Cast" && a.name === "to" && a.i === DataType.FLOAT) {
        return { ...a, i: DataType.DOUBLE };
      }
      return a;
    }),
  };
}

/** The same model computing in float64 (float tensors, inputs, outputs, casts). */
export function toDouble(m: ModelProto): ModelProto {
  const g = m.graph!;
  const vi = (v: (typeof g.input)[number]) =>
    v.type?.tensorType?.elemType === DataType.FLOAT
      ? {
        ...v,
        type: {
          tensorType: { ...v.type.tensorType, elemType: DataType.DOUBLE },
        },
      }
      : v;
  return {
    ...m,
    graph: {
      ...g,
      node: g.node.map(nodeToDouble),
      initializer: g.initializer.map(tensorToDouble),
      input: g.input.map(vi),
      output: g.output.map(vi),
      valueInfo: [],
    },
  };
}

/** Outcome of {@link fdCheck}. */
export interface FdResult {
  cosine: number;
  relError: number;
  /** True when the differences ran in float64. */
  float64: boolean;
  grad: Float32Array;
  lossOut: Float32Array;
  /** Float64 loss of the original model at `x`, summed over the batch. */
  loss: number;
}

/** Options of {@link fdCheck}. */
export interface FdOptions {
  loss?: GradientLoss;
  /** Step of float32 differences (default 1e-3; larger for smooth deep graphs). */
  step32?: number;
  inputName?: string;
  outputName?: string;
}

/**
 * Gradient model output vs per-coordinate central differences of the
 * original model's loss (summed over the batch) at `x`.
 */
export async function fdCheck(
  m: ModelProto,
  x: Float32Array,
  shape: number[],
  labels: number[],
  opts: FdOptions = {},
): Promise<FdResult> {
  const loss = opts.loss ?? "ce";
  const inName = opts.inputName ?? "x";
  const outName = opts.outputName ?? "z";
  const gm = await buildGradientModel(m, { loss });
  const gs = await ort.InferenceSession.create(encodeModel(gm));
  const out = await gs.run({
    [inName]: new ort.Tensor("float32", x, shape),
    label: new ort.Tensor("int64", BigInt64Array.from(labels, BigInt), [
      labels.length,
    ]),
  });
  await gs.release();
  const grad = out.grad_input!.data as Float32Array;
  const lossOut = out.loss!.data as Float32Array;

  let float64 = true;
  let fs: ort.InferenceSession;
  const run = async (v: Float64Array): Promise<number> => {
    const t = float64
      ? new ort.Tensor("float64", v, shape)
      : new ort.Tensor("float32", Float32Array.from(v), shape);
    const o = await fs.run({ [inName]: t });
    const z = o[outName]!.data as Float32Array | Float64Array;
    const K = z.length / labels.length;
    let s = 0;
    for (let i = 0; i < labels.length; i++) {
      s += lossOf(z.subarray(i * K, (i + 1) * K), labels[i]!, loss);
    }
    return s;
  };
  const x64 = Float64Array.from(x);
  try {
    fs = await ort.InferenceSession.create(encodeModel(toDouble(m)));
    await run(x64);
  } catch {
    float64 = false;
    fs = await ort.InferenceSession.create(encodeModel(m));
  }
  try {
    const step = float64 ? 1e-5 : opts.step32 ?? 1e-3;
    const fd = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const xp = x64.slice(), xm = x64.slice();
      xp[i] = x64[i]! + step;
      xm[i] = x64[i]! - step;
      fd[i] = ((await run(xp)) - (await run(xm))) / (2 * step);
    }
    return {
      cosine: cosine(grad, fd),
      relError: relError(grad, fd),
      float64,
      grad,
      lossOut,
      loss: await run(x64),
    };
  } finally {
    await fs.release();
  }
}

/** Bounds every rule test asserts: cosine >= 0.999 and a relative error. */
export function assertClose(r: FdResult, what: string): void {
  const bound = r.float64 ? 2e-3 : 3e-2;
  const msg = `${what}: cosine ${r.cosine.toFixed(6)}, relative error ${
    r.relError.toExponential(2)
  } (${r.float64 ? "float64" : "float32"} differences)`;
  console.log(msg);
  if (!(r.cosine >= 0.999 && r.relError <= bound)) throw new Error(msg);
  const lossSum = r.lossOut.reduce((p, v) => p + v, 0);
  if (!(Math.abs(lossSum - r.loss) <= 1e-3 * Math.max(1, Math.abs(r.loss)))) {
    throw new Error(`${what}: graph loss ${lossSum} vs ${r.loss}`);
  }
}

/** Parts of a tiny test model: `x` [N, ...inDims] → nodes → `out` [N, ...outDims]. */
export interface TinyParts {
  inDims: number[];
  nodes: NodeProto[];
  inits?: TensorProto[];
  out: string;
  outDims: number[];
  opset?: number;
}

/** A tiny classifier: the parts, then Flatten and a fixed random linear head to K logits. */
export function tinyModel(rng: Rng, p: TinyParts, K = 4): ModelProto {
  const D = p.outDims.reduce((a, b) => a * b, 1);
  return model({
    graph: graph({
      nodes: [
        ...p.nodes,
        node("Flatten", [p.out], ["head_flat"], { axis: 1 }),
        node("MatMul", ["head_flat", "head_W"], ["z"]),
      ],
      inputs: [valueInfo("x", DataType.FLOAT, ["N", ...p.inDims])],
      outputs: [valueInfo("z", DataType.FLOAT, ["N", K])],
      initializers: [
        ...(p.inits ?? []),
        floatTensor("head_W", [D, K], randn(rng, D * K, 1 / Math.sqrt(D))),
      ],
    }),
    opset: p.opset ?? 17,
  });
}

/**
 * Builds the tiny model, draws `x` (batch 3: the shape probe uses batch 2, so
 * the graph must not bake the batch in) and checks both losses.
 */
export async function checkTiny(
  what: string,
  p: TinyParts,
  opts: { seed?: number; positive?: boolean; scale?: number; step32?: number } =
    {},
): Promise<void> {
  const rng = new Rng(opts.seed ?? 1, [what]);
  const m = tinyModel(rng, p);
  const N = 3;
  const size = N * p.inDims.reduce((a, b) => a * b, 1);
  const x = opts.positive
    ? Float32Array.from({ length: size }, () => 0.5 + rng.float())
    : randn(rng, size, opts.scale ?? 1);
  for (const loss of ["ce", "reference"] as const) {
    const r = await fdCheck(m, x, [N, ...p.inDims], [1, 3, 0], {
      loss,
      step32: opts.step32,
    });
    assertClose(r, `${what} (${loss})`);
  }
}
