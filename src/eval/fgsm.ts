/**
 * FGSM (fast gradient sign method) as in the reference's `eval_fgsm.py`, with
 * the input gradient computed by the ONNX gradient transform
 * (`src/onnx/gradient/`) and run by onnxruntime-web: no PyTorch.
 *
 * One step, per element of a normalised NCHW input `x` with gradient `g`
 * (float64, in this order, as the fixture `fgsm.json`):
 *
 *     x_denorm  = x * std[c] + mean[c]
 *     perturbed = clamp(x_denorm + epsilon * sign(g), 0, 1)     // sign(0) = 0
 *     out       = (perturbed - mean[c]) / std[c]
 *
 * The loss is cross-entropy of the logits (`ce`, default) or `reference`
 * (`-z_y`, the reference's `nll_loss` on raw logits); only the sign of the
 * gradient matters, and the gradient of each sample is that of its own loss.
 *
 * @module
 */

import { OptionError, UserError } from "../errors.ts";
import {
  DataType,
  decodeModel,
  encodeModel,
  type GraphProto,
  type ModelProto,
  type NodeProto,
} from "../onnx/proto.ts";
import { node, valueInfo } from "../onnx/builder.ts";
import {
  type ExternalBytes,
  hasFloat16,
  toFloat32Model,
} from "../onnx/float32.ts";
import {
  buildGradientModel,
  type GradientLoss,
  imageInputName,
} from "../onnx/gradient/graph.ts";
import { loadOrt, type ModelInfo, ModelSession } from "../model/session.ts";
import { readExternalData } from "../model/external_data.ts";
import { watched } from "../model/watchdog.ts";
import { readInputFile } from "../io/read.ts";

/** Options of {@link fgsmStep}. */
export interface FgsmStepOptions {
  epsilon: number;
  /** Per-channel mean of the normalisation (length C, or 1 for all channels). */
  mean: ArrayLike<number>;
  /** Per-channel std of the normalisation (length C, or 1 for all channels). */
  std: ArrayLike<number>;
  /** Channels C of the NCHW layout (default: `mean.length`). */
  channels?: number;
  /** Samples N in the NCHW input (default 1); fixes the plane size H*W. */
  batch?: number;
  /** Return the perturbed image in [0,1] pixel space instead of re-normalising. */
  pixelSpace?: boolean;
}

/**
 * One FGSM step on normalised NCHW inputs `[batch, C, H, W]`. Float64
 * throughout, in the order of the module doc (bit-exact with the fixture).
 * A NaN stays NaN.
 */
export function fgsmStep(
  x: ArrayLike<number>,
  grad: ArrayLike<number>,
  opts: FgsmStepOptions,
): Float64Array {
  const C = opts.channels ?? opts.mean.length;
  if (x.length !== grad.length) {
    throw new Error(
      `Cannot run FGSM: ${x.length} inputs but ${grad.length} gradient values`,
    );
  }
  const mean = (c: number) =>
    Number(opts.mean.length === 1 ? opts.mean[0] : opts.mean[c]);
  const std = (c: number) =>
    Number(opts.std.length === 1 ? opts.std[0] : opts.std[c]);
  if (
    opts.mean.length !== 1 && opts.mean.length !== C ||
    opts.std.length !== 1 && opts.std.length !== C
  ) {
    throw new Error(`Cannot run FGSM: mean/std need 1 or ${C} values`);
  }
  const batch = opts.batch ?? 1;
  if (!Number.isInteger(batch) || batch <= 0 || x.length % (batch * C) !== 0) {
    throw new Error(
      `Cannot run FGSM: ${x.length} values are not ${batch} samples of ${C} channels`,
    );
  }
  const plane = x.length / (batch * C);
  const eps = opts.epsilon;
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = Math.floor(i / plane) % C;
    const m = mean(c);
    const s = std(c);
    const xd = x[i]! * s + m;
    const gi = grad[i]!;
    const sg = gi > 0 ? 1 : gi < 0 ? -1 : 0;
    let p = xd + eps * sg;
    if (p < 0) p = 0;
    else if (p > 1) p = 1;
    out[i] = opts.pixelSpace ? p : (p - m) / s;
  }
  return out;
}

/** Options of {@link createFgsm}. */
export interface FgsmOptions {
  /** `ce` (cross-entropy, default) or `reference` (`-z_y`). */
  loss?: GradientLoss | string;
  epsilon: number;
  mean: ArrayLike<number>;
  std: ArrayLike<number>;
  /** onnxruntime-web backend (default `wasm`). */
  backend?: "wasm" | "webgpu" | string;
  /**
   * wasm threads (`env.wasm.numThreads`), set before the gradient model is
   * built; default: leave onnxruntime-web's setting. Use 1 (see
   * {@link createFgsm}).
   */
  threads?: number;
  /**
   * The model's intake as inference sees it (`ModelSession.info` of the same
   * file): layout, side, classes. Default: read by opening the model once
   * (with `size`, `backend` and `threads`, default 1).
   */
  model?: FgsmModelView;
  /** Side S for a model with symbolic height/width when `model` is not given (default 224). */
  size?: number;
}

/** An FGSM attack bound to one model. */
export interface Fgsm {
  /**
   * Adversarial versions of normalised inputs `x` `[batch, C, S, S]` for
   * integer class `labels` in `[0, K)`; returns normalised float32 inputs.
   */
  attack(
    x: Float32Array,
    labels: Int32Array | ArrayLike<number>,
    batch: number,
  ): Promise<Float32Array>;
  /**
   * The same attack, returning the adversarial inputs both normalised (what
   * {@link Fgsm.attack} returns) and as `[0,1]` pixels before normalisation.
   */
  perturb(
    x: Float32Array,
    labels: Int32Array | ArrayLike<number>,
    batch: number,
  ): Promise<{ normalized: Float32Array; pixels: Float32Array }>;
  /** Input gradient and per-sample loss (float32, as computed by the gradient model). */
  gradient(
    x: Float32Array,
    labels: Int32Array | ArrayLike<number>,
    batch: number,
  ): Promise<{ grad: Float32Array; loss: Float32Array }>;
  /** Number of classes K. */
  readonly numClasses: number;
  release(): Promise<void>;
}

/** What FGSM needs of the model's intake (a `ModelSession`'s `info`). */
export type FgsmModelView = Pick<
  ModelInfo,
  "inputName" | "outputName" | "size" | "layout" | "channels" | "numClasses"
>;

interface ModelIo {
  inputName: string;
  numClasses: number;
  /** Fixed batch size of the model, or undefined when symbolic. */
  fixedBatch?: number;
  /** Input dims after the batch (NCHW). */
  sampleDims: number[];
}

/** Name not used by any tensor of `g`, starting from `base`. */
function freshName(g: GraphProto, base: string): string {
  const used = new Set<string>();
  for (const v of [...g.input, ...g.output, ...g.valueInfo]) {
    if (v.name) used.add(v.name);
  }
  for (const t of g.initializer) if (t.name) used.add(t.name);
  for (const n of g.node) for (const o of n.output) used.add(o);
  let name = base;
  for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
  return name;
}

/**
 * The classifier as the session sees it (`src/model/session.ts`), as one
 * graph: a float32 NCHW input `[N, C, S, S]` at the session's side S
 * (transposed in-graph for an NHWC model), float16 computed in float32
 * (`src/onnx/float32.ts`), and the logits flattened to `[N, K]` (for
 * `[N,K,1,1]` and `[N,1,K]` outputs) as the only output. The gradient
 * transform then differentiates exactly what inference runs.
 */
export function gradientView(
  m: ModelProto,
  view: FgsmModelView,
  externalData: readonly ExternalBytes[] = [],
): ModelProto {
  const f32 = hasFloat16(m) ? toFloat32Model(m, externalData) : m;
  const g = f32.graph!;
  const { channels: c, size: s } = view;
  const declared = g.input.find((v) => v.name === view.inputName);
  const batchDim = declared?.type?.tensorType?.shape?.dim[0] ??
    { dimParam: "N" };
  const batch = batchDim.dimValue && batchDim.dimValue > 0
    ? batchDim.dimValue
    : batchDim.dimParam || "N";
  const nodes: NodeProto[] = [];
  let inputName = view.inputName;
  if (view.layout === "NHWC") {
    inputName = freshName(g, `${view.inputName}_nchw`);
    nodes.push(
      node("Transpose", [inputName], [view.inputName], { perm: [0, 2, 3, 1] }, {
        name: freshName(g, "hfss_nchw_to_nhwc"),
      }),
    );
  }
  const outputName = freshName(g, `${view.outputName}_nk`);
  const tail = node("Flatten", [view.outputName], [outputName], { axis: 1 }, {
    name: freshName(g, "hfss_logits_nk"),
  });
  const out: ModelProto = {
    ...f32,
    graph: {
      ...g,
      node: [...nodes, ...g.node, tail],
      input: [
        ...g.input.filter((v) => v.name !== view.inputName),
        valueInfo(inputName, DataType.FLOAT, [batch, c, s, s]),
      ],
      output: [
        valueInfo(outputName, DataType.FLOAT, [batch, view.numClasses]),
      ],
      // The declared shapes of the original input (symbolic, NHWC) no longer hold.
      valueInfo: g.valueInfo.filter((v) => v.name !== view.inputName),
    },
  };
  return out;
}

const gradientCache = new Map<
  string,
  Promise<{ bytes: Uint8Array; info: ModelIo; externalData: ExternalBytes[] }>
>();

/**
 * Builds (once per model file, view and loss) the serialised gradient model of
 * {@link gradientView}, with the external data files it refers to.
 */
export function gradientModelBytes(
  modelPath: string,
  loss: GradientLoss,
  view: FgsmModelView,
): Promise<
  { bytes: Uint8Array; info: ModelIo; externalData: ExternalBytes[] }
> {
  const key = [loss, view.layout, view.size, view.inputName, modelPath].join(
    "\u0000",
  );
  let p = gradientCache.get(key);
  if (!p) {
    p = (async () => {
      const m = decodeModel(
        await readInputFile(modelPath, "Cannot open model"),
      );
      const externalData = await readExternalData(modelPath, m);
      const vm = gradientView(m, view, externalData);
      const g = vm.graph!;
      const inputName = imageInputName(vm);
      const dims = g.input.find((v) =>
        v.name === inputName
      )?.type?.tensorType?.shape?.dim ?? [];
      const gm = await buildGradientModel(vm, { loss, externalData });
      const fixed = dims[0]?.dimValue;
      return {
        bytes: encodeModel(gm),
        externalData,
        info: {
          inputName,
          numClasses: view.numClasses,
          fixedBatch: fixed && fixed > 0 ? fixed : undefined,
          sampleDims: dims.slice(1).map((d) => d.dimValue ?? -1),
        },
      };
    })();
    gradientCache.set(key, p);
    p.catch(() => gradientCache.delete(key));
  }
  return p;
}

/**
 * An FGSM attack for the classifier at `modelPath`. The gradient model is
 * built once per model file and loss (cached for the process) and run by
 * onnxruntime-web.
 *
 * Threads: building the gradient model runs a shape probe (the classifier
 * with every intermediate tensor as an extra graph output, see
 * `inferShapes()` in src/onnx/gradient/shapes.ts) in the plain `onnxruntime-web`
 * instance. With threaded wasm (`numThreads` > 1) that `session.run()` can
 * deadlock inside onnxruntime-web 1.30 under Deno: the main thread blocks
 * synchronously (timers stop firing) and never returns. It is
 * nondeterministic (verbose logging, fewer outputs, or a wasm heap already
 * grown by a large earlier batch make it pass), independent of session
 * options (graph optimisation all/disabled) and of which of our modules first
 * initialised onnxruntime-web, and it does not happen with `numThreads` 1.
 * Since onnxruntime-web fixes its thread count when its first session is
 * created, pass `threads: 1` here and to every `ModelSession` of the process
 * (as an evaluation under attack does); the order of creation then does not
 * matter.
 */
export async function createFgsm(
  modelPath: string,
  opts: FgsmOptions,
): Promise<Fgsm> {
  const loss = (opts.loss ?? "ce") as GradientLoss;
  if (loss !== "ce" && loss !== "reference") {
    throw new OptionError(
      "loss",
      `unknown FGSM loss "${loss}" (expected ce or reference)`,
    );
  }
  const backend = opts.backend ?? "wasm";
  if (backend !== "wasm" && backend !== "webgpu") {
    throw new OptionError(
      "backend",
      `unknown backend "${backend}" (expected wasm or webgpu)`,
    );
  }
  const ort = await loadOrt(backend, opts.threads);
  if (backend === "webgpu" && opts.threads !== undefined) {
    // the shape probe of the gradient build runs in the plain wasm instance
    await loadOrt("wasm", opts.threads);
  }
  let view = opts.model;
  if (!view) {
    const m = await ModelSession.open(modelPath, {
      backend,
      threads: opts.threads ?? 1,
      ...(opts.size !== undefined ? { size: opts.size } : {}),
    });
    view = m.info;
    await m.release();
  }
  const { bytes, info, externalData } = await gradientModelBytes(
    modelPath,
    loss,
    view,
  );
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: [backend],
    ...(externalData.length ? { externalData } : {}),
  });
  const C = info.sampleDims[0]!;
  const sampleSize = info.sampleDims.reduce((p, v) => p * v, 1);
  const K = info.numClasses;

  const gradient = async (
    x: Float32Array,
    labels: Int32Array | ArrayLike<number>,
    batch: number,
  ) => {
    if (x.length !== batch * sampleSize) {
      throw new Error(
        `Cannot run FGSM: ${x.length} input values for a batch of ${batch} × ${sampleSize}`,
      );
    }
    if (labels.length !== batch) {
      throw new Error(
        `Cannot run FGSM: ${labels.length} labels for a batch of ${batch}`,
      );
    }
    for (let i = 0; i < batch; i++) {
      const l = labels[i]!;
      if (!Number.isInteger(l) || l < 0 || (K > 0 && l >= K)) {
        throw new UserError(
          `Cannot run FGSM: label ${l} of sample ${i} is not a class index in [0, ${K})`,
        );
      }
    }
    const chunk = info.fixedBatch ?? batch;
    const grad = new Float32Array(x.length);
    const lossOut = new Float32Array(batch);
    for (let start = 0; start < batch; start += chunk) {
      const n = Math.min(chunk, batch - start);
      const xs = new Float32Array(chunk * sampleSize);
      xs.set(x.subarray(start * sampleSize, (start + n) * sampleSize));
      const ls = new BigInt64Array(chunk);
      for (let i = 0; i < n; i++) ls[i] = BigInt(labels[start + i]!);
      const out = await watched(
        `the FGSM gradient of "${modelPath}"`,
        () =>
          session.run({
            [info.inputName]: new ort.Tensor("float32", xs, [
              chunk,
              ...info.sampleDims,
            ]),
            label: new ort.Tensor("int64", ls, [chunk]),
          }),
      );
      const g = out.grad_input!.data as Float32Array;
      const l = out.loss!.data as Float32Array;
      grad.set(g.subarray(0, n * sampleSize), start * sampleSize);
      lossOut.set(l.subarray(0, n), start);
      for (const t of Object.values(out)) t.dispose?.();
    }
    return { grad, loss: lossOut };
  };

  const perturb = async (
    x: Float32Array,
    labels: Int32Array | ArrayLike<number>,
    batch: number,
  ) => {
    const { grad } = await gradient(x, labels, batch);
    const step = {
      epsilon: opts.epsilon,
      mean: opts.mean,
      std: opts.std,
      channels: C,
      batch,
    };
    return {
      normalized: Float32Array.from(fgsmStep(x, grad, step)),
      pixels: Float32Array.from(
        fgsmStep(x, grad, { ...step, pixelSpace: true }),
      ),
    };
  };

  return {
    numClasses: K,
    gradient,
    perturb,
    async attack(x, labels, batch) {
      const { grad } = await gradient(x, labels, batch);
      return Float32Array.from(
        fgsmStep(x, grad, {
          epsilon: opts.epsilon,
          mean: opts.mean,
          std: opts.std,
          channels: C,
          batch,
        }),
      );
    },
    release: () => session.release(),
  };
}
