/**
 * `hfss project`: the wall time of a full ImageNet HFSS at the paper's
 * settings (or given ones), split into shards, with and without racing,
 * projected from the search rate a `deno task bench --only pipeline` run
 * measured (src/shard/projection.ts).
 */
import type { Command } from "commander";
import {
  benchRaceFactor,
  type BenchRate,
  benchRate,
  formatDuration,
  kPaperSetting,
  projectSearch,
} from "../shard/projection.ts";
import { readInputFile } from "../io/read.ts";
import { UserError } from "../errors.ts";
import { arg, option, usage } from "./args.ts";
import { printJson } from "./json.ts";

/**
 * Evaluations saved by racing when neither a race bench result nor a factor
 * is given: successive halving on slices of 8 images (keep the better half,
 * never fewer than 2N) in a simulation of the planted benchmark (10 classes
 * x 64 images, N_B 300, top 10, four stages), with unchanged top-10 sets.
 */
const kAssumedRaceFactor = 3.65;

interface CliOptions {
  bench?: string;
  case?: string;
  rate?: number;
  shards: number[];
  raceFactor?: number;
  raceBench?: string;
  stageOverhead: number;
  classes: number;
  imagesPerClass: number;
  candidates: number;
  stages: number;
  json?: boolean;
}

/** Register the `project` subcommand. */
export function register(program: Command): void {
  const p = kPaperSetting;
  program
    .command("project")
    .description(
      "project the wall time of a full ImageNet HFSS over n shards, with and without racing, from a bench result",
    )
    .option(
      "--bench <file>",
      "a bench/results/pipeline-*.json written by deno task bench --only pipeline",
    )
    .option(
      "--case <name>",
      "the bench case (model) to use (default: the 224-pixel one)",
    )
    .addOption(
      option(
        "--rate <n>",
        "evaluations/s of one shard, instead of --bench",
        arg.number({ min: 0, minExclusive: true }),
      ),
    )
    .addOption(
      option(
        "--shards <list>",
        "numbers of shards (one GPU each)",
        (f, t) => t.split(",").map((s) => arg.int({ min: 1 })(f, s)),
        [1, 8, 64, 256],
      ),
    )
    .option(
      "--race-bench <file>",
      "a bench/results/race-*.json (deno task bench --only race): its ratio for this setting",
    )
    .addOption(
      option(
        "--race-factor <x>",
        `evaluations of exhaustive search / with racing (default: from --race-bench, else ${kAssumedRaceFactor}, assumed)`,
        arg.number({ min: 1 }),
      ),
    )
    .addOption(
      option(
        "--stage-overhead <s>",
        "seconds per stage for start, model load and merge",
        arg.number({ min: 0 }),
        60,
      ),
    )
    .addOption(
      option("--classes <n>", "classes", arg.int({ min: 1 }), p.classes),
    )
    .addOption(
      option(
        "--images-per-class <n>",
        "search images per class (5 % of ImageNet train: 64)",
        arg.int({ min: 1 }),
        p.imagesPerClass,
      ),
    )
    .addOption(
      option(
        "--candidates <n>",
        "candidates evaluated per stage (N_B 500: 498)",
        arg.int({ min: 1 }),
        p.candidates,
      ),
    )
    .addOption(
      option(
        "--stages <n>",
        "stages (224 px: 6)",
        arg.int({ min: 1 }),
        p.stages,
      ),
    )
    .option("--json", "print the projection as JSON")
    .action(async (o: CliOptions) => {
      const readJson = async (path: string, what: string) => {
        const bytes = await readInputFile(path, `Cannot read ${what}`);
        try {
          return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
        } catch {
          throw new UserError(`Cannot read ${what} "${path}": not JSON`);
        }
      };
      let rate: BenchRate;
      if (o.rate !== undefined) {
        rate = {
          name: "given",
          evaluationsPerSecond: o.rate,
          adapter: "given",
          cpus: null,
        };
      } else if (o.bench !== undefined) {
        const json = await readJson(o.bench, "bench result");
        try {
          rate = benchRate(json, o.case);
        } catch (err) {
          throw new UserError(
            `Cannot read bench result "${o.bench}": ${(err as Error).message}`,
          );
        }
      } else {
        usage("--bench", "give a bench result file (or --rate)");
      }
      let raceFactor = kAssumedRaceFactor;
      let raceSource =
        "assumed: successive halving on a simulated planted benchmark, not measured";
      if (o.raceFactor !== undefined) {
        raceFactor = o.raceFactor;
        raceSource = "given";
      } else if (o.raceBench !== undefined) {
        const json = await readJson(o.raceBench, "race bench result");
        try {
          raceFactor = benchRaceFactor(json, o.candidates, o.imagesPerClass);
        } catch (err) {
          throw new UserError(
            `Cannot read race bench result "${o.raceBench}": ${
              (err as Error).message
            }`,
          );
        }
        raceSource =
          `from ${o.raceBench}, m${o.candidates}_n${o.imagesPerClass}`;
      }
      const setting = {
        classes: o.classes,
        imagesPerClass: o.imagesPerClass,
        candidates: o.candidates,
        stages: o.stages,
        evaluationsPerSecond: rate.evaluationsPerSecond,
        stageOverheadSeconds: o.stageOverhead,
      };
      for (const n of o.shards) {
        if (n > o.classes) {
          usage(
            "--shards",
            `${n} shards for ${o.classes} classes: at most one shard per class`,
          );
        }
      }
      const rows = o.shards.map((shards) => ({
        shards,
        exhaustive: projectSearch({ ...setting, shards, raceFactor: 1 }),
        racing: projectSearch({ ...setting, shards, raceFactor }),
      }));
      if (o.json) {
        return printJson({
          rate,
          setting,
          raceFactor,
          raceFactorSource: raceSource,
          rows,
        });
      }
      const first = rows[0]!.exhaustive;
      console.log(
        `full HFSS: ${o.classes} classes x ${o.imagesPerClass} images x ${o.candidates} candidates x ${o.stages} stages = ${
          first.evaluations.toLocaleString("en-US")
        } evaluations`,
      );
      const measured = o.rate === undefined
        ? ` (${rate.name}; ${rate.adapter}${
          rate.cpus !== null ? `, ${rate.cpus} CPUs` : ""
        })`
        : "";
      console.log(
        `rate: ${+rate.evaluationsPerSecond.toFixed(
          1,
        )} evaluations/s per shard${measured}; ${o.stageOverhead} s per stage for start and merge`,
      );
      console.log(
        `racing: ${+raceFactor.toFixed(2)}x fewer evaluations (${raceSource})`,
      );
      console.log("shards  exhaustive  racing");
      for (const r of rows) {
        console.log(
          `${String(r.shards).padEnd(6)}  ${
            formatDuration(r.exhaustive.totalSeconds).padEnd(10)
          }  ${formatDuration(r.racing.totalSeconds)}`,
        );
      }
    });
}
