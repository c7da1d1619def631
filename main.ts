#!/usr/bin/env -S deno run --unstable-webgpu --allow-read --allow-write --allow-env --allow-sys
/**
 * hfss: finds and measures frequency shortcuts in image classifiers.
 *
 * Thin entry point: builds the command tree (one module per subcommand in
 * `src/cli/`), runs it, and turns errors into one `error: …` line on stderr.
 */
import { Command, CommanderError } from "commander";
import { OptionError, UserError } from "./src/errors.ts";
import { flagFor, optionErrorLine } from "./src/cli/args.ts";
import { ConfigMismatchError } from "./src/io/resume_config.ts";
import { installStopHandlers } from "./src/cli/interrupt.ts";
import { register as registerInfo } from "./src/cli/info.ts";
import { register as registerFilter } from "./src/cli/filter.ts";
import { register as registerSearch } from "./src/cli/search.ts";
import { register as registerScore } from "./src/cli/score.ts";
import { register as registerDemo } from "./src/cli/demo.ts";
import { register as registerEval } from "./src/cli/eval.ts";
import { register as registerReport } from "./src/cli/report.ts";
import { formatVersions, kHfssVersion, versions } from "./src/version.ts";
import { register as registerMerge } from "./src/cli/merge.ts";
import { register as registerProject } from "./src/cli/project.ts";
import { register as registerCorrupt } from "./src/cli/corrupt.ts";

export const VERSION = kHfssVersion;

/** The subcommand being run, to name library option keys as its flags. */
let running: string | undefined;

/** Build the CLI program; exported so tests can run commands in-process. */
export function buildProgram(): Command {
  const program = new Command("hfss")
    .description(
      "Find and measure frequency shortcuts (dominant frequency maps) in image classifiers",
    )
    .option(
      "-V, --version",
      "print the hfss, Deno and onnxruntime-web versions",
    )
    .option("--debug", "print stack traces on errors")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  for (
    const register of [
      registerInfo,
      registerFilter,
      registerSearch,
      registerScore,
      registerDemo,
      registerEval,
      registerReport,
      registerMerge,
      registerProject,
      registerCorrupt,
    ]
  ) register(program);
  program.commands.forEach((c) => c.exitOverride());
  program.hook("preAction", (_root, command) => {
    running = command.name();
  });
  return program;
}

async function main(argv: string[]): Promise<number> {
  // `--version` before any subcommand: its versions need an async import.
  const firstCommand = argv.findIndex((a) => !a.startsWith("-"));
  const head = firstCommand < 0 ? argv : argv.slice(0, firstCommand);
  if (head.includes("--version") || head.includes("-V")) {
    console.log(formatVersions(await versions()));
    return 0;
  }
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its own message (or help / version).
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof ConfigMismatchError) {
      // Configuration keys (camelCase or snake_case) named by their flags.
      const flag = (key: string) => flagFor(key, running);
      console.error(
        `error: ${
          err.describe(
            flag,
            `rerun with --restart to discard the saved ${err.discards}, or choose another --out`,
          )
        }`,
      );
      return err.exitCode;
    }
    if (err instanceof OptionError) {
      console.error(`error: ${optionErrorLine(err, running)}`);
      return err.exitCode;
    }
    if (err instanceof UserError) {
      console.error(`error: ${err.message}`);
      return err.exitCode;
    }
    const debug = argv.includes("--debug");
    const msg = err instanceof Error ? err.message : String(err);
    console.error(`error: ${msg}`);
    if (debug && err instanceof Error && err.stack) console.error(err.stack);
    return 1;
  }
}

if (import.meta.main) {
  installStopHandlers(Deno.args);
  Deno.exit(await main(Deno.args));
}
