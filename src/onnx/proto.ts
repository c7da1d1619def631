/**
 * Hand-written protobuf codec for the subset of `onnx.proto` that hfss needs:
 * ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
 * ValueInfoProto / TypeProto (tensor types) and their small helper messages.
 *
 * Field numbers follow onnx/onnx.proto (checked against the generated
 * protobufjs code shipped in onnxruntime-web `lib/onnxjs/ort-schema`).
 *
 * Conventions:
 * - Field names are the camelCase forms of the proto names (`ir_version` →
 *   `irVersion`, `op_type` → `opType`, `raw_data` → `rawData`).
 * - Optional scalar fields are `undefined` when absent; presence is kept, so a
 *   decoded model re-encodes to the same bytes.
 * - int64 values: small int64 fields that are counts or sizes (`irVersion`,
 *   opset `version`, `modelVersion`, tensor `dims`, `dimValue`) are plain
 *   `number`s (decoding throws if one is outside the safe-integer range).
 *   Attribute `i` / `ints` are {@link Int64} = `number | bigint`: a `number`
 *   when the value is a safe integer, a `bigint` otherwise (e.g. INT64_MAX).
 *   Use {@link int64ToNumber} to read them. Tensor `int64Data` is a
 *   `BigInt64Array`.
 * - Repeated scalar fields are accepted packed or unpacked on decode. On
 *   encode, the packing of the reference C++ serializer is used (packed for
 *   `float_data`, `int32_data`, `int64_data`, `double_data`, `uint64_data`;
 *   unpacked for `dims`, attribute `floats` / `ints`), and fields are written
 *   in field-number order, so models written by the onnx Python package
 *   usually re-encode byte-identically.
 * - Unknown fields are skipped on decode (and therefore dropped on encode).
 * - Tensors with external data (`data_location = EXTERNAL`) decode, but every
 *   data accessor throws a clear error for them.
 *
 * @module
 */

// ---------------------------------------------------------------------------
// Types

/** An int64 value: a `number` when it is a safe integer, else a `bigint`. */
export type Int64 = number | bigint;

/** TensorProto.DataType values. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
} as const;

/** AttributeProto.AttributeType values. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

/** TensorProto.DataLocation value for data stored outside the model file. */
export const kDataLocationExternal = 1;

/** StringStringEntryProto (metadata_props, external_data). */
export interface StringStringEntry {
  key?: string;
  value?: string;
}

/** OperatorSetIdProto. */
export interface OperatorSetId {
  domain?: string;
  version?: number;
}

/** TensorProto (segment, string_data are kept; no sparse tensors). */
export interface TensorProto {
  dims: number[];
  dataType?: number;
  floatData?: Float32Array;
  int32Data?: Int32Array;
  stringData?: Uint8Array[];
  int64Data?: BigInt64Array;
  name?: string;
  rawData?: Uint8Array;
  doubleData?: Float64Array;
  uint64Data?: BigUint64Array;
  docString?: string;
  externalData?: StringStringEntry[];
  dataLocation?: number;
}

/** TensorShapeProto.Dimension. */
export interface Dimension {
  dimValue?: number;
  dimParam?: string;
  denotation?: string;
}

/** TypeProto, tensor types only (other kinds are skipped). */
export interface TypeProto {
  tensorType?: { elemType?: number; shape?: { dim: Dimension[] } };
  denotation?: string;
}

/** ValueInfoProto. */
export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
  docString?: string;
}

/** AttributeProto (graphs are kept, sparse tensors and type protos are not). */
export interface AttributeProto {
  name: string;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  docString?: string;
  type?: number;
  refAttrName?: string;
}

/** NodeProto. */
export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  opType: string;
  attribute: AttributeProto[];
  docString?: string;
  domain?: string;
}

/** GraphProto. */
export interface GraphProto {
  node: NodeProto[];
  name?: string;
  initializer: TensorProto[];
  docString?: string;
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo: ValueInfoProto[];
}

/** ModelProto. */
export interface ModelProto {
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: GraphProto;
  opsetImport: OperatorSetId[];
  metadataProps: StringStringEntry[];
}

// ---------------------------------------------------------------------------
// Wire-level writer

const kTextEncoder = new TextEncoder();
const kTextDecoder = new TextDecoder("utf-8", { fatal: false });
const kTwo32 = 4294967296;

class Writer {
  #buf = new Uint8Array(256);
  #view = new DataView(this.#buf.buffer);
  #pos = 0;

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#pos);
  }

  /** Unsigned varint of a non-negative safe integer. */
  uvarint(v: number): void {
    this.#ensure(10);
    while (v >= 128) {
      this.#buf[this.#pos++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    this.#buf[this.#pos++] = v;
  }

  /** Varint of a signed int64 (negative values take 10 bytes). */
  int64(v: Int64): void {
    if (typeof v === "number") {
      if (v >= 0) return this.uvarint(v);
      v = BigInt(v);
    }
    let u = BigInt.asUintN(64, v);
    this.#ensure(10);
    while (u >= 128n) {
      this.#buf[this.#pos++] = Number(u & 127n) | 128;
      u >>= 7n;
    }
    this.#buf[this.#pos++] = Number(u);
  }

  uint64(v: bigint): void {
    this.int64(BigInt.asIntN(64, v));
  }

  tag(field: number, wire: number): void {
    this.uvarint(field * 8 + wire);
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.uvarint(b.length);
    this.#ensure(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
  }

  string(field: number, s: string): void {
    this.bytes(field, kTextEncoder.encode(s));
  }

  varintField(field: number, v: Int64): void {
    this.tag(field, 0);
    this.int64(v);
  }

  float(field: number, v: number): void {
    this.tag(field, 5);
    this.#ensure(4);
    this.#view.setFloat32(this.#pos, v, true);
    this.#pos += 4;
  }

  rawFloats(a: ArrayLike<number>): void {
    this.#ensure(4 * a.length);
    for (let i = 0; i < a.length; i++) {
      this.#view.setFloat32(this.#pos, a[i]!, true);
      this.#pos += 4;
    }
  }

  rawDoubles(a: ArrayLike<number>): void {
    this.#ensure(8 * a.length);
    for (let i = 0; i < a.length; i++) {
      this.#view.setFloat64(this.#pos, a[i]!, true);
      this.#pos += 8;
    }
  }

  message(field: number, encode: (w: Writer) => void): void {
    const w = new Writer();
    encode(w);
    this.bytes(field, w.finish());
  }
}

function packed(field: number, w: Writer, body: (w: Writer) => void): void {
  w.message(field, body);
}

// ---------------------------------------------------------------------------
// Encoders (fields in field-number order)

function encStringEntry(w: Writer, e: StringStringEntry): void {
  if (e.key !== undefined) w.string(1, e.key);
  if (e.value !== undefined) w.string(2, e.value);
}

function encOpset(w: Writer, o: OperatorSetId): void {
  if (o.domain !== undefined) w.string(1, o.domain);
  if (o.version !== undefined) w.varintField(2, o.version);
}

function encTensor(w: Writer, t: TensorProto): void {
  for (const d of t.dims) w.varintField(1, d);
  if (t.dataType !== undefined) w.varintField(2, t.dataType);
  if (t.floatData && t.floatData.length) {
    packed(4, w, (p) => p.rawFloats(t.floatData!));
  }
  if (t.int32Data && t.int32Data.length) {
    packed(5, w, (p) => {
      for (const v of t.int32Data!) p.int64(v);
    });
  }
  for (const s of t.stringData ?? []) w.bytes(6, s);
  if (t.int64Data && t.int64Data.length) {
    packed(7, w, (p) => {
      for (const v of t.int64Data!) p.int64(v);
    });
  }
  if (t.name !== undefined) w.string(8, t.name);
  if (t.rawData !== undefined) w.bytes(9, t.rawData);
  if (t.doubleData && t.doubleData.length) {
    packed(10, w, (p) => p.rawDoubles(t.doubleData!));
  }
  if (t.uint64Data && t.uint64Data.length) {
    packed(11, w, (p) => {
      for (const v of t.uint64Data!) p.uint64(v);
    });
  }
  if (t.docString !== undefined) w.string(12, t.docString);
  for (const e of t.externalData ?? []) {
    w.message(13, (m) => encStringEntry(m, e));
  }
  if (t.dataLocation !== undefined) w.varintField(14, t.dataLocation);
}

function encDim(w: Writer, d: Dimension): void {
  if (d.dimValue !== undefined) w.varintField(1, d.dimValue);
  if (d.dimParam !== undefined) w.string(2, d.dimParam);
  if (d.denotation !== undefined) w.string(3, d.denotation);
}

function encType(w: Writer, t: TypeProto): void {
  const tt = t.tensorType;
  if (tt) {
    w.message(1, (m) => {
      if (tt.elemType !== undefined) m.varintField(1, tt.elemType);
      if (tt.shape) {
        const shape = tt.shape;
        m.message(2, (s) => {
          for (const d of shape.dim) s.message(1, (dm) => encDim(dm, d));
        });
      }
    });
  }
  if (t.denotation !== undefined) w.string(6, t.denotation);
}

function encValueInfo(w: Writer, v: ValueInfoProto): void {
  if (v.name !== undefined) w.string(1, v.name);
  if (v.type) w.message(2, (m) => encType(m, v.type!));
  if (v.docString !== undefined) w.string(3, v.docString);
}

function encAttribute(w: Writer, a: AttributeProto): void {
  w.string(1, a.name);
  if (a.f !== undefined) w.float(2, a.f);
  if (a.i !== undefined) w.varintField(3, a.i);
  if (a.s !== undefined) w.bytes(4, a.s);
  if (a.t) w.message(5, (m) => encTensor(m, a.t!));
  if (a.g) w.message(6, (m) => encGraph(m, a.g!));
  for (const f of a.floats ?? []) w.float(7, f);
  for (const i of a.ints ?? []) w.varintField(8, i);
  for (const s of a.strings ?? []) w.bytes(9, s);
  for (const t of a.tensors ?? []) w.message(10, (m) => encTensor(m, t));
  for (const g of a.graphs ?? []) w.message(11, (m) => encGraph(m, g));
  if (a.docString !== undefined) w.string(13, a.docString);
  if (a.type !== undefined) w.varintField(20, a.type);
  if (a.refAttrName !== undefined) w.string(21, a.refAttrName);
}

function encNode(w: Writer, n: NodeProto): void {
  for (const s of n.input) w.string(1, s);
  for (const s of n.output) w.string(2, s);
  if (n.name !== undefined) w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attribute) w.message(5, (m) => encAttribute(m, a));
  if (n.docString !== undefined) w.string(6, n.docString);
  if (n.domain !== undefined) w.string(7, n.domain);
}

function encGraph(w: Writer, g: GraphProto): void {
  for (const n of g.node) w.message(1, (m) => encNode(m, n));
  if (g.name !== undefined) w.string(2, g.name);
  for (const t of g.initializer) w.message(5, (m) => encTensor(m, t));
  if (g.docString !== undefined) w.string(10, g.docString);
  for (const v of g.input) w.message(11, (m) => encValueInfo(m, v));
  for (const v of g.output) w.message(12, (m) => encValueInfo(m, v));
  for (const v of g.valueInfo) w.message(13, (m) => encValueInfo(m, v));
}

/** Serialises a model to protobuf bytes (an `.onnx` file). */
export function encodeModel(m: ModelProto): Uint8Array {
  const w = new Writer();
  if (m.irVersion !== undefined) w.varintField(1, m.irVersion);
  if (m.producerName !== undefined) w.string(2, m.producerName);
  if (m.producerVersion !== undefined) w.string(3, m.producerVersion);
  if (m.domain !== undefined) w.string(4, m.domain);
  if (m.modelVersion !== undefined) w.varintField(5, m.modelVersion);
  if (m.docString !== undefined) w.string(6, m.docString);
  if (m.graph) w.message(7, (g) => encGraph(g, m.graph!));
  for (const o of m.opsetImport) w.message(8, (s) => encOpset(s, o));
  for (const e of m.metadataProps) w.message(14, (s) => encStringEntry(s, e));
  return w.finish();
}

// ---------------------------------------------------------------------------
// Wire-level reader

/** Error raised for malformed protobuf input. */
export class OnnxDecodeError extends Error {
  override name = "OnnxDecodeError";
}

class Reader {
  readonly buf: Uint8Array;
  readonly view: DataView;
  pos: number;
  readonly end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  #fail(what: string): never {
    throw new OnnxDecodeError(
      `Cannot decode ONNX protobuf: ${what} at byte ${this.pos}`,
    );
  }

  /** Reads a varint as [low 32 bits, high 32 bits] (both unsigned). */
  #varint64(): [number, number] {
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.#fail("truncated varint");
      const b = this.buf[this.pos++]!;
      if (shift < 28) {
        lo |= (b & 127) << shift;
      } else if (shift === 28) {
        lo |= (b & 15) << 28;
        hi |= (b & 127) >>> 4;
      } else {
        hi |= (b & 127) << (shift - 32);
      }
      if (b < 128) return [lo >>> 0, hi >>> 0];
      shift += 7;
    }
    this.#fail("varint longer than 10 bytes");
  }

  /** Varint as an unsigned 32-bit-or-smaller number (tags, lengths). */
  uint32(): number {
    const [lo, hi] = this.#varint64();
    if (hi !== 0) this.#fail("length or tag out of range");
    return lo;
  }

  /** Varint as a signed int64 ({@link Int64}). */
  int64(): Int64 {
    const [lo, hi] = this.#varint64();
    if (hi < 0x80000000) {
      if (hi < 0x200000) return hi * kTwo32 + lo;
    } else {
      const v = (hi - kTwo32) * kTwo32 + lo;
      if (v >= -Number.MAX_SAFE_INTEGER) return v;
    }
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
  }

  /** Varint as an int64 that must be a safe integer. */
  safeInt(what: string): number {
    const v = this.int64();
    if (typeof v === "bigint") this.#fail(`${what} ${v} out of range`);
    return v;
  }

  /** Varint as int32 (enums, data types). */
  int32(): number {
    const [lo] = this.#varint64();
    return lo | 0;
  }

  uint64(): bigint {
    const [lo, hi] = this.#varint64();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  float(): number {
    if (this.pos + 4 > this.end) this.#fail("truncated float");
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    if (this.pos + 8 > this.end) this.#fail("truncated double");
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Length-delimited payload as a sub-reader range. */
  sub(): Reader {
    const n = this.uint32();
    if (this.pos + n > this.end) this.#fail("truncated length-delimited field");
    const r = new Reader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  bytes(): Uint8Array {
    const r = this.sub();
    return this.buf.slice(r.pos, r.end);
  }

  string(): string {
    const r = this.sub();
    return kTextDecoder.decode(this.buf.subarray(r.pos, r.end));
  }

  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.#varint64();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.sub();
        return;
      case 5:
        this.pos += 4;
        break;
      case 3: {
        // group: skip fields until the matching end-group tag
        for (;;) {
          if (this.done) this.#fail("unterminated group");
          const tag = this.uint32();
          if ((tag & 7) === 4) return;
          this.skip(tag & 7);
        }
      }
      default:
        this.#fail(`unsupported wire type ${wire}`);
    }
    if (this.pos > this.end) this.#fail("truncated field");
  }

  /** Reads a repeated scalar field given packed (wire 2) or unpacked. */
  repeated<T>(
    wire: number,
    scalarWire: number,
    read: (r: Reader) => T,
    out: T[],
  ): void {
    if (wire === 2 && scalarWire !== 2) {
      const r = this.sub();
      while (!r.done) out.push(read(r));
    } else if (wire === scalarWire) {
      out.push(read(this));
    } else {
      this.#fail(`wire type ${wire} where ${scalarWire} was expected`);
    }
  }

  /** Checks a singular field's wire type. */
  expect(wire: number, want: number): void {
    if (wire !== want) {
      this.#fail(`wire type ${wire} where ${want} was expected`);
    }
  }
}

type FieldFn = (r: Reader, field: number, wire: number) => boolean;

function readMessage(r: Reader, fn: FieldFn): void {
  while (!r.done) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 0) {
      throw new OnnxDecodeError("Cannot decode ONNX protobuf: field number 0");
    }
    if (!fn(r, field, wire)) r.skip(wire);
  }
}

// ---------------------------------------------------------------------------
// Decoders

function decStringEntry(r: Reader): StringStringEntry {
  const e: StringStringEntry = {};
  readMessage(r, (r, f, w) => {
    if (f === 1 && w === 2) e.key = r.string();
    else if (f === 2 && w === 2) e.value = r.string();
    else return false;
    return true;
  });
  return e;
}

function decOpset(r: Reader): OperatorSetId {
  const o: OperatorSetId = {};
  readMessage(r, (r, f, w) => {
    if (f === 1 && w === 2) o.domain = r.string();
    else if (f === 2 && w === 0) o.version = r.safeInt("opset version");
    else return false;
    return true;
  });
  return o;
}

function decTensor(r: Reader): TensorProto {
  const t: TensorProto = { dims: [] };
  let floats: number[] | undefined;
  let int32s: number[] | undefined;
  let int64s: Int64[] | undefined;
  let doubles: number[] | undefined;
  let uint64s: bigint[] | undefined;
  readMessage(r, (r, f, w) => {
    switch (f) {
      case 1:
        r.repeated(w, 0, (x) => x.safeInt("tensor dimension"), t.dims);
        return true;
      case 2:
        r.expect(w, 0);
        t.dataType = r.int32();
        return true;
      case 4:
        r.repeated(w, 5, (x) => x.float(), floats ??= []);
        return true;
      case 5:
        r.repeated(w, 0, (x) => x.int32(), int32s ??= []);
        return true;
      case 6:
        r.expect(w, 2);
        (t.stringData ??= []).push(r.bytes());
        return true;
      case 7:
        r.repeated(w, 0, (x) => x.int64(), int64s ??= []);
        return true;
      case 8:
        r.expect(w, 2);
        t.name = r.string();
        return true;
      case 9:
        r.expect(w, 2);
        t.rawData = r.bytes();
        return true;
      case 10:
        r.repeated(w, 1, (x) => x.double(), doubles ??= []);
        return true;
      case 11:
        r.repeated(w, 0, (x) => x.uint64(), uint64s ??= []);
        return true;
      case 12:
        r.expect(w, 2);
        t.docString = r.string();
        return true;
      case 13:
        r.expect(w, 2);
        (t.externalData ??= []).push(decStringEntry(r.sub()));
        return true;
      case 14:
        r.expect(w, 0);
        t.dataLocation = r.int32();
        return true;
    }
    return false;
  });
  if (floats) t.floatData = Float32Array.from(floats);
  if (int32s) t.int32Data = Int32Array.from(int32s);
  if (int64s) t.int64Data = BigInt64Array.from(int64s, (v) => BigInt(v));
  if (doubles) t.doubleData = Float64Array.from(doubles);
  if (uint64s) t.uint64Data = BigUint64Array.from(uint64s);
  return t;
}

function decDim(r: Reader): Dimension {
  const d: Dimension = {};
  readMessage(r, (r, f, w) => {
    if (f === 1 && w === 0) d.dimValue = r.safeInt("dim_value");
    else if (f === 2 && w === 2) d.dimParam = r.string();
    else if (f === 3 && w === 2) d.denotation = r.string();
    else return false;
    return true;
  });
  return d;
}

function decType(r: Reader): TypeProto {
  const t: TypeProto = {};
  readMessage(r, (r, f, w) => {
    if (f === 1 && w === 2) {
      const tt: NonNullable<TypeProto["tensorType"]> = {};
      readMessage(r.sub(), (r, f, w) => {
        if (f === 1 && w === 0) tt.elemType = r.int32();
        else if (f === 2 && w === 2) {
          const shape = { dim: [] as Dimension[] };
          readMessage(r.sub(), (r, f, w) => {
            if (f === 1 && w === 2) shape.dim.push(decDim(r.sub()));
            else return false;
            return true;
          });
          tt.shape = shape;
        } else return false;
        return true;
      });
      t.tensorType = tt;
    } else if (f === 6 && w === 2) t.denotation = r.string();
    else return false;
    return true;
  });
  return t;
}

function decValueInfo(r: Reader): ValueInfoProto {
  const v: ValueInfoProto = {};
  readMessage(r, (r, f, w) => {
    if (f === 1 && w === 2) v.name = r.string();
    else if (f === 2 && w === 2) v.type = decType(r.sub());
    else if (f === 3 && w === 2) v.docString = r.string();
    else return false;
    return true;
  });
  return v;
}

function decAttribute(r: Reader): AttributeProto {
  const a: AttributeProto = { name: "" };
  readMessage(r, (r, f, w) => {
    switch (f) {
      case 1:
        r.expect(w, 2);
        a.name = r.string();
        return true;
      case 2:
        r.expect(w, 5);
        a.f = r.float();
        return true;
      case 3:
        r.expect(w, 0);
        a.i = r.int64();
        return true;
      case 4:
        r.expect(w, 2);
        a.s = r.bytes();
        return true;
      case 5:
        r.expect(w, 2);
        a.t = decTensor(r.sub());
        return true;
      case 6:
        r.expect(w, 2);
        a.g = decGraph(r.sub());
        return true;
      case 7:
        r.repeated(w, 5, (x) => x.float(), a.floats ??= []);
        return true;
      case 8:
        r.repeated(w, 0, (x) => x.int64(), a.ints ??= []);
        return true;
      case 9:
        r.expect(w, 2);
        (a.strings ??= []).push(r.bytes());
        return true;
      case 10:
        r.expect(w, 2);
        (a.tensors ??= []).push(decTensor(r.sub()));
        return true;
      case 11:
        r.expect(w, 2);
        (a.graphs ??= []).push(decGraph(r.sub()));
        return true;
      case 13:
        r.expect(w, 2);
        a.docString = r.string();
        return true;
      case 20:
        r.expect(w, 0);
        a.type = r.int32();
        return true;
      case 21:
        r.expect(w, 2);
        a.refAttrName = r.string();
        return true;
    }
    return false;
  });
  return a;
}

function decNode(r: Reader): NodeProto {
  const n: NodeProto = { input: [], output: [], opType: "", attribute: [] };
  readMessage(r, (r, f, w) => {
    if (w !== 2) return false;
    switch (f) {
      case 1:
        n.input.push(r.string());
        return true;
      case 2:
        n.output.push(r.string());
        return true;
      case 3:
        n.name = r.string();
        return true;
      case 4:
        n.opType = r.string();
        return true;
      case 5:
        n.attribute.push(decAttribute(r.sub()));
        return true;
      case 6:
        n.docString = r.string();
        return true;
      case 7:
        n.domain = r.string();
        return true;
    }
    return false;
  });
  return n;
}

function decGraph(r: Reader): GraphProto {
  const g: GraphProto = {
    node: [],
    initializer: [],
    input: [],
    output: [],
    valueInfo: [],
  };
  readMessage(r, (r, f, w) => {
    if (w !== 2) return false;
    switch (f) {
      case 1:
        g.node.push(decNode(r.sub()));
        return true;
      case 2:
        g.name = r.string();
        return true;
      case 5:
        g.initializer.push(decTensor(r.sub()));
        return true;
      case 10:
        g.docString = r.string();
        return true;
      case 11:
        g.input.push(decValueInfo(r.sub()));
        return true;
      case 12:
        g.output.push(decValueInfo(r.sub()));
        return true;
      case 13:
        g.valueInfo.push(decValueInfo(r.sub()));
        return true;
    }
    return false;
  });
  return g;
}

/** Parses protobuf bytes of an `.onnx` file. Unknown fields are skipped. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const m: ModelProto = { opsetImport: [], metadataProps: [] };
  readMessage(new Reader(bytes), (r, f, w) => {
    switch (f) {
      case 1:
        r.expect(w, 0);
        m.irVersion = r.safeInt("ir_version");
        return true;
      case 2:
        r.expect(w, 2);
        m.producerName = r.string();
        return true;
      case 3:
        r.expect(w, 2);
        m.producerVersion = r.string();
        return true;
      case 4:
        r.expect(w, 2);
        m.domain = r.string();
        return true;
      case 5:
        r.expect(w, 0);
        m.modelVersion = r.safeInt("model_version");
        return true;
      case 6:
        r.expect(w, 2);
        m.docString = r.string();
        return true;
      case 7:
        r.expect(w, 2);
        m.graph = decGraph(r.sub());
        return true;
      case 8:
        r.expect(w, 2);
        m.opsetImport.push(decOpset(r.sub()));
        return true;
      case 14:
        r.expect(w, 2);
        m.metadataProps.push(decStringEntry(r.sub()));
        return true;
    }
    return false;
  });
  return m;
}

// ---------------------------------------------------------------------------
// Tensor data helpers

/** Converts an {@link Int64} to a number (values beyond 2^53 lose precision). */
export function int64ToNumber(v: Int64): number {
  return typeof v === "bigint" ? Number(v) : v;
}

/** Number of elements of a tensor (product of dims; 1 for a scalar). */
export function tensorSize(t: TensorProto): number {
  let n = 1;
  for (const d of t.dims) n *= d;
  return n;
}

function tensorLabel(t: TensorProto): string {
  return t.name ? `"${t.name}"` : "(unnamed)";
}

/** Throws when a tensor keeps its data in an external file. */
export function assertInlineData(t: TensorProto): void {
  if (
    t.dataLocation === kDataLocationExternal ||
    (t.externalData?.length ?? 0) > 0
  ) {
    const loc = t.externalData?.find((e) => e.key === "location")?.value;
    throw new Error(
      `Cannot read tensor ${
        tensorLabel(t)
      }: its data is stored in an external file${
        loc ? ` ("${loc}")` : ""
      }, which is not supported`,
    );
  }
}

function rawView(t: TensorProto, bytesPer: number): DataView | undefined {
  if (t.rawData === undefined) return undefined;
  const n = tensorSize(t);
  if (t.rawData.byteLength !== n * bytesPer) {
    throw new Error(
      `Cannot read tensor ${
        tensorLabel(t)
      }: raw_data has ${t.rawData.byteLength} bytes, expected ${n * bytesPer}`,
    );
  }
  return new DataView(
    t.rawData.buffer,
    t.rawData.byteOffset,
    t.rawData.byteLength,
  );
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * Tensor values as float64 numbers, for any numeric data type (float, double,
 * float16, bfloat16, (u)int8/16/32/64, bool). Throws for strings and external data.
 */
export function tensorToFloat64(t: TensorProto): Float64Array {
  assertInlineData(t);
  const n = tensorSize(t);
  const out = new Float64Array(n);
  const dt = t.dataType ?? DataType.UNDEFINED;
  const sizes: Record<number, number> = {
    [DataType.FLOAT]: 4,
    [DataType.UINT8]: 1,
    [DataType.INT8]: 1,
    [DataType.UINT16]: 2,
    [DataType.INT16]: 2,
    [DataType.INT32]: 4,
    [DataType.INT64]: 8,
    [DataType.BOOL]: 1,
    [DataType.FLOAT16]: 2,
    [DataType.DOUBLE]: 8,
    [DataType.UINT32]: 4,
    [DataType.UINT64]: 8,
    [DataType.BFLOAT16]: 2,
  };
  const size = sizes[dt];
  if (size === undefined) {
    throw new Error(
      `Cannot read tensor ${
        tensorLabel(t)
      } as numbers: unsupported data type ${dt}`,
    );
  }
  const v = rawView(t, size);
  if (v) {
    for (let i = 0; i < n; i++) {
      const o = i * size;
      switch (dt) {
        case DataType.FLOAT:
          out[i] = v.getFloat32(o, true);
          break;
        case DataType.DOUBLE:
          out[i] = v.getFloat64(o, true);
          break;
        case DataType.UINT8:
        case DataType.BOOL:
          out[i] = v.getUint8(o);
          break;
        case DataType.INT8:
          out[i] = v.getInt8(o);
          break;
        case DataType.UINT16:
          out[i] = v.getUint16(o, true);
          break;
        case DataType.INT16:
          out[i] = v.getInt16(o, true);
          break;
        case DataType.INT32:
          out[i] = v.getInt32(o, true);
          break;
        case DataType.UINT32:
          out[i] = v.getUint32(o, true);
          break;
        case DataType.INT64:
          out[i] = Number(v.getBigInt64(o, true));
          break;
        case DataType.UINT64:
          out[i] = Number(v.getBigUint64(o, true));
          break;
        case DataType.FLOAT16:
          out[i] = halfToFloat(v.getUint16(o, true));
          break;
        case DataType.BFLOAT16:
          out[i] = new Float32Array(
            new Uint32Array([v.getUint16(o, true) << 16]).buffer,
          )[0]!;
          break;
      }
    }
    return out;
  }
  // typed fields
  let src: ArrayLike<number | bigint> | undefined;
  switch (dt) {
    case DataType.FLOAT:
      src = t.floatData;
      break;
    case DataType.DOUBLE:
      src = t.doubleData;
      break;
    case DataType.INT64:
      src = t.int64Data;
      break;
    case DataType.UINT32:
    case DataType.UINT64:
      src = t.uint64Data;
      break;
    default:
      src = t.int32Data; // int8/16/32, uint8/16, bool, float16/bfloat16 bits
  }
  const len = src?.length ?? 0;
  if (len !== n) {
    throw new Error(
      `Cannot read tensor ${
        tensorLabel(t)
      }: it holds ${len} values, expected ${n} (dims ${
        JSON.stringify(t.dims)
      })`,
    );
  }
  for (let i = 0; i < n; i++) {
    const x = Number(src![i]!);
    out[i] = dt === DataType.FLOAT16
      ? halfToFloat(x)
      : dt === DataType.BFLOAT16
      ? new Float32Array(new Uint32Array([x << 16]).buffer)[0]!
      : x;
  }
  return out;
}

/** Tensor values as a Float32Array (any numeric data type). */
export function tensorToFloat32(t: TensorProto): Float32Array {
  if (t.dataType === DataType.FLOAT && t.rawData === undefined && t.floatData) {
    assertInlineData(t);
    if (t.floatData.length === tensorSize(t)) return t.floatData.slice();
  }
  return Float32Array.from(tensorToFloat64(t));
}

/** Integer tensor values as a BigInt64Array (int8..int64, uint8..uint64, bool). */
export function tensorToBigInt64(t: TensorProto): BigInt64Array {
  if (t.dataType === DataType.INT64) {
    assertInlineData(t);
    const n = tensorSize(t);
    const v = rawView(t, 8);
    if (v) {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getBigInt64(8 * i, true);
      return out;
    }
    if ((t.int64Data?.length ?? 0) !== n) {
      throw new Error(
        `Cannot read tensor ${
          tensorLabel(t)
        }: it holds the wrong number of values`,
      );
    }
    return t.int64Data!.slice();
  }
  const f = tensorToFloat64(t);
  if (t.dataType === DataType.FLOAT || t.dataType === DataType.DOUBLE) {
    throw new Error(
      `Cannot read tensor ${
        tensorLabel(t)
      } as integers: it has a floating-point type`,
    );
  }
  return BigInt64Array.from(f, (x) => BigInt(x));
}

/**
 * Integer tensor values as numbers. int64 values beyond ±2^53 (e.g. INT64_MAX
 * used as "to the end" in Slice) become the nearest float64, which still
 * compares correctly as a bound.
 */
export function tensorToInt64s(t: TensorProto): number[] {
  return Array.from(tensorToBigInt64(t), (v) => Number(v));
}

// ---------------------------------------------------------------------------
// Attribute helpers

/** Finds an attribute of a node by name. */
export function getAttribute(
  n: NodeProto,
  name: string,
): AttributeProto | undefined {
  return n.attribute.find((a) => a.name === name);
}

/** Integer attribute, or `fallback` when absent. */
export function attrInt(n: NodeProto, name: string, fallback: number): number {
  const a = getAttribute(n, name);
  return a?.i !== undefined ? int64ToNumber(a.i) : fallback;
}

/** Float attribute, or `fallback` when absent. */
export function attrFloat(
  n: NodeProto,
  name: string,
  fallback: number,
): number {
  const a = getAttribute(n, name);
  return a?.f !== undefined ? a.f : fallback;
}

/** Integer-list attribute, or `fallback` when absent. */
export function attrInts(
  n: NodeProto,
  name: string,
  fallback: number[],
): number[] {
  const a = getAttribute(n, name);
  return a?.ints !== undefined ? a.ints.map(int64ToNumber) : fallback;
}

/** String attribute (UTF-8), or `fallback` when absent. */
export function attrString(
  n: NodeProto,
  name: string,
  fallback: string,
): string {
  const a = getAttribute(n, name);
  return a?.s !== undefined ? kTextDecoder.decode(a.s) : fallback;
}
