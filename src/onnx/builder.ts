/**
 * Small helpers to build ONNX graphs in TypeScript (tests, the planted model,
 * the gradient transform). Everything returns plain {@link ModelProto} parts;
 * serialise with `encodeModel` from `proto.ts`.
 *
 * ```ts
 * const m = model({
 *   graph: graph({
 *     nodes: [node("Relu", ["x"], ["y"])],
 *     inputs: [valueInfo("x", DataType.FLOAT, [1, 4])],
 *     outputs: [valueInfo("y", DataType.FLOAT, [1, 4])],
 *   }),
 * });
 * const bytes = encodeModel(m);
 * ```
 *
 * @module
 */

import {
  type AttributeProto,
  AttributeType,
  DataType,
  type GraphProto,
  type Int64,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from "./proto.ts";

/** Little-endian bytes of a typed array (copy). */
function leBytes(
  a: Float32Array | Float64Array | Int32Array | BigInt64Array,
): Uint8Array {
  // Every platform Deno runs on is little-endian; copy to detach from the source.
  return new Uint8Array(
    a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength),
  );
}

function checkCount(name: string, dims: readonly number[], n: number): void {
  const want = dims.reduce((p, d) => p * d, 1);
  if (want !== n) {
    throw new Error(
      `Cannot build tensor "${name}": ${n} values for dims ${
        JSON.stringify(dims)
      }`,
    );
  }
}

/** A float32 tensor (stored as raw_data). */
export function floatTensor(
  name: string,
  dims: readonly number[],
  data: ArrayLike<number>,
): TensorProto {
  checkCount(name, dims, data.length);
  return {
    dims: [...dims],
    dataType: DataType.FLOAT,
    name,
    rawData: leBytes(Float32Array.from(data)),
  };
}

/** An int64 tensor (stored as raw_data). Numbers must be integers. */
export function int64Tensor(
  name: string,
  dims: readonly number[],
  data: ArrayLike<Int64>,
): TensorProto {
  checkCount(name, dims, data.length);
  const a = BigInt64Array.from(Array.from(data), (v) => BigInt(v));
  return {
    dims: [...dims],
    dataType: DataType.INT64,
    name,
    rawData: leBytes(a),
  };
}

/** A uint8 / int8 tensor (stored as raw_data). */
export function int8Tensor(
  name: string,
  dims: readonly number[],
  data: ArrayLike<number>,
  opts: { signed?: boolean } = {},
): TensorProto {
  checkCount(name, dims, data.length);
  const bytes = opts.signed
    ? new Uint8Array(Int8Array.from(data).buffer)
    : Uint8Array.from(data);
  return {
    dims: [...dims],
    dataType: opts.signed ? DataType.INT8 : DataType.UINT8,
    name,
    rawData: bytes,
  };
}

/** Attribute values accepted by {@link node}. */
export type AttrValue =
  | number
  | bigint
  | string
  | Uint8Array
  | TensorProto
  | GraphProto
  | number[]
  | bigint[]
  | string[]
  | { floats: number[] }
  | { ints: Int64[] };

function isTensor(v: object): v is TensorProto {
  return "dims" in v;
}

function isGraph(v: object): v is GraphProto {
  return "node" in v && "initializer" in v;
}

/** Standard ONNX attributes of type FLOAT: a plain number for them is always FLOAT. */
const kFloatAttrs = new Set([
  "alpha",
  "beta",
  "epsilon",
  "momentum",
  "gamma",
  "bias",
  "lambd",
  "ratio",
  "min",
  "max",
  "spatial_scale",
  "extrapolation_value",
  "cubic_coeff_a",
  "fmod_value",
]);

/**
 * One attribute. Numbers become FLOAT for the standard float attributes
 * (`alpha`, `beta`, `epsilon`, `min`, `max`, ...); otherwise integers become
 * INT and other numbers FLOAT; use
 * `{ floats: [...] }` / `{ ints: [...] }` or {@link floatAttr} to force a kind
 * (e.g. the float 1.0). Arrays of numbers become INTS when every element is an
 * integer, FLOATS otherwise.
 */
export function attr(name: string, value: AttrValue): AttributeProto {
  if (typeof value === "number") {
    return Number.isInteger(value) && !kFloatAttrs.has(name)
      ? { name, type: AttributeType.INT, i: value }
      : { name, type: AttributeType.FLOAT, f: value };
  }
  if (typeof value === "bigint") {
    return { name, type: AttributeType.INT, i: value };
  }
  if (typeof value === "string") {
    return {
      name,
      type: AttributeType.STRING,
      s: new TextEncoder().encode(value),
    };
  }
  if (value instanceof Uint8Array) {
    return { name, type: AttributeType.STRING, s: value };
  }
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === "string")) {
      const enc = new TextEncoder();
      return {
        name,
        type: AttributeType.STRINGS,
        strings: (value as string[]).map((s) => enc.encode(s)),
      };
    }
    if (value.every((v) => typeof v === "bigint" || Number.isInteger(v))) {
      return { name, type: AttributeType.INTS, ints: [...(value as Int64[])] };
    }
    return {
      name,
      type: AttributeType.FLOATS,
      floats: [...(value as number[])],
    };
  }
  if ("floats" in value) {
    return { name, type: AttributeType.FLOATS, floats: [...value.floats] };
  }
  if ("ints" in value) {
    return { name, type: AttributeType.INTS, ints: [...value.ints] };
  }
  if (isTensor(value)) return { name, type: AttributeType.TENSOR, t: value };
  if (isGraph(value)) return { name, type: AttributeType.GRAPH, g: value };
  throw new Error(`Cannot build attribute "${name}": unsupported value`);
}

/** A FLOAT attribute, even for integral values such as 1. */
export function floatAttr(name: string, value: number): AttributeProto {
  return { name, type: AttributeType.FLOAT, f: value };
}

/** Options of {@link node}. */
export interface NodeOptions {
  name?: string;
  domain?: string;
}

/**
 * A node. `attrs` maps attribute names to values (see {@link attr}), or is a
 * list of ready-made attributes.
 */
export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attrs: Record<string, AttrValue | AttributeProto> | AttributeProto[] = {},
  opts: NodeOptions = {},
): NodeProto {
  const attribute = Array.isArray(attrs)
    ? attrs
    : Object.entries(attrs).map(([k, v]) =>
      typeof v === "object" && v !== null && "name" in v && "type" in v &&
        !("node" in v)
        ? (v as AttributeProto)
        : attr(k, v as AttrValue)
    );
  const n: NodeProto = {
    input: [...inputs],
    output: [...outputs],
    opType,
    attribute,
  };
  if (opts.name !== undefined) n.name = opts.name;
  if (opts.domain !== undefined) n.domain = opts.domain;
  return n;
}

/**
 * A tensor value info. `shape` entries are numbers (fixed dims) or strings
 * (symbolic dims such as "N"); `shape` undefined leaves the shape unknown.
 */
export function valueInfo(
  name: string,
  elemType: number = DataType.FLOAT,
  shape?: readonly (number | string)[],
): ValueInfoProto {
  const tensorType: NonNullable<
    NonNullable<ValueInfoProto["type"]>["tensorType"]
  > = {
    elemType,
  };
  if (shape) {
    tensorType.shape = {
      dim: shape.map((
        d,
      ) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })),
    };
  }
  return { name, type: { tensorType } };
}

/** Parts of a graph for {@link graph}. */
export interface GraphParts {
  nodes: NodeProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  initializers?: TensorProto[];
  valueInfo?: ValueInfoProto[];
  name?: string;
}

/** A graph. */
export function graph(parts: GraphParts): GraphProto {
  return {
    node: parts.nodes,
    name: parts.name ?? "graph",
    initializer: parts.initializers ?? [],
    input: parts.inputs,
    output: parts.outputs,
    valueInfo: parts.valueInfo ?? [],
  };
}

/** Options of {@link model}. */
export interface ModelOptions {
  graph: GraphProto;
  /** Default opset version of the ai.onnx domain (13). */
  opset?: number;
  /** IR version (7, the one matching opset 13). */
  irVersion?: number;
  producerName?: string;
  docString?: string;
  /** Extra opset imports (e.g. `{ domain: "com.microsoft", version: 1 }`). */
  extraOpsets?: { domain: string; version: number }[];
}

/** A model with one default-domain opset import. */
export function model(opts: ModelOptions): ModelProto {
  const m: ModelProto = {
    irVersion: opts.irVersion ?? 7,
    producerName: opts.producerName ?? "hfss",
    graph: opts.graph,
    opsetImport: [
      { domain: "", version: opts.opset ?? 13 },
      ...(opts.extraOpsets ?? []),
    ],
    metadataProps: [],
  };
  if (opts.docString !== undefined) m.docString = opts.docString;
  return m;
}
