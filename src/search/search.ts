/**
 * The staged HFSS search, end to end (`hfss search`, and `hfss demo` through
 * {@link runSearch}).
 *
 * Steps: resolve and check the options (options.ts), open the model and the
 * data ({@link openSearchInputs}), then for each stage k ({@link runStage}):
 * build the stage's candidate pools (lineage.ts), evaluate them over the
 * search subset once (images outer, candidates inner; mask_evaluation.ts),
 * rank the candidates of every class by its loss ({@link rankStage}) and
 * write the stage folder `<out>/stage<k>/` (dfm/store.ts). Stage k > 1 takes its parents
 * from stage k−1 (this run's, or `from`).
 *
 * Search subset: the dataset (after `classes`), split with `stratifiedSplit`
 * (`split`, seed stream "split"; `split` 1 keeps every image), optionally
 * capped per class (`perClass`), then put in a seeded random order (stream
 * "search-order"), like the permuted test indices of the reference's
 * StratifiedShuffleSplit. That order defines the batches of the
 * reference loss (consecutive `batchSize` images) and the visiting order of
 * shared pools. Per-class pools visit their class's images in that order,
 * class after class.
 *
 * Determinism: blocks (images per filter load) and chunks (candidates per
 * model call) depend only on the configuration, and every accumulator cell
 * is summed in image order, so a resumed run writes byte-identical stage
 * files. Nothing time-dependent goes into a stage folder; timings are in the
 * returned summary and in `.checkpoint/state.json`.
 */
import { join, relative, resolve } from "node:path";
import { OptionError, UserError } from "../errors.ts";
import { finiteOrNull } from "../io/json.ts";
import { Rng } from "../rng.ts";
import { GpuContext } from "../gpu/context.ts";
import { SpectralFilter } from "../gpu/spectral_filter.ts";
import {
  type Dataset,
  describeDataset,
  openDataset,
  perClass as perClassSample,
  type Sample,
  stratifiedSplit,
} from "../data/dataset.ts";
import {
  kDefaultCropPct,
  kDefaultInterpolation,
  type Normalization,
  type ResolvedNormalization,
  resolveNormalization,
} from "../data/preprocess.ts";
import { ModelSession } from "../model/session.ts";
import { gridSize, stageCount, stageGeometry } from "../dfm/grid.ts";
import {
  type DfmClass,
  type DfmClassTop,
  kStageFiles,
  newStageManifest,
  readStage,
  type StageData,
  stageDir,
  type StageManifest,
  type StageManifestFields,
  stageMask,
  writeStage,
} from "../dfm/store.ts";
import { writeStagePictures } from "../dfm/render.ts";
import { pathExists, readInputFile } from "../io/read.ts";
import {
  type CheckpointStats,
  openCheckpoint,
  type OpenedCheckpoint,
} from "./checkpoint.ts";
import { sha256Hex } from "../io/sha256.ts";
import { RunLock } from "../io/lock.ts";
import { ConfigMismatchError } from "../io/resume_config.ts";
import {
  arraySha256,
  type FinishedStatus,
  finishedStatus,
  stageFingerprint,
} from "./finished.ts";
import { shardName } from "../shard/partition.ts";
import {
  ClassLossAccumulator,
  type LossKind,
  referenceBatching,
} from "./loss.ts";
import { topN } from "./topn.ts";
import { CandidatePools, type Lineage, type Parents } from "./lineage.ts";
import type { EvaluateResult, StageTimings } from "./evaluate.ts";
import {
  evaluateMasks,
  type MaskSpace,
  scheduleBlocks,
} from "./mask_evaluation.ts";
import { raceRecord, RaceState } from "./race.ts";
import {
  loadRaceStateBytes,
  newRaceQueue,
  raceMasks,
  raceStateBytes,
  survivorLosses,
} from "./race_stage.ts";
import { shardClasses } from "../shard/partition.ts";
import {
  configDigest,
  kPartialFile,
  readPartialRecord,
  shardDir,
  writePartial,
} from "../shard/partial.ts";
import { encodeShardSums } from "../shard/accumulators.ts";
import type { SearchShardData } from "../shard/merge_stage.ts";
import {
  kSearchConfigOptions,
  kSearchDefaults,
  kSearchOptionKeys,
  resolveSearchConfig,
  type SearchConfig,
  type SearchOptions,
} from "./options.ts";

export type { MaskSpace, SearchConfig, SearchOptions };
export {
  kSearchConfigOptions,
  kSearchDefaults,
  kSearchOptionKeys,
  resolveSearchConfig,
};

/** Progress hooks of {@link runSearch}. */
export interface SearchProgress {
  start(stage: number, totalEvaluations: number, doneEvaluations: number): void;
  tick(evaluations: number): void;
  finish(stage: number, summary: StageSummary): void;
}

/** Figures of one stage; the timings are this run's. */
export interface StageSummary extends StageTimings {
  stage: number;
  dir: string;
  /** True when the stage was already finished with this configuration. */
  skipped: boolean;
  /** True when this run continued from a checkpoint. */
  resumed: boolean;
  grid: number;
  candidates: number;
  classes: number;
  images: number;
  /** Candidate × image evaluations of the whole stage. */
  evaluations: number;
  /** Evaluations done by this process. */
  evaluationsThisRun: number;
  /** Wall seconds of this process on the stage. */
  seconds: number;
  /** Seconds over all runs (checkpointed). */
  totalSeconds: number;
  /** evaluationsThisRun / seconds. */
  evaluationsPerSecond: number;
}

/** What {@link runSearch} returns. */
export interface SearchSummary {
  out: string;
  /** The resolved configuration (defaults filled in). */
  config: Record<string, unknown>;
  stages: StageSummary[];
}

function defaultLog(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
}

/** The search subset in its fixed order. */
export function searchSubset(
  ds: Dataset,
  opts: { split: number; perClass?: number | undefined; seed: number },
): Sample[] {
  const rng = new Rng(opts.seed);
  let subset: Sample[] = opts.split >= 1
    ? [...ds.samples]
    : stratifiedSplit(ds.samples, opts.split, rng);
  if (opts.perClass !== undefined) {
    subset = perClassSample(subset, opts.perClass, rng);
  }
  return rng.fork("search-order").shuffle(subset);
}

/** The opened inputs of a search: model, normalisation and the search subset. */
export interface SearchInputs {
  session: ModelSession;
  modelPath: string;
  modelSha256: string;
  /** Model input side S. */
  size: number;
  numLogits: number;
  norm: ResolvedNormalization;
  ds: Dataset;
  /** The search images in their fixed order. */
  subset: Sample[];
  subsetHash: string;
  numClasses: number;
  /** Class position (in `ds.classes`) of every subset image. */
  classOf: Int32Array;
  /** Model output index of every subset image. */
  targetOf: Int32Array;
  /**
   * Everything that changes results (paths are not: the model is identified
   * by its bytes, the images by their paths relative to the root and labels).
   */
  runConfig: Record<string, unknown>;
}

/**
 * Open the model and the dataset and fix the search subset. The caller
 * releases `session`.
 */
export async function openSearchInputs(
  opts: SearchOptions,
  cfg: SearchConfig,
): Promise<SearchInputs> {
  // Model first: it fixes S and K.
  const modelPath = opts.model;
  const modelBytes = await readInputFile(modelPath, "Cannot open model");
  const modelSha256 = await sha256Hex(modelBytes);
  const session = await ModelSession.open(modelPath, {
    bytes: modelBytes,
    backend: cfg.backend,
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    ...(opts.size !== undefined ? { size: opts.size } : {}),
  });
  try {
    // the data is decoded as RGB
    session.checkFits({ channels: 3 });
    const norm: ResolvedNormalization = cfg.normalize
      ? { ...cfg.normalize, source: "flag" }
      : resolveNormalization({}, session.info, modelPath);
    const size = session.info.size;
    const numLogits = session.info.numClasses;
    const lastStage = stageCount(size);
    for (const k of cfg.stages) {
      if (k > lastStage) gridSize(size, k); // throws the grid module's message
    }
    const ds = opts.dataset ?? await openDataset(opts.data!, {
      layout: opts.layout ?? "auto",
      ...(opts.classes ? { classes: opts.classes } : {}),
    });
    const log = opts.log ?? defaultLog;
    log(`data: ${ds.root} (${describeDataset(ds)})`);
    for (const n of ds.notes) log(`note: ${n}`);
    const classPos = new Map<number, number>();
    ds.classes.forEach((c, i) => classPos.set(c.index, i));
    for (const c of ds.classes) {
      if (c.index >= numLogits) {
        throw new UserError(
          `Cannot search class ${c.index} ("${c.name}"): the model has ${numLogits} outputs`,
        );
      }
    }
    const subset = searchSubset(ds, cfg);
    const subsetHash = await sha256Hex(
      subset.map((s) => `${relativeTo(ds.root, s.path)}\t${s.label}`).join(
        "\n",
      ),
    );
    // Results depend on the values, not on where they came from: the source
    // is left out of the resume check.
    const normValues: Normalization = {
      name: norm.name,
      mean: [...norm.mean],
      std: [...norm.std],
    };
    const runConfig: Record<string, unknown> = {
      modelSha256,
      imageSize: size,
      numLogits,
      classes: ds.classes.map((c) => c.index),
      images: subset.length,
      subset: subsetHash,
      candidates: cfg.candidates,
      proportion: cfg.proportion,
      top: cfg.top,
      split: cfg.split,
      perClass: cfg.perClass ?? null,
      batchSize: cfg.batchSize,
      blockImages: cfg.blockImages,
      seed: cfg.seed,
      symmetry: cfg.symmetry,
      loss: cfg.loss,
      lineage: cfg.lineage,
      maskSpace: cfg.maskSpace,
      resize: cfg.resize,
      cropPct: cfg.cropPct,
      // Recorded only when not the default, so earlier runs still resume.
      ...(cfg.interpolation !== kDefaultInterpolation
        ? { interpolation: cfg.interpolation }
        : {}),
      normalization: normValues,
      backend: cfg.backend,
      ...(cfg.race ? { race: raceRecord(cfg.race) } : {}),
    };
    return {
      session,
      modelPath,
      modelSha256,
      size,
      numLogits,
      norm,
      ds,
      subset,
      subsetHash,
      numClasses: ds.classes.length,
      classOf: Int32Array.from(subset, (s) => classPos.get(s.label)!),
      targetOf: Int32Array.from(subset, (s) => s.label),
      runConfig,
    };
  } catch (err) {
    await session.release();
    throw err;
  }
}

/**
 * Run the stages of a search and write `<out>/stage<k>/` for each.
 *
 * @example
 * ```ts
 * const summary = await runSearch({
 *   model: "model.onnx", data: "images/", stages: [1, 2], out: "DFM/runs/x",
 *   candidates: 12, split: 1,
 * });
 * console.log(summary.stages[0]!.evaluationsPerSecond);
 * ```
 */
export async function runSearch(opts: SearchOptions): Promise<SearchSummary> {
  const log = opts.log ?? defaultLog;
  const cfg = resolveSearchConfig(opts);
  // One run per folder (per shard for a sharded run); taking the lock also
  // proves the folder writable, before any compute.
  const lock = RunLock.acquire(
    opts.out,
    "search",
    opts.shard ? { name: shardName(opts.shard) } : {},
  );
  if (lock.takenOver) {
    const t = lock.takenOver;
    log(
      `note: took over "${opts.out}" from process ${t.pid} on ${t.hostname} (${t.command}, since ${t.started_at}), which is no longer running`,
    );
  }
  let inputs: SearchInputs;
  try {
    inputs = await openSearchInputs(opts, cfg);
  } catch (err) {
    lock.release();
    throw err;
  }
  const run: StageRun = {
    opts,
    cfg,
    inputs,
    log,
    batching: referenceBatching(inputs.classOf, {
      numClasses: inputs.numClasses,
      batchSize: cfg.batchSize,
      numLogits: inputs.numLogits,
    }),
    gpu: opts.gpu,
    filter: undefined,
  };
  try {
    logSearch(run);
    checkCandidates(cfg, inputs.size);
    const summaries: StageSummary[] = [];
    const first = cfg.stages[0]!;
    let parentDir = first > 1
      ? (opts.from ?? stageDir(opts.out, first - 1))
      : null;
    for (const k of cfg.stages) {
      summaries.push(await runStage(run, k, parentDir));
      parentDir = stageDir(opts.out, k);
    }
    return {
      out: opts.out,
      config: {
        ...inputs.runConfig,
        normalization: normalizationRecord(inputs.norm),
      },
      stages: summaries,
    };
  } finally {
    run.filter?.[Symbol.dispose]();
    if (!opts.gpu) run.gpu?.[Symbol.dispose]();
    await inputs.session.release();
    lock.release();
  }
}

/** Bytes of one pool's candidate masks, at most (1 GiB). */
const kMaxPoolBytes = 2 ** 30;

/**
 * Refuse, before any compute, a candidate count whose masks no memory holds
 * and a top-N above a stage's candidates (it would be padded).
 */
function checkCandidates(cfg: SearchConfig, size: number): void {
  const area = size * size;
  for (const k of cfg.stages) {
    const variants = stageGeometry(size, k).variants.length;
    const m = Math.floor(cfg.candidates / 3) * variants;
    if (m * area > kMaxPoolBytes) {
      const most = 3 * Math.floor(kMaxPoolBytes / (area * variants));
      throw new OptionError(
        "candidates",
        `expected at most ${most} for ${size}x${size} images (the masks of one pool would take ${
          (m * area / 2 ** 30).toFixed(1)
        } GiB), got ${cfg.candidates}`,
      );
    }
    if (cfg.top > m) {
      throw new OptionError(
        "top",
        `expected at most the ${m} candidates of stage ${k}, got ${cfg.top}`,
      );
    }
  }
}

/** What the stages of one run share; the GPU objects are created on first use. */
interface StageRun {
  opts: SearchOptions;
  cfg: SearchConfig;
  inputs: SearchInputs;
  log: (line: string) => void;
  batching: ReturnType<typeof referenceBatching>;
  gpu: GpuContext | undefined;
  filter: SpectralFilter | undefined;
}

function logSearch({ opts, cfg, inputs, log }: StageRun): void {
  const { norm } = inputs;
  log(
    `hfss search: model ${inputs.modelPath} (S=${inputs.size}${
      inputs.session.info.sizeSource === "default"
        ? ": symbolic input size, run at the default side"
        : ""
    }, ${inputs.numLogits} outputs, ${cfg.backend}), ` +
      `${inputs.numClasses} classes, ${inputs.subset.length} search images (split ${cfg.split}` +
      `${
        opts.perClass ? `, at most ${opts.perClass} per class` : ""
      }), stages ${cfg.stages.join(",")}`,
  );
  log(
    `  N_B ${cfg.candidates}, P ${cfg.proportion}, top ${cfg.top}, batch ${cfg.batchSize}, seed ${cfg.seed}, ` +
      `symmetry ${cfg.symmetry}, loss ${cfg.loss}, lineage ${cfg.lineage}, mask ${cfg.maskSpace}, ` +
      `resize ${cfg.resize} (${cfg.interpolation}), normalize ${norm.name} (mean ${
        norm.mean.join(",")
      } std ${norm.std.join(",")}; ${kSourceText[norm.source]})`,
  );
}

/** The previous stage as stage k's parents. */
export interface ParentStage {
  dir: string;
  stage: StageData;
  parents: Parents;
  masksSha256: string;
}

/** Read and check stage k − 1 in `dir` for stage k's parents. */
export async function readParentStage(
  k: number,
  dir: string,
  size: number,
): Promise<ParentStage> {
  const stage = await readStage(dir).catch((err) => {
    throw new UserError(
      `Cannot start stage ${k}: the previous stage "${dir}" is not readable (${
        (err as Error).message
      }); run stage ${k - 1} first or give the previous stage's folder`,
    );
  });
  const pm = stage.manifest;
  if (pm.image_size !== size) {
    throw new UserError(
      `Cannot start stage ${k} from "${dir}": its masks are ${pm.image_size}x${pm.image_size}, the model takes ${size}`,
    );
  }
  if (pm.stage !== k - 1) {
    throw new UserError(
      `Cannot start stage ${k} from "${dir}": it holds stage ${pm.stage}, expected ${
        k - 1
      }`,
    );
  }
  const masksSha256 = await sha256Hex(
    await Deno.readFile(join(dir, pm.files.masks)),
  );
  return {
    dir,
    stage,
    masksSha256,
    parents: {
      stage: pm.stage,
      numClasses: pm.classes.length,
      ranksOf: (c) => stage.manifest.top[c]?.candidates.length ?? pm.top_n,
      mask: (c, r) => stageMask(stage, c, r),
    },
  };
}

/** Run one stage: evaluate its candidates (or find it finished), rank, write. */
async function runStage(
  run: StageRun,
  k: number,
  parentDir: string | null,
): Promise<StageSummary> {
  const { opts, cfg, inputs, log } = run;
  const { size, ds, numClasses } = inputs;
  const dir = stageDir(opts.out, k);
  const parent = k > 1 ? await readParentStage(k, parentDir!, size) : null;
  const pools = new CandidatePools({
    seed: cfg.seed,
    stage: k,
    size,
    candidates: cfg.candidates,
    proportion: cfg.proportion,
    symmetry: cfg.symmetry,
    lineage: cfg.lineage,
    ...(parent ? { parents: parent.parents } : {}),
    parentClassOf: parent
      ? parentClassMap(parent.stage, ds.classes, parent.dir)
      : undefined,
    classKey: (c) => ds.classes[c]!.index,
  });
  // Lineage does not change stage 1 (one shared pool, no parents).
  const config = {
    ...inputs.runConfig,
    lineage: k === 1 ? null : cfg.lineage,
    stage: k,
    parent: parent?.masksSha256 ?? null,
    // Shared pools once took the subset in order, mixing classes in a
    // block; progress saved under that schedule cannot resume.
    ...(pools.shared ? { schedule: "class-blocks" } : {}),
  };
  if (opts.shard) {
    return await runShardStage(run, k, { dir, parent, pools, config });
  }
  const M = pools.count;
  const grid = gridSize(size, k);
  // Finished = the files check out against a manifest of this configuration
  // (with or without `.checkpoint/`); `restart` recomputes regardless, and
  // keeps the old files until the new ones are written.
  const status: FinishedStatus = opts.restart
    ? { kind: "absent" }
    : await finishedStatus(dir, stageFingerprint(config));
  if (status.kind === "finished") {
    // pictures are written before the checkpoint is marked done: without
    // that mark they may be partial
    if (
      !(await pathExists(join(dir, kStageFiles.png))) ||
      !(await checkpointDone(dir))
    ) {
      await writePictures(dir, status.stage);
    }
    log(
      `stage ${k}: already finished with this configuration (${dir}); skipped`,
    );
    const images = Number(status.stage.manifest.split.images ?? 0);
    return stageSummary(k, dir, {
      grid,
      candidates: M,
      classes: numClasses,
      stats: { evaluations: M * images, images, seconds: 0 },
      skipped: true,
    });
  }
  const opened = await openCheckpoint(dir, {
    config,
    optionOf: (key) => kSearchConfigOptions[key] ?? key,
    ...(opts.restart ? { restart: true } : {}),
  });
  if (status.kind === "other" && opened.state === null) {
    // a finished stage of another configuration, and no progress of this
    // one (which an earlier restart would have left): never overwritten
    const key = status.difference.key.replace(
      /_([a-z])/g,
      (_, c: string) => c.toUpperCase(),
    );
    throw new ConfigMismatchError({
      run: "search",
      dir,
      difference: status.difference,
      option: kSearchConfigOptions[key] ?? key,
      discards: "results",
    });
  }
  if (status.kind === "damaged") {
    log(
      `note: stage ${k} in "${dir}" is damaged (${status.why}); computing it again`,
    );
  }

  const { acc, blocks, result, resumed, stats, race } = await evaluatePools(
    run,
    k,
    pools,
    opened,
    null,
    `stage ${k}: grid ${grid}, ${M} candidates per pool (${
      pools.shared ? "shared pool" : "one pool per class"
    })`,
  );

  const ranked = rankStage(acc, pools, {
    ...(race ? { race } : {}),
    loss: cfg.loss,
    constant: run.batching.constant,
    numClasses,
    top: cfg.top,
    area: size * size,
  });
  const total = M * inputs.subset.length;
  const manifest = finishStageManifest(
    stageManifestBase(run, k, pools, parent, config),
    ranked,
  );
  if (race) {
    // Raced stages only: exhaustive manifests keep the shards' key set.
    manifest.race = raceRecord(race.params);
    manifest.evaluations_spent = stats.evaluations;
    manifest.evaluations_exhaustive = total;
  }
  const stage: StageData = {
    manifest,
    masks: ranked.masks,
    losses: ranked.losses,
  };
  await writeStage(dir, stage);
  // Before the stage is marked done: a finished stage has its pictures.
  await writePictures(dir, stage);
  await opened.checkpoint.save(
    { block: blocks.length, chunk: 0 },
    race ? raceStateBytes(acc, race, newRaceQueue()) : acc.toBytes(),
    stats,
    true,
  );
  const s = stageSummary(k, dir, {
    grid,
    candidates: M,
    classes: numClasses,
    stats,
    resumed,
    result,
  });
  opts.progress?.finish(k, s);
  const spent = race
    ? `raced (${race.params.rule}): ${stats.evaluations} of ${total} evaluations (${
      (total / Math.max(1, stats.evaluations)).toFixed(2)
    }x fewer)`
    : `${M} candidates x ${stats.images} images = ${stats.evaluations} evaluations`;
  log(
    `stage ${k}: ${spent}; ` +
      `${s.evaluationsPerSecond.toFixed(1)} evaluations/s, ${
        s.seconds.toFixed(1)
      } s ` +
      `(model ${s.modelSeconds.toFixed(1)} s, filter ${
        s.filterSeconds.toFixed(1)
      } s, ` +
      `images ${s.loadSeconds.toFixed(1)} s, masks+FFT ${
        s.prepareSeconds.toFixed(1)
      } s, loss ${s.lossSeconds.toFixed(1)} s, checkpoints ${
        s.checkpointSeconds.toFixed(1)
      } s) -> ${dir}`,
  );
  return s;
}

/**
 * Run shard `opts.shard` of stage k: evaluate the stage's candidates on the
 * images of the shard's classes only (the same blocks and model calls as in
 * the unsharded run) and write its sums and the stage's manifest fields to
 * `<dir>/shard-<i>-of-<n>/` (src/shard/partial.ts). Resumable like a stage;
 * a finished shard of this configuration is skipped.
 */
async function runShardStage(
  run: StageRun,
  k: number,
  o: {
    dir: string;
    parent: ParentStage | null;
    pools: CandidatePools;
    config: Record<string, unknown>;
  },
): Promise<StageSummary> {
  const { opts, cfg, inputs, log } = run;
  const { size, numClasses } = inputs;
  const shard = opts.shard!;
  const perClass = imagesPerClass(inputs);
  const range = shardClasses(perClass, shard);
  const sdir = shardDir(o.dir, shard);
  const name = `stage ${k}, shard ${shard.index} of ${shard.count}`;
  const M = o.pools.count;
  const grid = gridSize(size, k);
  const finished = opts.restart
    ? null
    : await readPartialRecord(sdir).catch(() => null);
  if (finished?.config_sha256 === await configDigest(o.config)) {
    log(`${name}: already finished with this configuration (${sdir}); skipped`);
    return stageSummary(k, sdir, {
      grid,
      candidates: M,
      classes: range.end - range.first,
      stats: finished.stats as unknown as CheckpointStats,
      skipped: true,
    });
  }
  const opened = await openCheckpoint(sdir, {
    config: { ...o.config, shard: { ...shard } },
    optionOf: (key) => kSearchConfigOptions[key] ?? key,
    ...(opts.restart ? { restart: true } : {}),
  });
  await Deno.remove(join(sdir, kPartialFile)).catch(() => {});
  // The shard's images: its classes', in the subset's order.
  const idx: number[] = [];
  inputs.classOf.forEach((c, i) => {
    if (c >= range.first && c < range.end) idx.push(i);
  });
  const { acc, blocks, result, resumed, stats } = await evaluatePools(
    run,
    k,
    o.pools,
    opened,
    idx,
    `${name}: classes ${range.first}-${range.end - 1} of ${numClasses}`,
  );
  await opened.checkpoint.save(
    { block: blocks.length, chunk: 0 },
    acc.toBytes(),
    stats,
    true,
  );
  const data: SearchShardData = {
    manifest: stageManifestBase(run, k, o.pools, o.parent, o.config),
    reference_constant: [...run.batching.constant],
    blocks: scheduleBlocks(inputs.classOf, {
      blockImages: cfg.blockImages,
      numClasses,
    }).length,
  };
  // Last: partial.json marks the shard complete.
  await writePartial(sdir, {
    kind: "search-stage",
    shard,
    classes: range,
    config: o.config,
    data: data as unknown as Record<string, unknown>,
    stats: { ...stats },
  }, encodeShardSums(acc, range));
  const s = stageSummary(k, sdir, {
    grid,
    candidates: M,
    classes: range.end - range.first,
    stats,
    resumed,
    result,
  });
  opts.progress?.finish(k, s);
  log(
    `${name}: ${s.evaluationsThisRun} evaluations, ${
      s.evaluationsPerSecond.toFixed(1)
    } evaluations/s, ${s.seconds.toFixed(1)} s -> ${sdir}`,
  );
  return s;
}

/**
 * Evaluate the stage's pools over the subset images `idx` (every image when
 * null) from the checkpoint's position on, after restoring the accumulators
 * and figures an earlier run saved; `what` starts the log line.
 */
async function evaluatePools(
  run: StageRun,
  k: number,
  pools: CandidatePools,
  opened: OpenedCheckpoint,
  idx: number[] | null,
  what: string,
): Promise<
  Awaited<ReturnType<typeof evaluateMasks>> & {
    resumed: boolean;
    stats: CheckpointStats;
    /** The race of a raced stage (never for a shard). */
    race: RaceState | null;
  }
> {
  const { opts, cfg, inputs, log } = run;
  const { size, numClasses } = inputs;
  const acc = new ClassLossAccumulator({
    numCandidates: pools.count,
    numClasses,
  });
  let start = { block: 0, chunk: 0 };
  const prior = { evaluations: 0, images: 0, seconds: 0 };
  const race = cfg.race && !idx
    ? new RaceState({
      params: cfg.race,
      numCandidates: pools.count,
      imagesOf: imagesPerClass(inputs),
    })
    : null;
  let queue = newRaceQueue();
  if (opened.state && opened.acc) {
    // A raced stage restores its accumulators with the race and its queue.
    if (race) queue = loadRaceStateBytes(opened.acc, acc, race);
    else acc.loadBytes(opened.acc);
    start = opened.state.position;
    Object.assign(prior, opened.state.stats);
  }
  const resumed = opened.state !== null;
  const ints = (all: Int32Array) =>
    idx ? Int32Array.from(idx, (i) => all[i]!) : all;
  const images = idx ? idx.map((i) => inputs.subset[i]!) : inputs.subset;
  const total = pools.count * images.length;
  log(
    `${what}, ${images.length} images, ${total} evaluations` +
      (resumed ? `; resuming at ${prior.evaluations} evaluations` : ""),
  );
  opts.progress?.start(k, total, prior.evaluations);
  run.gpu ??= await GpuContext.create();
  run.filter ??= await SpectralFilter.create(run.gpu, {
    size,
    channels: 3,
    maxImages: cfg.blockImages,
  });
  const common = {
    images,
    classOf: ints(inputs.classOf),
    targetOf: ints(inputs.targetOf),
    numClasses,
    numLogits: inputs.numLogits,
    masks: pools,
    preprocess: {
      size,
      resize: cfg.resize,
      cropPct: cfg.cropPct ?? kDefaultCropPct,
      interpolation: cfg.interpolation,
      norm: inputs.norm,
      maskSpace: cfg.maskSpace,
      ...(opts.maxPixels !== undefined ? { maxPixels: opts.maxPixels } : {}),
    },
    batchSize: cfg.batchSize,
    weightOf: idx
      ? Float64Array.from(idx, (i) => run.batching.weight[i]!)
      : run.batching.weight,
    filter: run.filter,
    model: inputs.session,
    prior,
    checkpoint: opened.checkpoint,
    checkpointSeconds: cfg.checkpointSeconds,
    onProgress: (n: number) => opts.progress?.tick(n),
    log,
  };
  const evaluated = race
    ? {
      acc,
      blocks: [],
      result: await raceMasks({ ...common, loss: cfg.loss, acc, race, queue }),
    }
    : await evaluateMasks({
      ...common,
      blockImages: cfg.blockImages,
      acc,
      start,
      ...(opts.overlap !== undefined ? { overlap: opts.overlap } : {}),
    });
  const { result } = evaluated;
  return {
    ...evaluated,
    race,
    resumed,
    stats: {
      evaluations: prior.evaluations + result.evaluations,
      images: prior.images + result.images,
      seconds: prior.seconds + result.seconds,
    },
  };
}

/** The summary of a stage (or a shard of it): totals, and this run's figures. */
function stageSummary(
  k: number,
  dir: string,
  o: {
    grid: number;
    candidates: number;
    classes: number;
    stats: CheckpointStats;
    skipped?: boolean;
    resumed?: boolean;
    result?: EvaluateResult;
  },
): StageSummary {
  const r = o.result;
  return {
    stage: k,
    dir,
    skipped: o.skipped ?? false,
    resumed: o.resumed ?? false,
    grid: o.grid,
    candidates: o.candidates,
    classes: o.classes,
    images: o.stats.images,
    evaluations: o.stats.evaluations,
    evaluationsThisRun: r?.evaluations ?? 0,
    seconds: r?.seconds ?? 0,
    totalSeconds: o.stats.seconds,
    evaluationsPerSecond: r && r.seconds > 0 ? r.evaluations / r.seconds : 0,
    modelSeconds: r?.timings.modelSeconds ?? 0,
    filterSeconds: r?.timings.filterSeconds ?? 0,
    loadSeconds: r?.timings.loadSeconds ?? 0,
    prepareSeconds: r?.timings.prepareSeconds ?? 0,
    lossSeconds: r?.timings.lossSeconds ?? 0,
    checkpointSeconds: r?.timings.checkpointSeconds ?? 0,
  };
}

/** The top-N of every class: masks, losses and the manifest's records. */
export interface RankedStage {
  /** `[K, top, S, S]` masks. */
  masks: Uint8Array;
  /** `[K, top]` losses (NaN where a class kept fewer candidates). */
  losses: Float64Array;
  top: DfmClassTop[];
  /** Class accuracy of each kept candidate (null where undefined). */
  accuracy: (number | null)[][];
}

/** Rank the candidates of every class by its loss and keep the top N. */
export function rankStage(
  acc: ClassLossAccumulator,
  pools: CandidatePools,
  o: {
    loss: LossKind;
    constant: Float64Array;
    numClasses: number;
    top: number;
    area: number;
    /** A raced stage: rank only each class's survivors. */
    race?: RaceState;
  },
): RankedStage {
  const { numClasses, top, area } = o;
  const all = acc.losses(o.loss, o.constant);
  const losses = o.race ? survivorLosses(all, o.race) : all;
  const accuracy = acc.accuracy();
  const best = topN(losses, { numCandidates: pools.count, numClasses, n: top });
  const masks = new Uint8Array(numClasses * top * area);
  const topLosses = new Float64Array(numClasses * top).fill(NaN);
  const topEntries: DfmClassTop[] = [];
  const topAccuracy: (number | null)[][] = [];
  for (let c = 0; c < numClasses; c++) {
    const ids = best.indices[c]!;
    const kept = ids.map((id) => pools.candidate(c, id));
    ids.forEach((id, r) => {
      masks.set(kept[r]!.mask, (c * top + r) * area);
      topLosses[c * top + r] = losses[id * numClasses + c]!;
    });
    topEntries.push({
      candidates: ids,
      losses: ids.map((id) => finiteOrNull(losses[id * numClasses + c]!)),
      parents: kept.map(({ parent: p }) => {
        return p
          ? { class_pos: p.classPos, rank: p.rank, stage: p.stage }
          : null;
      }),
    });
    topAccuracy.push(
      ids.map((id) => finiteOrNull(accuracy[id * numClasses + c]!)),
    );
  }
  return {
    masks,
    losses: topLosses,
    top: topEntries,
    accuracy: topAccuracy,
  };
}

/**
 * Stage k's manifest without the ranking (`top`, `extra.accuracy`): what a
 * shard records for the merge, JSON as it is.
 */
export type StageManifestBase =
  & Omit<StageManifestFields, "top" | "extra">
  & {
    extra: {
      search: {
        lineage_option: Lineage | null;
        batch_size: number;
        block_images: number;
        backend: string;
        parent: { dir: string; masks_sha256: string } | null;
        configuration: Record<string, unknown>;
      };
      images_per_class: number[];
      dataset: {
        layout: string;
        layout_reason: string;
        counts: Record<string, number>;
        notes: string[];
      };
    };
  };

/** Stage k's manifest fields without the ranking. */
function stageManifestBase(
  run: StageRun,
  k: number,
  pools: CandidatePools,
  parent: ParentStage | null,
  config: Record<string, unknown>,
): StageManifestBase {
  const { opts, cfg, inputs } = run;
  const { ds, subset, norm, size } = inputs;
  return {
    model: { path: inputs.modelPath, sha256: inputs.modelSha256 },
    image_size: size,
    stage: k,
    grid: gridSize(size, k),
    seed: cfg.seed,
    P: cfg.proportion,
    N_B: cfg.candidates,
    candidates: pools.count,
    top_n: cfg.top,
    symmetry: cfg.symmetry,
    loss: cfg.loss,
    lineage: pools.shared ? "shared" : "per-class",
    normalization: normalizationRecord(norm),
    masking: cfg.maskSpace,
    resize: cfg.resize,
    crop_pct: cfg.cropPct,
    interpolation: cfg.interpolation,
    split: {
      root: ds.root,
      layout: ds.layout,
      fraction: cfg.split,
      per_class: cfg.perClass ?? null,
      seed: cfg.seed,
      images: subset.length,
      order: "stratifiedSplit then shuffled with stream search-order",
      subset_sha256: inputs.subsetHash,
    },
    classes: ds.classes.map((c) => {
      const e: DfmClass = { index: c.index, name: c.name };
      if (c.wnid) e.wnid = c.wnid;
      return e;
    }),
    extra: {
      search: {
        lineage_option: k === 1 ? null : cfg.lineage,
        batch_size: cfg.batchSize,
        block_images: cfg.blockImages,
        backend: cfg.backend,
        parent: parent
          ? {
            dir: relative(opts.out, parent.dir),
            masks_sha256: parent.masksSha256,
          }
          : null,
        // what "finished" is checked against (finished.ts)
        configuration: stageFingerprint(config),
      },
      images_per_class: imagesPerClass(inputs),
      dataset: {
        layout: ds.layout,
        layout_reason: ds.layoutReason,
        counts: { ...ds.counts },
        notes: ds.notes,
      },
    },
  };
}

/** The manifest of a stage: its fields and its ranking, in one fixed key order. */
export function finishStageManifest(
  base: StageManifestBase,
  ranked: RankedStage,
): StageManifest {
  const { extra, ...fields } = base;
  return newStageManifest({
    ...fields,
    top: ranked.top,
    extra: {
      ...extra,
      search: {
        ...extra.search,
        // what "finished" checks the files against (finished.ts)
        masks_sha256: arraySha256(ranked.masks),
        losses_sha256: arraySha256(ranked.losses),
      },
      accuracy: ranked.accuracy,
    },
  });
}

/** Search images of every class position. */
function imagesPerClass(inputs: SearchInputs): number[] {
  const n = new Array<number>(inputs.numClasses).fill(0);
  for (const c of inputs.classOf) n[c]!++;
  return n;
}

/** How the log line names a normalisation's source. */
const kSourceText: Record<ResolvedNormalization["source"], string> = {
  flag: "given",
  model: "declared by the model",
  default: "default; the model declares none",
};

/** The normalisation as outputs record it: its values and their source. */
function normalizationRecord(
  norm: ResolvedNormalization,
): Normalization & { source: ResolvedNormalization["source"] } {
  return {
    name: norm.name,
    mean: [...norm.mean],
    std: [...norm.std],
    source: norm.source,
  };
}

/** Whether the stage's checkpoint is marked done (false when absent or unreadable). */
async function checkpointDone(dir: string): Promise<boolean> {
  try {
    const st = JSON.parse(
      await Deno.readTextFile(join(dir, ".checkpoint", "state.json")),
    ) as { done?: boolean };
    return st.done === true;
  } catch {
    return false;
  }
}

/** (Re)write `<dir>/png/` from the stage, dropping pictures of an earlier run. */
export async function writePictures(
  dir: string,
  stage: StageData,
): Promise<void> {
  await Deno.remove(join(dir, kStageFiles.png), { recursive: true }).catch(
    () => {},
  );
  await writeStagePictures(dir, stage);
}

function relativeTo(root: string, path: string): string {
  const r = resolve(root) + "/";
  const p = resolve(path);
  return p.startsWith(r) ? p.slice(r.length) : p;
}

/** Map current class positions to the parent stage's class positions (by model index). */
export function parentClassMap(
  parent: StageData,
  classes: readonly { index: number; name?: string }[],
  dir: string,
): (c: number) => number {
  const byIndex = new Map<number, number>();
  parent.manifest.classes.forEach((c, i) => byIndex.set(c.index, i));
  return (c) => {
    const info = classes[c]!;
    const p = byIndex.get(info.index);
    if (p === undefined) {
      throw new UserError(
        `Cannot refine class ${info.index} ("${info.name}") per class: the previous stage "${dir}" has no DFMs for it (use the shared lineage or the same classes)`,
      );
    }
    return p;
  };
}
