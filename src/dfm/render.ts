/**
 * Pictures of frequency masks. A mask is drawn as stored, in the fftshifted
 * layout: DC at the centre (S/2, S/2), vertical frequency down the rows,
 * horizontal frequency across the columns, Nyquist at row/column 0. Binary
 * masks are white where a frequency is kept and black where it is removed;
 * fractional maps (the mean of several masks) use a viridis colour map from
 * 0 (dark purple) to 1 (yellow). Small sizes are upscaled with nearest
 * neighbour so that a 32×32 mask is visible (`defaultScale`).
 */
import { encode } from "fast-png";
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import { kStageFiles, type StageData } from "./store.ts";
import type { RgbImage } from "../data/exif.ts";

export type { RgbImage };

/** Colour maps for mask pictures. */
export type Colormap = "gray" | "viridis";

/** Options of `maskImage`. */
export interface MaskImageOptions {
  /** Nearest-neighbour upscale factor (default `defaultScale(size)`). */
  scale?: number;
  /** Default "gray" (black 0 → white 1). */
  colormap?: Colormap;
  /** Value drawn as the low end of the map (default 0). */
  min?: number;
  /** Value drawn as the high end of the map (default 1). */
  max?: number;
}

// matplotlib viridis sampled at 0, 1/8, …, 1
const kViridis: readonly (readonly [number, number, number])[] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

/** Upscale factor making an S×S mask about 256 px wide: max(1, floor(256/S)). */
export function defaultScale(size: number): number {
  return Math.max(1, Math.floor(256 / size));
}

function colour(t: number, map: Colormap): [number, number, number] {
  if (!Number.isFinite(t)) return [0, 0, 0];
  const u = Math.min(1, Math.max(0, t));
  if (map === "gray") {
    const g = Math.round(u * 255);
    return [g, g, g];
  }
  const x = u * (kViridis.length - 1);
  const i = Math.min(kViridis.length - 2, Math.floor(x));
  const f = x - i;
  const a = kViridis[i]!, b = kViridis[i + 1]!;
  return [
    Math.round(a[0] + (b[0] - a[0]) * f),
    Math.round(a[1] + (b[1] - a[1]) * f),
    Math.round(a[2] + (b[2] - a[2]) * f),
  ];
}

/**
 * Draw an S×S mask or map (fftshifted, DC centred) as an RGB image.
 *
 * @example
 * ```ts
 * const png = encodeRgbPng(maskImage(mask, 32)); // 256×256, white = kept
 * ```
 */
export function maskImage(
  values: ArrayLike<number>,
  size: number,
  opts: MaskImageOptions = {},
): RgbImage {
  if (values.length !== size * size) {
    throw new RangeError(
      `Cannot draw mask: ${values.length} values are not ${size}×${size}`,
    );
  }
  const scale = opts.scale ?? defaultScale(size);
  if (!Number.isInteger(scale) || scale < 1) {
    throw new RangeError(
      `Cannot draw mask: scale ${scale} is not a positive integer`,
    );
  }
  const lo = opts.min ?? 0, hi = opts.max ?? 1;
  const span = hi - lo || 1;
  const map = opts.colormap ?? "gray";
  const w = size * scale;
  const data = new Uint8Array(w * w * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const [r, g, b] = colour((values[y * size + x]! - lo) / span, map);
      for (let dy = 0; dy < scale; dy++) {
        let p = ((y * scale + dy) * w + x * scale) * 3;
        for (let dx = 0; dx < scale; dx++, p += 3) {
          data[p] = r;
          data[p + 1] = g;
          data[p + 2] = b;
        }
      }
    }
  }
  return { width: w, height: w, data };
}

/**
 * The mean of `count` consecutive S×S masks in `masks` (e.g. a class's
 * top-N): per bin, the fraction of masks that keep it.
 */
export function meanMask(
  masks: ArrayLike<number>,
  count: number,
  size: number,
): Float32Array {
  const n = size * size;
  if (count < 1 || masks.length < count * n) {
    throw new RangeError(
      `Cannot average masks: ${masks.length} values hold fewer than ${count} masks of ${size}×${size}`,
    );
  }
  const sum = new Float64Array(n);
  for (let m = 0; m < count; m++) {
    for (let i = 0; i < n; i++) sum[i]! += masks[m * n + i]!;
  }
  return Float32Array.from(sum, (v) => v / count);
}

/** Options of `contactSheet`. */
export interface ContactSheetOptions {
  /** Tiles per row (default ceil(sqrt(count))). */
  columns?: number;
  /** Separator width in pixels (default 2). */
  gap?: number;
  /** Separator colour (default mid grey). */
  gapColor?: readonly [number, number, number];
  /**
   * One label per tile, drawn in a band above it (digits, `-`, `.` and
   * spaces; other characters are left blank). No band without labels.
   */
  labels?: readonly string[];
}

// 3×5 pixel glyphs, rows top to bottom, 3 bits each (MSB = left column)
const kGlyphs: Readonly<Record<string, readonly number[]>> = {
  "0": [7, 5, 5, 5, 7],
  "1": [2, 6, 2, 2, 7],
  "2": [7, 1, 7, 4, 7],
  "3": [7, 1, 7, 1, 7],
  "4": [5, 5, 7, 1, 1],
  "5": [7, 4, 7, 1, 7],
  "6": [7, 4, 7, 5, 7],
  "7": [7, 1, 1, 1, 1],
  "8": [7, 5, 7, 5, 7],
  "9": [7, 5, 7, 1, 7],
  "-": [0, 0, 7, 0, 0],
  ".": [0, 0, 0, 0, 2],
};
const kGlyphScale = 2;
const kLabelPad = 2;
/** Height of the label band above each tile. */
const kLabelBand = 5 * kGlyphScale + 2 * kLabelPad;

function drawLabel(
  img: RgbImage,
  text: string,
  x0: number,
  y0: number,
  maxWidth: number,
): void {
  const step = 4 * kGlyphScale;
  for (
    let k = 0;
    k < text.length && (k + 1) * step <= maxWidth + kGlyphScale;
    k++
  ) {
    const glyph = kGlyphs[text[k]!];
    if (!glyph) continue;
    for (let row = 0; row < 5; row++) {
      for (let col = 0; col < 3; col++) {
        if (!((glyph[row]! >> (2 - col)) & 1)) continue;
        for (let dy = 0; dy < kGlyphScale; dy++) {
          for (let dx = 0; dx < kGlyphScale; dx++) {
            const x = x0 + k * step + col * kGlyphScale + dx;
            const y = y0 + row * kGlyphScale + dy;
            const p = (y * img.width + x) * 3;
            img.data[p] = img.data[p + 1] = img.data[p + 2] = 0;
          }
        }
      }
    }
  }
}

/**
 * Lay equally sized tiles out on a grid, row by row, with thin separators
 * (also around the border); empty cells stay separator-coloured.
 */
export function contactSheet(
  tiles: readonly RgbImage[],
  opts: ContactSheetOptions = {},
): RgbImage {
  if (tiles.length === 0) {
    throw new RangeError("Cannot make a contact sheet: no tiles");
  }
  const tw = tiles[0]!.width, th = tiles[0]!.height;
  if (tiles.some((t) => t.width !== tw || t.height !== th)) {
    throw new RangeError("Cannot make a contact sheet: tiles differ in size");
  }
  const cols = opts.columns ?? Math.ceil(Math.sqrt(tiles.length));
  const rows = Math.ceil(tiles.length / cols);
  const gap = opts.gap ?? 2;
  const [gr, gg, gb] = opts.gapColor ?? [128, 128, 128];
  const band = opts.labels ? kLabelBand : 0;
  const width = cols * tw + (cols + 1) * gap;
  const height = rows * (th + band) + (rows + 1) * gap;
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < data.length; p += 3) {
    data[p] = gr;
    data[p + 1] = gg;
    data[p + 2] = gb;
  }
  const sheet = { width, height, data };
  tiles.forEach((t, i) => {
    const x0 = gap + (i % cols) * (tw + gap);
    const y0 = gap + Math.floor(i / cols) * (th + band + gap);
    for (let y = 0; y < th; y++) {
      data.set(
        t.data.subarray(y * tw * 3, (y + 1) * tw * 3),
        ((y0 + band + y) * width + x0) * 3,
      );
    }
    const label = opts.labels?.[i];
    if (label) drawLabel(sheet, label, x0 + kLabelPad, y0 + kLabelPad, tw);
  });
  return sheet;
}

/** Encode an RGB image as PNG (8 bits per channel). */
export function encodeRgbPng(img: RgbImage): Uint8Array {
  return encode({
    width: img.width,
    height: img.height,
    data: img.data,
    channels: 3,
    depth: 8,
  });
}

/**
 * Encode an S×S binary mask as a grey PNG at its own size: 255 where a
 * frequency is kept, 0 where it is removed (the report's gallery).
 *
 * @example
 * ```ts
 * const png = encodeMaskPng(new Uint8Array(64).fill(1), 8); // 8×8, all white
 * ```
 */
export function encodeMaskPng(
  mask: ArrayLike<number>,
  size: number,
): Uint8Array {
  const data = new Uint8Array(size * size);
  for (let i = 0; i < data.length; i++) data[i] = mask[i] ? 255 : 0;
  return encode({ width: size, height: size, data, channels: 1, depth: 8 });
}

/** Options of `writeStagePictures`. */
export interface StagePicturesOptions {
  /** Upscale of the per-class pictures (default `defaultScale(S)`). */
  scale?: number;
  /** Classes per contact sheet page (default 100). */
  sheetClasses?: number;
}

function classLabel(stage: StageData, pos: number): string {
  const c = stage.manifest.classes[pos]!;
  const tag = (c.wnid ?? String(c.index)).replace(/[^A-Za-z0-9_.-]/g, "_");
  return `${String(pos).padStart(4, "0")}_${tag}`;
}

/**
 * Write a stage's pictures under `<dir>/png/`:
 * - `class_<pos>_<wnid|index>.png`: each class's rank-0 DFM (classes that
 *   kept no mask are skipped);
 * - `mean_<pos>_<wnid|index>.png`: the mean of the class's kept top-N
 *   masks (viridis), when it kept more than one;
 * - `sheet_<page>.png`: contact sheets of the rank-0 DFMs, `sheetClasses`
 *   classes per page in class-list order (row-major), each labelled with
 *   the class's model index;
 * - `mean_rank0.png`: over all classes, the fraction whose rank-0 DFM keeps
 *   each frequency (viridis).
 * Returns the written paths.
 */
export async function writeStagePictures(
  dir: string,
  stage: StageData,
  opts: StagePicturesOptions = {},
): Promise<string[]> {
  const m = stage.manifest;
  const s = m.image_size, n = m.top_n, k = m.classes.length;
  const scale = opts.scale ?? defaultScale(s);
  const per = opts.sheetClasses ?? 100;
  const out = join(dir, kStageFiles.png);
  const written: string[] = [];
  const put = async (name: string, img: RgbImage) => {
    const path = join(out, name);
    await writeFileAtomic(path, encodeRgbPng(img));
    written.push(path);
  };
  const rank0: RgbImage[] = [];
  const sum = new Float64Array(s * s);
  let kept = 0;
  for (let c = 0; c < k; c++) {
    const count = m.top[c]!.candidates.length;
    const off = c * n * s * s;
    const mask = stage.masks.subarray(off, off + s * s);
    const img = maskImage(mask, s, { scale });
    rank0.push(img);
    if (count === 0) continue;
    kept++;
    for (let i = 0; i < s * s; i++) sum[i]! += mask[i]!;
    await put(`class_${classLabel(stage, c)}.png`, img);
    if (count > 1) {
      const mean = meanMask(
        stage.masks.subarray(off, off + count * s * s),
        count,
        s,
      );
      await put(
        `mean_${classLabel(stage, c)}.png`,
        maskImage(mean, s, { scale, colormap: "viridis" }),
      );
    }
  }
  for (let p = 0; p * per < k; p++) {
    const page = rank0.slice(p * per, (p + 1) * per);
    const labels = m.classes.slice(p * per, (p + 1) * per).map((c) =>
      String(c.index)
    );
    await put(
      `sheet_${String(p).padStart(3, "0")}.png`,
      contactSheet(page, { labels }),
    );
  }
  if (kept > 0) {
    await put(
      "mean_rank0.png",
      maskImage(Float32Array.from(sum, (v) => v / kept), s, {
        scale,
        colormap: "viridis",
      }),
    );
  }
  return written;
}
