/**
 * Image decoding: JPEG and PNG bytes to 8-bit RGB, upright.
 *
 * - JPEG: mozjpeg (`@jsquash/jpeg`, wasm) for baseline, progressive and
 *   grayscale files; jpeg-js (pure JS) for 4-component CMYK/YCCK files, which
 *   libjpeg cannot convert to RGB (Adobe convention: inverted CMYK). The EXIF
 *   orientation tag is read by `exif.ts` and applied here (as PIL's
 *   `exif_transpose`), so the decoders themselves never rotate.
 * - PNG: fast-png; 1-16-bit gray, gray+alpha, RGB, RGBA and palette images.
 *   16-bit samples are rounded to 8 bits; alpha is dropped (as PIL's
 *   `convert("RGB")`, no compositing).
 *
 * Every failure is a `UserError` naming the file and the problem.
 */
import { decode as decodePng, type DecodedPng } from "fast-png";
import jpegJs from "jpeg-js";
import { UserError } from "../errors.ts";
import { readInputFile } from "../io/read.ts";
import {
  applyOrientation,
  isJpeg,
  readJpegInfo,
  type RgbImage,
} from "./exif.ts";

export type { RgbImage } from "./exif.ts";

/** File extensions (lower case) that dataset scans accept as images. */
export const kImageExtensions: readonly string[] = [".jpg", ".jpeg", ".png"];

/** Which decoder handled an image (recorded for tests and diagnostics). */
export type DecoderName = "mozjpeg" | "jpeg-js" | "fast-png";

/**
 * Default limit on decoded pixels (width x height), 100 megapixels: about
 * 300 MB of RGB, 400 MB in the decoder. A header claiming more is refused
 * before anything is decoded, so a small file cannot take gigabytes.
 */
export const kDefaultMaxPixels = 100_000_000;

/** Options for `decodeImage()`. */
export interface DecodeOptions {
  /** Refuse images with more pixels than this (checked from the header). @default kDefaultMaxPixels */
  maxPixels?: number;
  /** Force a JPEG decoder (tests compare both). @default "auto" */
  jpegDecoder?: "auto" | "mozjpeg" | "jpeg-js";
  /** Apply the EXIF orientation tag. @default true */
  orientation?: boolean;
}

/** The sniffed container format of some bytes, or undefined. */
export function sniffFormat(bytes: Uint8Array): "jpeg" | "png" | undefined {
  if (isJpeg(bytes)) return "jpeg";
  if (
    bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 &&
    bytes[2] === 0x4e && bytes[3] === 0x47 && bytes[4] === 0x0d &&
    bytes[5] === 0x0a && bytes[6] === 0x1a && bytes[7] === 0x0a
  ) return "png";
  return undefined;
}

// ---------------------------------------------------------------- mozjpeg --

interface MozModule {
  decode(buffer: ArrayBuffer, preserveOrientation: boolean): ImageData | null;
}

let mozModule: Promise<MozModule> | undefined;
/** Messages libjpeg printed during the current (synchronous) decode call. */
let mozMessages: string[] = [];

async function loadMozjpeg(): Promise<MozModule> {
  // The emscripten factory finds mozjpeg_dec.wasm beside its own module
  // (node_modules, read from disk): no network is involved. Its libjpeg
  // warnings go to printErr, which we capture to name the problem.
  const factory = (await import("@jsquash/jpeg/codec/dec/mozjpeg_dec.js"))
    .default as unknown as (
      opts: Record<string, unknown>,
    ) => Promise<MozModule>;
  return await factory({
    noInitialRun: true,
    print: (m: string) => mozMessages.push(String(m)),
    printErr: (m: string) => mozMessages.push(String(m)),
  });
}

function mozjpeg(): Promise<MozModule> {
  mozModule ??= loadMozjpeg();
  return mozModule;
}

/** libjpeg warnings that mean the picture is incomplete, not merely odd. */
const kFatalJpegWarnings = /premature end|no image|not a jpeg/i;

function decodeWithMozjpeg(
  mod: MozModule,
  bytes: Uint8Array,
  path: string,
): RgbImage {
  mozMessages = [];
  let result: ImageData | null = null;
  let thrown: unknown;
  try {
    const copy = bytes.slice().buffer;
    result = mod.decode(copy, false);
  } catch (e) {
    thrown = e;
    // an emscripten abort() leaves the module unusable: load a fresh one next time
    mozModule = undefined;
  }
  const messages = mozMessages;
  mozMessages = [];
  if (!result || thrown !== undefined) {
    const why = messages.at(-1) ??
      (thrown instanceof Error ? thrown.message : "decoder error");
    throw new UserError(`Cannot decode image "${path}": ${lowerFirst(why)}`);
  }
  const fatal = messages.find((m) => kFatalJpegWarnings.test(m));
  if (fatal) {
    throw new UserError(`Cannot decode image "${path}": ${lowerFirst(fatal)}`);
  }
  return rgbaToRgb(result.width, result.height, result.data);
}

function decodeWithJpegJs(bytes: Uint8Array, path: string): RgbImage {
  try {
    const img = jpegJs.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxMemoryUsageInMB: 2048,
      maxResolutionInMP: 1e6, // the caller's limit is checked from the header
      tolerantDecoding: false,
    });
    return {
      width: img.width,
      height: img.height,
      data: new Uint8Array(img.data),
    };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new UserError(`Cannot decode image "${path}": ${lowerFirst(why)}`);
  }
}

function lowerFirst(s: string): string {
  const t = s.trim().replace(/\.$/, "");
  return t.length > 1 && /^[A-Z][a-z]/.test(t)
    ? t[0]!.toLowerCase() + t.slice(1)
    : t;
}

function rgbaToRgb(
  width: number,
  height: number,
  rgba: ArrayLike<number>,
): RgbImage {
  const n = width * height;
  const out = new Uint8Array(n * 3);
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    out[i * 3] = rgba[j]!;
    out[i * 3 + 1] = rgba[j + 1]!;
    out[i * 3 + 2] = rgba[j + 2]!;
  }
  return { width, height, data: out };
}

// -------------------------------------------------------------------- PNG --

/** Read sample `i` of a row of packed `depth`-bit samples (depth 1, 2 or 4). */
function packedSample(row: Uint8Array, i: number, depth: number): number {
  const bit = i * depth;
  const byte = row[bit >> 3]!;
  return (byte >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
}

function pngToRgb(png: DecodedPng): RgbImage {
  const { width, height, depth, channels } = png;
  const out = new Uint8Array(width * height * 3);
  const data = png.data;
  if (png.palette) {
    const pal = png.palette;
    const rowBytes = Math.ceil((width * depth) / 8);
    const bytes = data as Uint8Array;
    for (let y = 0; y < height; y++) {
      const row = bytes.subarray(y * rowBytes, (y + 1) * rowBytes);
      for (let x = 0; x < width; x++) {
        const idx = depth === 8 ? row[x]! : packedSample(row, x, depth);
        const entry = pal[idx] ?? [0, 0, 0];
        const o = (y * width + x) * 3;
        out[o] = entry[0]!;
        out[o + 1] = entry[1]!;
        out[o + 2] = entry[2]!;
      }
    }
    return { width, height, data: out };
  }
  const max = (1 << depth) - 1;
  const to8 = depth === 8
    ? (v: number) => v
    : depth === 16
    ? (v: number) => Math.round(v / 257)
    : (v: number) => Math.round((v * 255) / max);
  const sampleAt = depth < 8
    ? (() => {
      const rowBytes = Math.ceil((width * channels * depth) / 8);
      const bytes = data as Uint8Array;
      return (y: number, x: number, c: number) =>
        packedSample(
          bytes.subarray(y * rowBytes, (y + 1) * rowBytes),
          x * channels + c,
          depth,
        );
    })()
    : (y: number, x: number, c: number) =>
      data[(y * width + x) * channels + c]!;
  const gray = channels <= 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (gray) {
        const v = to8(sampleAt(y, x, 0));
        out[o] = v;
        out[o + 1] = v;
        out[o + 2] = v;
      } else {
        out[o] = to8(sampleAt(y, x, 0));
        out[o + 1] = to8(sampleAt(y, x, 1));
        out[o + 2] = to8(sampleAt(y, x, 2));
      }
    }
  }
  return { width, height, data: out };
}

function decodePngBytes(bytes: Uint8Array, path: string): RgbImage {
  let png: DecodedPng;
  try {
    png = decodePng(bytes, { checkCrc: true });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new UserError(`Cannot decode image "${path}": ${lowerFirst(why)}`);
  }
  if (png.width <= 0 || png.height <= 0) {
    throw new UserError(`Cannot decode image "${path}": PNG has no pixels`);
  }
  return pngToRgb(png);
}

// ----------------------------------------------------------------- limits --

/** Width and height a PNG's IHDR chunk declares, or undefined. */
function pngHeaderSize(
  bytes: Uint8Array,
): { width: number; height: number } | undefined {
  // signature (8), length (4), "IHDR" (4), width (4), height (4)
  if (
    bytes.length < 24 || bytes[12] !== 0x49 || bytes[13] !== 0x48 ||
    bytes[14] !== 0x44 || bytes[15] !== 0x52
  ) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: v.getUint32(16), height: v.getUint32(20) };
}

function checkPixels(
  width: number,
  height: number,
  path: string,
  maxPixels: number,
): void {
  if (width * height <= maxPixels) return;
  const mp = (n: number) => {
    const v = n / 1e6;
    return v >= 10 ? v.toFixed(0) : String(Number(v.toPrecision(3)));
  };
  throw new UserError(
    `Cannot decode image "${path}": its header says ${width}x${height} (${
      mp(width * height)
    } megapixels), above the limit of ${mp(maxPixels)} megapixels`,
  );
}

// ----------------------------------------------------------------- public --

/**
 * Decode JPEG or PNG bytes to an upright 8-bit RGB image.
 *
 * @param bytes The file contents.
 * @param path The file name, used in error messages only.
 * @returns `{ width, height, data }` with `data` RGB interleaved.
 * @throws {UserError} when the bytes are not a JPEG or PNG or are corrupt.
 *
 * @example
 * ```ts
 * const img = await decodeImage(await Deno.readFile("cat.jpg"), "cat.jpg");
 * console.log(img.width, img.height);
 * ```
 */
export async function decodeImage(
  bytes: Uint8Array,
  path: string,
  options: DecodeOptions = {},
): Promise<RgbImage> {
  return (await decodeImageWithInfo(bytes, path, options)).image;
}

/** `decodeImage()` plus which decoder ran and the EXIF orientation applied. */
export async function decodeImageWithInfo(
  bytes: Uint8Array,
  path: string,
  options: DecodeOptions = {},
): Promise<{ image: RgbImage; decoder: DecoderName; orientation: number }> {
  const format = sniffFormat(bytes);
  const maxPixels = options.maxPixels ?? kDefaultMaxPixels;
  if (format === "png") {
    const size = pngHeaderSize(bytes);
    if (size) checkPixels(size.width, size.height, path, maxPixels);
    return {
      image: decodePngBytes(bytes, path),
      decoder: "fast-png",
      orientation: 1,
    };
  }
  if (format !== "jpeg") {
    throw new UserError(
      bytes.length === 0
        ? `Cannot decode image "${path}": file is empty`
        : `Cannot decode image "${path}": not a JPEG or PNG file`,
    );
  }
  const info = readJpegInfo(bytes);
  checkPixels(info.width, info.height, path, maxPixels);
  const want = options.jpegDecoder ?? "auto";
  // libjpeg has no CMYK->RGB conversion; jpeg-js does it (Adobe inverted CMYK, YCCK).
  const useJs = want === "jpeg-js" ||
    (want === "auto" && info.components === 4);
  let image: RgbImage;
  if (useJs) {
    image = decodeWithJpegJs(bytes, path);
  } else {
    image = decodeWithMozjpeg(await mozjpeg(), bytes, path);
  }
  const orientation = options.orientation === false ? 1 : info.orientation;
  if (orientation !== 1) image = applyOrientation(image, orientation);
  return { image, decoder: useJs ? "jpeg-js" : "mozjpeg", orientation };
}

/**
 * Read and decode an image file.
 *
 * @throws {UserError} when the file cannot be read or decoded.
 */
export async function readImage(
  path: string,
  options: DecodeOptions = {},
): Promise<RgbImage> {
  const bytes = await readInputFile(path, "Cannot read image");
  return await decodeImage(bytes, path, options);
}
