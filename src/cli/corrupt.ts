/**
 * `hfss corrupt`: write ImageNet-C generated from a clean image folder, in the
 * released layout `<out>/<corruption>/<severity>/<wnid>/<file>` (see
 * src/corrupt/export.ts), plus `hfss_corrupt.json` recording how.
 * Resumable: existing files are kept.
 */
import { join, resolve } from "node:path";
import type { Command } from "commander";
import {
  type DatasetLayout,
  openDataset,
  parseClassList,
} from "../data/dataset.ts";
import { UserError } from "../errors.ts";
import { writeJsonAtomic } from "../io/atomic.ts";
import type { ExportSummary } from "../corrupt/export.ts";
import { exportCorruptionsParallel } from "../corrupt/export_pool.ts";
import {
  type CorruptDevice,
  kCorruptDevices,
  openBlurEngine,
} from "../corrupt/gpu_blur.ts";
import { kStoredJpegQuality } from "../corrupt/corrupt.ts";
import {
  kUnavailable,
  resolveSubsets,
  subsetName,
} from "../corrupt/registry.ts";
import { arg, option, shared } from "./args.ts";
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
  const subsets = resolveSubsets(o.subsets);
  const ds = await openDataset(o.data, {
    layout: o.layout ?? "auto",
    ...(o.classes !== undefined ? { classes: parseClassList(o.classes) } : {}),
  });
  if (ds.layout === "imagenet-c") {
    throw new UserError(
      `Cannot corrupt "${o.data}": it is already an ImageNet-C folder; give the clean images`,
    );
  }
  for (const n of ds.notes) if (!o.quiet) console.error(`note: ${n}`);
  const folderOf = new Map(
    ds.classes.map((c) => [c.index, c.wnid ?? c.folder ?? String(c.index)]),
  );
  const samples = ds.samples.map((s) => ({
    path: s.path,
    folder: folderOf.get(s.label)!,
  }));
  using engine = await openBlurEngine(o.corruptDevice);
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
    onProgress: (done) => progress.tick(done - progress.done),
    onError: (path, e) => {
      failed++;
      if (!o.quiet) console.error(`warning: skipped "${path}": ${e.message}`);
    },
  }, workers);
  progress.finish(
    `${summary.files_written} files written, ${summary.files_skipped} kept`,
  );
  const result: CorruptResult = {
    out: resolve(o.out),
    format: o.format,
    seed: o.seed,
    device: engine.description,
    not_generated: { ...kUnavailable } as Record<string, string>,
    ...summary,
  };
  await writeJsonAtomic(join(o.out, "hfss_corrupt.json"), {
    format_version: 1,
    source: {
      root: resolve(ds.root),
      layout: ds.layout,
      images: samples.length,
    },
    generator:
      "ImageNet-C corruptions (hendrycks/robustness make_imagenet_c.py) on the Resize(256)+CenterCrop(224) crop",
    subsets: subsets.map(subsetName),
    not_generated: kUnavailable,
    seed: o.seed,
    format: o.format,
    jpeg_quality: o.format === "jpeg" ? kStoredJpegQuality : null,
    device: engine.description,
    images_failed: failed,
  });
  return result;
}

/** Register the `corrupt` subcommand. */
export function register(program: Command): void {
  program
    .command("corrupt")
    .description(
      "write ImageNet-C generated from clean images (14 of the 15 corruptions x 5 severities; not frost) in the released folder layout; resumable",
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
      console.log(
        "not generated: frost (needs the original's frost photographs)",
      );
    });
}
