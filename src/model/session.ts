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
 * The model must have one float32 image input `[N|n, C, S, S]` (NCHW) and one
 * float32 output `[N|n, K]` (logits). Names and shapes are read from the
 * model. A fixed batch dimension is honoured by padding/chunking in `run()`.
 * This module takes and returns typed arrays only; it knows nothing of
 * WebGPU buffers.
 */
import { dirname } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { UserError } from "../errors.ts";
import { decodeModel } from "../onnx/proto.ts";
import { readInputFile } from "../io/read.ts";
import { watched } from "./watchdog.ts";

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
}

/** What the model expects and returns. */
export interface ModelInfo {
  inputName: string;
  outputName: string;
  /** Spatial side S of the input (H = W). */
  size: number;
  /** Input channels C. */
  channels: number;
  /** Output classes K. */
  numClasses: number;
  /** Input shape as declared (symbolic dims as strings, e.g. "N"). */
  inputShape: (number | string)[];
  /** Output shape as declared. */
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
 * the plain `onnxruntime-web` import (the same instance `src/onnx/gradient.ts`
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

/**
 * The `metadata_props` of ONNX model bytes (onnxruntime-web does not expose
 * them). Later duplicates of a key win; an undecodable file gives `{}` (it
 * was already accepted by onnxruntime).
 */
export function readMetadata(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    for (const e of decodeModel(bytes).metadataProps) {
      if (e.key) out[e.key] = e.value ?? "";
    }
  } catch {
    return {};
  }
  return out;
}

const isFixed = (d: number | string | undefined): d is number =>
  typeof d === "number" && d > 0;

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
   * @throws {UserError} when the file is missing, not an ONNX model, or not shaped like an image classifier.
   *
   * @example
   * ```ts
   * const m = await ModelSession.open("mobilenet.onnx", { backend: "wasm" });
   * console.log(m.info.size, m.info.numClasses);
   * m.release();
   * ```
   */
  static async open(
    path: string,
    options: SessionOptions = {},
  ): Promise<ModelSession> {
    const backend = options.backend ?? "wasm";
    const bytes = options.bytes ??
      await readInputFile(path, "Cannot open model");
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
      });
    } catch (e) {
      const why = (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
      throw new UserError(`Cannot open model "${path}": ${why}`);
    }
    try {
      const info = ModelSession.#inspect(path, session, readMetadata(bytes));
      return new ModelSession(path, backend, ort, session, info);
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  static #inspect(
    path: string,
    session: OrtSession,
    metadata: Record<string, string>,
  ): ModelInfo {
    const inputs = session.inputNames;
    const outputs = session.outputNames;
    if (inputs.length !== 1) {
      throw new UserError(
        `Cannot use model "${path}": expected 1 image input, got ${inputs.length} (${
          inputs.join(", ")
        })`,
      );
    }
    const inMeta = session.inputMetadata[0]!;
    const outMeta = session.outputMetadata[0]!;
    const inputShape = dimsOf(inMeta);
    const outputShape = dimsOf(outMeta);
    const inType = (inMeta as { type?: string }).type;
    if (inType && inType !== "float32") {
      throw new UserError(
        `Cannot use model "${path}": expected a float32 input, got ${inType}`,
      );
    }
    if (inputShape.length !== 4) {
      throw new UserError(
        `Cannot use model "${path}": expected an input of shape [N,C,S,S], got ${
          describeShape(inputShape)
        }`,
      );
    }
    const [n, c, h, w] = inputShape;
    if (!isFixed(c) || !isFixed(h) || !isFixed(w)) {
      throw new UserError(
        `Cannot use model "${path}": expected fixed channel and spatial sizes [N,C,S,S], got ${
          describeShape(inputShape)
        }`,
      );
    }
    if (h !== w) {
      throw new UserError(
        `Cannot use model "${path}": expected a square input, got ${h}x${w}`,
      );
    }
    const k = outputShape.length === 2 ? outputShape[1] : outputShape.at(-1);
    if (outputShape.length < 2 || !isFixed(k)) {
      throw new UserError(
        `Cannot use model "${path}": expected an output of shape [N,K], got ${
          describeShape(outputShape)
        }`,
      );
    }
    const info: ModelInfo = {
      inputName: inputs[0]!,
      outputName: outputs[0]!,
      size: h,
      channels: c,
      numClasses: k,
      inputShape,
      outputShape,
      metadata,
    };
    if (isFixed(n)) info.fixedBatch = n;
    return info;
  }

  /**
   * Check that data of side `size` with `channels` channels and `numClasses`
   * labels fits this model; throws a one-line UserError saying what the model
   * expects and what it got.
   */
  checkFits(
    data: {
      size?: number;
      channels?: number;
      numClasses?: number;
      maxLabel?: number;
    },
  ): void {
    const i = this.info;
    if (data.channels !== undefined && data.channels !== i.channels) {
      throw new UserError(
        `Cannot run model "${this.path}" on this data: it expects ${i.channels} input channels, got ${data.channels}`,
      );
    }
    if (data.size !== undefined && data.size !== i.size) {
      throw new UserError(
        `Cannot run model "${this.path}" on this data: it expects ${i.size}x${i.size} inputs, got ${data.size}x${data.size}`,
      );
    }
    if (data.numClasses !== undefined && data.numClasses !== i.numClasses) {
      throw new UserError(
        `Cannot run model "${this.path}" on this data: it outputs ${i.numClasses} classes, the data has ${data.numClasses}`,
      );
    }
    if (data.maxLabel !== undefined && data.maxLabel >= i.numClasses) {
      throw new UserError(
        `Cannot run model "${this.path}" on this data: it outputs ${i.numClasses} classes, the data has label ${data.maxLabel}`,
      );
    }
  }

  /**
   * Run the model on `batch` images `[batch, C, S, S]` (already normalised).
   * Returns logits `[batch, K]`. A fixed-batch model is fed chunks of its batch
   * size, the last one zero-padded.
   */
  async run(x: Float32Array, batch: number): Promise<Float32Array> {
    const session = this.#session;
    if (!session) throw new Error("ModelSession.run(): session was released");
    const { channels: c, size: s, numClasses: k } = this.info;
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
    for (let b0 = 0; b0 < batch; b0 += chunk) {
      const n = Math.min(chunk, batch - b0);
      let data = x.subarray(b0 * per, (b0 + n) * per);
      if (n < chunk) {
        const padded = new Float32Array(chunk * per);
        padded.set(data);
        data = padded;
      }
      const feeds = {
        [this.info.inputName]: new this.#ort.Tensor("float32", data, [
          chunk,
          c,
          s,
          s,
        ]),
      };
      const result = await watched(
        `model "${this.path}"`,
        () => session.run(feeds),
      );
      const t = result[this.info.outputName]!;
      const logits = t.data as Float32Array;
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
