/**
 * `hfss search`: the staged HFSS search (see src/search/search.ts).
 *
 * Prints the resolved settings at start (stderr), a progress bar on a
 * terminal or plain periodic lines otherwise (stderr), and a final summary
 * (stdout; one JSON object with `--json`).
 */
import { type Command, Option } from "commander";
import { UserError } from "../errors.ts";
import { ConfigMismatchError } from "../io/resume_config.ts";
import { Progress } from "./progress.ts";
import {
  kSearchDefaults,
  parseStages,
  runSearch,
  type SearchOptions,
  type SearchProgress,
  type StageSummary,
} from "../search/search.ts";
import { kLossKinds, type LossKind } from "../search/loss.ts";
import { kLineages, type Lineage } from "../search/lineage.ts";
import { kSymmetryModes, type SymmetryMode } from "../dfm/symmetry.ts";
import { kDatasetLayouts, parseClassList } from "../data/dataset.ts";
import type { DatasetLayout } from "../data/dataset.ts";
import type { ResizeMode } from "../data/preprocess.ts";
import { parseNormalizeFlags } from "../data/preprocess.ts";

interface CliOptions {
  model: string;
  data: string;
  layout: string;
  classes?: string;
  stage?: string;
  stages?: string;
  from?: string;
  candidates: string;
  proportion: string;
  top: string;
  split: string;
  perClass?: string;
  batchSize: string;
  seed: string;
  out: string;
  symmetry: string;
  loss: string;
  lineage: string;
  maskSpace: string;
  resize: string;
  cropPct?: string;
  normalize?: string;
  mean?: string;
  std?: string;
  backend: string;
  threads?: string;
  restart?: boolean;
  checkpointSeconds: string;
  json?: boolean;
}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === "" || !Number.isFinite(x)) {
    throw new UserError(`Cannot use ${name} "${v}": not a number`, {
      exitCode: 2,
    });
  }
  return x;
}

/** Progress on stderr through `Progress`: a bar with rate and ETA on a terminal, plain lines otherwise. */
class SearchProgressBar implements SearchProgress {
  #bar: Progress | null = null;

  start(stage: number, total: number, done: number): void {
    this.#bar = new Progress({
      label: `stage ${stage}${done > 0 ? ` (resumed at ${done})` : ""}`,
      total: total - done,
      unit: "eval",
    });
  }

  tick(n: number): void {
    this.#bar?.tick(n);
  }

  finish(_stage: number, s: StageSummary): void {
    this.#bar?.finish(`${s.evaluationsPerSecond.toFixed(1)} evaluations/s`);
    this.#bar = null;
  }
}

/** Turn parsed CLI options into {@link SearchOptions}. */
export function toSearchOptions(o: CliOptions): SearchOptions {
  if (o.stage !== undefined && o.stages !== undefined) {
    throw new UserError("Cannot use --stage and --stages together", {
      exitCode: 2,
    });
  }
  const stages = parseStages(o.stages ?? o.stage ?? "1");
  // No flag: runSearch() takes the model's declared normalisation, else imagenet.
  const norm = o.normalize !== undefined || o.mean !== undefined ||
      o.std !== undefined
    ? parseNormalizeFlags({
      ...(o.normalize !== undefined ? { normalize: o.normalize } : {}),
      ...(o.mean !== undefined ? { mean: o.mean } : {}),
      ...(o.std !== undefined ? { std: o.std } : {}),
    })
    : undefined;
  const opts: SearchOptions = {
    model: o.model,
    data: o.data,
    layout: o.layout as DatasetLayout,
    stages,
    out: o.out,
    candidates: num("--candidates", o.candidates)!,
    proportion: num("--proportion", o.proportion)!,
    top: num("--top", o.top)!,
    split: num("--split", o.split)!,
    batchSize: num("--batch-size", o.batchSize)!,
    seed: num("--seed", o.seed)!,
    symmetry: o.symmetry as SymmetryMode,
    loss: o.loss as LossKind,
    lineage: o.lineage as Lineage,
    maskSpace: o.maskSpace as "normalized" | "pixel",
    resize: o.resize as ResizeMode,
    backend: o.backend as "wasm" | "webgpu",
    checkpointSeconds: num("--checkpoint-seconds", o.checkpointSeconds)!,
  };
  if (norm) {
    opts.normalize = norm.name === "custom"
      ? { mean: [...norm.mean], std: [...norm.std] }
      : norm.name;
  }
  if (o.classes !== undefined) opts.classes = parseClassList(o.classes);
  if (o.from !== undefined) opts.from = o.from;
  if (o.perClass !== undefined) opts.perClass = num("--per-class", o.perClass)!;
  if (o.cropPct !== undefined) opts.cropPct = num("--crop-pct", o.cropPct)!;
  if (o.threads !== undefined) opts.threads = num("--threads", o.threads)!;
  if (o.restart) opts.restart = true;
  return opts;
}

/** Register the `search` subcommand. */
export function register(program: Command): void {
  const d = kSearchDefaults;
  program
    .command("search")
    .description(
      "staged HFSS search: find each class's dominant frequency maps (DFMs) and write <out>/stage<k>/",
    )
    .requiredOption("--model <file>", "ONNX classifier")
    .requiredOption("--data <dir>", "dataset root")
    .addOption(
      new Option("--layout <layout>", "dataset layout").choices([
        ...kDatasetLayouts,
      ]).default("auto"),
    )
    .option(
      "--classes <list>",
      "only these classes: indices, ranges a-b, wnids or folder names",
    )
    .option("--stage <k>", "run one stage (default 1)")
    .option("--stages <a-b>", "run several stages in a row, e.g. 1-4")
    .option("--from <dir>", "previous stage folder (default <out>/stage<k-1>)")
    .option(
      "--candidates <n>",
      "N_B, candidates per stage (3 masks per draw)",
      String(d.candidates),
    )
    .option(
      "--proportion <p>",
      "P, proportion of patch cells kept",
      String(d.proportion),
    )
    .option("--top <n>", "top-N DFMs kept per class", String(d.top))
    .option(
      "--split <f>",
      "search fraction of every class (1 = every image)",
      String(d.split),
    )
    .option("--per-class <n>", "at most n search images per class")
    .option(
      "--batch-size <n>",
      "rows per model call; also the batch of --loss reference",
      String(d.batchSize),
    )
    .option("--seed <n>", "seed of every random choice", String(d.seed))
    .requiredOption("--out <dir>", "run folder, e.g. DFM/runs/<name>")
    .addOption(
      new Option("--symmetry <mode>", "mask symmetry fill").choices([
        ...kSymmetryModes,
      ]).default(d.symmetry),
    )
    .addOption(
      new Option("--loss <kind>", "per-class ranking loss").choices([
        ...kLossKinds,
      ]).default(d.loss),
    )
    .addOption(
      new Option("--lineage <kind>", "parents of stage k > 1").choices([
        ...kLineages,
      ]).default(d.lineage),
    )
    .addOption(
      new Option(
        "--mask-space <space>",
        "mask after normalisation or on [0,1] pixels",
      )
        .choices(["normalized", "pixel"]).default(d.maskSpace),
    )
    .addOption(
      new Option("--resize <mode>", "squash (reference) or resize+centre crop")
        .choices(["squash", "crop"]).default(d.resize),
    )
    .option("--crop-pct <f>", "centre-crop fraction with --resize crop (0.875)")
    .addOption(
      new Option(
        "--normalize <name>",
        "input normalisation (default: the model's declared one, else imagenet)",
      )
        .choices(["imagenet", "inception", "none"]),
    )
    .option("--mean <list>", "normalisation mean, 1 or 3 values")
    .option("--std <list>", "normalisation std, 1 or 3 values")
    .addOption(
      new Option("--backend <name>", "onnxruntime execution provider").choices([
        "wasm",
        "webgpu",
      ]).default(d.backend),
    )
    .option("--threads <n>", "onnxruntime wasm threads")
    .option(
      "--restart",
      "discard saved progress or results of another configuration",
    )
    .option(
      "--checkpoint-seconds <s>",
      "seconds between checkpoints within a block",
      String(d.checkpointSeconds),
    )
    .option("--json", "print the summary as one JSON object")
    .action(async (o: CliOptions) => {
      const opts = toSearchOptions(o);
      opts.progress = new SearchProgressBar();
      const summary = await runSearch(opts).catch((err) => {
        if (!(err instanceof ConfigMismatchError)) throw err;
        throw new UserError(err.describe(
          (k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
          `rerun with --restart to discard the saved ${err.discards}, or choose another --out`,
        ));
      });
      if (o.json) {
        console.log(JSON.stringify(summary, null, 2));
        return;
      }
      for (const s of summary.stages) {
        console.log(
          s.skipped
            ? `stage ${s.stage}: already finished (${s.evaluations} evaluations) -> ${s.dir}`
            : `stage ${s.stage}: ${s.candidates} candidates x ${s.images} images = ${s.evaluations} evaluations, ` +
              `${s.evaluationsPerSecond.toFixed(1)} evaluations/s, ${
                s.seconds.toFixed(1)
              } s` +
              `${
                s.resumed
                  ? ` (resumed; ${s.totalSeconds.toFixed(1)} s in all)`
                  : ""
              } -> ${s.dir}`,
        );
      }
      const norm = summary.config.normalization as {
        name: string;
        source: string;
      };
      console.log(`normalization: ${norm.name} (source: ${norm.source})`);
      const total = summary.stages.reduce(
        (a, s) => a + s.evaluationsThisRun,
        0,
      );
      const secs = summary.stages.reduce((a, s) => a + s.seconds, 0);
      console.log(
        `total: ${total} evaluations in ${secs.toFixed(1)} s` +
          (secs > 0 ? ` (${(total / secs).toFixed(1)} evaluations/s)` : ""),
      );
    });
}
