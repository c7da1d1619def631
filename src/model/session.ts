/**
 * ONNX classifier sessions on onnxruntime-web.
 *
 * - `wasm` (default): the wasm CPU backend with `threads` worker threads
 *   (default `navigator.hardwareConcurrency`).
 * - `webgpu`: onnxruntime-web's WebGPU execution provider, loaded from the
 *   `onnxruntime-web/webgpu` sub-export (the plain import resolves to the Node
 *   build, which has none); `ort.env.wasm.wasmPaths` is set to the plain
 *   directory of `onnxruntime-web/dist/` (a `file://` URL fails in Deno).
 *
 * Model metadata (`metadata_props`) is read from the file with the ONNX
 * codec (`src/onnx/proto.ts`) into `info.metadata`.
 *
 * What a model may look like (everything is converted at this boundary, so
 * callers always pass float32 NCHW images and get float32 `[batch, K]`
 * logits):
 * - one image input, NCHW `[N, C, H, W]` or NHWC `[N, H, W, C]` (C of 1 to 4;
 *   the layout is told apart by where the small channel axis is; when both
 *   ends are small, NCHW);
 * - a fixed or symbolic batch (a fixed one is honoured by padding/chunking in
 *   `run()`);
 * - fixed square H = W, or symbolic H/W: then the side comes from the `size`
 *   option, else 224 (`info.sizeSource` says which);
 * - float32 or float16 input and output;
 * - one logits output `[N, K]`, `[N, K, 1, 1]` or `[N, 1, K]`, any K; when
 *   the declared output shape is not fixed, one forward pass of zeros at open
 *   time reads it;
 * - weights inline or in external data files next to the model
 *   (`src/model/external_data.ts`).
 *
 * This module takes and returns typed arrays only; it knows nothing of
 * WebGPU buffers.
 */
import { dirname } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { OptionError, UserError } from "../errors.ts";
import { decodeModel, type ModelProto } from "../onnx/proto.ts";
import { readInputFile } from "../io/read.ts";
import { watched } from "./watchdog.ts";
import { readExternalData } from "./external_data.ts";

type Ort = typeof import("onnxruntime-web");
type OrtSession = Awaited<ReturnType<Ort["InferenceSession"]["create"]>>;

/** Execution backend. */
export type Backend = "wasm" | "webgpu";

/** Options for `ModelSession.open()`. */
export interface SessionOptions {
  /** @default "wasm" */
  backend?: Backend;
  /** wasm threads. @default navigator.hardwareConcurrency */
  threads?: number;
  /** The file's bytes when the caller has already read them (`path` is then not read again). */
  bytes?: Uint8Array;
  /**
   * Input side S for a model with symbolic height/width (default 224). For a
   * model with a fixed side it must equal that side.
   */
  size?: number;
}

/** Where the input's axes are. */
export type InputLayout = "NCHW" | "NHWC";

/** Element types accepted at the model's boundary. */
export type ModelTensorType = "float32" | "float16";

/** Where `ModelInfo.size` came from. */
export type SizeSource = "model" | "option" | "default";

/** The side used for a model with symbolic height/width and no `size` option. */
export const kDefaultSymbolicSize = 224;

/** What the model expects and returns. */
export interface ModelInfo {
  inputName: string;
  outputName: string;
  /** Spatial side S of the input (H = W). */
  size: number;
  /** `model` when the model fixes S, else `option` (the `size` option) or `default` (224). */
  sizeSource: SizeSource;
  /** Input layout; `run()` takes NCHW and transposes for NHWC. */
  layout: InputLayout;
  /** Element type of the input; `run()` converts float32 to it. */
  inputType: ModelTensorType;
  /** Element type of the output; `run()` returns float32. */
  outputType: ModelTensorType;
  /** External data files the model's weights are in (locations as the model names them). */
  externalData: string[];
  /** Input channels C. */
  channels: number;
  /** Output classes K. */
  numClasses: number;
  /** Input shape as declared (symbolic dims as strings, e.g. "N"). */
  inputShape: (number | string)[];
  /** Output shape as declared (`[N,K]`, `[N,K,1,1]` or `[N,1,K]`). */
  outputShape: (number | string)[];
  /** Fixed batch size when the model declares one, else undefined. */
  fixedBatch?: number;
  /**
   * The model's ONNX `metadata_props` (key → value; empty when it has none),
   * e.g. `hfss.normalization` (see `resolveNormalization()`).
   */
  metadata: Record<string, string>;
}

const ortCache = new Map<Backend, Promise<Ort>>();

/**
 * The onnxruntime-web module of a backend, loaded once per process: `wasm` is
 * the plain `onnxruntime-web` import (the same instance `src/onnx/gradient/shapes.ts`
 * uses), `webgpu` the `onnxruntime-web/webgpu` sub-export (a second, separate
 * module instance with its own wasm). With `threads`, `env.wasm.numThreads` is
 * set first; onnxruntime-web reads it once, when its first session in that
 * module instance is created, and ignores later changes.
 */
export async function loadOrt(
  backend: Backend,
  threads?: number,
): Promise<Ort> {
  const ort = await importOrt(backend);
  if (threads !== undefined) ort.env.wasm.numThreads = Math.max(1, threads);
  return ort;
}

async function importOrt(backend: Backend): Promise<Ort> {
  let p = ortCache.get(backend);
  if (!p) {
    p = (async () => {
      if (backend === "webgpu") {
        const ort = (await import("onnxruntime-web/webgpu")) as unknown as Ort;
        // A plain directory path: the file:// URL form fails on a 'blob' scheme.
        const dist = dirname(
          fromFileUrl(import.meta.resolve("onnxruntime-web/webgpu")),
        );
        ort.env.wasm.wasmPaths = dist.endsWith("/") ? dist : dist + "/";
        return ort;
      }
      return await import("onnxruntime-web");
    })();
    ortCache.set(backend, p);
  }
  return await p;
}

function dimsOf(meta: unknown): (number | string)[] {
  const m = meta as {
    isTensor?: boolean;
    shape?: ReadonlyArray<number | string>;
  };
  return m.shape ? [...m.shape] : [];
}

function describeShape(shape: readonly (number | string)[]): string {
  return `[${
    shape.map((d) => (typeof d === "number" && d >= 0
      ? d
      : typeof d === "string" && d
      ? d
      : "?")
    ).join(",")
  }]`;
}

function metadataOf(model: ModelProto): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of model.metadataProps ?? []) {
    if (e.key) out[e.key] = e.value ?? "";
  }
  return out;
}

/**
 * The `metadata_props` of ONNX model bytes (onnxruntime-web does not expose
 * them). Later duplicates of a key win; an undecodable file gives `{}` (it
 * was already accepted by onnxruntime).
 */
export function readMetadata(bytes: Uint8Array): Record<string, string> {
  try {
    return metadataOf(decodeModel(bytes));
  } catch {
    return {};
  }
}

const isFixed = (d: number | string | undefined): d is number =>
  typeof d === "number" && d > 0;

/** Small enough to be a channel axis. */
const isChannelDim = (d: number | string | undefined): d is number =>
  isFixed(d) && d <= 4;

/**
 * K of a logits shape `[N,K]`, `[N,K,1,1]` or `[N,1,K]` with fixed non-batch
 * dimensions; `undefined` when a non-batch dimension is symbolic (to be
 * measured), `null` when the shape is none of these.
 */
function classCount(
  shape: readonly (number | string)[],
): number | undefined | null {
  if (shape.length === 0) return undefined; // rank not declared
  if (shape.length < 2 || shape.length > 4) return null;
  const rest = shape.slice(1);
  if (!rest.every(isFixed)) return undefined;
  const d = rest as number[];
  if (d.length === 1) return d[0]!;
  if (d.length === 2) return d[0] === 1 ? d[1]! : null;
  return d[1] === 1 && d[2] === 1 ? d[0]! : null;
}

/** An input tensor of `type` holding `x` (float16: rounded to nearest even). */
function inputTensor(
  ort: Ort,
  type: ModelTensorType,
  x: Float32Array,
  dims: readonly number[],
) {
  return type === "float16"
    ? new ort.Tensor(
      "float16",
      new Uint16Array(new Float16Array(x).buffer),
      dims,
    )
    : new ort.Tensor("float32", x, dims);
}

/** An output tensor's data as float32 (float16 comes as Float16Array, or as its raw bits in a Uint16Array). */
function toFloat32(data: unknown): Float32Array {
  if (data instanceof Float32Array) return data;
  if (data instanceof Uint16Array) {
    return Float32Array.from(
      new Float16Array(data.buffer, data.byteOffset, data.length),
    );
  }
  return Float32Array.from(data as ArrayLike<number>);
}

/** NCHW `[n, c, s, s]` to NHWC `[n, s, s, c]`. */
function nchwToNhwc(
  x: Float32Array,
  n: number,
  c: number,
  s: number,
): Float32Array {
  const plane = s * s;
  const out = new Float32Array(n * c * plane);
  for (let b = 0; b < n; b++) {
    const base = b * c * plane;
    for (let ch = 0; ch < c; ch++) {
      const src = base + ch * plane;
      for (let i = 0; i < plane; i++) out[base + i * c + ch] = x[src + i]!;
    }
  }
  return out;
}

/** An open classifier. Call `release()` (or use `using`) when done. */
export class ModelSession {
  readonly path: string;
  readonly backend: Backend;
  readonly info: ModelInfo;
  #ort: Ort;
  #session: OrtSession | undefined;

  private constructor(
    path: string,
    backend: Backend,
    ort: Ort,
    session: OrtSession,
    info: ModelInfo,
  ) {
    this.path = path;
    this.backend = backend;
    this.#ort = ort;
    this.#session = session;
    this.info = info;
  }

  /**
   * Open an ONNX classifier.
   *
   * @throws {UserError} when the file (or an external data file) is missing, not an ONNX model, or not shaped like an image classifier.
   * @throws {OptionError} (`size`) when `size` is not a positive integer or differs from the model's fixed side.
   *
   * @example
   * ```ts
   * const m = await ModelSession.open("vit.onnx", { size: 224 });
   * console.log(m.info.size, m.info.layout, m.info.numClasses);
   * m.release();
   * ```
   */
  static async open(
    path: string,
    options: SessionOptions = {},
  ): Promise<ModelSession> {
    const backend = options.backend ?? "wasm";
    if (
      options.size !== undefined &&
      !(Number.isInteger(options.size) && options.size >= 1)
    ) {
      throw new OptionError(
        "size",
        `must be an integer >= 1, got ${options.size}`,
      );
    }
    const bytes = options.bytes ??
      await readInputFile(path, "Cannot open model");
    let proto: ModelProto | undefined;
    try {
      proto = decodeModel(bytes);
    } catch {
      proto = undefined; // onnxruntime gives the reason below
    }
    const externalData = proto ? await readExternalData(path, proto) : [];
    const ort = await loadOrt(
      backend,
      options.threads ?? navigator.hardwareConcurrency ?? 1,
    );
    ort.env.logLevel = "error";
    let session: OrtSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        executionProviders: backend === "webgpu" ? ["webgpu"] : ["wasm"],
        graphOptimizationLevel: "all",
        ...(externalData.length ? { externalData } : {}),
      });
    } catch (e) {
      const why = (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
      throw new UserError(`Cannot open model "${path}": ${why}`);
    }
    try {
      const info = await ModelSession.#inspect(
        path,
        ort,
        session,
        proto ? metadataOf(proto) : {},
        options.size,
      );
      info.externalData = externalData.map((f) => f.path);
      return new ModelSession(path, backend, ort, session, info);
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  static async #inspect(
    path: string,
    ort: Ort,
    session: OrtSession,
    metadata: Record<string, string>,
    sizeOption: number | undefined,
  ): Promise<ModelInfo> {
    const inputs = session.inputNames;
    const outputs = session.outputNames;
    const fail = (why: string) =>
      new UserError(`Cannot use model "${path}": ${why}`);
    if (inputs.length !== 1) {
      throw fail(
        `expected 1 image input, got ${inputs.length} (${inputs.join(", ")})`,
      );
    }
    const inMeta = session.inputMetadata[0]!;
    const outMeta = session.outputMetadata[0]!;
    const inputShape = dimsOf(inMeta);
    const outputShape = dimsOf(outMeta);
    const elemType = (meta: unknown, what: string): ModelTensorType => {
      const t = (meta as { type?: string }).type ?? "float32";
      if (t !== "float32" && t !== "float16") {
        throw fail(`expected a float32 or float16 ${what}, got ${t}`);
      }
      return t;
    };
    const inputType = elemType(inMeta, "input");
    const outputType = elemType(outMeta, `output "${outputs[0]}"`);
    if (inputShape.length !== 4) {
      throw fail(
        `expected an image input [N,C,H,W] or [N,H,W,C], got ${
          describeShape(inputShape)
        }`,
      );
    }
    const [n, d1, d2, d3] = inputShape;
    // The channel axis is the small one; when both ends are small (a tiny
    // image), the reading with a square image wins, then NCHW.
    const square = (a: unknown, b: unknown) =>
      !isFixed(a as number) || !isFixed(b as number) || a === b;
    let layout: InputLayout;
    if (isChannelDim(d1) && (!isChannelDim(d3) || square(d2, d3))) {
      layout = "NCHW";
    } else if (isChannelDim(d3)) layout = "NHWC";
    else if (isChannelDim(d1)) layout = "NCHW";
    else {
      throw fail(
        `expected an image input [N,C,H,W] or [N,H,W,C] with 1 to 4 channels, got ${
          describeShape(inputShape)
        }`,
      );
    }
    const c = (layout === "NCHW" ? d1 : d3) as number;
    const [h, w] = layout === "NCHW" ? [d2, d3] : [d1, d2];
    let size: number;
    let sizeSource: SizeSource;
    if (isFixed(h) && isFixed(w) && h !== w) {
      throw fail(`expected a square input, got ${h}x${w}`);
    }
    const fixedSide = isFixed(h) ? h : isFixed(w) ? w : undefined;
    if (fixedSide !== undefined) {
      if (sizeOption !== undefined && sizeOption !== fixedSide) {
        throw new OptionError(
          "size",
          `model "${path}" takes ${fixedSide}x${fixedSide} inputs, got ${sizeOption}`,
        );
      }
      size = fixedSide;
      sizeSource = "model";
    } else {
      size = sizeOption ?? kDefaultSymbolicSize;
      sizeSource = sizeOption === undefined ? "default" : "option";
    }
    const info: ModelInfo = {
      inputName: inputs[0]!,
      outputName: outputs[0]!,
      size,
      sizeSource,
      layout,
      inputType,
      outputType,
      externalData: [],
      channels: c,
      numClasses: 0,
      inputShape,
      outputShape,
      metadata,
    };
    if (isFixed(n)) info.fixedBatch = n;
    const badOutput = (shape: readonly (number | string)[]) =>
      fail(
        `output "${info.outputName}" has shape ${
          describeShape(shape)
        }; expected class logits [N,K], [N,K,1,1] or [N,1,K]`,
      );
    let k = classCount(outputShape);
    if (k === null) throw badOutput(outputShape);
    if (k === undefined) {
      // Symbolic output dimensions: run zeros once and read the real shape.
      const batch = info.fixedBatch ?? 1;
      const dims = layout === "NCHW" ? [batch, c, size, size] : [
        batch,
        size,
        size,
        c,
      ];
      let got: readonly number[];
      try {
        const zeros = new Float32Array(batch * c * size * size);
        const result = await watched(`model "${path}"`, () =>
          session.run({
            [info.inputName]: inputTensor(ort, inputType, zeros, dims),
          }));
        const t = result[info.outputName]!;
        got = t.dims;
        t.dispose?.();
      } catch (e) {
        const why = (e instanceof Error ? e.message : String(e)).split("\n")[0];
        throw fail(`it does not run on ${size}x${size} inputs: ${why}`);
      }
      k = classCount(got);
      if (k === null || k === undefined || got[0] !== batch) {
        throw badOutput(got);
      }
    }
    info.numClasses = k;
    return info;
  }

  /**
   * Check that data of side `size` with `channels` channels and `numClasses`
   * labels (or labels up to `maxLabel`) fits this model; throws a one-line
   * UserError saying what the model expects and what it got, naming
   * `dataset` when given.
   */
  checkFits(
    data: {
      size?: number;
      channels?: number;
      numClasses?: number;
      maxLabel?: number;
      dataset?: string;
    },
  ): void {
    const i = this.info;
    const on = data.dataset === undefined
      ? "on this data"
      : `on dataset "${data.dataset}"`;
    if (data.channels !== undefined && data.channels !== i.channels) {
      throw new UserError(
        `Cannot run model "${this.path}" ${on}: it expects ${i.channels} input channels, got ${data.channels}`,
      );
    }
    if (data.size !== undefined && data.size !== i.size) {
      throw new UserError(
        `Cannot run model "${this.path}" ${on}: it expects ${i.size}x${i.size} inputs, got ${data.size}x${data.size}`,
      );
    }
    if (data.numClasses !== undefined && data.numClasses !== i.numClasses) {
      throw new UserError(
        `Cannot run model "${this.path}" ${on}: it outputs ${i.numClasses} classes, the data has ${data.numClasses}`,
      );
    }
    if (data.maxLabel !== undefined && data.maxLabel >= i.numClasses) {
      throw new UserError(
        `Cannot run model "${this.path}" ${on}: it outputs ${i.numClasses} classes, the data has label ${data.maxLabel} (labels must be in [0,${i.numClasses}))`,
      );
    }
  }

  /**
   * Run the model on `batch` images `[batch, C, S, S]` (float32 NCHW, already
   * normalised), whatever the model's layout and element type. Returns float32
   * logits `[batch, K]`. A fixed-batch model is fed chunks of its batch size,
   * the last one zero-padded.
   */
  async run(x: Float32Array, batch: number): Promise<Float32Array> {
    const session = this.#session;
    if (!session) throw new Error("ModelSession.run(): session was released");
    const { channels: c, size: s, numClasses: k, layout, inputType } =
      this.info;
    const per = c * s * s;
    if (x.length < batch * per) {
      throw new UserError(
        `Cannot run model "${this.path}": expected ${batch}x${c}x${s}x${s} = ${
          batch * per
        } values, got ${x.length}`,
      );
    }
    const out = new Float32Array(batch * k);
    const chunk = this.info.fixedBatch ?? batch;
    const dims = layout === "NCHW" ? [chunk, c, s, s] : [chunk, s, s, c];
    for (let b0 = 0; b0 < batch; b0 += chunk) {
      const n = Math.min(chunk, batch - b0);
      let data = x.subarray(b0 * per, (b0 + n) * per);
      if (n < chunk) {
        const padded = new Float32Array(chunk * per);
        padded.set(data);
        data = padded;
      }
      if (layout === "NHWC") data = nchwToNhwc(data, chunk, c, s);
      const feeds = {
        [this.info.inputName]: inputTensor(this.#ort, inputType, data, dims),
      };
      const result = await watched(
        `model "${this.path}"`,
        () => session.run(feeds),
      );
      const t = result[this.info.outputName]!;
      const logits = toFloat32(t.data);
      if (logits.length < n * k) {
        throw new UserError(
          `Cannot run model "${this.path}": expected ${
            n * k
          } output values, got ${logits.length}`,
        );
      }
      out.set(logits.subarray(0, n * k), b0 * k);
      t.dispose?.();
    }
    return out;
  }

  /** Free the session. Safe to call twice. */
  async release(): Promise<void> {
    const s = this.#session;
    this.#session = undefined;
    if (s) await s.release();
  }

  /** `using`-style disposal (release without awaiting). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}
