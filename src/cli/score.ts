/**
 * `hfss score`: losses and accuracies of any masks on every class (see
 * src/score/score.ts).
 *
 * Progress on stderr (a bar on a terminal, plain lines otherwise); a summary
 * on stdout: for a stage folder, each class's own DFMs (rank 0 and the
 * mean over its ranks), else the best mask per class; `--json` prints the
 * figures as one object.
 */
import type { Command } from "commander";
import { Progress } from "./progress.ts";
import { runScore, type ScoreOptions } from "../score/score.ts";
import { parseClassList } from "../data/dataset.ts";
import type { DatasetLayout } from "../data/dataset.ts";
import type { Interpolation, ResizeMode } from "../data/preprocess.ts";
import type { LossKind } from "../search/loss.ts";
import { arg, normalizeOption, option, shared } from "./args.ts";
import { printJson } from "./json.ts";
import type { ShardSpec } from "../shard/partition.ts";

/** The flags of `hfss score`, parsed. */
export interface ScoreCliOptions {
  quiet?: boolean;
  masks: string;
  model: string;
  data: string;
  layout: DatasetLayout;
  classes?: string;
  out: string;
  loss?: LossKind;
  split: number;
  perClass?: number;
  keepOrder?: boolean;
  seed: number;
  batchSize: number;
  referenceBatch?: number;
  maskSpace?: "normalized" | "pixel";
  resize?: ResizeMode;
  interpolation?: Interpolation;
  size?: number;
  cropPct?: number;
  normalize?: string;
  mean?: string;
  std?: string;
  backend: "wasm" | "webgpu";
  threads?: number;
  restart?: boolean;
  checkpointSeconds: number;
  shard?: ShardSpec;
  json?: boolean;
}

/** Turn parsed CLI options into {@link ScoreOptions}. */
export function toScoreOptions(o: ScoreCliOptions): ScoreOptions {
  const opts: ScoreOptions = {
    masks: o.masks,
    model: o.model,
    data: o.data,
    layout: o.layout,
    out: o.out,
    split: o.split,
    seed: o.seed,
    batchSize: o.batchSize,
    backend: o.backend,
    checkpointSeconds: o.checkpointSeconds,
  };
  const normalize = normalizeOption(o);
  if (normalize !== undefined) opts.normalize = normalize;
  if (o.classes !== undefined) opts.classes = parseClassList(o.classes);
  if (o.loss !== undefined) opts.loss = o.loss;
  if (o.perClass !== undefined) opts.perClass = o.perClass;
  if (o.keepOrder) opts.keepOrder = true;
  if (o.referenceBatch !== undefined) opts.referenceBatch = o.referenceBatch;
  if (o.maskSpace !== undefined) opts.maskSpace = o.maskSpace;
  if (o.resize !== undefined) opts.resize = o.resize;
  if (o.cropPct !== undefined) opts.cropPct = o.cropPct;
  if (o.interpolation !== undefined) opts.interpolation = o.interpolation;
  if (o.size !== undefined) opts.size = o.size;
  if (o.threads !== undefined) opts.threads = o.threads;
  if (o.restart) opts.restart = true;
  if (o.shard) opts.shard = o.shard;
  return opts;
}

/** Register the `score` subcommand. */
export function register(program: Command): void {
  program
    .command("score")
    .description(
      "score masks (a stage folder or an .npy) on every class: ranking loss and filtered accuracy, " +
        "written to <out>/losses.npy, accuracy.npy, scores.csv",
    )
    .requiredOption(
      "--masks <path>",
      "a stage folder (every rank of every class) or an .npy of masks [n,S,S] or [K,N,S,S]",
    )
    .requiredOption("--model <file>", "ONNX classifier")
    .requiredOption("--data <dir>", "dataset root")
    .addOption(shared.layout())
    .option(
      "--classes <list>",
      "only these classes: indices, ranges a-b, wnids or folder names",
    )
    .requiredOption("--out <dir>", "output folder")
    .addOption(shared.loss())
    .addOption(
      option(
        "--split <f>",
        "fraction of every class's images scored, in (0, 1], chosen as the search does",
        arg.unit(),
        1,
      ),
    )
    .addOption(
      option(
        "--per-class <n>",
        "at most n images per class",
        arg.int({ min: 1 }),
      ),
    )
    .option(
      "--keep-order",
      "score every image in the dataset's own order (e.g. labels.csv rows) instead of the search's seeded order",
    )
    .addOption(shared.seed("seed of the split and the image order", 42))
    .addOption(shared.batchSize("rows per model call", 64))
    .addOption(
      option(
        "--reference-batch <n>",
        "batch size of --loss reference's batches (default: --batch-size)",
        arg.int({ min: 1 }),
      ),
    )
    .addOption(
      shared.maskSpace(
        "normalized | pixel (default: the stage's, else normalized)",
      ),
    )
    .addOption(
      shared.resize(
        "--resize",
        "squash | crop (default: the stage's, else squash)",
      ),
    )
    .addOption(shared.interpolation("the stage's, else bilinear"))
    .addOption(shared.size())
    .addOption(shared.cropPct())
    .addOption(shared.normalize("the model's declared one, else imagenet"))
    .addOption(shared.mean())
    .addOption(shared.std())
    .addOption(shared.backend())
    .addOption(shared.threads())
    .option(
      "--restart",
      "discard saved progress or results of another configuration",
    )
    .addOption(
      option(
        "--checkpoint-seconds <s>",
        "seconds between checkpoints within a block",
        arg.number({ min: 0 }),
        120,
      ),
    )
    .addOption(
      shared.shard(
        "score shard i of n (whole classes) into <out>/shard-i-of-n/; join them with hfss merge --score",
      ),
    )
    .option("--quiet", "no progress on stderr")
    .option("--json", "print the summary as one JSON object")
    .action(async (o: ScoreCliOptions) => {
      const opts = toScoreOptions(o);
      let bar: Progress | null = null;
      opts.progress = {
        start(total, done) {
          if (o.quiet) return;
          bar = new Progress({
            label: "score",
            total: total - done,
            unit: "eval",
          });
        },
        tick(n) {
          bar?.tick(n);
        },
      };
      const r = await runScore(opts);
      (bar as Progress | null)?.finish(`${r.evaluations} evaluations`);
      const k = r.classes.length;
      const own = r.masks.kind === "stage";
      const { first, end } = r.classRange;
      const rows = r.classes.slice(first, end).map((c, i) => {
        const pos = first + i;
        const mine = r.masks.origins
          .map((o, i) => ({ o, i }))
          .filter(({ o }) => own && o.classId === c.index);
        const best = mine.length
          ? mine
          : r.masks.origins.map((o, i) => ({ o, i }));
        let arg = best[0]!.i;
        for (const { i } of best) {
          if (r.losses[i * k + pos]! < r.losses[arg * k + pos]!) arg = i;
        }
        return {
          classId: c.index,
          wnid: c.wnid,
          nImages: r.images[pos]!,
          mask: arg,
          loss: r.losses[arg * k + pos]!,
          accuracy: r.accuracy[arg * k + pos]!,
        };
      });
      if (o.json) {
        printJson({
          out: r.out,
          skipped: r.skipped,
          evaluations: r.evaluations,
          classes: rows,
          config: r.config,
        });
        return;
      }
      console.log(
        own
          ? "class  wnid       images  best own mask  loss     accuracy"
          : "class  wnid       images  best mask  loss     accuracy",
      );
      for (const row of rows) {
        console.log(
          `${String(row.classId).padEnd(5)}  ${(row.wnid ?? "-").padEnd(9)}  ${
            String(row.nImages).padEnd(6)
          }  ${String(row.mask).padEnd(own ? 13 : 9)}  ${
            Number.isFinite(row.loss) ? row.loss.toFixed(4) : "-"
          }   ${Number.isFinite(row.accuracy) ? row.accuracy.toFixed(3) : "-"}`,
        );
      }
      console.log(
        opts.shard
          ? `${r.masks.count} masks x ${rows.length} of ${k} classes -> ${r.out} (sums.npy, counts.npy, partial.json; join with hfss merge --score ${opts.out})`
          : `${r.masks.count} masks x ${k} classes -> ${r.out} (losses.npy, accuracy.npy, scores.csv, masks.csv, config.json)`,
      );
    });
}
