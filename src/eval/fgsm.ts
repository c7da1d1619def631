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
import { decodeModel, encodeModel } from "../onnx/proto.ts";
import {
  buildGradientModel,
  type GradientLoss,
  imageInputName,
} from "../onnx/gradient/graph.ts";
import { loadOrt } from "../model/session.ts";
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

const gradientCache = new Map<
  string,
  Promise<{ bytes: Uint8Array; info: ModelIo }>
>();

interface ModelIo {
  inputName: string;
  outputName: string;
  numClasses: number;
  /** Fixed batch size of the model, or undefined when symbolic. */
  fixedBatch?: number;
  /** Input dims after the batch. */
  sampleDims: number[];
}

/** Builds (once per model file and loss) the serialised gradient model. */
export function gradientModelBytes(
  modelPath: string,
  loss: GradientLoss,
): Promise<{ bytes: Uint8Array; info: ModelIo }> {
  const key = `${loss}\u0000${modelPath}`;
  let p = gradientCache.get(key);
  if (!p) {
    p = (async () => {
      const m = decodeModel(
        await readInputFile(modelPath, "Cannot open model"),
      );
      const g = m.graph!;
      const inputName = imageInputName(m);
      const outputName = g.output[0]?.name ?? "";
      const dims = g.input.find((v) =>
        v.name === inputName
      )?.type?.tensorType?.shape?.dim ?? [];
      const outDims = g.output[0]?.type?.tensorType?.shape?.dim ?? [];
      const gm = await buildGradientModel(m, { loss });
      const fixed = dims[0]?.dimValue;
      return {
        bytes: encodeModel(gm),
        info: {
          inputName,
          outputName,
          numClasses: outDims[1]?.dimValue ?? -1,
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
  const { bytes, info } = await gradientModelBytes(modelPath, loss);
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: [backend],
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
