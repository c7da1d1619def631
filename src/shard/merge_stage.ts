/**
 * Merge of a sharded search stage: join the shards of one search stage into the
 * stage folder an unsharded run writes.
 *
 * Each shard (`DIR/shard-i-of-n/`, written by a search with shard i/n) holds the
 * per-candidate × per-class sums of its classes and, in `partial.json`, the
 * stage's configuration and its manifest without the ranking. The merge
 * checks every shard (src/shard/partial.ts), places their sums side by side
 * (no addition: every cell was summed by one shard, in the unsharded order),
 * regenerates the candidate masks from the seed and the previous stage,
 * ranks, and writes `manifest.json`, `masks.npy`, `losses.npy`, `png/` and a
 * finished checkpoint, so that the next stage, sharded or not, starts from
 * it. Nothing is written when a check fails.
 */
import { dirname, join } from "node:path";
import { UserError } from "../errors.ts";
import { ClassLossAccumulator, type LossKind } from "../search/loss.ts";
import { CandidatePools, type Lineage } from "../search/lineage.ts";
import { openCheckpoint } from "../search/checkpoint.ts";
import { ConfigMismatchError } from "../io/resume_config.ts";
import {
  finishStageManifest,
  kSearchConfigOptions,
  parentClassMap,
  rankStage,
  readParentStage,
  type StageManifestBase,
  writePictures,
} from "../search/search.ts";
import { type StageData, writeStage } from "../dfm/store.ts";
import { placeShardSums } from "./accumulators.ts";
import { readShardSet } from "./partial.ts";

/** `partial.json` `data` of a search-stage shard. */
export interface SearchShardData {
  /** The stage's manifest without the ranking (`top`, `extra.accuracy`). */
  manifest: StageManifestBase;
  /** The reference loss's per-class constants (loss `reference`). */
  reference_constant: number[];
  /** Blocks of the stage's whole schedule (the finished checkpoint's position). */
  blocks: number;
}

/** What {@link mergeStage} returns. */
export interface MergeStageSummary {
  dir: string;
  stage: number;
  shards: number;
  classes: number;
  candidates: number;
  /** Candidate × image evaluations over all shards. */
  evaluations: number;
  images: number;
  /** Seconds the shards spent, summed. */
  shardSeconds: number;
}

/**
 * Merge the shards of the stage folder `dir` into it.
 * @throws UserError naming the shard and the problem, before anything is written
 */
export async function mergeStage(dir: string): Promise<MergeStageSummary> {
  const fail = (problem: string): never => {
    throw new UserError(`Cannot merge "${dir}": ${problem}`);
  };
  const shards = await readShardSet(dir, {
    kind: "search-stage",
    numClasses: (p) =>
      (p.data as unknown as SearchShardData).manifest.classes.length,
    name: (key) => kSearchConfigOptions[key] ?? key,
  });
  const first = shards[0]!.partial;
  const data = first.data as unknown as SearchShardData;
  const base = data.manifest;
  const numClasses = base.classes.length;
  const acc = new ClassLossAccumulator({
    numCandidates: base.candidates,
    numClasses,
  });
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

  const search = base.extra.search;
  const parent = base.stage > 1
    ? await readParentStage(
      base.stage,
      join(dirname(dir), search.parent!.dir),
      base.image_size,
    )
    : null;
  if (parent && parent.masksSha256 !== search.parent!.masks_sha256) {
    fail(
      `the previous stage "${parent.dir}" changed after the shards ran (its masks.npy differs); run the shards again`,
    );
  }
  const pools = new CandidatePools({
    seed: base.seed,
    stage: base.stage,
    size: base.image_size,
    candidates: base.N_B,
    proportion: base.P,
    symmetry: base.symmetry,
    lineage: (search.lineage_option ?? "per-class") as Lineage,
    ...(parent ? { parents: parent.parents } : {}),
    parentClassOf: parent
      ? parentClassMap(parent.stage, base.classes, parent.dir)
      : undefined,
    classKey: (c) => base.classes[c]!.index,
  });
  if (pools.count !== base.candidates) {
    fail(
      `the shards evaluated ${base.candidates} candidates per pool, this hfss generates ${pools.count}`,
    );
  }
  // A stage folder that holds another run's progress or results is refused.
  const opened = await openCheckpoint(dir, {
    config: first.config,
    optionOf: (key) => kSearchConfigOptions[key] ?? key,
  }).catch((err) => {
    if (err instanceof ConfigMismatchError) {
      fail(
        `it holds a search with another configuration (${err.key}); merge into a stage folder of this run`,
      );
    }
    throw err;
  });

  const ranked = rankStage(acc, pools, {
    loss: base.loss as LossKind,
    constant: Float64Array.from(data.reference_constant),
    numClasses,
    top: base.top_n,
    area: base.image_size * base.image_size,
  });
  const stage: StageData = {
    manifest: finishStageManifest(base, ranked),
    masks: ranked.masks,
    losses: ranked.losses,
  };
  await writeStage(dir, stage);
  await writePictures(dir, stage);
  const stats = { evaluations: 0, images: 0, seconds: 0 };
  for (const s of shards) {
    stats.evaluations += s.partial.stats.evaluations ?? 0;
    stats.images += s.partial.stats.images ?? 0;
    stats.seconds += s.partial.stats.seconds ?? 0;
  }
  await opened.checkpoint.save(
    { block: data.blocks, chunk: 0 },
    acc.toBytes(),
    stats,
    true,
  );
  return {
    dir,
    stage: base.stage,
    shards: shards.length,
    classes: numClasses,
    candidates: base.candidates,
    evaluations: stats.evaluations,
    images: stats.images,
    shardSeconds: stats.seconds,
  };
}
