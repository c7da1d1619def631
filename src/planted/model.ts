/**
 * The planted model: a fixed classifier whose logits depend only on the
 * energy of the input at the planted frequency pairs, written as a real ONNX
 * file by our own protobuf code.
 *
 * Math (input x ∈ [0,1]^{N×3×S×S}, normalisation `inception`: z = 2x − 1):
 *   p_j = Σ_{c,y,x} z[c,y,x] · B[c,y,x; j]          (MatMul, B = [3S², 2P])
 *     where columns 2j, 2j+1 of B are c0·cos θ_j, c0·sin θ_j, θ_j = 2π(fy_j·y + fx_j·x)/S,
 *     c0 = 2/(3S²) (channel mean, and a grating of amplitude A in z gives p² ≈ A²)
 *   e_j = p_{2j}² + p_{2j+1}²                         (Mul, then MatMul with 0/1 pair summing)
 *   F_k = Σ_{j ∈ class k} w_j · e_j                   (folded into the second MatMul: W = [2P, K])
 *   logit_k = t · sqrt(F_k + ε) + b_k                 (Add ε, Sqrt, Mul t, Add b)
 * w_j whitens pair j (1 / mean background energy at j, measured on images of
 * the other classes of the calibration split); t is calibrated so the mean
 * clean cross-entropy on the calibration split is `targetCe` (or the CE
 * minimum when that is higher): a saturated model would make every mask that
 * keeps one planted bin look equally good.
 *
 * Because the basis functions are DFT basis functions at non-DC
 * frequencies, filtering an image with a mask M scales e_j by g_j², with
 * g_j = (M[bin_j] + M[partner_j]) / 2 the effective gain of the filter at
 * pair j (`maskPairGains`): masked logits follow exactly from clean pair
 * energies (`logitsFromEnergies` with gains).
 */
import { DataType, encodeModel } from "../onnx/proto.ts";
import {
  floatTensor,
  graph,
  int64Tensor,
  model,
  node,
  valueInfo,
} from "../onnx/builder.ts";
import type { PlantedTruth } from "./dataset.ts";
import { crossEntropyRows } from "../model/cross_entropy.ts";

/** Everything that defines the planted model. */
export interface PlantedModelSpec {
  size: number;
  classes: number;
  normalization: "inception";
  /** Global pair list in class order: pair j belongs to class `label`. */
  pairs: {
    label: number;
    fy: number;
    fx: number;
    bin: [number, number];
    partner: [number, number];
  }[];
  /** Whitening weight per pair. */
  weights: number[];
  temperature: number;
  bias: number[];
  eps: number;
}

/** The unweighted spec of a ground truth (weights 1, temperature 1, bias 0). */
export function specFromTruth(truth: PlantedTruth): PlantedModelSpec {
  const pairs = truth.classes.flatMap((c) =>
    c.pairs.map((p) => ({
      label: c.label,
      fy: p.fy,
      fx: p.fx,
      bin: p.bin,
      partner: p.partner,
    }))
  );
  return {
    size: truth.size,
    classes: truth.classes.length,
    normalization: "inception",
    pairs,
    weights: pairs.map(() => 1),
    temperature: 1,
    bias: truth.classes.map(() => 0),
    eps: 1e-3,
  };
}

/** The [3S², 2P] projection matrix B (row-major), float64. */
export function basisMatrix(spec: PlantedModelSpec): Float64Array {
  const s = spec.size, p = spec.pairs.length, n = s * s;
  const c0 = 2 / (3 * n);
  const b = new Float64Array(3 * n * 2 * p);
  spec.pairs.forEach((pair, j) => {
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        const t = 2 * Math.PI * (((pair.fy * y + pair.fx * x) % s + s) % s) / s;
        const cv = c0 * Math.cos(t), sv = c0 * Math.sin(t);
        for (let c = 0; c < 3; c++) {
          const row = c * n + y * s + x;
          b[row * 2 * p + 2 * j] = cv;
          b[row * 2 * p + 2 * j + 1] = sv;
        }
      }
    }
  });
  return b;
}

/** The [2P, K] weighted class-summing matrix W, float64. */
export function classMatrix(spec: PlantedModelSpec): Float64Array {
  const p = spec.pairs.length, k = spec.classes;
  const w = new Float64Array(2 * p * k);
  spec.pairs.forEach((pair, j) => {
    w[(2 * j) * k + pair.label] = spec.weights[j]!;
    w[(2 * j + 1) * k + pair.label] = spec.weights[j]!;
  });
  return w;
}

/**
 * Pair energies e_j of images in [0,1] (float64 arithmetic).
 *
 * @param x [N,3,S,S] pixel-space tensor in [0,1]
 * @param spec the model spec (only size and pairs are used)
 * @returns [N, P] energies, row-major
 */
export function pairEnergies(
  x: ArrayLike<number>,
  spec: PlantedModelSpec,
): Float64Array {
  const s = spec.size, n = s * s, p = spec.pairs.length;
  const count = x.length / (3 * n);
  const cosT = new Float64Array(p * n), sinT = new Float64Array(p * n);
  const c0 = 2 / (3 * n);
  spec.pairs.forEach((pair, j) => {
    for (let y = 0; y < s; y++) {
      for (let xx = 0; xx < s; xx++) {
        const t = 2 * Math.PI * (((pair.fy * y + pair.fx * xx) % s + s) % s) /
          s;
        cosT[j * n + y * s + xx] = c0 * Math.cos(t);
        sinT[j * n + y * s + xx] = c0 * Math.sin(t);
      }
    }
  });
  const out = new Float64Array(count * p);
  const zbar = new Float64Array(n);
  for (let i = 0; i < count; i++) {
    const base = i * 3 * n;
    for (let k = 0; k < n; k++) {
      // Sum of the normalised channels z = 2x − 1.
      zbar[k] = 2 * x[base + k]! - 1 + 2 * x[base + n + k]! - 1 +
        2 * x[base + 2 * n + k]! - 1;
    }
    for (let j = 0; j < p; j++) {
      let a = 0, b = 0;
      for (let k = 0; k < n; k++) {
        a += zbar[k]! * cosT[j * n + k]!;
        b += zbar[k]! * sinT[j * n + k]!;
      }
      out[i * p + j] = a * a + b * b;
    }
  }
  return out;
}

/**
 * Logits from pair energies, optionally with per-pair filter gains.
 *
 * @param energies [N, P] from {@linkcode pairEnergies}
 * @param spec the model spec
 * @param opts `gains`: optional [P] gains (same for every image) or [N, P] gains
 * @returns [N, K] logits, float64
 * @example
 * ```ts
 * const masked = logitsFromEnergies(energies, spec, { gains: maskPairGains(mask, spec) });
 * ```
 */
export function logitsFromEnergies(
  energies: Float64Array,
  spec: PlantedModelSpec,
  opts: { gains?: ArrayLike<number> } = {},
): Float64Array {
  const gains = opts.gains;
  const p = spec.pairs.length, k = spec.classes;
  const count = energies.length / p;
  const out = new Float64Array(count * k);
  const f = new Float64Array(k);
  for (let i = 0; i < count; i++) {
    f.fill(0);
    for (let j = 0; j < p; j++) {
      let e = energies[i * p + j]!;
      if (gains) {
        const g = gains.length === p ? gains[j]! : gains[i * p + j]!;
        e *= g * g;
      }
      f[spec.pairs[j]!.label]! += spec.weights[j]! * e;
    }
    for (let c = 0; c < k; c++) {
      out[i * k + c] = spec.temperature * Math.sqrt(f[c]! + spec.eps) +
        spec.bias[c]!;
    }
  }
  return out;
}

/** Float64 evaluation of the model on [N,3,S,S] pixel-space input. */
export function evaluateModel(
  x: ArrayLike<number>,
  spec: PlantedModelSpec,
): Float64Array {
  return logitsFromEnergies(pairEnergies(x, spec), spec);
}

/**
 * Effective filter gain at every planted pair for a mask in the shifted
 * layout: (M[bin] + M[partner]) / 2 (the real part of the inverse transform
 * of a non-Hermitian product filters with this gain).
 */
export function maskPairGains(
  mask: ArrayLike<number>,
  spec: PlantedModelSpec,
): Float64Array {
  const s = spec.size;
  return Float64Array.from(
    spec.pairs,
    (p) =>
      (mask[p.bin[0] * s + p.bin[1]]! +
        mask[p.partner[0] * s + p.partner[1]]!) / 2,
  );
}

/**
 * Mean cross-entropy (log-sum-exp, float64) and top-1 accuracy of logits
 * [N,K] against labels.
 *
 * @example
 * ```ts
 * crossEntropy([0, 0], { labels: [1], classes: 2 }); // { ce: Math.LN2, accuracy: 0 } (ties: the first maximum wins)
 * ```
 */
export function crossEntropy(
  logits: ArrayLike<number>,
  opts: { labels: ArrayLike<number>; classes: number },
): { ce: number; accuracy: number } {
  const n = opts.labels.length;
  const rows = crossEntropyRows(logits, {
    rows: n,
    numLogits: opts.classes,
    targets: opts.labels,
  });
  let ce = 0, correct = 0;
  for (let i = 0; i < n; i++) {
    ce += rows.ce[i]!;
    correct += rows.correct[i]!;
  }
  return { ce: ce / n, accuracy: correct / n };
}

/** Calibration result. */
export interface Calibration {
  weights: number[];
  temperature: number;
  /** Mean CE at the chosen temperature (calibration split). */
  ce: number;
  accuracy: number;
  /** Temperature of the CE minimum and its CE. */
  ceMinTemperature: number;
  ceMin: number;
  targetCe: number;
}

/**
 * Calibrate whitening weights and the temperature on a calibration split.
 *
 * Weights: w_j = 1 / mean e_j over the images of the other classes.
 * Temperature: a deterministic 1-D search (golden section on log t for the
 * CE minimum, then bisection for the target CE below it; CE is convex in t).
 *
 * @param energies [N, P] pair energies of the calibration images
 * @param opts `labels` (of the images), `spec` (its weights and temperature
 *   are replaced in the result), `targetCe` (default 0.3)
 */
export function calibrate(
  energies: Float64Array,
  opts: {
    labels: ArrayLike<number>;
    spec: PlantedModelSpec;
    targetCe?: number;
  },
): Calibration {
  const { labels, spec } = opts;
  const target = opts.targetCe ?? 0.3;
  const p = spec.pairs.length, n = labels.length;
  const weights = spec.pairs.map((pair, j) => {
    let s = 0, m = 0;
    for (let i = 0; i < n; i++) {
      if (labels[i] === pair.label) continue;
      s += energies[i * p + j]!;
      m++;
    }
    return m > 0 && s > 0 ? m / s : 1;
  });
  const ceAt = (t: number) =>
    crossEntropy(
      logitsFromEnergies(energies, { ...spec, weights, temperature: t }),
      { labels, classes: spec.classes },
    );
  // Golden section on u = ln t in [ln 1e-3, ln 1e3].
  let a = Math.log(1e-3), b = Math.log(1e3);
  const gr = (Math.sqrt(5) - 1) / 2;
  let c = b - gr * (b - a), d = a + gr * (b - a);
  let fc = ceAt(Math.exp(c)).ce, fd = ceAt(Math.exp(d)).ce;
  for (let it = 0; it < 80; it++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - gr * (b - a);
      fc = ceAt(Math.exp(c)).ce;
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + gr * (b - a);
      fd = ceAt(Math.exp(d)).ce;
    }
  }
  const tMin = Math.exp((a + b) / 2);
  const ceMin = ceAt(tMin).ce;
  let t = tMin;
  if (ceMin < target) {
    let lo = Math.log(1e-3), hi = Math.log(tMin);
    for (let it = 0; it < 80; it++) {
      const mid = (lo + hi) / 2;
      if (ceAt(Math.exp(mid)).ce > target) lo = mid;
      else hi = mid;
    }
    t = Math.exp((lo + hi) / 2);
  }
  const fin = ceAt(t);
  return {
    weights,
    temperature: t,
    ce: fin.ce,
    accuracy: fin.accuracy,
    ceMinTemperature: tMin,
    ceMin,
    targetCe: target,
  };
}

/**
 * Encode the model as ONNX (opset 13): input "x" [N,3,S,S] float32 in [0,1],
 * output "logits" [N,K]. The inception normalisation z = 2x − 1 is declared
 * in metadata_props (`hfss.normalization`) and NOT part of the graph: the
 * caller feeds the normalised tensor, as for the real models.
 */
export function encodePlantedModel(spec: PlantedModelSpec): Uint8Array {
  const s = spec.size, p = spec.pairs.length, k = spec.classes;
  const nodes = [
    node("Reshape", ["x", "flat_shape"], ["flat"]),
    node("MatMul", ["flat", "basis"], ["proj"]),
    node("Mul", ["proj", "proj"], ["proj_sq"]),
    node("MatMul", ["proj_sq", "class_sum"], ["feat"]),
    node("Add", ["feat", "eps"], ["feat_eps"]),
    node("Sqrt", ["feat_eps"], ["amp"]),
    node("Mul", ["amp", "temperature"], ["scaled"]),
    node("Add", ["scaled", "bias"], ["logits"]),
  ];
  const g = graph({
    name: "planted",
    nodes,
    inputs: [valueInfo("x", DataType.FLOAT, ["N", 3, s, s])],
    outputs: [valueInfo("logits", DataType.FLOAT, ["N", k])],
    initializers: [
      int64Tensor("flat_shape", [2], [-1, 3 * s * s]),
      floatTensor("basis", [3 * s * s, 2 * p], basisMatrix(spec)),
      floatTensor("class_sum", [2 * p, k], classMatrix(spec)),
      floatTensor("eps", [1], [spec.eps]),
      floatTensor("temperature", [1], [spec.temperature]),
      floatTensor("bias", [k], spec.bias),
    ],
  });
  const m = model({
    graph: g,
    docString:
      "hfss planted-shortcut model: logits from the energy at planted frequency pairs",
  });
  m.metadataProps = [
    { key: "hfss.kind", value: "planted" },
    { key: "hfss.normalization", value: spec.normalization },
    { key: "hfss.size", value: String(s) },
    { key: "hfss.classes", value: String(k) },
  ];
  return encodeModel(m);
}

/** Normalise a pixel-space tensor in [0,1] the way the model expects (inception: 2x − 1). */
export function normalizeInput(x: Float32Array): Float32Array {
  return x.map((v) => 2 * v - 1);
}
