/**
 * Build (or reuse) a planted benchmark in a folder: the dataset
 * (`images/`, `labels.csv`), the calibrated model (`model.onnx`) and the
 * ground truth (`planted.json`, with a `model` section describing the
 * model's weights, temperature and calibration figures).
 *
 * Reuse: when `planted.json` records exactly the requested generator
 * parameters and calibration target, and `model.onnx` and every image
 * listed in `labels.csv` exist, nothing is regenerated.
 */
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic.ts";
import { pathExists } from "../io/read.ts";
import {
  generateImages,
  imagesToTensor,
  type PlantedImage,
  type PlantedParams,
  type PlantedTruth,
  writePlantedDataset,
} from "./dataset.ts";
import {
  calibrate,
  crossEntropy,
  encodePlantedModel,
  logitsFromEnergies,
  pairEnergies,
  type PlantedModelSpec,
  specFromTruth,
} from "./model.ts";

/** The `model` section of planted.json. */
export interface PlantedModelInfo {
  file: string;
  input: string;
  output: string;
  normalization: "inception";
  targetCe: number;
  spec: PlantedModelSpec;
  calibration: {
    split: string;
    perClass: number;
    ce: number;
    accuracy: number;
    ceMin: number;
    ceMinTemperature: number;
  };
  /** Clean figures on the written (8-bit) images, float64 evaluation. */
  clean: { ce: number; accuracy: number };
}

/** A prepared benchmark. */
export interface PreparedPlanted {
  root: string;
  truth: PlantedTruth & { model: PlantedModelInfo };
  spec: PlantedModelSpec;
  modelPath: string;
  reused: boolean;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

async function tryReuse(
  root: string,
  params: PlantedParams,
  targetCe: number,
): Promise<PreparedPlanted | null> {
  let truth: PlantedTruth;
  try {
    truth = JSON.parse(await Deno.readTextFile(join(root, "planted.json")));
  } catch {
    return null;
  }
  const model = truth.model as PlantedModelInfo | undefined;
  if (
    !model || !sameJson(truth.params, params) || model.targetCe !== targetCe
  ) return null;
  const modelPath = join(root, model.file);
  if (!(await pathExists(modelPath))) return null;
  let lines: string[];
  try {
    lines = (await Deno.readTextFile(join(root, truth.files.labels))).trim()
      .split("\n").slice(1);
  } catch {
    return null;
  }
  if (lines.length !== params.perClass * params.classes) return null;
  for (const line of lines) {
    if (!(await pathExists(join(root, line.split(",")[0]!)))) return null;
  }
  return {
    root,
    truth: truth as PlantedTruth & { model: PlantedModelInfo },
    spec: model.spec,
    modelPath,
    reused: true,
  };
}

/**
 * Generate the dataset, calibrate the model on a separate calibration split,
 * and write everything under `root` (or reuse what is there).
 *
 * @param root benchmark folder
 * @param params generator parameters (seed included)
 * @param opts `targetCe` (default 0.3), `force` to regenerate
 */
export async function preparePlanted(
  root: string,
  params: PlantedParams,
  opts: { targetCe?: number; force?: boolean } = {},
): Promise<PreparedPlanted> {
  const targetCe = opts.targetCe ?? 0.3;
  if (!opts.force) {
    const reused = await tryReuse(root, params, targetCe);
    if (reused) return reused;
  }
  await Deno.remove(join(root, "images"), { recursive: true }).catch(() => {});
  const { truth, images } = await writePlantedDataset(root, params);
  const { spec, info } = calibratePlanted(images, {
    truth,
    params,
    targetCe,
  });
  const modelPath = join(root, info.file);
  await writeFileAtomic(modelPath, encodePlantedModel(spec));
  const full = { ...truth, model: info };
  await writeJsonAtomic(join(root, "planted.json"), full);
  return { root, truth: full, spec, modelPath, reused: false };
}

/**
 * Calibrate the planted model of `truth` on the calibration split and
 * measure it on `images` (the written dataset).
 */
export function calibratePlanted(
  images: PlantedImage[],
  opts: { truth: PlantedTruth; params: PlantedParams; targetCe: number },
): { spec: PlantedModelSpec; info: PlantedModelInfo } {
  const { truth, params, targetCe } = opts;
  const base = specFromTruth(truth);
  const cal = generateImages(params, {
    split: "calibration",
    perClass: params.calibPerClass,
  });
  const calE = pairEnergies(imagesToTensor(cal, params.size), base);
  const c = calibrate(calE, {
    labels: cal.map((i) => i.label),
    spec: base,
    targetCe,
  });
  const spec: PlantedModelSpec = {
    ...base,
    weights: c.weights,
    temperature: c.temperature,
  };
  const e = pairEnergies(imagesToTensor(images, params.size), spec);
  const clean = crossEntropy(
    logitsFromEnergies(e, spec),
    { labels: images.map((i) => i.label), classes: spec.classes },
  );
  return {
    spec,
    info: {
      file: "model.onnx",
      input: "x",
      output: "logits",
      normalization: "inception",
      targetCe,
      spec,
      calibration: {
        split: "calibration",
        perClass: params.calibPerClass,
        ce: c.ce,
        accuracy: c.accuracy,
        ceMin: c.ceMin,
        ceMinTemperature: c.ceMinTemperature,
      },
      clean,
    },
  };
}
