/**
 * `hfss report`: an offline HTML report (inline SVG plots) and Markdown tables
 * from `hfss eval` outputs, plus CSV/JSON of every plotted number.
 *
 * Writes into `--out` (default `<results>/report`): `report.html`,
 * `report.md`, `curves.csv` (AvgTPR per run, panel and t, with marker sizes
 * and group sizes), `groups.csv` (OOD TPR per corruption / part) and
 * `report.json` (the same numbers and each run's configuration).
 */
import type { Command } from "commander";
import type { CompatMode } from "../eval/tpr_curves.ts";
import { buildReport } from "../report/build.ts";
import { shared } from "./args.ts";
import { printJson } from "./json.ts";

/** Register the `report` subcommand. */
export function register(program: Command): void {
  program
    .command("report")
    .description(
      "build an offline HTML report (SVG plots) and Markdown tables from eval outputs",
    )
    .requiredOption(
      "--results <dir>",
      "an eval --out folder, or a folder of them (one per OOD set)",
    )
    .option("--out <dir>", "output folder (default: <results>/report)")
    .addOption(shared.compat(undefined, "as recorded by eval"))
    .option("--title <text>", "report title")
    .option("--json", "print what was written as JSON")
    .action(
      async (
        opts: {
          results: string;
          out?: string;
          compat?: CompatMode;
          title?: string;
          json?: boolean;
        },
      ) => {
        const res = await buildReport({
          results: opts.results,
          ...(opts.out !== undefined ? { out: opts.out } : {}),
          ...(opts.compat !== undefined ? { compat: opts.compat } : {}),
          ...(opts.title !== undefined ? { title: opts.title } : {}),
        });
        if (opts.json) printJson(res);
        else {
          console.log(
            `report: ${res.runs} run${res.runs === 1 ? "" : "s"} → ${res.out}`,
          );
          for (const f of res.files) console.log(`  ${f}`);
        }
      },
    );
}
