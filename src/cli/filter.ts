/**
 * `hfss filter`: apply a class's DFM (or any `.npy` mask) to image files and
 * write the filtered images as PNG.
 *
 * Each image is decoded, resized to S×S (`--resize`, default: the stage's
 * resize mode, else squash) and scaled to [0, 1] pixels. The mask M (fftshifted
 * layout, DC at (S/2, S/2)) is applied per channel with the spectral engine:
 * `Re(ifft2(ifftshift(fftshift(fft2(x)) · G)))` with G = M (`--keep`) or
 * G = 1 − M (`--remove`). By default this happens in pixel space
 * (`--mask-space pixel`); with `--mask-space normalized` the image is normalised
 * first, filtered, then de-normalised for display (what the model sees in
 * the reference's search, which masks after `Normalize`). Filtered values
 * outside [0, 1] (a mask without DC gives a zero-mean image) are clipped to
 * [0, 1] for the 8-bit PNG; the fractions clipped are reported.
 */
import { type Command, Option } from "commander";
import { basename, dirname, extname, join } from "node:path";
import { UserError } from "../errors.ts";
import { GpuContext } from "../gpu/context.ts";
import { SpectralFilter } from "../gpu/spectral_filter.ts";
import { readImage } from "../data/decode.ts";
import {
  kDefaultCropPct,
  kDefaultNormalization,
  kNormalizations,
  type Normalization,
  normalization,
  type NormalizationSource,
  type NormalizeName,
  normalizeTensor,
  type ResizeMode,
  toTensor,
} from "../data/preprocess.ts";
import { decodeNpy } from "../dfm/npy.ts";
import { encodeRgbPng } from "../dfm/render.ts";
import {
  findClass,
  kStageFiles,
  readStageManifest,
  readStageMask,
} from "../dfm/store.ts";
import { applySymmetry, type SymmetryMode } from "../dfm/symmetry.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { readInputFile } from "../io/read.ts";

/** How `--symmetry` treats the mask before filtering. */
export type FilterSymmetry = "as-is" | SymmetryMode;

/** Options of `runFilter` (the CLI flags). */
export interface FilterOptions {
  /** Stage folder (or its manifest.json) holding the DFMs. */
  mask?: string;
  /** Class index, wnid or name (with `mask`). */
  class?: string;
  /** Rank within the class's top-N (default 0). */
  rank?: number;
  /** A `.npy` mask [S,S] (or [1,S,S]) of uint8/float32/float64/int32. */
  npy?: string;
  keep?: boolean;
  remove?: boolean;
  /** Output folder. */
  out: string;
  /** Image size S; must match the mask when given. */
  size?: number;
  resize?: ResizeMode;
  cropPct?: number;
  /** Default "as-is". */
  symmetry?: FilterSymmetry;
  /** Default "pixel". */
  maskSpace?: "pixel" | "normalized";
  /** Normalisation preset for `maskSpace: "normalized"` (default: the stage's, else imagenet). */
  normalize?: string;
  /** Also write the resized, unfiltered image. */
  original?: boolean;
  /** Images per GPU batch (default 8). */
  batchSize?: number;
}

/** One written image. */
export interface FilterOutput {
  input: string;
  output: string;
  original?: string;
  /** Fraction of values below 0 / above 1 before clipping. */
  clippedLow: number;
  clippedHigh: number;
}

/** What `runFilter` did. */
export interface FilterResult {
  mask: {
    source: string;
    class?: { position: number; index: number; wnid?: string; name?: string };
    rank?: number;
    size: number;
    mode: "keep" | "remove";
    symmetry: FilterSymmetry;
    keptFraction: number;
  };
  masking: "pixel" | "normalized";
  /**
   * With `masking: "normalized"`: the normalisation and where it came from
   * (`--normalize`, the stage's manifest, which recorded the search's, or
   * the default imagenet).
   */
  normalization?: Normalization & {
    source: NormalizationSource | "stage";
  };
  resize: ResizeMode;
  cropPct: number | null;
  outputs: FilterOutput[];
}

function misuse(message: string): never {
  throw new UserError(message, { exitCode: 2 });
}

interface LoadedMask {
  mask: Float32Array;
  size: number;
  source: string;
  klass?: FilterResult["mask"]["class"];
  rank?: number;
  resize?: ResizeMode;
  cropPct?: number | null;
  normalization?: Normalization;
}

async function loadMask(opts: FilterOptions): Promise<LoadedMask> {
  if (opts.mask !== undefined) {
    const dir = basename(opts.mask) === kStageFiles.manifest
      ? dirname(opts.mask)
      : opts.mask;
    if (opts.class === undefined) {
      misuse("Cannot filter with a stage's DFM: --class is missing");
    }
    const manifest = await readStageManifest(dir);
    const pos = findClass(manifest, opts.class);
    const rank = opts.rank ?? 0;
    const kept = manifest.top[pos]!.candidates.length;
    if (rank >= kept) {
      throw new UserError(
        `Cannot filter with rank ${rank} of class "${opts.class}": stage ${manifest.stage} kept ${kept} mask${
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
      normalization: {
        ...normalization({
          mean: manifest.normalization.mean,
          std: manifest.normalization.std,
        }),
        // Keep the preset's name (the values are the manifest's either way).
        ...(manifest.normalization.name in kNormalizations
          ? { name: manifest.normalization.name as NormalizeName }
          : {}),
      },
    };
  }
  const path = opts.npy!;
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
  if (mask.some((v) => !Number.isFinite(v))) {
    throw new UserError(
      `Cannot use mask "${path}": it holds non-finite values`,
    );
  }
  return { mask, size: s, source: path };
}

function uniqueStems(paths: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return paths.map((p) => {
    const stem = basename(p, extname(p)).replace(/[^A-Za-z0-9_.-]/g, "_") ||
      "image";
    const n = seen.get(stem) ?? 0;
    seen.set(stem, n + 1);
    return n === 0 ? stem : `${stem}_${n + 1}`;
  });
}

/** [3,S,S] float (any range) → clipped RGB8 PNG bytes, with clip counts. */
function toPng(
  x: Float32Array,
  offset: number,
  size: number,
): { png: Uint8Array; low: number; high: number } {
  const plane = size * size;
  const rgb = new Uint8Array(plane * 3);
  let low = 0, high = 0;
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      let v = x[offset + c * plane + i]!;
      if (v < 0) {
        low++;
        v = 0;
      } else if (v > 1) {
        high++;
        v = 1;
      }
      rgb[i * 3 + c] = Math.round(v * 255);
    }
  }
  const png = encodeRgbPng({ width: size, height: size, data: rgb });
  return { png, low: low / (3 * plane), high: high / (3 * plane) };
}

/**
 * Filter image files with a DFM or `.npy` mask and write PNGs to `opts.out`
 * (`<stem>_keep.png` / `<stem>_remove.png`, and `<stem>_original.png` with
 * `original`).
 */
export async function runFilter(
  images: readonly string[],
  opts: FilterOptions,
): Promise<FilterResult> {
  if ((opts.mask === undefined) === (opts.npy === undefined)) {
    misuse(
      "Cannot filter: give exactly one of --mask <stage dir> and --npy <file>",
    );
  }
  if (!!opts.keep === !!opts.remove) {
    misuse("Cannot filter: give exactly one of --keep and --remove");
  }
  if (images.length === 0) misuse("Cannot filter: no image files given");
  if (
    opts.rank !== undefined && !(Number.isInteger(opts.rank) && opts.rank >= 0)
  ) {
    misuse(`Cannot filter: --rank ${opts.rank} is not a non-negative integer`);
  }
  const loaded = await loadMask(opts);
  const s = loaded.size;
  if (opts.size !== undefined && opts.size !== s) {
    misuse(
      `Cannot filter at size ${opts.size}: the mask "${loaded.source}" is ${s}×${s}`,
    );
  }
  const symmetry = opts.symmetry ?? "as-is";
  let mask = loaded.mask;
  if (symmetry !== "as-is") mask = applySymmetry(mask, s, symmetry);
  const mode = opts.keep ? "keep" : "remove";
  if (mode === "remove") mask = mask.map((v) => 1 - v);
  const keptFraction = mask.reduce((a, v) => a + v, 0) / mask.length;
  const resize = opts.resize ?? loaded.resize ?? "squash";
  const cropPct = resize === "crop"
    ? opts.cropPct ?? loaded.cropPct ?? kDefaultCropPct
    : null;
  const masking = opts.maskSpace ?? "pixel";
  const norm: FilterResult["normalization"] = masking === "normalized"
    ? (opts.normalize !== undefined
      ? { ...normalization(opts.normalize), source: "flag" }
      : loaded.normalization
      ? { ...loaded.normalization, source: "stage" }
      : { ...normalization(kDefaultNormalization), source: "default" })
    : undefined;
  const batch = Math.max(1, Math.min(opts.batchSize ?? 8, images.length));
  const stems = uniqueStems(images);
  const outputs: FilterOutput[] = [];
  await Deno.mkdir(opts.out, { recursive: true });

  using gpu = await GpuContext.create();
  using filter = await SpectralFilter.create(gpu, {
    size: s,
    channels: 3,
    maxImages: batch,
  });
  using masks = filter.uploadMasks(mask, 1);
  const plane = 3 * s * s;
  for (let first = 0; first < images.length; first += batch) {
    const chunk = images.slice(first, first + batch);
    const x = new Float32Array(chunk.length * plane);
    const originals: Uint8Array[] = [];
    for (let b = 0; b < chunk.length; b++) {
      const img = await readImage(chunk[b]!);
      toTensor(img, {
        size: s,
        resize,
        cropPct: cropPct ?? kDefaultCropPct,
        out: x,
        offset: b * plane,
      });
      if (opts.original) originals.push(toPng(x, b * plane, s).png);
    }
    if (norm) normalizeTensor(x, norm, s);
    filter.load(x, chunk.length);
    const y = await filter.apply(
      masks,
      norm ? { scale: norm.std, offset: norm.mean } : {},
    );
    for (let b = 0; b < chunk.length; b++) {
      const stem = stems[first + b]!;
      const { png, low, high } = toPng(y, b * plane, s);
      const output = join(opts.out, `${stem}_${mode}.png`);
      await writeFileAtomic(output, png);
      const rec: FilterOutput = {
        input: chunk[b]!,
        output,
        clippedLow: low,
        clippedHigh: high,
      };
      if (opts.original) {
        rec.original = join(opts.out, `${stem}_original.png`);
        await writeFileAtomic(rec.original, originals[b]!);
      }
      outputs.push(rec);
    }
  }
  const result: FilterResult = {
    mask: {
      source: loaded.source,
      size: s,
      mode,
      symmetry,
      keptFraction,
    },
    masking,
    resize,
    cropPct,
    outputs,
  };
  if (loaded.klass) result.mask.class = loaded.klass;
  if (loaded.rank !== undefined) result.mask.rank = loaded.rank;
  if (norm) result.normalization = norm;
  return result;
}

function parseIntFlag(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) {
      misuse(`Cannot use ${name} ${v}: not a non-negative integer`);
    }
    return n;
  };
}

/** Register the `filter` subcommand. */
export function register(program: Command): void {
  program
    .command("filter")
    .description(
      "apply a class's DFM (or any .npy mask) to images and write the filtered images as PNG",
    )
    .argument("<images...>", "JPEG or PNG files")
    .option(
      "--mask <stage-dir>",
      "stage folder with manifest.json and masks.npy",
    )
    .option("--class <id>", "class index, wnid or name (with --mask)")
    .option(
      "--rank <n>",
      "rank in the class's top-N (0 = best)",
      parseIntFlag("--rank"),
    )
    .option(
      "--npy <file>",
      "a mask [S,S] (uint8 0/1 or float gains, fftshifted, DC at S/2)",
    )
    .option("--keep", "keep the mask's frequencies (gain M)")
    .option("--remove", "remove the mask's frequencies (gain 1 - M)")
    .requiredOption("--out <dir>", "output folder for the PNGs")
    .option(
      "--size <S>",
      "image size (must match the mask)",
      parseIntFlag("--size"),
    )
    .addOption(
      new Option(
        "--resize <mode>",
        "resize mode (default: the stage's, else squash)",
      )
        .choices(["squash", "crop"]),
    )
    .option("--crop-pct <f>", "centre-crop fraction for --resize crop", (v) => {
      const f = Number(v);
      if (!(f > 0 && f <= 1)) {
        misuse(`Cannot use --crop-pct ${v}: not in (0, 1]`);
      }
      return f;
    })
    .addOption(
      new Option(
        "--symmetry <mode>",
        "as-is: the mask as stored; exact/reference: refill its bottom half from the top half first",
      ).choices(["as-is", "exact", "reference"]).default("as-is"),
    )
    .addOption(
      new Option(
        "--mask-space <space>",
        "filter [0,1] pixels, or normalised inputs (then de-normalised for display)",
      ).choices(["pixel", "normalized"]).default("pixel"),
    )
    .option(
      "--normalize <preset>",
      "normalisation for --mask-space normalized: imagenet, inception, none (default: the stage's)",
    )
    .option("--original", "also write the resized unfiltered image")
    .option(
      "--batch-size <n>",
      "images per GPU batch",
      parseIntFlag("--batch-size"),
      8,
    )
    .option("--json", "print one JSON object instead of text")
    .action(
      async (images: string[], flags: FilterOptions & { json?: boolean }) => {
        const result = await runFilter(images, flags);
        if (flags.json) {
          console.log(JSON.stringify(result, null, 2));
          return;
        }
        const m = result.mask;
        const what = m.class
          ? `class ${m.class.index}${
            m.class.wnid ? ` (${m.class.wnid})` : ""
          } rank ${m.rank}`
          : m.source;
        console.error(
          `filter: ${m.mode} ${what}, ${m.size}×${m.size}, ${
            (m.keptFraction * 100).toFixed(1)
          }% gain, ${result.masking} masking${
            result.normalization
              ? ` (${result.normalization.name}, source: ${result.normalization.source})`
              : ""
          }, ${result.resize} resize`,
        );
        for (const o of result.outputs) {
          const clip = o.clippedLow + o.clippedHigh;
          console.log(
            `${o.output}${
              clip > 0
                ? `  (clipped ${(clip * 100).toFixed(1)}% of values to [0,1])`
                : ""
            }`,
          );
        }
      },
    );
}
