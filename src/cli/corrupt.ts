/**
 * `hfss corrupt`: write ImageNet-C generated from a clean image folder, in the
 * released layout `<out>/<corruption>/<severity>/<wnid>/<file>` (see
 * src/corrupt/export.ts), plus `hfss_corrupt.json` recording how.
 *
 * Resumable: existing files are kept. `hfss_corrupt.json` is written before
 * the first image, and a rerun into the same folder must have the same
 * generator version, seed, format, blur device and frost textures (frost
 * textures may be added to a folder made without them); otherwise the run is
 * refused before anything is written, since the kept files would silently
 * come from another generation. Other subsets may be added.
 */
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { type DatasetLayout, parseClassList } from "../data/dataset.ts";
import { UserError } from "../errors.ts";
import { writeJsonAtomic } from "../io/atomic.ts";
import { firstDifference, showConfigValue } from "../io/resume_config.ts";
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
  type CorruptionSubset,
  kCorruptGeneratorVersion,
  kUnavailable,
  resolveSubsets,
  subsetName,
} from "../corrupt/registry.ts";
import { arg, option, shared } from "./args.ts";
import { printJson } from "./json.ts";
import { Progress } from "./progress.ts";

/** The record `hfss corrupt` keeps in its output folder. */
export const kCorruptRecordFile = "hfss_corrupt.json";

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

/** The keys a rerun must share with the folder's record, and their flags. */
const kCheckedKeys: readonly [string, string][] = [
  ["generator_version", "the generator version"],
  ["seed", "--seed"],
  ["format", "--format"],
  ["device", "--corrupt-device (blur device)"],
  ["frost_textures", "--frost-textures"],
];

/**
 * Check a rerun against the folder's `hfss_corrupt.json` and return the
 * record to write: the saved one brought up to this run (subsets joined,
 * frost textures added), or `current` for a new folder.
 *
 * @throws {UserError} (exit 2) naming the file and the first differing key,
 *   or when the folder holds files but no record.
 */
export async function checkCorruptRecord(
  out: string,
  current: Record<string, unknown>,
  subsets: readonly CorruptionSubset[],
): Promise<Record<string, unknown>> {
  const path = join(out, kCorruptRecordFile);
  let text: string | undefined;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      throw new UserError(
        `Cannot read "${path}": ${err instanceof Error ? err.message : err}`,
      );
    }
  }
  if (text === undefined) {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = await Array.fromAsync(Deno.readDir(out));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) {
        throw new UserError(
          `Cannot write generated ImageNet-C into "${out}": ${
            err instanceof Error ? err.message : err
          }`,
        );
      }
    }
    if (entries.length > 0) {
      throw new UserError(
        `Cannot write generated ImageNet-C into "${out}": the folder is not empty and has no ${kCorruptRecordFile}, so how its files were made is unknown (choose another --out)`,
        { exitCode: 2 },
      );
    }
    return current;
  }
  let saved: Record<string, unknown>;
  try {
    saved = JSON.parse(text);
    if (!saved || typeof saved !== "object" || Array.isArray(saved)) {
      throw new Error("not a JSON object");
    }
  } catch (err) {
    throw new UserError(
      `Cannot read "${path}": ${
        err instanceof Error ? err.message : err
      } (choose another --out)`,
      { exitCode: 2 },
    );
  }
  // Records written before the generator had a version hold version 1's
  // images; frost textures may be given to a folder made without them.
  const checked = (
    r: Record<string, unknown>,
    other: Record<string, unknown>,
  ) =>
    Object.fromEntries(
      kCheckedKeys.map(([key]) => [
        key,
        key === "generator_version"
          ? r[key] ?? 1
          : key === "frost_textures" && other[key] == null
          ? null
          : r[key],
      ]),
    );
  const diff = firstDifference(
    checked(saved, current),
    checked(current, saved),
  );
  if (diff) {
    const { key, saved: was, current: now } = diff;
    const flag = kCheckedKeys.find(([k]) => k === key)![1];
    const advice = key === "generator_version"
      ? "another hfss version made its files; choose another --out"
      : `its files would mix with this run's; choose another --out, or rerun with the recorded ${
        flag.split(" ")[0]
      }`;
    const [a, b] = key === "frost_textures"
      ? textureDifference(was, now)
      : [showConfigValue(was), showConfigValue(now)];
    throw new UserError(
      `Cannot resume generated ImageNet-C in "${out}": "${path}" records ${
        key.replaceAll("_", " ")
      } ${a}, this run has ${b} (${advice})`,
      { exitCode: 2 },
    );
  }
  const known = new Set(
    Array.isArray(saved.subsets) ? saved.subsets as string[] : [],
  );
  for (const s of subsets) known.add(subsetName(s));
  const frostTextures = current.frost_textures ?? saved.frost_textures ?? null;
  return {
    ...saved,
    ...current,
    frost_textures: frostTextures,
    not_generated: frostTextures ? {} : current.not_generated,
    subsets: [...known],
  };
}

/** The first texture whose hash differs, as `file sha256 <12 hex>…` twice. */
function textureDifference(was: unknown, now: unknown): [string, string] {
  type T = { file?: string; sha256?: string };
  const a = (Array.isArray(was) ? was : []) as T[];
  const b = (Array.isArray(now) ? now : []) as T[];
  const show = (t: T | undefined) =>
    t ? `${t.file} sha256 ${String(t.sha256).slice(0, 12)}…` : "none";
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) {
      return [show(a[i]), show(b[i])];
    }
  }
  return [showConfigValue(was), showConfigValue(now)];
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
  }, subsets);
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
