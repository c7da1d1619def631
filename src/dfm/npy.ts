/**
 * NumPy `.npy` files (format 1.0 written; 1.0, 2.0 and 3.0 read), for the
 * dtypes hfss uses: uint8, float32, float64, int32, int64, little-endian, C
 * order. Layout (numpy `lib/format.py`): magic `\x93NUMPY`, major and minor
 * version bytes, header length (uint16 LE for 1.0, uint32 LE for 2.0/3.0),
 * then an ASCII Python dict literal
 * `{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }` padded with
 * spaces and ended with `\n` so that the data starts at a multiple of 64
 * bytes, then the raw elements in row-major order. The header is written
 * byte for byte as numpy 2 writes it (including the spare spaces numpy
 * leaves for the first axis to grow).
 */
import { UserError } from "../errors.ts";

/** Element types supported in `.npy` files. */
export type NpyDtype = "uint8" | "float32" | "float64" | "int32" | "int64";

/** Typed array holding the elements of a given dtype. */
export type NpyData =
  | Uint8Array
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array;

/** A decoded `.npy` array (C order). */
export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

/** The parsed header of a `.npy` file. */
export interface NpyHeader {
  dtype: NpyDtype;
  shape: number[];
  /** Byte offset of the first element. */
  dataOffset: number;
}

const kDescr: Record<NpyDtype, string> = {
  uint8: "|u1",
  float32: "<f4",
  float64: "<f8",
  int32: "<i4",
  int64: "<i8",
};

const kFromDescr: Record<string, NpyDtype> = {
  "|u1": "uint8",
  "<u1": "uint8",
  "u1": "uint8",
  "|b1": "uint8",
  "<f4": "float32",
  "<f8": "float64",
  "<i4": "int32",
  "<i8": "int64",
};

const kArrayType: Record<
  NpyDtype,
  {
    new (buffer: ArrayBufferLike, byteOffset: number, length: number): NpyData;
    readonly BYTES_PER_ELEMENT: number;
  }
> = {
  uint8: Uint8Array,
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  int64: BigInt64Array,
};

const kMagic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The header dict numpy writes for `dtype` and `shape`, unpadded. */
export function npyHeaderDict(
  dtype: NpyDtype,
  shape: readonly number[],
): string {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  return `{'descr': '${
    kDescr[dtype]
  }', 'fortran_order': False, 'shape': ${dims}, }`;
}

/**
 * Encode a C-order array as a version 1.0 `.npy` file.
 *
 * @example
 * ```ts
 * const bytes = encodeNpy(new Uint8Array([0, 1, 1, 0, 1, 0]), "uint8", [2, 3]);
 * // python: np.load(path) -> array([[0, 1, 1], [0, 1, 0]], dtype=uint8)
 * ```
 */
export function encodeNpy(
  array: NpyData | ArrayLike<number>,
  dtype: NpyDtype,
  shape: readonly number[],
): Uint8Array {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(
        `Cannot encode npy array: shape [${
          shape.join(", ")
        }] has an invalid dimension`,
      );
    }
  }
  const n = product(shape);
  if (array.length !== n) {
    throw new RangeError(
      `Cannot encode npy array: ${array.length} elements do not fill shape [${
        shape.join(", ")
      }] (${n})`,
    );
  }
  // numpy (format.py) leaves room for the first axis to grow to 21 digits,
  // then pads so that magic(6) + version(2) + length(2) + header ≡ 0 mod 64.
  const growth = shape.length > 0 ? 21 - String(shape[0]).length : 0;
  const dict = npyHeaderDict(dtype, shape) + " ".repeat(Math.max(0, growth));
  const unpadded = 10 + dict.length + 1;
  const total = Math.ceil(unpadded / 64) * 64;
  if (total - 10 > 0xffff) {
    throw new RangeError("Cannot encode npy array: header too long");
  }
  const header = dict + " ".repeat(total - unpadded) + "\n";
  const size = kArrayType[dtype].BYTES_PER_ELEMENT;
  const out = new Uint8Array(total + n * size);
  out.set(kMagic, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, total - 10, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  if (array instanceof kArrayType[dtype]) {
    // Same element type: copy the bytes (platform order is little-endian).
    out.set(
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength),
      total,
    );
    return out;
  }
  const view = new DataView(out.buffer, total);
  switch (dtype) {
    case "uint8":
      for (let i = 0; i < n; i++) out[total + i] = Number(array[i]);
      break;
    case "float32":
      for (let i = 0; i < n; i++) {
        view.setFloat32(i * 4, Number(array[i]), true);
      }
      break;
    case "float64":
      for (let i = 0; i < n; i++) {
        view.setFloat64(i * 8, Number(array[i]), true);
      }
      break;
    case "int32":
      for (let i = 0; i < n; i++) view.setInt32(i * 4, Number(array[i]), true);
      break;
    case "int64":
      for (let i = 0; i < n; i++) {
        const v = array[i]!;
        view.setBigInt64(i * 8, typeof v === "bigint" ? v : BigInt(v), true);
      }
      break;
  }
  return out;
}

function fail(source: string | undefined, state: string): never {
  throw new UserError(
    source
      ? `Cannot read npy file "${source}": ${state}`
      : `Cannot decode npy data: ${state}`,
  );
}

/**
 * Parse the header of a `.npy` file (`source` names the file in errors).
 * Rejects Fortran order, big-endian and unsupported dtypes.
 */
export function decodeNpyHeader(
  bytes: Uint8Array,
  source?: string,
): NpyHeader {
  if (bytes.length < 10 || kMagic.some((b, i) => bytes[i] !== b)) {
    fail(source, "not an npy file (missing \\x93NUMPY magic)");
  }
  const major = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let len: number, start: number;
  if (major === 1) {
    len = dv.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail(source, "truncated header");
    len = dv.getUint32(8, true);
    start = 12;
  } else {
    fail(source, `unsupported format version ${major}.${bytes[7]}`);
  }
  if (start + len > bytes.length) fail(source, "truncated header");
  const text = new TextDecoder().decode(bytes.subarray(start, start + len));
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail(source, `malformed header ${JSON.stringify(text.trim())}`);
  }
  const dtype = kFromDescr[descr];
  if (!dtype) {
    fail(
      source,
      `unsupported dtype '${descr}' (supported: uint8, float32, float64, int32, int64, little-endian)`,
    );
  }
  if (fortran === "True") {
    fail(source, "Fortran-order arrays are not supported (save in C order)");
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) =>
    s.length > 0
  ).map((s) => Number(s.replace(/L$/, "")));
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    fail(source, `malformed shape (${shapeText})`);
  }
  return { dtype, shape, dataOffset: start + len };
}

/**
 * Decode a `.npy` file. The elements are a view into `bytes` when aligned
 * (no copy), else a copy; `source` names the file in error messages.
 *
 * @example
 * ```ts
 * const { dtype, shape, data } = decodeNpy(await Deno.readFile("masks.npy"));
 * ```
 */
export function decodeNpy(bytes: Uint8Array, source?: string): NpyArray {
  const h = decodeNpyHeader(bytes, source);
  const n = product(h.shape);
  const size = kArrayType[h.dtype].BYTES_PER_ELEMENT;
  const need = h.dataOffset + n * size;
  if (bytes.length < need) {
    fail(
      source,
      `truncated data (${bytes.length - h.dataOffset} bytes for shape [${
        h.shape.join(", ")
      }] of ${h.dtype}, expected ${n * size})`,
    );
  }
  if (bytes.length > need) {
    fail(
      source,
      `${bytes.length - need} trailing bytes after the data of shape [${
        h.shape.join(", ")
      }]`,
    );
  }
  // A view into `bytes` when the elements are aligned (always for uint8 and
  // for files read whole, whose data starts at a multiple of 64), else a
  // copy. Typed arrays use the platform byte order: little-endian on every
  // platform Deno runs on.
  const start = bytes.byteOffset + h.dataOffset;
  const buf = start % size === 0
    ? bytes.buffer
    : bytes.slice(h.dataOffset, need).buffer;
  const at = start % size === 0 ? start : 0;
  const data = new kArrayType[h.dtype](buf, at, n);
  return { dtype: h.dtype, shape: h.shape, data };
}
