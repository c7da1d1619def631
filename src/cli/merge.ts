/**
 * `hfss merge`: join the shards of a search stage (`--stage DIR`, written by
 * `search --shard i/n`), of an evaluation (`--eval DIR`, written by
 * `eval --shard i/n`) or of a score (`--score DIR`, written by
 * `score --shard i/n`) into the files an unsharded run writes. Every shard is
 * checked first; a missing, unfinished, corrupt, duplicate or mismatched
 * shard is named in one line and nothing is written.
 */
import type { Command } from "commander";
import { mergeStage } from "../shard/merge_stage.ts";
import { mergeEval } from "../shard/eval.ts";
import { mergeScore } from "../shard/score.ts";
import { usage } from "./args.ts";
import { printJson } from "./json.ts";

interface MergeCliOptions {
  stage?: string;
  eval?: string;
  score?: string;
  json?: boolean;
}

/** Register the `merge` subcommand. */
export function register(program: Command): void {
  program
    .command("merge")
    .description(
      "merge the shards of a search stage (--stage), an evaluation (--eval) or a score (--score) into the unsharded run's files",
    )
    .option(
      "--stage <dir>",
      "a stage folder <out>/stage<k> holding the shard-<i>-of-<n>/ folders of search --shard",
    )
    .option(
      "--eval <dir>",
      "an eval --out folder holding the shard-<i>-of-<n>/ folders of eval --shard",
    )
    .option(
      "--score <dir>",
      "a score --out folder holding the shard-<i>-of-<n>/ folders of score --shard",
    )
    .option("--json", "print what was merged as JSON")
    .action(async (o: MergeCliOptions) => {
      if (
        [o.stage, o.eval, o.score].filter((d) => d !== undefined).length !== 1
      ) {
        usage(
          "--stage/--eval/--score",
          "give one of --stage <dir>, --eval <dir> or --score <dir>",
        );
      }
      if (o.score !== undefined) {
        const m = await mergeScore(o.score);
        if (o.json) return printJson(m);
        console.log(
          `score: merged ${m.shards} shards (${m.masks} masks, ${m.classes} classes, ${m.evaluations} evaluations) -> ${m.out}`,
        );
        return;
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
