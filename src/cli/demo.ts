/**
 * `hfss demo`: the planted-shortcut benchmark end to end. Generates a
 * synthetic dataset whose classes are carried by known ("planted")
 * frequencies and a model that uses exactly those, runs the staged search,
 * and reports how well each class's DFM recovers its planted frequencies.
 * See src/planted/demo.ts for the work folder layout and the figures.
 */
import type { Command } from "commander";
import { formatDemo, kDemoDefaults, runDemo } from "../planted/demo.ts";
import { kLayoutNames, type LayoutName } from "../planted/layouts.ts";
import type { Lineage } from "../search/lineage.ts";
import type { LossKind } from "../search/loss.ts";
import type { SymmetryMode } from "../dfm/symmetry.ts";
import { stageCount } from "../dfm/grid.ts";
import { arg, option, shared, usage } from "./args.ts";
import { printJson } from "./json.ts";

interface DemoCliOptions {
  work: string;
  seed: number;
  size: number;
  numClasses: number;
  plantedLayout: LayoutName;
  stages?: number[];
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
    .addOption(
      shared.seed("seed of the data, the model and the search", d.seed),
    )
    .addOption(
      option(
        "--size <n>",
        "image size S (32 or 64)",
        arg.int({ min: 32 }),
        d.size,
      ),
    )
    .addOption(
      option(
        "--num-classes <n>",
        "number of classes",
        arg.int({ min: 2 }),
        d.classes,
      ),
    )
    .addOption(
      option(
        "--planted-layout <name>",
        `planted frequency layout: ${kLayoutNames.join("|")}`,
        arg.choice(kLayoutNames),
        d.layout,
      ),
    )
    .addOption(
      option(
        "--stages <range>",
        "stages to run, e.g. 1-3 (default: all stages of the size, 1-4 at 32, 1-5 at 64)",
        arg.range(),
      ),
    )
    .addOption(shared.candidates(d.candidates))
    .addOption(shared.proportion(d.proportion))
    .addOption(shared.top(d.top))
    .addOption(
      option(
        "--per-class <n>",
        "images per class",
        arg.int({ min: 1 }),
        d.perClass,
      ),
    )
    .addOption(shared.threads())
    .addOption(shared.lineage())
    .addOption(shared.symmetry())
    .addOption(shared.loss())
    .option("--force", "regenerate the benchmark and restart the search")
    .option("--json", "print one JSON object instead of text")
    .action(async (o: DemoCliOptions) => {
      const size = o.size;
      const last = o.stages?.at(-1);
      if (last !== undefined && last > stageCount(size)) {
        usage(
          "--stages",
          `stage ${last} does not exist at size ${size} (stages 1-${
            stageCount(size)
          })`,
        );
      }
      const result = await runDemo({
        // commander checked the names (choices)
        ...(o.lineage ? { lineage: o.lineage } : {}),
        ...(o.symmetry ? { symmetry: o.symmetry } : {}),
        ...(o.loss ? { loss: o.loss } : {}),
        work: o.work,
        seed: o.seed,
        size,
        classes: o.numClasses,
        layout: o.plantedLayout,
        ...(o.stages !== undefined ? { stages: o.stages } : {}),
        candidates: o.candidates,
        proportion: o.proportion,
        top: o.top,
        perClass: o.perClass,
        force: o.force ?? false,
        ...(o.threads !== undefined ? { threads: o.threads } : {}),
      });
      if (o.json) printJson(result);
      else console.log(formatDemo(result));
    });
}
