/**
 * Generate one ImageNet-C image: the 224 x 224 centre crop of an image
 * (resize the shorter side to 256, crop the centre, as the original's
 * `Resize(256), CenterCrop(224)`), corrupted at one severity, seeded by
 * `(seed, image key, corruption, severity)` so every image and subset has
 * its own stream whatever order they are made in.
 *
 * The original stores every corrupted image as a JPEG at quality 85
 * (`Image.save(quality=85, optimize=True)`); `storedImage()` applies that
 * step (or none, for lossless output), `encodeStored()` writes the file.
 */
import { Rng } from "../rng.ts";
import type { RgbImage } from "../data/decode.ts";
import { toTensor } from "../data/preprocess.ts";
import { encodeRgbPng } from "../dfm/render.ts";
import {
  type CorruptionName,
  type CorruptionSubset,
  kCorruptSize,
  kUnavailable,
  type Severity,
} from "./registry.ts";
import { gaussianNoise, impulseNoise, shotNoise } from "./noise.ts";
import { defocusBlur, glassBlur, motionBlur, zoomBlur } from "./blur.ts";
import { brightness, fog, snow } from "./weather.ts";
import { frost, type FrostTextures } from "./frost.ts";
import { jpegRoundTrip } from "./libjpeg.ts";
import { encodeJpegFile } from "./jpeg_file.ts";
import {
  contrast,
  elasticTransform,
  jpegCompression,
  pixelate,
} from "./digital.ts";

/** Quality of the JPEG files the released ImageNet-C stores. */
export const kStoredJpegQuality = 85;

/** How generated images are stored: `jpeg` as the original (quality 85), `png` lossless. */
export type CorruptFormat = "jpeg" | "png";

/** The random stream of one image under one corruption and severity. */
export function corruptionRng(
  seed: number,
  imageKey: string,
  subset: CorruptionSubset,
): Rng {
  return new Rng(seed).fork(
    "corrupt",
    imageKey,
    subset.corruption,
    subset.severity,
  );
}

/**
 * The original's input: `Resize(256)` (shorter side, bilinear with
 * antialiasing) then `CenterCrop(224)`, rounded to 8 bits.
 */
export function centreCrop(img: RgbImage, size = kCorruptSize): RgbImage {
  const t = toTensor(img, { size, resize: "crop", cropPct: 0.875 });
  const n = size * size;
  const data = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) {
      data[p * 3 + c] = Math.round(t[c * n + p]! * 255);
    }
  }
  return { width: size, height: size, data };
}

type Apply = (
  data: Uint8Array,
  size: number,
  severity: Severity,
  rng: Rng,
) => Uint8Array;

const kApply: Readonly<Record<Exclude<CorruptionName, "frost">, Apply>> = {
  gaussian_noise: (d, _s, v, r) => gaussianNoise(d, v, r),
  shot_noise: (d, _s, v, r) => shotNoise(d, v, r),
  impulse_noise: (d, _s, v, r) => impulseNoise(d, v, r),
  defocus_blur: (d, s, v) => defocusBlur(d, s, v),
  glass_blur: glassBlur,
  motion_blur: motionBlur,
  zoom_blur: (d, s, v) => zoomBlur(d, s, v),
  snow,
  fog,
  brightness: (d, _s, v) => brightness(d, v),
  contrast: (d, _s, v) => contrast(d, v),
  elastic_transform: elasticTransform,
  pixelate: (d, s, v) => pixelate(d, s, v),
  jpeg_compression: (d, s, v) => jpegCompression(d, s, v),
};

/**
 * Corrupt a 224 x 224 crop (the output of `centreCrop`); frost needs the
 * run's textures (`loadFrostTextures`).
 *
 * @throws {Error} for frost without textures or an image of another size.
 */
export function corruptCrop(
  crop: RgbImage,
  subset: CorruptionSubset,
  rng: Rng,
  frostTextures?: FrostTextures | null,
): RgbImage {
  const { corruption, severity } = subset;
  if (corruption === "frost" && !frostTextures) {
    throw new Error(
      `Cannot generate ${corruption}: ${kUnavailable[corruption]}`,
    );
  }
  if (crop.width !== kCorruptSize || crop.height !== kCorruptSize) {
    throw new Error(
      `Cannot corrupt a ${crop.width}x${crop.height} image: the corruptions are defined on ${kCorruptSize}x${kCorruptSize}`,
    );
  }
  const data = corruption === "frost"
    ? frost(crop.data, kCorruptSize, severity, rng, frostTextures!)
    : kApply[corruption](crop.data, kCorruptSize, severity, rng);
  return { width: kCorruptSize, height: kCorruptSize, data };
}

/** The file bytes of a generated image in the storage format. */
export function encodeStored(
  img: RgbImage,
  format: CorruptFormat,
): Uint8Array {
  if (format === "jpeg") {
    return encodeJpegFile(img.data, img.width, img.height, kStoredJpegQuality);
  }
  return encodeRgbPng(img);
}

/**
 * A generated image as a reader of the stored file sees it: for `jpeg`,
 * libjpeg's quality-85 round trip (what the original's Pillow save and a
 * later load produce, bit for bit).
 */
export function storedImage(img: RgbImage, format: CorruptFormat): RgbImage {
  if (format === "png") return img;
  return {
    width: img.width,
    height: img.height,
    data: jpegRoundTrip(img.data, img.width, img.height, kStoredJpegQuality),
  };
}
