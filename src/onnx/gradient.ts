/**
 * Input gradients of ONNX classifiers without PyTorch: a graph transformation
 * that appends the backward pass (reverse-mode differentiation) of the loss
 * with respect to the image input, as a new ONNX model run by onnxruntime.
 *
 * The gradient model has the original inputs plus `label` (int64 `[N]`, class
 * indices in `[0, K)`), and outputs the original outputs plus `loss` (float
 * `[N]`, the per-sample loss) and `grad_input` (float, the input's shape): the
 * gradient of `sum(loss)` over the batch, so every sample's gradient is the
 * gradient of its own loss, whatever the batch size.
 *
 * Losses: `ce` = cross-entropy of the logits (`-log softmax(z)_y`), and
 * `reference` = `-z_y` (the reference implementation's `nll_loss` applied to
 * raw logits).
 *
 * Static shapes: the transform needs the shapes of intermediate tensors (conv
 * output paddings, broadcast reductions, pool windows). {@link inferShapes}
 * gets them by running the original model once in onnxruntime-web with every
 * intermediate tensor added as a graph output, on zeros, with batch 2 for a
 * symbolic batch dimension (2, not 1, so a broadcast over the batch axis is
 * visible). The generated graph never bakes in the batch size: everything that
 * depends on it uses runtime `Shape` ops, so it runs at any batch size. Small
 * integer tensors seen by the probe (e.g. computed Slice bounds) are also
 * recorded, for operators whose parameters are inputs.
 *
 * Only nodes on a path from the image input to the logits are differentiated;
 * constant subgraphs (initializers, `DequantizeLinear` of quantized weights)
 * need no gradient. An operator on that path without a backward rule raises
 * {@link UnsupportedOperatorError} naming its type and node.
 *
 * @module
 */

import * as ort from "onnxruntime-web";
import { watched } from "../model/watchdog.ts";
import {
  attrFloat,
  attrInt,
  attrInts,
  attrString,
  DataType,
  encodeModel,
  getAttribute,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  tensorToInt64s,
  type ValueInfoProto,
} from "./proto.ts";
import {
  attr,
  floatAttr,
  floatTensor,
  int64Tensor,
  node,
  valueInfo,
} from "./builder.ts";

/** Loss whose input gradient is computed. */
export type GradientLoss = "ce" | "reference";

/** Static shapes (and small integer values) of a model's tensors. */
export interface ShapeInfo {
  /** Shape of every tensor: graph inputs, initializers and node outputs. */
  shapes: Map<string, number[]>;
  /** Values of small integer tensors (at most 64 elements) seen by the probe. */
  intValues: Map<string, number[]>;
  /** Batch size used by the probe (the shapes' first dimension). */
  batch: number;
}

/** Error for an operator on the differentiable path without a backward rule. */
export class UnsupportedOperatorError extends Error {
  override name = "UnsupportedOperatorError";
  readonly opType: string;
  readonly nodeName: string;
  constructor(n: NodeProto, detail?: string) {
    super(
      `Cannot differentiate operator ${n.opType} (node "${
        n.name ?? n.output[0] ?? "?"
      }")${detail ? `: ${detail}` : ": no backward rule for this operator"}`,
    );
    this.opType = n.opType;
    this.nodeName = n.name ?? n.output[0] ?? "";
  }
}

/** Options of {@link inferShapes}. */
export interface InferShapesOptions {
  /** Input name (default: the first graph input that is not an initializer). */
  inputName?: string;
  /** Full input shape to probe with; default: the declared one, symbolic batch = 2. */
  inputShape?: number[];
}

/** Name of the image input: the first graph input that is not an initializer. */
export function imageInputName(m: ModelProto): string {
  const g = requireGraph(m);
  const inits = new Set(g.initializer.map((t) => t.name));
  const v = g.input.find((i) => !inits.has(i.name));
  if (!v?.name) {
    throw new Error("Cannot find the model's input: the graph has no inputs");
  }
  return v.name;
}

function requireGraph(m: ModelProto): GraphProto {
  if (!m.graph) throw new Error("Cannot use the model: it has no graph");
  return m.graph;
}

function probeInputShape(
  g: GraphProto,
  inputName: string,
  given?: number[],
): number[] {
  if (given) return given;
  const v = g.input.find((i) => i.name === inputName);
  const dims = v?.type?.tensorType?.shape?.dim;
  if (!dims) {
    throw new Error(
      `Cannot infer shapes: input "${inputName}" has no declared shape`,
    );
  }
  return dims.map((d, i) => {
    if (d.dimValue !== undefined && d.dimValue > 0) return d.dimValue;
    if (i === 0) return 2;
    throw new Error(
      `Cannot infer shapes: dimension ${i} of input "${inputName}" is symbolic; pass inputShape`,
    );
  });
}

/**
 * Static shapes of every tensor, by one onnxruntime-web run of the model on
 * zeros with all intermediate tensors exposed as outputs (see module doc).
 */
export async function inferShapes(
  m: ModelProto,
  opts: InferShapesOptions = {},
): Promise<ShapeInfo> {
  const g = requireGraph(m);
  const inputName = opts.inputName ?? imageInputName(m);
  const inShape = probeInputShape(g, inputName, opts.inputShape);
  const inits = new Set(g.initializer.map((t) => t.name));
  const others = g.input.filter((i) =>
    i.name !== inputName && !inits.has(i.name)
  );
  if (others.length) {
    throw new Error(
      `Cannot infer shapes: the model has more than one input (${
        g.input.map((i) => i.name).join(", ")
      })`,
    );
  }
  const declared = new Set(g.output.map((o) => o.name));
  const extra: ValueInfoProto[] = [];
  for (const n of g.node) {
    for (const o of n.output) {
      if (o && !declared.has(o)) {
        extra.push({ name: o });
        declared.add(o);
      }
    }
  }
  const probe: ModelProto = {
    ...m,
    graph: { ...g, output: [...g.output, ...extra] },
  };
  const session = await ort.InferenceSession.create(encodeModel(probe), {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "disabled",
  });
  const shapes = new Map<string, number[]>();
  const intValues = new Map<string, number[]>();
  try {
    const size = inShape.reduce((a, b) => a * b, 1);
    const feeds = {
      [inputName]: new ort.Tensor("float32", new Float32Array(size), inShape),
    };
    const out = await watched("the shape probe", () => session.run(feeds));
    for (const [name, t] of Object.entries(out)) {
      shapes.set(name, t.dims.map(Number));
      if (
        (t.type === "int64" || t.type === "int32") && t.size <= 64
      ) {
        intValues.set(
          name,
          Array.from(t.data as ArrayLike<number | bigint>, Number),
        );
      }
      t.dispose?.();
    }
  } finally {
    await session.release();
  }
  shapes.set(inputName, inShape);
  for (const t of g.initializer) {
    if (t.name) shapes.set(t.name, [...t.dims]);
  }
  return { shapes, intValues, batch: inShape[0]! };
}

/** Options of {@link gradientModel} and {@link buildGradientModel}. */
export interface GradientOptions {
  /** Loss: `ce` (default) or `reference` (`-z_y`). */
  loss?: GradientLoss;
  /** Image input (default: the first non-initializer graph input). */
  inputName?: string;
  /** Logits output (default: the first graph output); must be `[N, K]`. */
  outputName?: string;
  /** Name of the added label input (default `label`). */
  labelName?: string;
  /** Name of the added gradient output (default `grad_input`). */
  gradName?: string;
  /** Name of the added per-sample loss output (default `loss`). */
  lossName?: string;
}

/** Builds the gradient model: {@link inferShapes} then {@link gradientModel}. */
export async function buildGradientModel(
  m: ModelProto,
  opts: GradientOptions & { inputShape?: number[] } = {},
): Promise<ModelProto> {
  const info = await inferShapes(m, {
    inputName: opts.inputName,
    inputShape: opts.inputShape,
  });
  return gradientModel(m, info, opts);
}

/** Operators whose outputs carry no gradient (integer or boolean results). */
const kNonDifferentiable = new Set([
  "Shape",
  "Size",
  "ArgMax",
  "ArgMin",
  "Equal",
  "Greater",
  "GreaterOrEqual",
  "Less",
  "LessOrEqual",
  "Not",
  "And",
  "Or",
  "Xor",
  "NonZero",
  "ConstantOfShape",
  "Constant",
  "IsNaN",
  "IsInf",
  "Sign",
  "Floor",
  "Ceil",
  "Round",
]);

/** Input slots that carry gradient, per supported operator (others must be constant). */
const kDiffInputs: Record<string, number[] | "all"> = {
  Identity: [0],
  Relu: [0],
  LeakyRelu: [0],
  Clip: [0],
  Sigmoid: [0],
  Tanh: [0],
  HardSigmoid: [0],
  HardSwish: [0],
  Neg: [0],
  BatchNormalization: [0],
  Add: [0, 1],
  Sub: [0, 1],
  Mul: [0, 1],
  Div: [0, 1],
  Sum: "all",
  Conv: [0],
  Gemm: [0, 1, 2],
  MatMul: [0, 1],
  MaxPool: [0],
  AveragePool: [0],
  GlobalAveragePool: [0],
  Flatten: [0],
  Reshape: [0],
  Squeeze: [0],
  Unsqueeze: [0],
  Transpose: [0],
  Concat: "all",
  Slice: [0],
  Pad: [0],
  Softmax: [0],
  LogSoftmax: [0],
  Dropout: [0],
  ReduceMean: [0],
  ReduceSum: [0],
};

function diffSlots(n: NodeProto): number[] {
  const d = kDiffInputs[n.opType];
  if (d === "all") return n.input.map((_, i) => i);
  return d ?? n.input.map((_, i) => i);
}

/** Emits nodes of the backward pass with fresh names. */
class Emitter {
  readonly nodes: NodeProto[] = [];
  readonly inits: TensorProto[] = [];
  #used: Set<string>;
  #n = 0;
  #consts = new Map<string, string>();

  constructor(used: Set<string>) {
    this.#used = used;
  }

  fresh(hint: string): string {
    let name: string;
    do name = `grad/${hint}_${this.#n++}`; while (this.#used.has(name));
    this.#used.add(name);
    return name;
  }

  op(
    opType: string,
    inputs: string[],
    attrs: Parameters<typeof node>[3] = {},
    hint = opType,
  ): string {
    const out = this.fresh(hint);
    this.nodes.push(node(opType, inputs, [out], attrs, { name: out }));
    return out;
  }

  ints(values: number[], scalar = false): string {
    const key = `i${scalar ? "s" : ""}:${values.join(",")}`;
    let name = this.#consts.get(key);
    if (!name) {
      name = this.fresh("const");
      this.inits.push(int64Tensor(name, scalar ? [] : [values.length], values));
      this.#consts.set(key, name);
    }
    return name;
  }

  float(value: number): string {
    const key = `f:${value}`;
    let name = this.#consts.get(key);
    if (!name) {
      name = this.fresh("const");
      this.inits.push(floatTensor(name, [], [value]));
      this.#consts.set(key, name);
    }
    return name;
  }

  floats(dims: number[], data: ArrayLike<number>): string {
    const name = this.fresh("const");
    this.inits.push(floatTensor(name, dims, data));
    return name;
  }
}

const sameShape = (a: number[], b: number[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Appends the backward pass to a classifier (see module doc). `info` comes
 * from {@link inferShapes} on the same model. The input model is not modified.
 */
export function gradientModel(
  m: ModelProto,
  info: ShapeInfo,
  opts: GradientOptions = {},
): ModelProto {
  const g = requireGraph(m);
  const loss = opts.loss ?? "ce";
  const inputName = opts.inputName ?? imageInputName(m);
  const outputName = opts.outputName ?? g.output[0]?.name;
  if (!outputName) {
    throw new Error(
      "Cannot build the gradient model: the graph has no outputs",
    );
  }
  const labelName = opts.labelName ?? "label";
  const gradName = opts.gradName ?? "grad_input";
  const lossName = opts.lossName ?? "loss";

  const opsetEntry = m.opsetImport.find((o) =>
    (o.domain ?? "") === "" || o.domain === "ai.onnx"
  );
  const opset = opsetEntry?.version ?? 1;
  if (opset < 13) {
    throw new Error(
      `Cannot build the gradient model: opset ${opset} is older than 13 (convert the model to opset 13 or newer)`,
    );
  }

  const shapeOf = (name: string): number[] => {
    const s = info.shapes.get(name);
    if (!s) {
      throw new Error(
        `Cannot build the gradient model: no static shape for tensor "${name}"`,
      );
    }
    return s;
  };

  // Constant values: initializers, Constant nodes, then probe values.
  const initMap = new Map(g.initializer.map((t) => [t.name ?? "", t]));
  const constNodes = new Map<string, NodeProto>();
  for (const n of g.node) {
    if (n.opType === "Constant" && n.output[0]) {
      constNodes.set(n.output[0], n);
    }
  }
  const intsOf = (name: string, n: NodeProto): number[] => {
    const t = initMap.get(name) ??
      getAttribute(constNodes.get(name) ?? n, "value")?.t;
    if (t && (initMap.has(name) || constNodes.has(name))) {
      return tensorToInt64s(t);
    }
    const v = info.intValues.get(name);
    if (v) return v;
    throw new UnsupportedOperatorError(n, `input "${name}" is not a constant`);
  };

  // Forward liveness: tensors that depend on the input through differentiable slots.
  const live = new Set<string>([inputName]);
  for (const n of g.node) {
    if (kNonDifferentiable.has(n.opType)) continue;
    const slots = diffSlots(n);
    if (n.input.some((x, i) => x && live.has(x) && slots.includes(i))) {
      for (const o of n.output) if (o) live.add(o);
    }
  }
  if (!live.has(outputName)) {
    throw new Error(
      `Cannot build the gradient model: output "${outputName}" does not depend on input "${inputName}"`,
    );
  }
  // Backward need: tensors the output depends on.
  const needed = new Set<string>([outputName]);
  for (let k = g.node.length - 1; k >= 0; k--) {
    const n = g.node[k]!;
    if (n.output.some((o) => needed.has(o))) {
      for (const x of n.input) if (x) needed.add(x);
    }
  }
  const onPath = (n: NodeProto) =>
    !kNonDifferentiable.has(n.opType) && n.output.some((o) =>
      needed.has(o) && live.has(o)
    ) &&
    n.input.some((x) => x && live.has(x));

  const used = new Set<string>([labelName, gradName, lossName]);
  for (const t of g.initializer) if (t.name) used.add(t.name);
  for (const v of [...g.input, ...g.output, ...g.valueInfo]) {
    if (v.name) used.add(v.name);
  }
  for (const n of g.node) {
    for (const o of n.output) used.add(o);
    if (n.name) used.add(n.name);
  }
  for (const x of [labelName, gradName, lossName]) {
    if (
      g.input.some((v) => v.name === x) || g.output.some((v) => v.name === x)
    ) {
      throw new Error(
        `Cannot build the gradient model: the model already has a tensor "${x}"`,
      );
    }
  }
  const e = new Emitter(used);

  // Forward nodes, copied (MaxPool may gain an Indices output).
  const forward = g.node.map((n) => ({ ...n, output: [...n.output] }));
  let needOpset = opset;

  // ---- Loss and its gradient w.r.t. the logits.
  const zShape = shapeOf(outputName);
  if (zShape.length !== 2) {
    throw new Error(
      `Cannot build the gradient model: output "${outputName}" has rank ${zShape.length}, expected logits [N, K]`,
    );
  }
  const K = zShape[1]!;
  const onehot = e.op("OneHot", [
    labelName,
    e.ints([K], true),
    e.floats([2], [0, 1]),
  ], {
    axis: -1,
  }, "onehot");
  let gz: string;
  let perSample: string;
  if (loss === "ce") {
    const p = e.op("Softmax", [outputName], { axis: 1 });
    gz = e.op("Sub", [p, onehot], {}, "dlogits");
    const lsm = e.op("LogSoftmax", [outputName], { axis: 1 });
    const picked = e.op(
      "ReduceSum",
      [e.op("Mul", [lsm, onehot]), e.ints([1])],
      { keepdims: 0 },
    );
    perSample = e.op("Neg", [picked]);
  } else {
    gz = e.op("Neg", [onehot], {}, "dlogits");
    const picked = e.op("ReduceSum", [
      e.op("Mul", [outputName, onehot]),
      e.ints([1]),
    ], {
      keepdims: 0,
    });
    perSample = e.op("Neg", [picked]);
  }
  e.nodes.push(
    node("Identity", [perSample], [lossName], {}, { name: e.fresh("loss") }),
  );

  // ---- Reverse pass.
  const grads = new Map<string, string[]>();
  const addGrad = (name: string, gname: string) => {
    if (!live.has(name)) return;
    const list = grads.get(name);
    if (list) list.push(gname);
    else grads.set(name, [gname]);
  };
  const takeGrad = (name: string): string | undefined => {
    const list = grads.get(name);
    if (!list || list.length === 0) return undefined;
    if (list.length === 1) return list[0];
    const s = e.op("Sum", list, {}, "acc");
    grads.set(name, [s]);
    return s;
  };
  addGrad(outputName, gz);

  /** Reduces a broadcast gradient `gname` (shape of `outName`) to the shape of `target`. */
  const sumTo = (gname: string, outName: string, target: string): string =>
    sumToShape(gname, shapeOf(outName), target);
  const sumToShape = (gname: string, gs: number[], target: string): string => {
    const ts = shapeOf(target);
    if (sameShape(gs, ts)) return gname;
    const d = gs.length - ts.length;
    const axes: number[] = [];
    for (let i = 0; i < gs.length; i++) {
      if (i < d || (ts[i - d] === 1 && gs[i] !== 1)) axes.push(i);
    }
    let r = gname;
    if (axes.length) {
      r = e.op(
        "ReduceSum",
        [gname, e.ints(axes)],
        { keepdims: 1 },
        "unbroadcast",
      );
    }
    return e.op("Reshape", [r, e.op("Shape", [target])], {}, "unbroadcast");
  };

  const zero = () => e.float(0);

  /** Pads/output_padding so that a ConvTranspose yields the forward input's size. */
  const transposedPads = (
    inSpatial: number[],
    outSpatial: number[],
    kernel: number[],
    strides: number[],
    dilations: number[],
    padsBegin: number[],
  ) => {
    const padsEnd: number[] = [];
    const outPad: number[] = [];
    for (let i = 0; i < inSpatial.length; i++) {
      const total = strides[i]! * (outSpatial[i]! - 1) +
        (kernel[i]! - 1) * dilations[i]! + 1 -
        padsBegin[i]!;
      if (total >= inSpatial[i]!) {
        padsEnd.push(total - inSpatial[i]!);
        outPad.push(0);
      } else {
        padsEnd.push(0);
        outPad.push(inSpatial[i]! - total);
      }
    }
    return { pads: [...padsBegin, ...padsEnd], outputPadding: outPad };
  };

  /** Explicit begin pads of a Conv/pool node (auto_pad resolved from static shapes). */
  const beginPads = (
    n: NodeProto,
    inSpatial: number[],
    outSpatial: number[],
    kernel: number[],
    strides: number[],
    dilations: number[],
  ): number[] => {
    const r = inSpatial.length;
    const autoPad = attrString(n, "auto_pad", "NOTSET");
    if (autoPad === "NOTSET") {
      return attrInts(n, "pads", new Array(2 * r).fill(0)).slice(0, r);
    }
    if (autoPad === "VALID") return new Array(r).fill(0);
    return inSpatial.map((h, i) => {
      const need = Math.max(
        0,
        (outSpatial[i]! - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! +
          1 - h,
      );
      return autoPad === "SAME_LOWER"
        ? Math.ceil(need / 2)
        : Math.floor(need / 2);
    });
  };

  const forbidLive = (n: NodeProto) => {
    const slots = diffSlots(n);
    n.input.forEach((x, i) => {
      if (x && live.has(x) && !slots.includes(i)) {
        throw new UnsupportedOperatorError(
          n,
          `input ${i} ("${x}") depends on the image input; only input${
            slots.length > 1 ? "s" : ""
          } ${slots.join(", ")} may`,
        );
      }
    });
  };

  for (let k = forward.length - 1; k >= 0; k--) {
    const n = forward[k]!;
    if (!onPath(n)) continue;
    if (
      !(n.opType in kDiffInputs) ||
      (n.domain ?? "") !== "" && n.domain !== "ai.onnx"
    ) {
      throw new UnsupportedOperatorError(n);
    }
    forbidLive(n);
    const y = n.output[0]!;
    const dy = takeGrad(y);
    if (!dy) continue;
    const x = n.input[0]!;
    const isLive = (i: number) => !!n.input[i] && live.has(n.input[i]!);

    switch (n.opType) {
      case "Identity":
      case "Dropout":
        addGrad(x, dy);
        break;
      case "Relu":
        addGrad(
          x,
          e.op(
            "Where",
            [e.op("Greater", [x, zero()]), dy, zero()],
            {},
            "relu_bw",
          ),
        );
        break;
      case "LeakyRelu": {
        const alpha = attrFloat(n, "alpha", 0.01);
        addGrad(
          x,
          e.op("Where", [
            e.op("Greater", [x, zero()]),
            dy,
            e.op("Mul", [dy, e.float(alpha)]),
          ]),
        );
        break;
      }
      case "Clip": {
        let lo: string | undefined;
        let hi: string | undefined;
        if (opset >= 11) {
          lo = n.input[1] || undefined;
          hi = n.input[2] || undefined;
        } else {
          const a = getAttribute(n, "min");
          const b = getAttribute(n, "max");
          if (a?.f !== undefined) lo = e.float(a.f);
          if (b?.f !== undefined) hi = e.float(b.f);
        }
        let mask: string | undefined;
        if (lo) mask = e.op("Greater", [x, lo]);
        if (hi) {
          const m2 = e.op("Less", [x, hi]);
          mask = mask ? e.op("And", [mask, m2]) : m2;
        }
        addGrad(
          x,
          mask ? e.op("Where", [mask, dy, zero()], {}, "clip_bw") : dy,
        );
        break;
      }
      case "Sigmoid": {
        const oneMinus = e.op("Sub", [e.float(1), y]);
        addGrad(
          x,
          e.op("Mul", [dy, e.op("Mul", [y, oneMinus])], {}, "sigmoid_bw"),
        );
        break;
      }
      case "Tanh": {
        const d = e.op("Sub", [e.float(1), e.op("Mul", [y, y])]);
        addGrad(x, e.op("Mul", [dy, d], {}, "tanh_bw"));
        break;
      }
      case "HardSigmoid":
      case "HardSwish": {
        const alpha = n.opType === "HardSwish"
          ? 1 / 6
          : attrFloat(n, "alpha", 0.2);
        const beta = n.opType === "HardSwish" ? 0.5 : attrFloat(n, "beta", 0.5);
        const lin = e.op("Add", [
          e.op("Mul", [x, e.float(alpha)]),
          e.float(beta),
        ]);
        const inside = e.op("And", [
          e.op("Greater", [lin, zero()]),
          e.op("Less", [lin, e.float(1)]),
        ]);
        const dsig = e.op("Where", [inside, e.float(alpha), zero()]);
        let d = dsig;
        if (n.opType === "HardSwish") {
          // d/dx [x * hs(x)] = hs(x) + x * hs'(x)
          const hs = e.op("HardSigmoid", [x], [
            floatAttr("alpha", alpha),
            floatAttr("beta", beta),
          ]);
          d = e.op("Add", [hs, e.op("Mul", [x, dsig])]);
        }
        addGrad(x, e.op("Mul", [dy, d], {}, "hard_bw"));
        break;
      }
      case "Neg":
        addGrad(x, e.op("Neg", [dy]));
        break;
      case "BatchNormalization": {
        // inference mode: y = (x - mean) / sqrt(var + eps) * scale + B
        if (
          attrInt(n, "training_mode", 0) !== 0 ||
          n.output.slice(1).some((o) => o)
        ) {
          throw new UnsupportedOperatorError(
            n,
            "training-mode outputs are not supported",
          );
        }
        const eps = attrFloat(n, "epsilon", 1e-5);
        const k = e.op("Div", [
          n.input[1]!,
          e.op("Sqrt", [e.op("Add", [n.input[4]!, e.float(eps)])]),
        ]);
        const rank = shapeOf(x).length;
        const axes = Array.from({ length: rank - 2 }, (_, i) => i + 1);
        const kk = axes.length ? e.op("Unsqueeze", [k, e.ints(axes)]) : k;
        addGrad(x, e.op("Mul", [dy, kk], {}, "bn_bw"));
        break;
      }
      case "Add":
      case "Sub":
      case "Sum": {
        n.input.forEach((inp, i) => {
          if (!isLive(i)) return;
          const gi = n.opType === "Sub" && i === 1 ? e.op("Neg", [dy]) : dy;
          addGrad(inp, sumTo(gi, y, inp));
        });
        break;
      }
      case "Mul": {
        const [a, b] = n.input as [string, string];
        if (isLive(0)) {
          addGrad(a, sumTo(e.op("Mul", [dy, b], {}, "mul_bw"), y, a));
        }
        if (isLive(1)) {
          addGrad(b, sumTo(e.op("Mul", [dy, a], {}, "mul_bw"), y, b));
        }
        break;
      }
      case "Div": {
        const [a, b] = n.input as [string, string];
        if (isLive(0)) {
          addGrad(a, sumTo(e.op("Div", [dy, b], {}, "div_bw"), y, a));
        }
        if (isLive(1)) {
          const t = e.op(
            "Neg",
            [e.op("Div", [e.op("Mul", [dy, y]), b])],
            {},
            "div_bw",
          );
          addGrad(b, sumTo(t, y, b));
        }
        break;
      }
      case "Conv": {
        const w = n.input[1]!;
        const xs = shapeOf(x);
        const ys = shapeOf(y);
        const ws = shapeOf(w);
        const r = xs.length - 2;
        const kernel = attrInts(n, "kernel_shape", ws.slice(2));
        const strides = attrInts(n, "strides", new Array(r).fill(1));
        const dil = attrInts(n, "dilations", new Array(r).fill(1));
        const group = attrInt(n, "group", 1);
        const pb = beginPads(n, xs.slice(2), ys.slice(2), kernel, strides, dil);
        const tp = transposedPads(
          xs.slice(2),
          ys.slice(2),
          kernel,
          strides,
          dil,
          pb,
        );
        addGrad(
          x,
          e.op("ConvTranspose", [dy, w], {
            strides,
            dilations: dil,
            group,
            pads: tp.pads,
            output_padding: tp.outputPadding,
            kernel_shape: kernel,
          }, "conv_bw"),
        );
        break;
      }
      case "Gemm": {
        const [a, b, c] = n.input as [string, string, string | undefined];
        const alpha = attrFloat(n, "alpha", 1);
        const beta = attrFloat(n, "beta", 1);
        const transA = attrInt(n, "transA", 0);
        const transB = attrInt(n, "transB", 0);
        const fa = floatAttr("alpha", alpha);
        if (isLive(0)) {
          // dA' = alpha dY B'^T ; dA = transA ? (dA')^T : dA'
          const ga = transA
            ? e.op("Gemm", [b, dy], [
              fa,
              attr("transA", transB),
              attr("transB", 1),
            ], "gemm_bw")
            : e.op(
              "Gemm",
              [dy, b],
              [fa, attr("transB", transB ? 0 : 1)],
              "gemm_bw",
            );
          addGrad(a, ga);
        }
        if (isLive(1)) {
          // dB' = alpha A'^T dY ; dB = transB ? (dB')^T : dB'
          const gb = transB
            ? e.op("Gemm", [dy, a], [
              fa,
              attr("transA", 1),
              attr("transB", transA),
            ], "gemm_bw")
            : e.op(
              "Gemm",
              [a, dy],
              [fa, attr("transA", transA ? 0 : 1)],
              "gemm_bw",
            );
          addGrad(b, gb);
        }
        if (c && isLive(2)) {
          addGrad(
            c,
            sumTo(beta === 1 ? dy : e.op("Mul", [dy, e.float(beta)]), y, c),
          );
        }
        break;
      }
      case "MatMul": {
        const [a, b] = n.input as [string, string];
        const as = shapeOf(a);
        const bs = shapeOf(b);
        if (as.length < 2 || bs.length < 2) {
          throw new UnsupportedOperatorError(
            n,
            "1-D MatMul operands are not supported",
          );
        }
        const tperm = (rank: number) => {
          const p = Array.from({ length: rank }, (_, i) => i);
          p[rank - 1] = rank - 2;
          p[rank - 2] = rank - 1;
          return p;
        };
        if (isLive(0)) {
          const bt = e.op("Transpose", [b], { perm: tperm(bs.length) });
          const full = e.op("MatMul", [dy, bt], {}, "matmul_bw");
          addGrad(
            a,
            sumToShape(full, [...shapeOf(y).slice(0, -2), ...as.slice(-2)], a),
          );
        }
        if (isLive(1)) {
          const at = e.op("Transpose", [a], { perm: tperm(as.length) });
          const full = e.op("MatMul", [at, dy], {}, "matmul_bw");
          addGrad(
            b,
            sumToShape(full, [...shapeOf(y).slice(0, -2), ...bs.slice(-2)], b),
          );
        }
        break;
      }
      case "MaxPool": {
        if (attrInt(n, "storage_order", 0) !== 0) {
          throw new UnsupportedOperatorError(
            n,
            "storage_order 1 is not supported",
          );
        }
        let idx = n.output[1];
        if (!idx) {
          idx = e.fresh("maxpool_indices");
          n.output[1] = idx;
        }
        const flatShape = e.ints([-1]);
        const xflat = e.op("Reshape", [x, flatShape]);
        const zeros = e.op("ConstantOfShape", [e.op("Shape", [xflat])], {
          value: floatTensor("value", [1], [0]),
        });
        const scattered = e.op(
          "ScatterElements",
          [
            zeros,
            e.op("Reshape", [idx, flatShape]),
            e.op("Reshape", [dy, flatShape]),
          ],
          { axis: 0, reduction: "add" },
          "maxpool_bw",
        );
        addGrad(x, e.op("Reshape", [scattered, e.op("Shape", [x])]));
        needOpset = Math.max(needOpset, 16);
        break;
      }
      case "AveragePool": {
        const xs = shapeOf(x);
        const ys = shapeOf(y);
        const r = xs.length - 2;
        const kernel = attrInts(n, "kernel_shape", []);
        const strides = attrInts(n, "strides", new Array(r).fill(1));
        const dil = attrInts(n, "dilations", new Array(r).fill(1));
        if (dil.some((d) => d !== 1)) {
          throw new UnsupportedOperatorError(
            n,
            "dilated average pooling is not supported",
          );
        }
        const pb = beginPads(n, xs.slice(2), ys.slice(2), kernel, strides, dil);
        const autoPad = attrString(n, "auto_pad", "NOTSET");
        const pads = attrInts(n, "pads", new Array(2 * r).fill(0));
        const pe = autoPad === "NOTSET"
          ? pads.slice(r)
          : xs.slice(2).map((h, i) =>
            Math.max(0, (ys[i + 2]! - 1) * strides[i]! + kernel[i]! - h) -
            pb[i]!
          );
        const includePad = attrInt(n, "count_include_pad", 0) === 1;
        // Per-axis window counts, then their outer product: divisor map [1,1,...out].
        const perAxis = xs.slice(2).map((h, i) => {
          const lo = includePad ? -pb[i]! : 0;
          const hiB = includePad ? h + pe[i]! : h;
          return Array.from({ length: ys[i + 2]! }, (_, o) => {
            const s = o * strides[i]! - pb[i]!;
            return Math.max(0, Math.min(s + kernel[i]!, hiB) - Math.max(s, lo));
          });
        });
        const outSpatial = ys.slice(2);
        const size = outSpatial.reduce((p, v) => p * v, 1);
        const inv = new Float32Array(size);
        for (let f = 0; f < size; f++) {
          let rem = f;
          let cnt = 1;
          for (let i = r - 1; i >= 0; i--) {
            cnt *= perAxis[i]![rem % outSpatial[i]!]!;
            rem = Math.floor(rem / outSpatial[i]!);
          }
          inv[f] = cnt > 0 ? 1 / cnt : 0;
        }
        const scaled = e.op("Mul", [dy, e.floats([1, 1, ...outSpatial], inv)]);
        const C = xs[1]!;
        const kSize = kernel.reduce((p, v) => p * v, 1);
        const ones = e.floats(
          [C, 1, ...kernel],
          new Float32Array(C * kSize).fill(1),
        );
        const tp = transposedPads(
          xs.slice(2),
          outSpatial,
          kernel,
          strides,
          dil,
          pb,
        );
        addGrad(
          x,
          e.op("ConvTranspose", [scaled, ones], {
            strides,
            group: C,
            pads: tp.pads,
            output_padding: tp.outputPadding,
            kernel_shape: kernel,
          }, "avgpool_bw"),
        );
        break;
      }
      case "GlobalAveragePool": {
        const xs = shapeOf(x);
        const area = xs.slice(2).reduce((p, v) => p * v, 1);
        const ex = e.op("Expand", [dy, e.op("Shape", [x])]);
        addGrad(x, e.op("Mul", [ex, e.float(1 / area)], {}, "gap_bw"));
        break;
      }
      case "ReduceMean":
      case "ReduceSum": {
        const xs = shapeOf(x);
        const keep = attrInt(n, "keepdims", 1);
        let axes: number[];
        if (n.opType === "ReduceSum" || opset >= 18) {
          axes = n.input[1] ? intsOf(n.input[1], n) : [];
          if (!axes.length && attrInt(n, "noop_with_empty_axes", 0)) {
            addGrad(x, dy);
            break;
          }
        } else axes = attrInts(n, "axes", []);
        if (!axes.length) axes = xs.map((_, i) => i);
        axes = axes.map((a) => (a < 0 ? a + xs.length : a));
        let d = dy;
        if (!keep) {
          d = e.op("Unsqueeze", [
            dy,
            e.ints([...axes].sort((p, q) => p - q)),
          ]);
        }
        d = e.op("Expand", [d, e.op("Shape", [x])]);
        if (n.opType === "ReduceMean") {
          const cnt = axes.reduce((p, a) => p * xs[a]!, 1);
          d = e.op("Mul", [d, e.float(1 / cnt)]);
        }
        addGrad(x, d);
        break;
      }
      case "Flatten":
      case "Reshape":
      case "Squeeze":
      case "Unsqueeze":
        addGrad(x, e.op("Reshape", [dy, e.op("Shape", [x])], {}, "reshape_bw"));
        break;
      case "Transpose": {
        const rank = shapeOf(x).length;
        const perm = attrInts(
          n,
          "perm",
          Array.from({ length: rank }, (_, i) => rank - 1 - i),
        );
        const inv = new Array<number>(rank);
        perm.forEach((p, i) => (inv[p] = i));
        addGrad(x, e.op("Transpose", [dy], { perm: inv }, "transpose_bw"));
        break;
      }
      case "Concat": {
        const ys = shapeOf(y);
        let axis = attrInt(n, "axis", 0);
        if (axis < 0) axis += ys.length;
        if (axis === 0) {
          throw new UnsupportedOperatorError(
            n,
            "concatenation along the batch axis",
          );
        }
        let off = 0;
        n.input.forEach((inp, i) => {
          const len = shapeOf(inp)[axis]!;
          if (isLive(i)) {
            addGrad(
              inp,
              e.op(
                "Slice",
                [dy, e.ints([off]), e.ints([off + len]), e.ints([axis])],
                {},
                "concat_bw",
              ),
            );
          }
          off += len;
        });
        break;
      }
      case "Slice": {
        const xs = shapeOf(x);
        const rank = xs.length;
        const starts = intsOf(n.input[1]!, n);
        const ends = intsOf(n.input[2]!, n);
        const axes = n.input[3]
          ? intsOf(n.input[3], n)
          : starts.map((_, i) => i);
        const steps = n.input[4] ? intsOf(n.input[4], n) : starts.map(() => 1);
        const padsB = new Array(rank).fill(0);
        const padsE = new Array(rank).fill(0);
        const revAxes: number[] = [];
        axes.forEach((a0, j) => {
          const a = a0 < 0 ? a0 + rank : a0;
          const dim = xs[a]!;
          const step = steps[j]!;
          if (a === 0) {
            throw new UnsupportedOperatorError(
              n,
              "slicing along the batch axis",
            );
          }
          if (step !== 1 && step !== -1) {
            throw new UnsupportedOperatorError(
              n,
              `step ${step} is not supported (only 1 and -1)`,
            );
          }
          let s = starts[j]!;
          let t = ends[j]!;
          if (s < 0) s += dim;
          if (t < 0) t += dim;
          if (step > 0) {
            s = Math.min(Math.max(s, 0), dim);
            t = Math.min(Math.max(t, 0), dim);
            padsB[a] = s;
            padsE[a] = dim - Math.max(s, t);
          } else {
            s = Math.min(Math.max(s, -1), dim - 1);
            t = Math.min(Math.max(t, -1), dim - 1);
            // selected indices s, s-1, ..., t+1 → after reversing: t+1 .. s
            padsB[a] = t + 1;
            padsE[a] = dim - 1 - Math.max(s, t);
            revAxes.push(a);
          }
        });
        let d = dy;
        for (const a of revAxes) {
          d = e.op("Slice", [
            d,
            e.ints([-1]),
            e.ints([-(2 ** 62)]),
            e.ints([a]),
            e.ints([-1]),
          ]);
        }
        if (padsB.some((p) => p) || padsE.some((p) => p)) {
          d = e.op("Pad", [d, e.ints([...padsB, ...padsE]), zero()], {
            mode: "constant",
          }, "slice_bw");
        }
        addGrad(x, d);
        break;
      }
      case "Pad": {
        const xs = shapeOf(x);
        const rank = xs.length;
        const mode = attrString(n, "mode", "constant");
        if (mode !== "constant") {
          throw new UnsupportedOperatorError(
            n,
            `mode "${mode}" is not supported`,
          );
        }
        let pads = intsOf(n.input[1]!, n);
        if (n.input[3]) {
          const axes = intsOf(n.input[3], n).map((a) => (a < 0 ? a + rank : a));
          const full = new Array(2 * rank).fill(0);
          axes.forEach((a, j) => {
            full[a] = pads[j]!;
            full[a + rank] = pads[j + axes.length]!;
          });
          pads = full;
        }
        if (pads[0] || pads[rank]) {
          throw new UnsupportedOperatorError(n, "padding the batch axis");
        }
        const starts = pads.slice(0, rank).map((p) => Math.max(0, p));
        const ends = xs.map((dim, i) => starts[i]! + dim);
        // negative pads crop; their gradient re-pads with zeros
        let d = e.op(
          "Slice",
          [
            dy,
            e.ints(starts.slice(1)),
            e.ints(ends.slice(1)),
            e.ints(xs.slice(1).map((_, i) => i + 1)),
          ],
          {},
          "pad_bw",
        );
        const neg = pads.map((p) => Math.max(0, -p));
        if (neg.some((p) => p)) {
          d = e.op("Pad", [d, e.ints(neg), zero()], { mode: "constant" });
        }
        addGrad(x, d);
        break;
      }
      case "Softmax": {
        const rank = shapeOf(x).length;
        let axis = attrInt(n, "axis", -1);
        if (axis < 0) axis += rank;
        const s = e.op("ReduceSum", [e.op("Mul", [dy, y]), e.ints([axis])], {
          keepdims: 1,
        });
        addGrad(x, e.op("Mul", [y, e.op("Sub", [dy, s])], {}, "softmax_bw"));
        break;
      }
      case "LogSoftmax": {
        const rank = shapeOf(x).length;
        let axis = attrInt(n, "axis", -1);
        if (axis < 0) axis += rank;
        const s = e.op("ReduceSum", [dy, e.ints([axis])], { keepdims: 1 });
        addGrad(
          x,
          e.op(
            "Sub",
            [dy, e.op("Mul", [e.op("Exp", [y]), s])],
            {},
            "logsoftmax_bw",
          ),
        );
        break;
      }
      default:
        throw new UnsupportedOperatorError(n);
    }
  }

  const gIn = takeGrad(inputName);
  const inputInfo = g.input.find((v) => v.name === inputName)!;
  if (gIn) {
    e.nodes.push(
      node("Identity", [gIn], [gradName], {}, { name: e.fresh("grad_input") }),
    );
  } else {
    e.nodes.push(
      node("Mul", [inputName, zero()], [gradName], {}, {
        name: e.fresh("grad_input"),
      }),
    );
  }

  const batchDim = inputInfo.type?.tensorType?.shape?.dim[0];
  const labelDim = batchDim?.dimParam !== undefined
    ? batchDim.dimParam
    : batchDim?.dimValue ?? "N";
  const newGraph: GraphProto = {
    ...g,
    node: [...forward, ...e.nodes],
    initializer: [...g.initializer, ...e.inits],
    input: [...g.input, valueInfo(labelName, DataType.INT64, [labelDim])],
    output: [
      ...g.output,
      valueInfo(lossName, DataType.FLOAT, [labelDim]),
      { ...inputInfo, name: gradName },
    ],
  };
  return {
    ...m,
    graph: newGraph,
    opsetImport: m.opsetImport.map((o) =>
      o === opsetEntry ? { ...o, version: needOpset } : o
    ),
  };
}
