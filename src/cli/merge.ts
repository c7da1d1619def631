/**
 * `hfss merge`: join the shards of a search stage (`--stage DIR`, written by
 * `search --shard i/n`) or of an evaluation (`--eval DIR`, written by
 * `eval --shard i/n`) into the files an unsharded run writes. Every shard is
 * checked first; a missing, unfinished, corrupt, duplicate or mismatched
 * shard is named in one line and nothing is written.
 */
import type { Command } from "commander";
import { mergeStage } from "../shard/merge_stage.ts";
import { mergeEval } from "../shard/eval.ts";
import { usage } from "./args.ts";
import { printJson } from "./json.ts";

/** Register the `merge` subcommand. */
export function register(program: Command): void {
  program
    .command("merge")
    .description(
      "merge the shards of a search stage (--stage) or of an evaluation (--eval) into the unsharded run's files",
    )
    .option(
      "--stage <dir>",
      "a stage folder <out>/stage<k> holding the shard-<i>-of-<n>/ folders of search --shard",
    )
    .option(
      "--eval <dir>",
      "an eval --out folder holding the shard-<i>-of-<n>/ folders of eval --shard",
    )
    .option("--json", "print what was merged as JSON")
    .action(async (o: { stage?: string; eval?: string; json?: boolean }) => {
      if ((o.stage === undefined) === (o.eval === undefined)) {
        usage("--stage/--eval", "give one of --stage <dir> or --eval <dir>");
      }
      if (o.stage !== undefined) {
        const s = await mergeStage(o.stage);
        if (o.json) return printJson(s);
        console.log(
          `stage ${s.stage}: merged ${s.shards} shards (${s.classes} classes, ${s.candidates} candidates, ${s.evaluations} evaluations) -> ${s.dir}`,
        );
        return;
      }
      const m = await mergeEval(o.eval!);
      if (o.json) {
        return printJson({ out: m.out, shards: m.shards, ...m.summary });
      }
      console.log(
        `eval: merged ${m.shards} shards (${m.summary.classes} classes) -> ${m.out}`,
      );
    });
}
