/**
 * One mask to filter with: a class's ranked DFM from a stage folder, or any
 * `.npy` mask `[S,S]` (or `[1,S,S]`) of gains, fftshifted (DC at S/2).
 */
import { basename, dirname } from "node:path";
import { UserError } from "../errors.ts";
import type { Normalization, ResizeMode } from "../data/preprocess.ts";
import { readInputFile } from "../io/read.ts";
import { decodeNpy } from "./npy.ts";
import {
  findClass,
  kStageFiles,
  readStageManifest,
  readStageMask,
} from "./store.ts";
import { stageNormalization } from "./stage_normalization.ts";

/** A loaded mask and what its stage recorded about preprocessing. */
export interface LoadedMask {
  mask: Float32Array;
  size: number;
  /** The stage folder or `.npy` file. */
  source: string;
  klass?: {
    position: number;
    index: number;
    wnid?: string;
    name?: string;
  };
  rank?: number;
  resize?: ResizeMode;
  cropPct?: number | null;
  /** The stage's resampling filter (absent: bilinear or not a stage). */
  interpolation?: "bilinear" | "bicubic";
  normalization?: Normalization;
}

/**
 * The DFM of rank `rank` (default 0) of class `klass` (index, wnid or name)
 * in the stage folder `dir` (or its manifest.json).
 */
export async function loadStageMask(
  dir: string,
  klass: string,
  rank = 0,
): Promise<LoadedMask> {
  if (basename(dir) === kStageFiles.manifest) dir = dirname(dir);
  const manifest = await readStageManifest(dir);
  const pos = findClass(manifest, klass);
  const kept = manifest.top[pos]!.candidates.length;
  if (rank >= kept) {
    throw new UserError(
      `Cannot filter with rank ${rank} of class "${klass}": stage ${manifest.stage} kept ${kept} mask${
        kept === 1 ? "" : "s"
      } for it`,
    );
  }
  const u8 = await readStageMask(dir, { classPos: pos, rank, manifest });
  const c = manifest.classes[pos]!;
  return {
    mask: Float32Array.from(u8),
    size: manifest.image_size,
    source: dir,
    klass: { position: pos, ...c },
    rank,
    resize: manifest.resize,
    cropPct: manifest.crop_pct,
    ...(manifest.interpolation
      ? { interpolation: manifest.interpolation }
      : {}),
    normalization: stageNormalization(manifest),
  };
}

/** A `.npy` mask: square, even size, values 0 and 1 (uint8/int32/float). */
export async function loadNpyMask(path: string): Promise<LoadedMask> {
  const bytes = await readInputFile(path, "Cannot read mask");
  const a = decodeNpy(bytes, path);
  const shape = a.shape.length === 3 && a.shape[0] === 1
    ? a.shape.slice(1)
    : a.shape;
  if (shape.length !== 2 || shape[0] !== shape[1]) {
    throw new UserError(
      `Cannot use mask "${path}": shape [${a.shape.join(", ")}] is not [S, S]`,
    );
  }
  if (a.dtype === "int64") {
    throw new UserError(
      `Cannot use mask "${path}": dtype int64 is not supported (use uint8, float32 or float64)`,
    );
  }
  const s = shape[0]!;
  if (s % 2 !== 0 || s < 2) {
    throw new UserError(`Cannot use mask "${path}": size ${s} is not even`);
  }
  const mask = Float32Array.from(a.data as Float64Array);
  // A DFM keeps (1) or removes (0) a frequency; another value (2, 0.5, NaN)
  // is a gain no DFM has, usually a mask saved in the wrong scale.
  const bad = mask.findIndex((v) => v !== 0 && v !== 1);
  if (bad >= 0) {
    throw new UserError(
      `Cannot use mask "${path}": value ${
        (a.data as ArrayLike<number>)[bad]
      } at [${Math.floor(bad / s)}, ${bad % s}] is not 0 or 1`,
    );
  }
  return { mask, size: s, source: path };
}
