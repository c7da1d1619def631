/**
 * `hfss demo`: the planted-shortcut benchmark end to end. Generates a
 * synthetic dataset whose classes are carried by known ("planted")
 * frequencies and a model that uses exactly those, runs the staged search,
 * and reports how well each class's DFM recovers its planted frequencies.
 * See src/planted/demo.ts for the work folder layout and the figures.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { formatDemo, kDemoDefaults, runDemo } from "../planted/demo.ts";
import { kLayoutNames, type LayoutName } from "../planted/layouts.ts";
import { parseStages } from "../search/search.ts";
import { kLineages, type Lineage } from "../search/lineage.ts";
import { kLossKinds, type LossKind } from "../search/loss.ts";
import { kSymmetryModes, type SymmetryMode } from "../dfm/symmetry.ts";

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
  numClasses: number;
  plantedLayout: LayoutName;
  stages?: string;
  candidates: number;
  proportion: number;
  top: number;
  perClass: number;
  force?: boolean;
  lineage?: Lineage;
  symmetry?: SymmetryMode;
  loss?: LossKind;
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
      "--num-classes <n>",
      "number of classes",
      intOption("--num-classes", 2),
      d.classes,
    )
    .addOption(
      new Option("--planted-layout <name>", "planted frequency layout")
        .choices([...kLayoutNames]).default(d.layout),
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
    .addOption(
      new Option("--lineage <name>", "search lineage").choices([...kLineages]),
    )
    .addOption(
      new Option("--symmetry <name>", "mask symmetry").choices([
        ...kSymmetryModes,
      ]),
    )
    .addOption(
      new Option("--loss <name>", "ranking loss").choices([...kLossKinds]),
    )
    .option("--force", "regenerate the benchmark and restart the search")
    .option("--json", "print one JSON object instead of text")
    .action(async (o: DemoCliOptions) => {
      const result = await runDemo({
        // commander checked the names (choices)
        ...(o.lineage ? { lineage: o.lineage } : {}),
        ...(o.symmetry ? { symmetry: o.symmetry } : {}),
        ...(o.loss ? { loss: o.loss } : {}),
        work: o.work,
        seed: o.seed,
        size: o.size,
        classes: o.numClasses,
        layout: o.plantedLayout,
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
