/**
 * Merge of a sharded score: join the shards of a score (`DIR/shard-i-of-n/`,
 * written by a score with shard i/n) into the files an unsharded score writes
 * to `DIR/`.
 *
 * Each shard holds the per-mask × per-class sums of its classes; the merge
 * checks every shard (src/shard/partial.ts), places their sums side by side
 * (no addition: every cell was summed by one shard, in the unsharded image
 * order), and writes `losses.npy`, `accuracy.npy`, `scores.csv`,
 * `masks.csv` and `config.json` byte for byte as the unsharded run does
 * (`config.json`'s `evaluations` are the shards' sum, its `seconds` the
 * shards' summed time), and a finished checkpoint, so that an unsharded
 * `score` of this configuration reuses the merged results. Nothing is
 * written when a check fails.
 */
import { UserError } from "../errors.ts";
import { ClassLossAccumulator, type LossKind } from "../search/loss.ts";
import { openCheckpoint } from "../search/checkpoint.ts";
import { ConfigMismatchError } from "../io/resume_config.ts";
import {
  kConfigOptions,
  type ScoreShardData,
  writeScoreFiles,
} from "../score/score.ts";
import { placeShardSums } from "./accumulators.ts";
import { readShardSet } from "./partial.ts";

/** What {@link mergeScore} returns. */
export interface MergeScoreSummary {
  out: string;
  shards: number;
  masks: number;
  classes: number;
  /** Mask × image evaluations over all shards. */
  evaluations: number;
  /** Seconds the shards spent, summed. */
  shardSeconds: number;
}

/**
 * Merge the shards of the score folder `out` into it.
 * @throws UserError naming the shard and the problem, before anything is written
 */
export async function mergeScore(out: string): Promise<MergeScoreSummary> {
  const fail = (problem: string): never => {
    throw new UserError(`Cannot merge "${out}": ${problem}`);
  };
  const shards = await readShardSet(out, {
    kind: "score",
    numClasses: (p) => (p.data as unknown as ScoreShardData).classes.length,
    name: (key) => kConfigOptions[key] ?? key,
  });
  const first = shards[0]!.partial;
  const data = first.data as unknown as ScoreShardData;
  const numClasses = data.classes.length;
  const n = data.origins.length;
  const acc = new ClassLossAccumulator({ numCandidates: n, numClasses });
  for (const s of shards) {
    try {
      placeShardSums(acc, s.partial.classes, s.files, s.dir);
    } catch (err) {
      fail(
        `shard ${s.partial.shard.index} of ${s.partial.shard.count} is corrupt (${
          (err as Error).message
        })`,
      );
    }
  }
  // A folder that holds another score's progress or results is refused.
  const opened = await openCheckpoint(out, {
    config: first.config,
    optionOf: (key) => kConfigOptions[key] ?? key,
  }).catch((err) => {
    if (err instanceof ConfigMismatchError) {
      fail(
        `it holds a score with another configuration (${err.key}); merge into the output folder of this score`,
      );
    }
    throw err;
  });
  const stats = { evaluations: 0, images: 0, seconds: 0 };
  for (const s of shards) {
    stats.evaluations += s.partial.stats.evaluations ?? 0;
    stats.images += s.partial.stats.images ?? 0;
    stats.seconds += s.partial.stats.seconds ?? 0;
  }
  await writeScoreFiles(out, {
    losses: acc.losses(
      data.record.loss as LossKind,
      Float64Array.from(data.reference_constant),
    ),
    accuracy: acc.accuracy(),
    masks: { count: n, origins: data.origins },
    classes: data.classes,
    images: data.images,
    record: {
      ...data.record,
      evaluations: stats.evaluations,
      seconds: stats.seconds,
    },
  });
  await opened.checkpoint.save(
    { block: data.blocks, chunk: 0 },
    acc.toBytes(),
    stats,
    true,
  );
  return {
    out,
    shards: shards.length,
    masks: n,
    classes: numClasses,
    evaluations: stats.evaluations,
    shardSeconds: stats.seconds,
  };
}
