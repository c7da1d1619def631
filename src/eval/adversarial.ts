/**
 * Saves the adversarial images of an attack, so that users can look at them:
 * one pass over the attacked images (load, normalise, attack, classify the
 * clean and the attacked input) that writes into a folder
 *
 * - `adversarial.npy`: float32 `[n, 3, S, S]`, the attacked inputs as `[0,1]`
 *   pixels before normalisation, in the order of `images.csv`;
 * - `images.csv`: `file,label,clean_prediction,attacked_prediction,png`,
 *   one row per image (row i is `adversarial.npy[i]`);
 * - `png/NNNNNN.png`: each attacked image, 8 bits per channel.
 *
 * The array is streamed to `adversarial.npy.part` (its header is rewritten
 * with the final count, numpy leaves room for that) and renamed when
 * complete, so memory stays one batch whatever the number of images. Images
 * that cannot be read are skipped through `onError`, as in the evaluation.
 *
 * @module
 */

import { join } from "node:path";
import { encodeNpy } from "../dfm/npy.ts";
import { encodeRgbPng } from "../dfm/render.ts";
import { recordsToCsv } from "../io/csv.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { UserError } from "../errors.ts";
import { argmaxRows } from "./metrics.ts";
import {
  type BatchLoader,
  type Classifier,
  type EvalSample,
  type ResizeMode,
} from "./runner.ts";
import { normalizeTensor } from "../data/preprocess.ts";

/** An attack that also returns its adversarial inputs as pixels (`Fgsm`). */
export interface PixelAttack {
  perturb(
    x: Float32Array,
    labels: Int32Array,
    batch: number,
  ): Promise<{ normalized: Float32Array; pixels: Float32Array }>;
}

/** Options of {@link saveAdversarial}. */
export interface SaveAdversarialOptions {
  /** Output folder (created). */
  dir: string;
  /** The attacked images, with their labels (class indices of the model). */
  samples: EvalSample[];
  loader: BatchLoader;
  resize: ResizeMode;
  batchSize: number;
  /** Image side S of the model input. */
  size: number;
  attack: PixelAttack;
  classifier: Classifier;
  mean: readonly number[];
  std: readonly number[];
  /** Predictions restricted to these class ids (IN-R/IN-A), as in the evaluation. */
  subset?: readonly number[];
  /** Write the PNGs (default true). */
  pngs?: boolean;
  /** An image that cannot be read (default: rethrow). */
  onError?: (path: string, err: unknown) => void;
}

/** What {@link saveAdversarial} wrote. */
export interface SavedAdversarial {
  /** Images written. */
  count: number;
  npy: string;
  csv: string;
}

const kCsvColumns = [
  "file",
  "label",
  "clean_prediction",
  "attacked_prediction",
  "png",
];

/** The `.npy` header for `[n, 3, S, S]` float32 (same length for every n, as numpy pads). */
function npyHeader(n: number, size: number): Uint8Array {
  const empty = encodeNpy(new Float32Array(0), "float32", [0, 3, size, size]);
  // magic, version and length stay; the ASCII dict gets the count
  const dict = String.fromCharCode(...empty.subarray(10))
    .replace("'shape': (0,", `'shape': (${n},`)
    .replace(new RegExp(` {${String(n).length - 1}}\n$`), "\n");
  const out = new Uint8Array(empty.length);
  out.set(empty.subarray(0, 10));
  out.set(Uint8Array.from(dict, (ch) => ch.charCodeAt(0)), 10);
  if (10 + dict.length !== empty.length) {
    throw new Error(`npy header for ${n} images changed length`);
  }
  return out;
}

/** `[3, S, S]` pixels in [0,1] as an RGB PNG. */
function pngOf(pixels: Float32Array, size: number): Uint8Array {
  const plane = size * size;
  const data = new Uint8Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      const v = Math.round(pixels[c * plane + i]! * 255);
      data[i * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return encodeRgbPng({ width: size, height: size, data });
}

/** Runs the attack over `samples` and writes the folder of the module doc. */
export async function saveAdversarial(
  o: SaveAdversarialOptions,
): Promise<SavedAdversarial> {
  const pngs = o.pngs ?? true;
  try {
    await Deno.mkdir(pngs ? join(o.dir, "png") : o.dir, { recursive: true });
  } catch (err) {
    throw new UserError(
      `Cannot create folder "${o.dir}": ${
        err instanceof Error ? err.message : err
      }`,
    );
  }
  const npy = join(o.dir, "adversarial.npy");
  const part = `${npy}.part`;
  const file = await Deno.open(part, {
    write: true,
    create: true,
    truncate: true,
  });
  const rows: Record<string, string | number>[] = [];
  try {
    const writeAll = async (bytes: Uint8Array) => {
      for (let off = 0; off < bytes.length;) {
        off += await file.write(bytes.subarray(off));
      }
    };
    await writeAll(npyHeader(0, o.size));
    const opts = o.subset ? { subset: o.subset } : {};
    const sampleSize = 3 * o.size * o.size;
    for await (
      const batch of o.loader(o.samples, {
        batchSize: o.batchSize,
        resize: o.resize,
        onError: o.onError ?? ((_, err) => {
          throw err;
        }),
      })
    ) {
      const b = batch.samples.length;
      if (b === 0) continue;
      const norm = normalizeTensor(batch.tensor.slice(0, b * sampleSize), {
        name: "custom",
        mean: [o.mean[0]!, o.mean[1]!, o.mean[2]!],
        std: [o.std[0]!, o.std[1]!, o.std[2]!],
      }, o.size);
      const labels = Int32Array.from(batch.samples, (s) => s.label);
      const adv = await o.attack.perturb(norm, labels, b);
      const clean = argmaxRows(await o.classifier.run(norm, b), b, opts);
      const attacked = argmaxRows(
        await o.classifier.run(adv.normalized, b),
        b,
        opts,
      );
      const px = adv.pixels.subarray(0, b * sampleSize);
      await writeAll(new Uint8Array(px.buffer, px.byteOffset, px.byteLength));
      for (let i = 0; i < b; i++) {
        const png = pngs
          ? `png/${String(rows.length).padStart(6, "0")}.png`
          : "";
        if (pngs) {
          await Deno.writeFile(
            join(o.dir, png),
            pngOf(px.subarray(i * sampleSize, (i + 1) * sampleSize), o.size),
          );
        }
        rows.push({
          file: batch.samples[i]!.path,
          label: labels[i]!,
          clean_prediction: clean[i]!,
          attacked_prediction: attacked[i]!,
          png,
        });
      }
    }
    await file.seek(0, Deno.SeekMode.Start);
    await writeAll(npyHeader(rows.length, o.size));
  } finally {
    file.close();
  }
  await Deno.rename(part, npy);
  const csv = join(o.dir, "images.csv");
  await writeFileAtomic(csv, recordsToCsv(rows, kCsvColumns));
  return { count: rows.length, npy, csv };
}
