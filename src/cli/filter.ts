/**
 * `hfss filter`: apply a class's DFM (or any `.npy` mask) to image files and
 * write the filtered images as PNG (see src/eval/filter_images.ts).
 */
import type { Command } from "commander";
import {
  filterImages,
  type FilterImagesOptions,
  type FilterResult,
} from "../eval/filter_images.ts";
import { arg, kResizeModes, option, shared, usage } from "./args.ts";
import { printJson } from "./json.ts";

/** The flags of `hfss filter`, parsed: the library's options, the mask source and mode as flags. */
export type FilterOptions =
  & Omit<FilterImagesOptions, "source" | "mode" | "onWarning">
  & {
    /** Stage folder (or its manifest.json) holding the DFMs. */
    mask?: string;
    /** Class index, wnid or name (with `mask`). */
    class?: string;
    /** Rank within the class's top-N (default 0). */
    rank?: number;
    /** A `.npy` mask [S,S] (or [1,S,S]). */
    npy?: string;
    keep?: boolean;
    remove?: boolean;
  };

/** Check the flag combinations and turn the flags into library options. */
export function toFilterOptions(
  images: readonly string[],
  o: FilterOptions,
): FilterImagesOptions {
  if ((o.mask === undefined) === (o.npy === undefined)) {
    usage(
      "--mask/--npy",
      "give exactly one of --mask <stage dir> and --npy <file>",
    );
  }
  if (!!o.keep === !!o.remove) {
    usage("--keep/--remove", "give exactly one of --keep and --remove");
  }
  if (images.length === 0) usage("<images...>", "no image files given");
  if (o.mask !== undefined && o.class === undefined) {
    usage("--class", "required with --mask");
  }
  const {
    mask: _m,
    class: _c,
    rank: _r,
    npy: _n,
    keep: _k,
    remove: _x,
    ...rest
  } = o;
  return {
    ...rest,
    source: o.npy !== undefined
      ? { npy: o.npy }
      : { stage: o.mask!, class: o.class!, rank: o.rank ?? 0 },
    mode: o.keep ? "keep" : "remove",
  };
}

/**
 * Filter image files as `hfss filter` does, with its flags.
 *
 * @example
 * ```ts ignore
 * await runFilter(["a.png"], { mask: "DFM/run/stage4", class: "1", keep: true, out: "f/" });
 * ```
 */
export async function runFilter(
  images: readonly string[],
  flags: FilterOptions,
): Promise<FilterResult> {
  return await filterImages(images, {
    ...toFilterOptions(images, flags),
    onWarning: (m) => console.error(`warning: ${m}`),
  });
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
    .addOption(
      option("--rank <n>", "rank in the class's top-N (0 = best)", arg.int()),
    )
    .option(
      "--npy <file>",
      "a mask [S,S] (uint8 0/1 or float gains, fftshifted, DC at S/2)",
    )
    .option("--keep", "keep the mask's frequencies (gain M)")
    .option("--remove", "remove the mask's frequencies (gain 1 - M)")
    .requiredOption("--out <dir>", "output folder for the PNGs")
    .addOption(
      option(
        "--size <S>",
        "image size (must match the mask)",
        arg.int({ min: 2 }),
      ),
    )
    .addOption(
      shared.resize(
        "--resize",
        `${kResizeModes.join("|")} (default: the stage's, else squash)`,
      ),
    )
    .addOption(shared.cropPct())
    .addOption(shared.interpolation("the stage's, else bilinear"))
    .addOption(
      option(
        "--symmetry <mode>",
        "as-is: the mask as stored; exact|reference: refill its bottom half from the top half first",
        arg.choice(["as-is", "exact", "reference"] as const),
        "as-is",
      ),
    )
    .addOption(
      shared.maskSpace(
        "pixel: filter [0,1] pixels | normalized: filter normalised inputs (then de-normalised for display)",
        "pixel",
      ),
    )
    .addOption(
      shared.normalize(
        "the stage's, else imagenet; with --mask-space normalized",
      ),
    )
    .option("--original", "also write the resized unfiltered image")
    .addOption(shared.batchSize("images per filter batch", 8))
    .addOption(shared.filter())
    .option("--json", "print one JSON object instead of text")
    .action(
      async (images: string[], flags: FilterOptions & { json?: boolean }) => {
        const { json, ...rest } = flags;
        const result = await runFilter(images, rest);
        if (json) {
          printJson(result);
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
