/**
 * Static shapes of a model's tensors, for the gradient transform: the
 * backward rules need them (conv output paddings, broadcast reductions, pool
 * windows). {@link inferShapes} gets them by running the original model once
 * in onnxruntime-web with every intermediate tensor added as a graph output,
 * on zeros, with batch 2 for a symbolic batch dimension (2, not 1, so a
 * broadcast over the batch axis is visible). Small integer tensors seen by
 * the probe (e.g. computed Slice bounds) are also recorded, for operators
 * whose parameters are inputs.
 *
 * With a symbolic batch, the probe runs twice (batch 2 and batch 1): axes
 * whose size differs between the runs depend on the batch (e.g. Swin's
 * windows-times-batch axis), and so do integer values that differ; the
 * backward rules never bake those into the graph.
 *
 * @module
 */

import * as ort from "onnxruntime-web";
import {
  encodeModel,
  type GraphProto,
  type ModelProto,
  type ValueInfoProto,
} from "../proto.ts";
import { UserError } from "../../errors.ts";
import { watched } from "../../model/watchdog.ts";

/** Static shapes (and small integer values) of a model's tensors. */
export interface ShapeInfo {
  /** Shape of every tensor: graph inputs, initializers and node outputs. */
  shapes: Map<string, number[]>;
  /** Values of small integer tensors (at most 64 elements) seen by the probe. */
  intValues: Map<string, number[]>;
  /** onnxruntime-web element type of every node output ("float32", "int64", ...). */
  types: Map<string, string>;
  /** Axes of each tensor whose size depends on the batch size (absent: none). */
  batchAxes: Map<string, number[]>;
  /** Integer tensors whose probed values depend on the batch size. */
  batchValues: Set<string>;
  /** Batch size used by the probe (the shapes' first dimension). */
  batch: number;
}

/** Options of {@link inferShapes}. */
export interface InferShapesOptions {
  /** Input name (default: the first graph input that is not an initializer). */
  inputName?: string;
  /** Full input shape to probe with; default: the declared one, symbolic batch = 2. */
  inputShape?: number[];
}

/** The model's graph, or a one-line error when it has none. */
export function requireGraph(m: ModelProto): GraphProto {
  if (!m.graph) throw new UserError("Cannot use the model: it has no graph");
  return m.graph;
}

/** Name of the image input: the first graph input that is not an initializer. */
export function imageInputName(m: ModelProto): string {
  const g = requireGraph(m);
  const inits = new Set(g.initializer.map((t) => t.name));
  const v = g.input.find((i) => !inits.has(i.name));
  if (!v?.name) {
    throw new UserError(
      "Cannot find the model's input: the graph has no inputs",
    );
  }
  return v.name;
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
    throw new UserError(
      `Cannot infer shapes: input "${inputName}" has no declared shape`,
    );
  }
  return dims.map((d, i) => {
    if (d.dimValue !== undefined && d.dimValue > 0) return d.dimValue;
    if (i === 0) return 2;
    throw new UserError(
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
    throw new UserError(
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
  const types = new Map<string, string>();
  const batchAxes = new Map<string, number[]>();
  const batchValues = new Set<string>();
  const run = async (shape: number[], record: boolean) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const feeds = {
      [inputName]: new ort.Tensor("float32", new Float32Array(size), shape),
    };
    const out = await watched("the shape probe", () => session.run(feeds));
    for (const [name, t] of Object.entries(out)) {
      const dims = t.dims.map(Number);
      const small = (t.type === "int64" || t.type === "int32") && t.size <= 64;
      const values = small
        ? Array.from(t.data as ArrayLike<number | bigint>, Number)
        : undefined;
      if (record) {
        shapes.set(name, dims);
        types.set(name, t.type);
        if (values) intValues.set(name, values);
      } else {
        const first = shapes.get(name) ?? [];
        const axes = dims.flatMap((d, i) => (d !== first[i] ? [i] : []));
        if (axes.length || dims.length !== first.length) {
          batchAxes.set(name, axes);
        }
        const v0 = intValues.get(name);
        if (v0 && (!values || values.join() !== v0.join())) {
          batchValues.add(name);
        }
      }
      t.dispose?.();
    }
  };
  try {
    await run(inShape, true);
    const declared = g.input.find((i) => i.name === inputName)?.type
      ?.tensorType?.shape?.dim[0];
    if (!(declared?.dimValue && declared.dimValue > 0)) {
      // A model that runs at the probe's batch only (a constant batch baked
      // in somewhere) keeps static shapes: it cannot run at others anyway.
      const other = [inShape[0] === 1 ? 2 : 1, ...inShape.slice(1)];
      if (await run(other, false).then(() => true, () => false)) {
        batchAxes.set(inputName, [0]);
      } else {
        batchAxes.clear();
        batchValues.clear();
      }
    }
  } finally {
    await session.release();
  }
  shapes.set(inputName, inShape);
  for (const t of g.initializer) {
    if (t.name) shapes.set(t.name, [...t.dims]);
  }
  return {
    shapes,
    intValues,
    types,
    batchAxes,
    batchValues,
    batch: inShape[0]!,
  };
}
