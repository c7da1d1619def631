/**
 * Sharded evaluation: shard i of n evaluates a contiguous range of the DFM
 * stage's classes into `<out>/shard-i-of-n/` (a complete, resumable
 * evaluation folder of its own, plus `partial.json`); the merge joins the
 * shards' per-class records and writes `<out>/` as one unsharded run would.
 *
 * Every class's record depends only on the class, its images, the fixed
 * FPR pool and the configuration, never on which other classes ran in the
 * same process, so the merged `per_class.csv`, `per_part.csv` and
 * `summary.json` are the unsharded run's byte for byte. (`n_errors` in
 * `classes.jsonl` counts unreadable FPR-pool images on the first class a
 * process evaluates, so with unreadable pool images it differs between a
 * sharded and an unsharded run; no table reads it.)
 */
import { join } from "node:path";
import { UserError } from "../errors.ts";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic.ts";
import { canonicalJson, firstDifference } from "../io/resume_config.ts";
import {
  type ClassRecord,
  type EvalClass,
  type EvalSummary,
  kUncheckedConfigKeys,
  runEval,
  type RunEvalOptions,
  summarize,
  writeTables,
} from "../eval/runner.ts";
import type { CompatMode } from "../eval/tpr_curves.ts";
import { readShardSet, shardDir, writePartial } from "./partial.ts";
import { type ClassRange, shardClasses, type ShardSpec } from "./partition.ts";

const kLogFile = "classes.jsonl";

/** What {@link runEvalShard} returns. */
export interface EvalShardResult {
  /** The shard's own summary (its classes only). */
  summary: EvalSummary;
  dir: string;
  classes: ClassRange;
}

/** The classes of shard `s`: equal numbers of classes, in the stage's order. */
export function evalShardClasses(
  numClasses: number,
  s: ShardSpec,
): ClassRange {
  return shardClasses(new Array<number>(numClasses).fill(1), s);
}

/**
 * Run (or resume) shard `s` of an evaluation: `runEval` on the shard's
 * classes in `<o.out>/shard-i-of-n/`, then, once every class of the shard
 * is done, its `partial.json`.
 */
export async function runEvalShard(
  o: RunEvalOptions,
  s: ShardSpec,
): Promise<EvalShardResult> {
  const range = evalShardClasses(o.classes.length, s);
  const dir = shardDir(o.out, s);
  const summary = await runEval({
    ...o,
    out: dir,
    classes: o.classes.slice(range.first, range.end),
  });
  if (summary.complete) {
    await writePartial(dir, {
      kind: "eval",
      shard: s,
      classes: range,
      config: o.config,
      unchecked_keys: [...kUncheckedConfigKeys],
      data: {
        classes: o.classes.map((c) => ({ class_id: c.classId, wnid: c.wnid })),
        compat: o.compat ?? "hfss",
      },
      stats: { classes: range.end - range.first },
    }, { [kLogFile]: await Deno.readFile(join(dir, kLogFile)) });
  }
  return { summary, dir, classes: range };
}

/** What {@link mergeEval} returns. */
export interface MergeEvalSummary {
  out: string;
  shards: number;
  summary: EvalSummary;
}

/**
 * Merge the shards in `out` into `out/`: `config.json`, `classes.jsonl`,
 * `per_class.csv`, `per_part.csv`, `summary.json`. Checks everything first
 * (src/shard/partial.ts, and that each shard holds one record for each of
 * its classes) and writes nothing when a check fails.
 */
export async function mergeEval(out: string): Promise<MergeEvalSummary> {
  const fail = (problem: string): never => {
    throw new UserError(`Cannot merge "${out}": ${problem}`);
  };
  const shards = await readShardSet(out, {
    kind: "eval",
    numClasses: (p) => (p.data.classes as unknown[]).length,
  });
  const first = shards[0]!.partial;
  const all = first.data.classes as { class_id: number; wnid: string }[];
  const compat = first.data.compat as CompatMode;
  const done = new Map<number, ClassRecord>();
  for (const sh of shards) {
    const p = sh.partial;
    const what = `shard ${p.shard.index} of ${p.shard.count}`;
    const lines = new TextDecoder().decode(sh.files[kLogFile]!).split("\n")
      .filter((l) => l.trim() !== "");
    const want = all.slice(p.classes.first, p.classes.end);
    const got = new Map<number, ClassRecord>();
    for (const line of lines) {
      const r = JSON.parse(line) as ClassRecord;
      got.set(r.class_id, r);
    }
    for (const c of want) {
      const r = got.get(c.class_id);
      if (!r) fail(`${what} has no record of class ${c.class_id}`);
      done.set(c.class_id, r!);
    }
    if (got.size !== want.length) {
      fail(`${what} holds records of classes outside its range`);
    }
  }
  // An evaluation already in `out/` must be this one.
  const configPath = join(out, "config.json");
  const existing = await Deno.readTextFile(configPath).then(
    (t) => JSON.parse(t) as Record<string, unknown>,
    () => null,
  );
  if (existing) {
    const skip = first.unchecked_keys;
    const strip = (c: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(c).filter(([k]) => !skip.includes(k)));
    const d = firstDifference(strip(existing), strip(first.config));
    if (d) {
      fail(
        `it already holds an evaluation with another configuration (${d.key}: ${
          canonicalJson(d.saved).slice(0, 40)
        }); merge into another folder`,
      );
    }
  }
  const classes: EvalClass[] = all.map((c) => ({
    classId: c.class_id,
    wnid: c.wnid,
    mask: new Uint8Array(0),
  }));
  await writeJsonAtomic(configPath, first.config);
  await writeFileAtomic(
    join(out, kLogFile),
    all.map((c) => JSON.stringify(done.get(c.class_id)) + "\n").join(""),
  );
  await writeTables(out, classes, done);
  const summary = summarize(first.config, classes, done, compat);
  await writeJsonAtomic(join(out, "summary.json"), summary);
  return { out, shards: shards.length, summary };
}
