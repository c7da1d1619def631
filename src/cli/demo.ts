/**
 * `hfss demo`: the planted-shortcut benchmark end to end. Generates a
 * synthetic dataset whose classes are carried by known ("planted")
 * frequencies and a model that uses exactly those, runs the staged search,
 * and reports how well each class's DFM recovers its planted frequencies.
 * See src/planted/demo.ts for the work folder layout and the figures.
 */
import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { UserError } from "./fail.ts";
import { formatDemo, kDemoDefaults, runDemo } from "../planted/demo.ts";
import { kLayoutNames, type LayoutName } from "../planted/layouts.ts";
import { parseStages } from "../search/search.ts";
import { kLineages } from "../search/lineage.ts";
import { kLossKinds } from "../search/loss.ts";
import { kSymmetryModes } from "../dfm/symmetry.ts";

function intOption(name: string, min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    }
    return n;
  };
}

interface DemoCliOptions {
  work: string;
  seed: number;
  size: number;
  classes: number;
  layout: string;
  stages?: string;
  candidates: number;
  proportion: number;
  top: number;
  perClass: number;
  force?: boolean;
  lineage?: string;
  symmetry?: string;
  loss?: string;
  threads?: number;
  json?: boolean;
}

/** Register the `demo` subcommand. */
export function register(program: Command): void {
  const d = kDemoDefaults;
  program
    .command("demo")
    .description(
      "generate the planted-shortcut benchmark (synthetic data + ONNX model with known shortcut frequencies), " +
        "search its DFMs and score them against the ground truth",
    )
    .option(
      "--work <dir>",
      "work folder (benchmark, search stages, demo.json)",
      d.work,
    )
    .option(
      "--seed <n>",
      "seed of the data, the model and the search",
      intOption("--seed", 0),
      d.seed,
    )
    .option(
      "--size <n>",
      "image size S (32 or 64)",
      intOption("--size", 32),
      d.size,
    )
    .option(
      "--classes <n>",
      "number of classes",
      intOption("--classes", 2),
      d.classes,
    )
    .option(
      "--layout <name>",
      `planted layout (${kLayoutNames.join(", ")})`,
      d.layout,
    )
    .option(
      "--stages <range>",
      "stages to run, e.g. 1-3 (default: all stages of the size, 1-4 at 32, 1-5 at 64)",
    )
    .option(
      "--candidates <n>",
      "N_B: candidates per pool and stage",
      intOption("--candidates", 3),
      d.candidates,
    )
    .option(
      "--proportion <p>",
      "P: proportion of patch cells kept per candidate",
      parseFloat,
      d.proportion,
    )
    .option(
      "--top <n>",
      "top-N masks kept per class",
      intOption("--top", 1),
      d.top,
    )
    .option(
      "--per-class <n>",
      "images per class",
      intOption("--per-class", 1),
      d.perClass,
    )
    .option(
      "--threads <n>",
      "onnxruntime wasm threads",
      intOption("--threads", 1),
    )
    .option("--lineage <name>", `search lineage (${kLineages.join(", ")})`)
    .option("--symmetry <name>", `mask symmetry (${kSymmetryModes.join(", ")})`)
    .option("--loss <name>", `ranking loss (${kLossKinds.join(", ")})`)
    .option("--force", "regenerate the benchmark and restart the search")
    .option("--json", "print one JSON object instead of text")
    .action(async (o: DemoCliOptions) => {
      if (!(kLayoutNames as readonly string[]).includes(o.layout)) {
        throw new UserError(
          `Cannot use layout "${o.layout}": expected one of ${
            kLayoutNames.join(", ")
          }`,
          { exitCode: 2 },
        );
      }
      const pick = <T extends string>(
        name: string,
        v: string | undefined,
        allowed: readonly T[],
      ): T | undefined => {
        if (v === undefined) return undefined;
        if (!(allowed as readonly string[]).includes(v)) {
          throw new UserError(
            `Cannot use ${name} "${v}": expected one of ${allowed.join(", ")}`,
            { exitCode: 2 },
          );
        }
        return v as T;
      };
      const lineage = pick("--lineage", o.lineage, kLineages);
      const symmetry = pick("--symmetry", o.symmetry, kSymmetryModes);
      const loss = pick("--loss", o.loss, kLossKinds);
      const result = await runDemo({
        ...(lineage ? { lineage } : {}),
        ...(symmetry ? { symmetry } : {}),
        ...(loss ? { loss } : {}),
        work: o.work,
        seed: o.seed,
        size: o.size,
        classes: o.classes,
        layout: o.layout as LayoutName,
        ...(o.stages !== undefined ? { stages: parseStages(o.stages) } : {}),
        candidates: o.candidates,
        proportion: o.proportion,
        top: o.top,
        perClass: o.perClass,
        force: o.force ?? false,
        ...(o.threads !== undefined ? { threads: o.threads } : {}),
      });
      console.log(
        o.json ? JSON.stringify(result, null, 2) : formatDemo(result),
      );
    });
}
