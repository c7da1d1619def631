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
 * Static shapes come from one probe run (`shapes.ts`); the generated graph
 * never bakes in the batch size: everything that depends on it uses runtime
 * `Shape` ops, so it runs at any batch size.
 *
 * Only nodes on a path from the image input to the logits are differentiated.
 * A tensor is live when it depends on the input through inputs that carry
 * gradient; everything else (initializers, `DequantizeLinear` of quantized
 * weights, `Shape` → ... → `Reshape` target chains, attention masks and
 * position-bias lookups) is a constant of the backward pass. The backward
 * rules are one table (`table.ts`); an operator on the path without a rule
 * raises an {@link UnsupportedOperatorError} naming its type and node.
 *
 * @module
 */

import {
  DataType,
  getAttribute,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  tensorToInt64s,
} from "../proto.ts";
import { node, valueInfo } from "../builder.ts";
import { UserError } from "../../errors.ts";
import { Emitter } from "./emitter.ts";
import {
  type Rule,
  type RuleContext,
  UnsupportedOperatorError,
} from "./rule.ts";
import {
  imageInputName,
  inferShapes,
  requireGraph,
  type ShapeInfo,
} from "./shapes.ts";
import { kGradientRules } from "./table.ts";

export { UnsupportedOperatorError } from "./rule.ts";
export {
  imageInputName,
  inferShapes,
  type InferShapesOptions,
  type ShapeInfo,
} from "./shapes.ts";

/** Loss whose input gradient is computed. */
export type GradientLoss = "ce" | "reference";

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

/** ONNX element types by onnxruntime-web type name. */
const kOrtTypes: Record<string, number> = {
  float32: DataType.FLOAT,
  float16: DataType.FLOAT16,
  float64: DataType.DOUBLE,
};

const sameShape = (a: number[], b: number[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

function ruleOf(n: NodeProto): Rule | undefined {
  const d = n.domain ?? "";
  return d === "" || d === "ai.onnx" ? kGradientRules.get(n.opType) : undefined;
}

/** Input slots of `n` through which gradient flows (unknown operators: all). */
function diffSlots(n: NodeProto): number[] {
  const r = ruleOf(n);
  if (r?.inputs === "none") return [];
  if (!r || r.inputs === "all") return n.input.map((_, i) => i);
  return r.inputs;
}

function carriesGradient(n: NodeProto): boolean {
  const r = ruleOf(n);
  return r?.inputs !== "none" && (r?.differentiable?.(n) ?? true);
}

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
  const fail = (why: string): never => {
    throw new UserError(`Cannot build the gradient model: ${why}`);
  };
  const outputName = opts.outputName ?? g.output[0]?.name ??
    fail("the graph has no outputs");
  const labelName = opts.labelName ?? "label";
  const gradName = opts.gradName ?? "grad_input";
  const lossName = opts.lossName ?? "loss";

  const opsetEntry = m.opsetImport.find((o) =>
    (o.domain ?? "") === "" || o.domain === "ai.onnx"
  );
  const opset = opsetEntry?.version ?? 1;
  if (opset < 13) {
    fail(
      `opset ${opset} is older than 13 (convert the model to opset 13 or newer)`,
    );
  }

  const shapeOf = (name: string): number[] =>
    info.shapes.get(name) ?? fail(`no static shape for tensor "${name}"`);

  // Constant values: initializers, Constant nodes, then probe values.
  const initMap = new Map(g.initializer.map((t) => [t.name ?? "", t]));
  const constNodes = new Map<string, NodeProto>();
  for (const n of g.node) {
    if (n.opType === "Constant" && n.output[0]) constNodes.set(n.output[0], n);
  }
  const tryInts = (name: string): number[] | undefined => {
    const t = initMap.get(name) ??
      (constNodes.has(name)
        ? getAttribute(constNodes.get(name)!, "value")?.t
        : undefined);
    if (t) return tensorToInt64s(t);
    return info.intValues.get(name);
  };

  // Forward liveness: tensors that depend on the input through differentiable slots.
  const live = new Set<string>([inputName]);
  for (const n of g.node) {
    if (!carriesGradient(n)) continue;
    const slots = diffSlots(n);
    if (n.input.some((x, i) => x && live.has(x) && slots.includes(i))) {
      for (const o of n.output) if (o) live.add(o);
    }
  }
  if (!live.has(outputName)) {
    fail(`output "${outputName}" does not depend on input "${inputName}"`);
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
    carriesGradient(n) &&
    n.output.some((o) => needed.has(o) && live.has(o)) &&
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
      fail(`the model already has a tensor "${x}"`);
    }
  }
  const e = new Emitter(used, opset);

  // Forward nodes, copied (MaxPool may gain an Indices output).
  const forward = g.node.map((n) => ({ ...n, output: [...n.output] }));

  // ---- Loss and its gradient w.r.t. the logits.
  const zShape = shapeOf(outputName);
  if (zShape.length !== 2) {
    fail(
      `output "${outputName}" has rank ${zShape.length}, expected logits [N, K]`,
    );
  }
  const K = zShape[1]!;
  const onehot = e.op(
    "OneHot",
    [
      labelName,
      e.ints([K], true),
      e.floats([2], [0, 1]),
    ],
    { axis: -1 },
    "onehot",
  );
  let gz: string;
  let perSample: string;
  if (loss === "ce") {
    gz = e.op(
      "Sub",
      [e.op("Softmax", [outputName], { axis: 1 }), onehot],
      {},
      "dlogits",
    );
    const lsm = e.op("LogSoftmax", [outputName], { axis: 1 });
    perSample = e.op("Neg", [
      e.reduce("ReduceSum", e.op("Mul", [lsm, onehot]), [1], 0),
    ]);
  } else {
    gz = e.op("Neg", [onehot], {}, "dlogits");
    perSample = e.op("Neg", [
      e.reduce("ReduceSum", e.op("Mul", [outputName, onehot]), [1], 0),
    ]);
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

  const sumToShape = (gname: string, gs: number[], target: string): string => {
    const ts = shapeOf(target);
    if (sameShape(gs, ts)) return gname;
    const d = gs.length - ts.length;
    const axes: number[] = [];
    for (let i = 0; i < gs.length; i++) {
      if (i < d || (ts[i - d] === 1 && gs[i] !== 1)) axes.push(i);
    }
    const r = axes.length ? e.reduce("ReduceSum", gname, axes) : gname;
    return e.op("Reshape", [r, e.op("Shape", [target])], {}, "unbroadcast");
  };

  for (let k = forward.length - 1; k >= 0; k--) {
    const n = forward[k]!;
    if (!onPath(n)) continue;
    const rule = ruleOf(n);
    if (!rule?.backward) throw new UnsupportedOperatorError(n);
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
    const dys = n.output.map((
      o,
    ) => (o && live.has(o) ? takeGrad(o) : undefined));
    if (!dys.some((d) => d)) continue;
    const ctx: RuleContext = {
      n,
      e,
      opset,
      x: n.input[0]!,
      y: n.output[0]!,
      dy: dys[0] ?? e.zerosLike(n.output[0]!),
      dys,
      isLive: (i) => !!n.input[i] && live.has(n.input[i]!),
      addGrad,
      shapeOf,
      dtypeOf: (name) => kOrtTypes[info.types.get(name) ?? ""],
      batchAxes: (name) => info.batchAxes.get(name) ?? [],
      intsOf: (name) => {
        if (info.batchValues.has(name)) {
          throw new UnsupportedOperatorError(
            n,
            `input "${name}" depends on the batch size`,
          );
        }
        return tryInts(name) ??
          (() => {
            throw new UnsupportedOperatorError(
              n,
              `input "${name}" is not a constant`,
            );
          })();
      },
      tryInts: (name) => info.batchValues.has(name) ? undefined : tryInts(name),
      sumTo: (gname, from, target) => sumToShape(gname, shapeOf(from), target),
      sumToShape,
      unsupported: (detail) => {
        throw new UnsupportedOperatorError(n, detail);
      },
    };
    rule.backward(ctx);
  }

  const gIn = takeGrad(inputName);
  const inputInfo = g.input.find((v) => v.name === inputName)!;
  e.nodes.push(
    gIn
      ? node("Identity", [gIn], [gradName], {}, { name: e.fresh("grad_input") })
      : node("Mul", [inputName, e.float(0)], [gradName], {}, {
        name: e.fresh("grad_input"),
      }),
  );

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
      o === opsetEntry ? { ...o, version: e.needOpset } : o
    ),
  };
}
