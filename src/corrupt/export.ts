/**
 * Write generated ImageNet-C to disk in the released layout,
 * `<out>/<corruption>/<severity>/<class folder>/<file>`, which hfss's
 * `imagenet-c` layout (and torchvision's `ImageFolder` per subset) reads.
 * As the original, files keep the clean image's name and are JPEGs at
 * quality 85 (`format: "jpeg"`; Pillow-identical pixels); `png` writes
 * lossless `.png` files instead.
 *
 * Resumable: a file that exists is not generated again (files are written
 * atomically, so an existing file is complete). Images are decoded once and
 * cropped once for all subsets, a block at a time.
 */
import { basename, extname, join } from "node:path";
import type { RgbImage } from "../data/decode.ts";
import { readImage } from "../data/decode.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { pathExists } from "../io/read.ts";
import { centreCrop, type CorruptFormat, encodeStored } from "./corrupt.ts";
import { corruptMany, type GenerateOptions, imageKey } from "./generated.ts";
import type { CorruptionSubset } from "./registry.ts";
import { subsetName } from "./registry.ts";
import type { GpuBlur } from "./gpu_blur.ts";
import type { FrostTextures } from "./frost.ts";

/** One clean image to corrupt. */
export interface ExportSample {
  path: string;
  /** Class folder to write under (the wnid for ImageNet layouts). */
  folder: string;
}

/** Options of {@link exportCorruptions}. */
export interface ExportOptions {
  /** Clean dataset root (image keys are paths relative to it). */
  root: string;
  samples: readonly ExportSample[];
  out: string;
  subsets: readonly CorruptionSubset[];
  seed: number;
  format: CorruptFormat;
  gpu?: GpuBlur | null;
  /** Frost textures (needed for frost subsets). */
  frost?: FrostTextures | null;
  /** Images decoded and cropped at a time. @default 16 */
  blockSize?: number;
  /** Called after every block with images done and total. */
  onProgress?: (done: number, total: number) => void;
  /** Called for an image that cannot be read; it is skipped. */
  onError?: (path: string, error: Error) => void;
}

/** What {@link exportCorruptions} did. */
export interface ExportSummary {
  images: number;
  subsets: number;
  files_written: number;
  files_skipped: number;
  images_failed: number;
  seconds: number;
}

/** The file a generated image goes to. */
export function exportPath(
  out: string,
  subset: CorruptionSubset,
  sample: ExportSample,
  format: CorruptFormat,
): string {
  const name = basename(sample.path);
  const file = format === "png"
    ? name.slice(0, name.length - extname(name).length) + ".png"
    : name;
  return join(
    out,
    subset.corruption,
    String(subset.severity),
    sample.folder,
    file,
  );
}

/** Generate and write every subset of every sample. */
export async function exportCorruptions(
  o: ExportOptions,
): Promise<ExportSummary> {
  const t0 = performance.now();
  const block = Math.max(1, o.blockSize ?? 16);
  const gen: GenerateOptions = {
    seed: o.seed,
    format: "png",
    gpu: o.gpu ?? null,
    frost: o.frost ?? null,
  };
  let written = 0, skipped = 0, failed = 0;
  for (let i = 0; i < o.samples.length; i += block) {
    const chunk = o.samples.slice(i, i + block);
    // Which files of this block are missing, per subset.
    const todo = new Map<string, number[]>();
    for (const subset of o.subsets) {
      const idx: number[] = [];
      for (const [j, s] of chunk.entries()) {
        if (await pathExists(exportPath(o.out, subset, s, o.format))) skipped++;
        else idx.push(j);
      }
      if (idx.length > 0) todo.set(subsetName(subset), idx);
    }
    if (todo.size > 0) {
      const crops = new Map<number, RgbImage>();
      for (const [j, s] of chunk.entries()) {
        try {
          crops.set(j, centreCrop(await readImage(s.path)));
        } catch (e) {
          failed++;
          o.onError?.(s.path, e instanceof Error ? e : new Error(String(e)));
        }
      }
      for (const subset of o.subsets) {
        const idx = (todo.get(subsetName(subset)) ?? []).filter((j) =>
          crops.has(j)
        );
        if (idx.length === 0) continue;
        // Lossless here: the storage step is the file encoding itself.
        const images = await corruptMany(
          idx.map((j) => crops.get(j)!),
          idx.map((j) => imageKey(o.root, chunk[j]!.path)),
          subset,
          gen,
        );
        for (const [m, j] of idx.entries()) {
          await writeFileAtomic(
            exportPath(o.out, subset, chunk[j]!, o.format),
            encodeStored(images[m]!, o.format),
          );
          written++;
        }
      }
    }
    o.onProgress?.(Math.min(i + block, o.samples.length), o.samples.length);
  }
  return {
    images: o.samples.length,
    subsets: o.subsets.length,
    files_written: written,
    files_skipped: skipped,
    images_failed: failed,
    seconds: (performance.now() - t0) / 1000,
  };
}
