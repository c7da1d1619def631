/**
 * `hfss search`: the staged HFSS search (see src/search/search.ts).
 *
 * Prints the resolved settings at start (stderr), a progress bar on a
 * terminal or plain periodic lines otherwise (stderr), and a final summary
 * (stdout; one JSON object with `--json`).
 */
import type { ShardSpec } from "../shard/partition.ts";
import type { Command } from "commander";
import { Progress } from "./progress.ts";
import {
  kSearchDefaults,
  runSearch,
  type SearchOptions,
  type SearchProgress,
  type StageSummary,
} from "../search/search.ts";
import type { LossKind } from "../search/loss.ts";
import type { Lineage } from "../search/lineage.ts";
import type { SymmetryMode } from "../dfm/symmetry.ts";
import { parseClassList } from "../data/dataset.ts";
import type { DatasetLayout } from "../data/dataset.ts";
import type { Interpolation, ResizeMode } from "../data/preprocess.ts";
import { arg, normalizeOption, option, shared, usage } from "./args.ts";
import { printJson } from "./json.ts";
import {
  defaultRaceParams,
  kRaceRules,
  type RaceParams,
  type RaceRule,
} from "../search/race.ts";

/** The flags of `hfss search`, parsed. */
export interface SearchCliOptions {
  quiet?: boolean;
  model: string;
  data: string;
  layout: DatasetLayout;
  classes?: string;
  stage?: number[];
  stages?: number[];
  from?: string;
  candidates: number;
  proportion: number;
  top: number;
  split: number;
  perClass?: number;
  batchSize: number;
  seed: number;
  out: string;
  symmetry: SymmetryMode;
  loss: LossKind;
  lineage: Lineage;
  maskSpace: "normalized" | "pixel";
  resize: ResizeMode;
  cropPct?: number;
  interpolation?: Interpolation;
  size?: number;
  normalize?: string;
  mean?: string;
  std?: string;
  backend: "wasm" | "webgpu";
  threads?: number;
  restart?: boolean;
  shard?: ShardSpec;
  checkpointSeconds: number;
  race?: RaceRule;
  raceSlice?: number;
  raceKeep?: number;
  raceMinKeep?: number;
  raceZ?: number;
  raceDelta?: number;
  raceRange?: number;
  maxMegapixels?: number;
  json?: boolean;
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
export function toSearchOptions(o: SearchCliOptions): SearchOptions {
  if (o.stage !== undefined && o.stages !== undefined) {
    usage("--stage/--stages", "give one of them, not both");
  }
  const stages = o.stages ?? o.stage ?? [1];
  const opts: SearchOptions = {
    model: o.model,
    data: o.data,
    layout: o.layout,
    stages,
    out: o.out,
    candidates: o.candidates,
    proportion: o.proportion,
    top: o.top,
    split: o.split,
    batchSize: o.batchSize,
    seed: o.seed,
    symmetry: o.symmetry,
    loss: o.loss,
    lineage: o.lineage,
    maskSpace: o.maskSpace,
    resize: o.resize,
    backend: o.backend,
    checkpointSeconds: o.checkpointSeconds,
  };
  const normalize = normalizeOption(o);
  if (normalize !== undefined) opts.normalize = normalize;
  if (o.classes !== undefined) opts.classes = parseClassList(o.classes);
  if (o.from !== undefined) opts.from = o.from;
  if (o.perClass !== undefined) opts.perClass = o.perClass;
  if (o.cropPct !== undefined) opts.cropPct = o.cropPct;
  if (o.interpolation !== undefined) opts.interpolation = o.interpolation;
  if (o.size !== undefined) opts.size = o.size;
  if (o.threads !== undefined) opts.threads = o.threads;
  if (o.restart) opts.restart = true;
  if (o.maxMegapixels !== undefined) opts.maxPixels = o.maxMegapixels * 1e6;
  if (o.shard) opts.shard = o.shard;
  const race = raceParams(o);
  if (race) opts.race = race;
  return opts;
}

/** `--race` and its parameters; a parameter without `--race` is refused. */
function raceParams(o: SearchCliOptions): RaceParams | undefined {
  const given = {
    ...(o.raceSlice !== undefined ? { slice: o.raceSlice } : {}),
    ...(o.raceKeep !== undefined ? { keep: o.raceKeep } : {}),
    ...(o.raceMinKeep !== undefined ? { minKeep: o.raceMinKeep } : {}),
    ...(o.raceZ !== undefined ? { z: o.raceZ } : {}),
    ...(o.raceDelta !== undefined ? { delta: o.raceDelta } : {}),
    ...(o.raceRange !== undefined ? { range: o.raceRange } : {}),
  };
  if (o.race === undefined) {
    const first = Object.keys(given)[0];
    if (first) {
      usage(
        `--race-${first.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
        "applies to racing only: give --race too",
      );
    }
    return undefined;
  }
  return { ...defaultRaceParams(o.top), rule: o.race, ...given };
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
    .addOption(shared.layout())
    .option(
      "--classes <list>",
      "only these classes: indices, ranges a-b, wnids or folder names",
    )
    .addOption(option("--stage <k>", "run one stage (default 1)", arg.range()))
    .addOption(
      option(
        "--stages <range>",
        "run several stages in a row, e.g. 1-4 or 2,3",
        arg.range(),
      ),
    )
    .option("--from <dir>", "previous stage folder (default <out>/stage<k-1>)")
    .addOption(shared.candidates(d.candidates))
    .addOption(shared.proportion(d.proportion))
    .addOption(shared.top(d.top))
    .addOption(
      option(
        "--split <f>",
        "search fraction of every class, in (0, 1] (1 = every image)",
        arg.unit(),
        d.split,
      ),
    )
    .addOption(
      option(
        "--per-class <n>",
        "at most n search images per class",
        arg.int({ min: 1 }),
      ),
    )
    .addOption(
      shared.batchSize(
        "rows per model call; also the batch of --loss reference",
        d.batchSize,
      ),
    )
    .addOption(shared.seed("seed of every random choice", d.seed))
    .addOption(shared.maxMegapixels())
    .requiredOption("--out <dir>", "run folder, e.g. DFM/runs/<name>")
    .addOption(shared.symmetry(d.symmetry))
    .addOption(shared.loss(d.loss))
    .addOption(shared.lineage(d.lineage))
    .addOption(
      shared.maskSpace(
        "normalized: mask after normalisation | pixel: mask [0,1] pixels",
        d.maskSpace,
      ),
    )
    .addOption(
      shared.resize(
        "--resize",
        "squash (reference) | crop (resize + centre crop)",
        d.resize,
      ),
    )
    .addOption(shared.cropPct())
    .addOption(shared.interpolation())
    .addOption(shared.size())
    .addOption(shared.normalize("the model's declared one, else imagenet"))
    .addOption(shared.mean())
    .addOption(shared.std())
    .addOption(shared.backend(d.backend))
    .addOption(shared.threads())
    .option(
      "--restart",
      "discard saved progress or results of another configuration",
    )
    .addOption(
      shared.shard(
        "compute shard i of n (whole classes) of one stage into <out>/stage<k>/shard-i-of-n/; join them with hfss merge --stage",
      ),
    )
    .addOption(
      option(
        "--checkpoint-seconds <s>",
        "seconds between checkpoints within a block",
        arg.number({ min: 0 }),
        d.checkpointSeconds,
      ),
    )
    .addOption(
      option(
        "--race <rule>",
        `race each class's candidates over its images: ${
          kRaceRules.join("|")
        } (default: no racing)`,
        arg.choice(kRaceRules),
      ),
    )
    .addOption(
      option(
        "--race-slice <n>",
        "racing: images per slice (default 8)",
        arg.int({ min: 1 }),
      ),
    )
    .addOption(
      option(
        "--race-keep <f>",
        "halving: fraction of live candidates kept per slice, in (0, 1] (default 0.5)",
        arg.unit(),
      ),
    )
    .addOption(
      option(
        "--race-min-keep <n>",
        "racing: fewest candidates kept per class, >= --top (default 2 x --top)",
        arg.int({ min: 1 }),
      ),
    )
    .addOption(
      option(
        "--race-z <z>",
        "gaussian: bound half-width in standard errors (default 2)",
        arg.number({ min: 0 }),
      ),
    )
    .addOption(
      option(
        "--race-delta <d>",
        "bernstein: confidence delta in (0, 1) (default 0.05)",
        arg.number({ min: 0, minExclusive: true, max: 1 }),
      ),
    )
    .addOption(
      option(
        "--race-range <r>",
        "bernstein: loss range (default 0: the observed range)",
        arg.number({ min: 0 }),
      ),
    )
    .option("--quiet", "no progress on stderr")
    .option("--json", "print the summary as one JSON object")
    .action(async (o: SearchCliOptions) => {
      const opts = toSearchOptions(o);
      if (!o.quiet) opts.progress = new SearchProgressBar();
      const summary = await runSearch(opts);
      if (o.json) {
        printJson(summary);
        return;
      }
      for (const s of summary.stages) {
        console.log(
          s.skipped
            ? `stage ${s.stage}: already finished (${s.evaluations} evaluations) -> ${s.dir}`
            : `stage ${s.stage}: ${
              o.race
                ? `raced, ${s.evaluations} of ${
                  s.candidates * s.images
                } evaluations`
                : `${s.candidates} candidates x ${s.images} images = ${s.evaluations} evaluations`
            }, ` +
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
