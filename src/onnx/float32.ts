/**
 * A float16 model as the same graph in float32: float16 initializers,
 * `Constant`/`ConstantOfShape` values, `Cast` targets and declared tensor
 * types become float32. The function is the float16 model's evaluated in
 * float32 arithmetic on its (exactly representable) float16 weights; the
 * gradient transform's rules emit float32 constants, so FGSM differentiates
 * this form.
 *
 * External float16 initializers are read from the given external data files
 * and stored inline as float32; other external tensors keep their reference.
 *
 * @module
 */

import {
  DataType,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  tensorToFloat32,
  type ValueInfoProto,
} from "./proto.ts";

/** One external data file: its location as the model names it, and its bytes. */
export interface ExternalBytes {
  path: string;
  data: Uint8Array;
}

const isExternal = (t: TensorProto) =>
  t.dataLocation === 1 || (t.externalData?.length ?? 0) > 0;

/** The tensor with its external bytes inlined as `rawData`. */
function inlined(t: TensorProto, files: readonly ExternalBytes[]): TensorProto {
  const entry = (k: string) => t.externalData?.find((e) => e.key === k)?.value;
  const loc = entry("location");
  const file = files.find((f) => f.path === loc);
  if (!file) {
    throw new Error(
      `Cannot read tensor "${t.name}": its external data file "${loc}" was not given`,
    );
  }
  const offset = Number(entry("offset") ?? 0);
  const length = Number(entry("length") ?? file.data.length - offset);
  const { externalData: _e, dataLocation: _d, ...rest } = t;
  return { ...rest, rawData: file.data.subarray(offset, offset + length) };
}

function tensor32(
  t: TensorProto,
  files: readonly ExternalBytes[],
): TensorProto {
  if (t.dataType !== DataType.FLOAT16) return t;
  const src = isExternal(t) ? inlined(t, files) : t;
  const v = tensorToFloat32(src);
  return {
    dims: [...t.dims],
    dataType: DataType.FLOAT,
    ...(t.name !== undefined ? { name: t.name } : {}),
    rawData: new Uint8Array(v.buffer),
  };
}

function info32(v: ValueInfoProto): ValueInfoProto {
  const tt = v.type?.tensorType;
  if (tt?.elemType !== DataType.FLOAT16) return v;
  return {
    ...v,
    type: { ...v.type, tensorType: { ...tt, elemType: DataType.FLOAT } },
  };
}

function node32(n: NodeProto, files: readonly ExternalBytes[]): NodeProto {
  return {
    ...n,
    attribute: n.attribute.map((a) => {
      if (
        n.opType === "Cast" && a.name === "to" &&
        Number(a.i) === DataType.FLOAT16
      ) {
        return { ...a, i: DataType.FLOAT };
      }
      const b = { ...a };
      if (a.t) b.t = tensor32(a.t, files);
      if (a.tensors) b.tensors = a.tensors.map((t) => tensor32(t, files));
      if (a.g) b.g = graph32(a.g, files);
      if (a.graphs) b.graphs = a.graphs.map((g) => graph32(g, files));
      return b;
    }),
  };
}

function graph32(g: GraphProto, files: readonly ExternalBytes[]): GraphProto {
  return {
    ...g,
    node: g.node.map((n) => node32(n, files)),
    initializer: g.initializer.map((t) => tensor32(t, files)),
    input: g.input.map(info32),
    output: g.output.map(info32),
    valueInfo: g.valueInfo.map(info32),
  };
}

/** Whether any declared tensor, initializer or `Cast` of the graph is float16. */
export function hasFloat16(m: ModelProto): boolean {
  const g = m.graph;
  if (!g) return false;
  const f16 = (v: ValueInfoProto) =>
    v.type?.tensorType?.elemType === DataType.FLOAT16;
  return g.input.some(f16) || g.output.some(f16) || g.valueInfo.some(f16) ||
    g.initializer.some((t) => t.dataType === DataType.FLOAT16) ||
    g.node.some((n) =>
      n.attribute.some((a) =>
        (n.opType === "Cast" && a.name === "to" &&
          Number(a.i) === DataType.FLOAT16) ||
        a.t?.dataType === DataType.FLOAT16
      )
    );
}

/**
 * The model with every float16 tensor, type and cast in float32 (see module
 * doc). The input model is not modified.
 */
export function toFloat32Model(
  m: ModelProto,
  externalData: readonly ExternalBytes[] = [],
): ModelProto {
  return m.graph ? { ...m, graph: graph32(m.graph, externalData) } : m;
}
