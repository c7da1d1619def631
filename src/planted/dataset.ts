/**
 * Seeded synthetic dataset with planted frequency shortcuts.
 *
 * Every image is S×S RGB: a natural-looking background (a 1/f "pink" noise
 * luminance field plus weaker per-channel colour fields and a little white
 * noise) plus, for its class c, one grey sinusoidal grating per planted pair
 * of c (`layouts.ts`) with a random phase and an amplitude jittered per
 * image. The grating amplitude of a pair is set relative to the background
 * power at that frequency (`snr`), so every class is equally easy whatever
 * the layout. Each image is then standardised (mean 0, std 1 over all
 * channels and pixels) and mapped to a random mean and contrast drawn from the
 * same range for every class, so the pixel mean and variance do not reveal the
 * class. Images are quantised to 8 bits exactly as they are written to PNG.
 *
 * On disk (`writePlantedDataset`): `images/classKK/NNNNN.png` (8-bit RGB,
 * fast-png; one folder per class, so `images/` also reads as the `folders`
 * layout with class names `class00`, `class01`, …), `labels.csv`
 * (`file,label,label_name`, file relative to the root, label = class index)
 * and `planted.json` (ground truth, see {@linkcode PlantedTruth}).
 */
import { encode } from "fast-png";
import { dirname, join } from "node:path";
import { Rng } from "../rng.ts";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic.ts";
import {
  classBins,
  type ClassPlant,
  type LayoutName,
  plantLayout,
} from "./layouts.ts";

/** Generator parameters (everything that changes the bytes, with the seed). */
export interface PlantedParams {
  seed: number;
  size: number;
  classes: number;
  layout: LayoutName;
  /** Images per class written to disk. */
  perClass: number;
  /** Images per class of the calibration split (generated, not written). */
  calibPerClass: number;
  pairsPerClass: number;
  /** Grating energy over expected background energy at the planted bin. */
  snr: number;
  /** Per-image amplitude factor range of each grating. */
  ampJitter: [number, number];
  /** Share of background power that is white (flat spectrum). */
  whiteFraction: number;
  /** Weight of the per-channel colour fields against the luminance field. */
  colour: number;
  /** Range of the per-image pixel mean (in [0,1]). */
  meanRange: [number, number];
  /** Range of the per-image pixel standard deviation. */
  stdRange: [number, number];
}

/** Default generator parameters for a size and class count. */
export function defaultParams(
  overrides: Partial<PlantedParams> = {},
): PlantedParams {
  return {
    seed: 42,
    size: 32,
    classes: 10,
    layout: "default",
    perClass: 40,
    calibPerClass: 40,
    pairsPerClass: 2,
    snr: 10,
    ampJitter: [0.75, 1.25],
    whiteFraction: 0.1,
    colour: 0.35,
    meanRange: [0.4, 0.6],
    stdRange: [0.12, 0.17],
    ...overrides,
  };
}

/** One generated image: 8-bit RGB, interleaved (HWC), and its label. */
export interface PlantedImage {
  label: number;
  rgb: Uint8Array;
}

/** Ground truth of one class as written to planted.json. */
export interface PlantedClassTruth {
  label: number;
  name: string;
  /** Planted pairs: signed frequencies, shifted bins of both partners, base amplitude (pixel units at std 1 before contrast). */
  pairs: {
    fy: number;
    fx: number;
    bin: [number, number];
    partner: [number, number];
    amplitude: number;
  }[];
  /** All planted bins (both partners), shifted layout [h, w]. */
  bins: [number, number][];
}

/** planted.json: the ground truth beside the dataset and model. */
export interface PlantedTruth {
  format_version: 1;
  kind: "hfss-planted";
  params: PlantedParams;
  size: number;
  classes: PlantedClassTruth[];
  normalization: "inception";
  files: { labels: string; model: string; images: string };
  /** Written by the model builder (`model.ts`). */
  model?: object;
}

/** Background power shape P(k) over the unshifted S×S grid: sums to 1, DC = 0. */
export function backgroundPower(
  size: number,
  whiteFraction: number,
): Float64Array {
  const n = size * size;
  const q = new Float64Array(n);
  let sum = 0;
  for (let u = 0; u < size; u++) {
    const fy = u < size / 2 ? u : u - size;
    for (let v = 0; v < size; v++) {
      const fx = v < size / 2 ? v : v - size;
      if (u === 0 && v === 0) continue;
      const r = Math.max(Math.hypot(fy, fx), 1);
      q[u * size + v] = 1 / (r * r);
      sum += q[u * size + v]!;
    }
  }
  const p = new Float64Array(n);
  for (let i = 1; i < n; i++) {
    p[i] = (1 - whiteFraction) * q[i]! / sum + whiteFraction / (n - 1);
  }
  return p;
}

/** Precomputed tables for one image size. */
class FieldMaker {
  readonly size: number;
  readonly amp: Float64Array;
  readonly cos: Float64Array;
  readonly sin: Float64Array;
  constructor(size: number, power: Float64Array) {
    this.size = size;
    this.amp = power.map(Math.sqrt);
    this.cos = new Float64Array(size * size);
    this.sin = new Float64Array(size * size);
    for (let a = 0; a < size; a++) {
      for (let b = 0; b < size; b++) {
        const t = 2 * Math.PI * ((a * b) % size) / size;
        this.cos[a * size + b] = Math.cos(t);
        this.sin[a * size + b] = Math.sin(t);
      }
    }
  }

  /** A real Gaussian field with power shape P, unit standard deviation, zero mean. */
  field(rng: Rng): Float64Array {
    const s = this.size;
    const re = new Float64Array(s * s);
    const im = new Float64Array(s * s);
    for (let i = 0; i < s * s; i++) {
      re[i] = this.amp[i]! * rng.normal();
      im[i] = this.amp[i]! * rng.normal();
    }
    // Inverse DFT along columns (v → x) for every row u.
    const tr = new Float64Array(s * s);
    const ti = new Float64Array(s * s);
    for (let u = 0; u < s; u++) {
      for (let x = 0; x < s; x++) {
        let ar = 0, ai = 0;
        for (let v = 0; v < s; v++) {
          const c = this.cos[v * s + x]!, sn = this.sin[v * s + x]!;
          const xr = re[u * s + v]!, xi = im[u * s + v]!;
          ar += xr * c - xi * sn;
          ai += xr * sn + xi * c;
        }
        tr[u * s + x] = ar;
        ti[u * s + x] = ai;
      }
    }
    // Then along rows (u → y), keeping the real part.
    const out = new Float64Array(s * s);
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        let acc = 0;
        for (let u = 0; u < s; u++) {
          acc += tr[u * s + x]! * this.cos[u * s + y]! -
            ti[u * s + x]! * this.sin[u * s + y]!;
        }
        out[y * s + x] = acc;
      }
    }
    return standardise(out);
  }
}

function standardise(a: Float64Array): Float64Array {
  let m = 0;
  for (const v of a) m += v;
  m /= a.length;
  let v2 = 0;
  for (const v of a) v2 += (v - m) * (v - m);
  const sd = Math.sqrt(v2 / a.length) || 1;
  for (let i = 0; i < a.length; i++) a[i] = (a[i]! - m) / sd;
  return a;
}

/** Base grating amplitude of every pair (unit-variance background units). */
export function pairAmplitudes(
  params: PlantedParams,
  plants: ClassPlant[],
): number[][] {
  const s = params.size;
  const power = backgroundPower(s, params.whiteFraction);
  return plants.map((pl) =>
    pl.pairs.map((p) => {
      const u = (p.fy + s) % s, v = (p.fx + s) % s;
      // A grating A·cos has |X(k)| = A·S²/2; a unit-variance field has E|X(k)|² = S⁴·P(k).
      return 2 * Math.sqrt(params.snr * power[u * s + v]!);
    })
  );
}

/** The planted layout of a parameter set (seeded). */
export function paramsLayout(params: PlantedParams): ClassPlant[] {
  return plantLayout(new Rng(params.seed).fork("layout"), {
    size: params.size,
    classes: params.classes,
    layout: params.layout,
    pairsPerClass: params.pairsPerClass,
  });
}

/**
 * Generate images in memory: `count` images per class for every class,
 * interleaved by class (image i has label i mod K).
 *
 * @param params generator parameters
 * @param opts `split` names the random stream ("train" for the files,
 *   "calibration" for the calibration split), `perClass` the count
 */
export function generateImages(
  params: PlantedParams,
  opts: { split: string; perClass: number },
): PlantedImage[] {
  const s = params.size;
  const plants = paramsLayout(params);
  const amps = pairAmplitudes(params, plants);
  const maker = new FieldMaker(s, backgroundPower(s, params.whiteFraction));
  const root = new Rng(params.seed).fork("images", opts.split);
  const out: PlantedImage[] = [];
  const total = opts.perClass * params.classes;
  const x = new Float64Array(3 * s * s);
  for (let i = 0; i < total; i++) {
    const label = i % params.classes;
    const rng = root.fork(i);
    const lum = maker.field(rng);
    for (let c = 0; c < 3; c++) {
      const col = maker.field(rng);
      for (let k = 0; k < s * s; k++) {
        x[c * s * s + k] = lum[k]! + params.colour * col[k]!;
      }
    }
    const plant = plants[label]!;
    plant.pairs.forEach((p, j) => {
      const [a0, a1] = params.ampJitter;
      const a = amps[label]![j]! * (a0 + (a1 - a0) * rng.float());
      const phi = 2 * Math.PI * rng.float();
      for (let yy = 0; yy < s; yy++) {
        for (let xx = 0; xx < s; xx++) {
          const g = a *
            Math.cos(2 * Math.PI * (p.fy * yy + p.fx * xx) / s + phi);
          for (let c = 0; c < 3; c++) x[c * s * s + yy * s + xx]! += g;
        }
      }
    });
    standardise(x);
    const mean = params.meanRange[0] +
      (params.meanRange[1] - params.meanRange[0]) * rng.float();
    const sd = params.stdRange[0] +
      (params.stdRange[1] - params.stdRange[0]) * rng.float();
    const rgb = new Uint8Array(3 * s * s);
    for (let c = 0; c < 3; c++) {
      for (let k = 0; k < s * s; k++) {
        const v = mean + sd * x[c * s * s + k]!;
        rgb[k * 3 + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
      }
    }
    out.push({ label, rgb });
  }
  return out;
}

/**
 * Convert interleaved 8-bit RGB (HWC) to a [3,S,S] float tensor in [0,1],
 * written into `out` (default: a new array) at `offset`.
 */
export function rgbToTensor(
  rgb: Uint8Array,
  opts: { size: number; out?: Float32Array; offset?: number },
): Float32Array {
  const n = opts.size * opts.size;
  const out = opts.out ?? new Float32Array(3 * n);
  const offset = opts.offset ?? 0;
  for (let k = 0; k < n; k++) {
    for (let c = 0; c < 3; c++) out[offset + c * n + k] = rgb[k * 3 + c]! / 255;
  }
  return out;
}

/** Stack images into one [N,3,S,S] float tensor in [0,1]. */
export function imagesToTensor(
  images: PlantedImage[],
  size: number,
): Float32Array {
  const per = 3 * size * size;
  const out = new Float32Array(images.length * per);
  images.forEach((im, i) =>
    rgbToTensor(im.rgb, { size, out, offset: i * per })
  );
  return out;
}

/** Ground truth for a parameter set (without the model part). */
export function plantedTruth(params: PlantedParams): PlantedTruth {
  const plants = paramsLayout(params);
  const amps = pairAmplitudes(params, plants);
  return {
    format_version: 1,
    kind: "hfss-planted",
    params,
    size: params.size,
    normalization: "inception",
    files: { labels: "labels.csv", model: "model.onnx", images: "images" },
    classes: plants.map((pl) => ({
      label: pl.label,
      name: plantedClassName(pl.label),
      pairs: pl.pairs.map((p, j) => ({
        fy: p.fy,
        fx: p.fx,
        bin: p.bin,
        partner: p.partner,
        amplitude: amps[pl.label]![j]!,
      })),
      bins: classBins(pl),
    })),
  };
}

/** File name of image `i` (of class `label`) relative to the dataset root. */
export function imageFile(i: number, label: number): string {
  return `images/${plantedClassName(label)}/${String(i).padStart(5, "0")}.png`;
}

/** Name (and folder name) of planted class `label`: `class00`, `class01`, … */
export function plantedClassName(label: number): string {
  return `class${String(label).padStart(2, "0")}`;
}

/**
 * Generate the dataset and write it under `root`: PNG images, labels.csv and
 * planted.json (without the model section; `writePlantedModel` adds it).
 *
 * @returns the ground truth and the in-memory images (same bytes as the PNGs)
 */
export async function writePlantedDataset(
  root: string,
  params: PlantedParams,
): Promise<{ truth: PlantedTruth; images: PlantedImage[] }> {
  const images = generateImages(params, {
    split: "train",
    perClass: params.perClass,
  });
  const s = params.size;
  const lines = ["file,label,label_name"];
  for (let i = 0; i < images.length; i++) {
    const im = images[i]!;
    const png = encode({
      width: s,
      height: s,
      data: im.rgb,
      channels: 3,
      depth: 8,
    });
    const file = imageFile(i, im.label);
    await Deno.mkdir(join(root, dirname(file)), { recursive: true });
    await Deno.writeFile(join(root, file), png);
    lines.push(`${file},${im.label},${plantedClassName(im.label)}`);
  }
  await writeFileAtomic(join(root, "labels.csv"), lines.join("\n") + "\n");
  const truth = plantedTruth(params);
  await writeJsonAtomic(join(root, "planted.json"), truth);
  return { truth, images };
}
