/**
 * `hfss corrupt`: write ImageNet-C generated from a clean image folder, in the
 * released layout `<out>/<corruption>/<severity>/<wnid>/<file>` (see
 * src/corrupt/export.ts), plus `hfss_corrupt.json` recording how.
 *
 * Resumable: existing files are kept. `hfss_corrupt.json` is written before
 * the first image, and a rerun that does not match it is refused before
 * anything is written (src/corrupt/record.ts).
 */
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { type DatasetLayout, parseClassList } from "../data/dataset.ts";
import { UserError } from "../errors.ts";
import { writeJsonAtomic } from "../io/atomic.ts";
import type { ExportSummary } from "../corrupt/export.ts";
import { exportCorruptionsParallel } from "../corrupt/export_pool.ts";
import { openCorruptSource } from "../corrupt/source.ts";
import {
  type CorruptDevice,
  kCorruptDevices,
  openBlurEngine,
} from "../corrupt/gpu_blur.ts";
import { kStoredJpegQuality } from "../corrupt/corrupt.ts";
import {
  frostTexturesRecord,
  kFrostTextureFiles,
  loadFrostTextures,
} from "../corrupt/frost.ts";
import {
  kCorruptGeneratorVersion,
  kUnavailable,
  resolveSubsets,
  subsetName,
} from "../corrupt/registry.ts";
import {
  checkCorruptRecord,
  CorruptRecordError,
  kCorruptRecordFile,
} from "../corrupt/record.ts";
import { arg, flagFor, option, shared } from "./args.ts";
import { printJson } from "./json.ts";
import { Progress } from "./progress.ts";

/** The flags of `hfss corrupt`, parsed. */
export interface CorruptCliOptions {
  data: string;
  layout?: DatasetLayout;
  out: string;
  classes?: string;
  subsets?: string[];
  format: "jpeg" | "png";
  seed: number;
  corruptDevice: CorruptDevice;
  frostTextures?: string;
  workers?: number;
  json?: boolean;
  quiet?: boolean;
}

/** What `hfss corrupt` reports (also `--json`). */
export interface CorruptResult extends ExportSummary {
  out: string;
  format: "jpeg" | "png";
  seed: number;
  device: string;
  not_generated: Record<string, string>;
}

/** Run `hfss corrupt` with parsed flags. */
export async function corruptCommand(
  o: CorruptCliOptions,
): Promise<CorruptResult> {
  const withFrost = o.frostTextures !== undefined;
  const subsets = resolveSubsets(o.subsets, { frost: withFrost });
  const frost = withFrost && subsets.some((s) => s.corruption === "frost")
    ? await loadFrostTextures(o.frostTextures!)
    : null;
  const ds = await openCorruptSource(o.data, {
    ...(o.layout !== undefined ? { layout: o.layout } : {}),
    ...(o.classes !== undefined ? { classes: parseClassList(o.classes) } : {}),
  });
  if (!o.quiet) {
    console.error(`data: ${o.data} (${ds.description})`);
    for (const n of ds.notes) console.error(`note: ${n}`);
  }
  const samples = ds.samples;
  using engine = await openBlurEngine(o.corruptDevice);
  const notGenerated = frost ? {} : { ...kUnavailable };
  const recordPath = join(o.out, kCorruptRecordFile);
  // Written before the first image, so an interrupted run is checked too.
  const record = await checkCorruptRecord(o.out, {
    format_version: 1,
    generator_version: kCorruptGeneratorVersion,
    source: {
      root: resolve(ds.root),
      layout: ds.layout,
      images: samples.length,
    },
    generator:
      "ImageNet-C corruptions (hendrycks/robustness make_imagenet_c.py) on the Resize(256)+CenterCrop(224) crop",
    subsets: subsets.map(subsetName),
    not_generated: notGenerated,
    seed: o.seed,
    format: o.format,
    jpeg_quality: o.format === "jpeg" ? kStoredJpegQuality : null,
    device: engine.description,
    frost_textures: frost ? frostTexturesRecord(frost) : null,
    finished: false,
  }, subsets).catch((err) => {
    throw err instanceof CorruptRecordError
      ? new UserError(err.describe((k) => flagFor(k, "corrupt")), {
        exitCode: err.exitCode,
      })
      : err;
  });
  await writeJsonAtomic(recordPath, record);
  const progress = new Progress({
    label: "corrupt",
    total: samples.length,
    quiet: o.quiet ?? false,
  });
  let failed = 0;
  const workers = o.workers ?? navigator.hardwareConcurrency ?? 1;
  if (workers > 1 && engine.gpu && !o.quiet) {
    console.error(
      `note: the GPU blurs run on one thread; --workers ${workers} is not used`,
    );
  }
  const summary = await exportCorruptionsParallel({
    root: ds.root,
    samples,
    out: o.out,
    subsets,
    seed: o.seed,
    format: o.format,
    gpu: engine.gpu,
    frost,
    onProgress: (done) => progress.tick(done - progress.done),
    onError: (path, e) => {
      failed++;
      if (!o.quiet) console.error(`warning: skipped "${path}": ${e.message}`);
    },
  }, workers);
  progress.finish(
    `${summary.files_written} files written, ${summary.files_skipped} kept`,
  );
  await writeJsonAtomic(recordPath, {
    ...record,
    finished: true,
    images_failed: failed,
  });
  return {
    out: resolve(o.out),
    format: o.format,
    seed: o.seed,
    device: engine.description,
    not_generated: notGenerated as Record<string, string>,
    ...summary,
  };
}

/** Register the `corrupt` subcommand. */
export function register(program: Command): void {
  program
    .command("corrupt")
    .description(
      "write ImageNet-C generated from clean images (15 corruptions x 5 severities; frost with --frost-textures) in the released folder layout; resumable",
    )
    .requiredOption("--data <dir>", "clean images (e.g. ImageNet val)")
    .addOption(shared.layout())
    .requiredOption(
      "--out <dir>",
      "output root (<corruption>/<severity>/<wnid>/)",
    )
    .option(
      "--classes <list>",
      "only these classes: indices, ranges a-b, wnids or folder names",
    )
    .addOption(
      option(
        "--subsets <list>",
        "corruption, corruption/severity, severity or family (noise|blur|weather|digital), comma-separated (default: all)",
        arg.list(),
      ),
    )
    .addOption(
      option(
        "--format <fmt>",
        `jpeg (quality ${kStoredJpegQuality}, as the released files) | png (lossless)`,
        arg.choice(["jpeg", "png"] as const),
        "jpeg",
      ),
    )
    .addOption(
      shared.seed("seed of every random choice (eval's default too)", 42),
    )
    .addOption(
      option(
        "--corrupt-device <where>",
        `defocus/motion/zoom blur: ${
          kCorruptDevices.join("|")
        } (auto: a hardware GPU if there is one, else the CPU)`,
        arg.choice(kCorruptDevices),
        "auto",
      ),
    )
    .addOption(shared.frostTextures())
    .addOption(
      option(
        "--workers <n>",
        "threads generating images (default: one per CPU; 1 = this thread only); the files are the same",
        arg.int({ min: 1 }),
      ),
    )
    .option("--quiet", "no progress on stderr")
    .option("--json", "print the summary as one JSON object")
    .action(async (opts: CorruptCliOptions) => {
      const r = await corruptCommand(opts);
      if (opts.json) {
        printJson(r);
        return;
      }
      console.log(
        `corrupt: ${r.images} images x ${r.subsets} subsets -> ${r.out} (${r.format}, seed ${r.seed}, blurs on ${r.device})`,
      );
      console.log(
        `files: ${r.files_written} written, ${r.files_skipped} kept; ${r.images_failed} images failed; ${
          r.seconds.toFixed(1)
        } s`,
      );
      if (r.not_generated.frost && !opts.subsets?.length) {
        console.log(
          `not generated: frost (needs the original's frost photographs ${
            kFrostTextureFiles.join(", ")
          }: give their folder with --frost-textures)`,
        );
      }
    });
}
