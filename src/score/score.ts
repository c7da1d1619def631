/**
 * `hfss score`: the search's evaluation on its own, for any masks.
 *
 * Every mask (a stage folder's DFMs, or an `.npy` of masks, `masks.ts`) is
 * applied to every image of the scoring subset, and for every mask × class it
 * computes the ranking loss (`class-ce` or `reference`, the same definitions,
 * batch composition and image order as the search: loss.ts) and the top-1
 * accuracy of the class's filtered images. The subset is chosen exactly as
 * the search chooses its images (`searchSubset`: split, per-class cap, seed,
 * seeded order), so scoring a stage's own DFMs with the stage's settings
 * gives back the stage's `losses.npy`. The engine is the search's: images
 * outer (decoded, resized and forward-transformed once), masks inner, one
 * shared pool, per-(mask, class) sums in image order; progress is
 * checkpointed in `<out>/.checkpoint/` and a rerun resumes or, when
 * finished, reuses the results.
 *
 * Files written to `out`:
 * - `losses.npy` float64 `[n, K]`: loss of mask i on class position c;
 * - `accuracy.npy` float64 `[n, K]`: accuracy of class c's filtered images;
 * - `scores.csv`: `mask, class_id, wnid, n_images, loss, accuracy`, one row
 *   per mask and class (mask-major; empty loss/accuracy where a class has
 *   no image);
 * - `masks.csv`: `mask, source_class_pos, source_class_id, source_wnid,
 *   source_rank`: where each mask came from;
 * - `config.json`: inputs, settings and where each came from.
 *
 * With `shard` (i of n), only the shard's classes' images are scored (a
 * contiguous range of whole classes balanced by image count, as for the
 * search) into `<out>/shard-i-of-n/`: their per-(mask, class) sums as
 * `sums.npy`/`counts.npy` and `partial.json` (src/shard/partial.ts), resumable
 * the same way; the score merge (src/shard/score.ts) writes the files
 * above from them, the unsharded run's bit for bit.
 *
 * Resize and mask space default to the stage's when the masks are a stage
 * folder (how its masks are meant to be applied), else squash and
 * normalized; the loss defaults to the stage's, else class-ce; the
 * normalisation is the model's (as in the search).
 */
import { join, relative } from "node:path";
import { OptionError, UserError } from "../errors.ts";
import { GpuContext } from "../gpu/context.ts";
import { SpectralFilter } from "../gpu/spectral_filter.ts";
import { type Dataset, openDataset } from "../data/dataset.ts";
import {
  type Interpolation,
  kDefaultCropPct,
  kDefaultInterpolation,
  type Normalization,
  normalization,
  type ResizeMode,
  resolveNormalization,
} from "../data/preprocess.ts";
import { ModelSession } from "../model/session.ts";
import { encodeNpy } from "../dfm/npy.ts";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic.ts";
import { type CsvValue, recordsToCsv, toCsv } from "../io/csv.ts";
import { pathExists, readInputFile } from "../io/read.ts";
import { sha256Hex } from "../io/sha256.ts";
import { openCheckpoint } from "../search/checkpoint.ts";
import {
  ClassLossAccumulator,
  kLossKinds,
  type LossKind,
  referenceBatching,
} from "../search/loss.ts";
import {
  evaluateMasks,
  type MaskSpace,
  scheduleBlocks,
} from "../search/mask_evaluation.ts";
import { searchSubset } from "../search/search.ts";
import type { SearchOptions } from "../search/options.ts";
import {
  type ClassRange,
  shardClasses,
  type ShardSpec,
} from "../shard/partition.ts";
import { kPartialFile, shardDir, writePartial } from "../shard/partial.ts";
import { encodeShardSums } from "../shard/accumulators.ts";
import { type MaskOrigin, readScoreMasks, type ScoreMasks } from "./masks.ts";

/**
 * Options of {@link runScore}: the search's, where they mean the same, and
 * the score's own.
 */
export interface ScoreOptions extends
  Pick<
    SearchOptions,
    | "model"
    | "data"
    | "dataset"
    | "layout"
    | "classes"
    | "perClass"
    | "blockImages"
    | "cropPct"
    | "size"
    | "normalize"
    | "backend"
    | "threads"
    | "restart"
    | "checkpointSeconds"
    | "overlap"
    | "log"
    | "gpu"
  > {
  /** A stage folder or an `.npy` of masks. */
  masks: string;
  /** Output folder. */
  out: string;
  /** @default the stage's loss, else "class-ce" */
  loss?: LossKind;
  /** Fraction of every class's images scored. @default 1 */
  split?: number;
  /** Seed of the split and of the image order. @default 42 */
  seed?: number;
  /**
   * Score the images in the dataset's own order (e.g. the rows of a
   * `labels.csv`) instead of the search's seeded order; needs split 1.
   */
  keepOrder?: boolean;
  /** Rows per model call. @default 64 */
  batchSize?: number;
  /**
   * Batch size that defines the reference loss's batches (its `1/B_b`
   * weights and constants), independent of the model calls.
   * @default batchSize
   */
  referenceBatch?: number;
  /** @default the stage's, else "normalized" */
  maskSpace?: MaskSpace;
  /** @default the stage's, else "squash" */
  resize?: ResizeMode;
  /** Resampling filter. @default the stage's, else bilinear */
  interpolation?: Interpolation;
  /** Score only this shard's classes into `<out>/shard-i-of-n/`. */
  shard?: ShardSpec;
  progress?: {
    start(total: number, done: number): void;
    tick(evaluations: number): void;
  };
}

/** What {@link runScore} returns. */
export interface ScoreResult {
  out: string;
  /** The recorded configuration (`config.json`). */
  config: Record<string, unknown>;
  masks: ScoreMasks;
  /** Class positions' model indices and wnids (axis 1 of the arrays). */
  classes: { index: number; wnid: string | null; name: string }[];
  /** Images of every class position. */
  images: number[];
  /** `[n, K]` losses and accuracies. */
  losses: Float64Array;
  accuracy: Float64Array;
  /** Class positions scored (all, or the shard's); others are NaN. */
  classRange: ClassRange;
  /** True when finished results were reused. */
  skipped: boolean;
  evaluations: number;
  seconds: number;
}

/** The files of a score folder. */
export const kScoreFiles = {
  losses: "losses.npy",
  accuracy: "accuracy.npy",
  scores: "scores.csv",
  masks: "masks.csv",
  config: "config.json",
} as const;

/** `partial.json` `data` of a score shard: what the merge writes besides the sums. */
export interface ScoreShardData {
  /** `config.json` without `evaluations` and `seconds`. */
  record: Record<string, unknown>;
  origins: MaskOrigin[];
  classes: { index: number; wnid: string | null; name: string }[];
  images: number[];
  reference_constant: number[];
  /** Blocks of the whole schedule (the finished checkpoint's position). */
  blocks: number;
}

/** Option key named in messages for each configuration key. */
export const kConfigOptions: Record<string, string> = {
  modelSha256: "model",
  masksSha256: "masks",
  imageSize: "model",
  numLogits: "model",
  subset: "data",
  images: "data",
  classes: "classes",
  loss: "loss",
  split: "split",
  perClass: "perClass",
  seed: "seed",
  keepOrder: "keepOrder",
  batchSize: "batchSize",
  referenceBatch: "referenceBatch",
  blockImages: "blockImages",
  maskSpace: "maskSpace",
  resize: "resize",
  cropPct: "cropPct",
  interpolation: "interpolation",
  normalization: "normalize",
  backend: "backend",
};

function defaultLog(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
}

function stageLoss(masks: ScoreMasks): LossKind | undefined {
  const l = masks.manifest?.loss;
  return (kLossKinds as readonly string[]).includes(l ?? "")
    ? l as LossKind
    : undefined;
}

/**
 * Score masks: losses and accuracies of every mask on every class.
 *
 * @example
 * ```ts
 * const r = await runScore({
 *   masks: "DFM/runs/my-run/stage3", model: "model.onnx", data: "val/", out: "scores/",
 * });
 * console.log(r.losses.length); // n · K
 * ```
 */
export async function runScore(opts: ScoreOptions): Promise<ScoreResult> {
  const log = opts.log ?? defaultLog;
  const t0 = performance.now();
  const masks = await readScoreMasks(opts.masks);
  const m = masks.manifest;
  const from = (given: unknown, stage: unknown) =>
    given !== undefined ? "flag" : stage !== undefined ? "stage" : "default";
  const loss = opts.loss ?? stageLoss(masks) ?? "class-ce";
  const resize = opts.resize ?? m?.resize ?? "squash";
  const maskSpace = opts.maskSpace ?? m?.masking ?? "normalized";
  const interpolation = opts.interpolation ?? m?.interpolation ??
    kDefaultInterpolation;
  const cropPct = resize === "crop"
    ? (opts.cropPct ?? m?.crop_pct ?? kDefaultCropPct)
    : null;
  const split = opts.split ?? 1;
  const seed = opts.seed ?? 42;
  const batchSize = opts.batchSize ?? 64;
  const referenceBatch = opts.referenceBatch ?? batchSize;
  for (
    const [key, v] of [["batchSize", batchSize], [
      "referenceBatch",
      referenceBatch,
    ]] as const
  ) {
    if (!Number.isInteger(v) || v < 1) {
      throw new OptionError(key, `expected a positive integer, got ${v}`);
    }
  }
  if (!(split > 0 && split <= 1)) {
    throw new OptionError(
      "split",
      `expected a fraction in (0, 1], got ${split}`,
    );
  }
  if (opts.keepOrder && (split < 1 || opts.perClass !== undefined)) {
    throw new OptionError(
      "keepOrder",
      "scores every image in the dataset's order: use it without split or perClass",
    );
  }
  const blockImages = opts.blockImages ?? Math.min(batchSize, 16);
  const backend = opts.backend ?? "wasm";
  const given: Normalization | undefined = opts.normalize === undefined
    ? undefined
    : normalization(opts.normalize);

  const modelBytes = await readInputFile(opts.model, "Cannot open model");
  const modelSha256 = await sha256Hex(modelBytes);
  const session = await ModelSession.open(opts.model, {
    bytes: modelBytes,
    backend,
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    ...(opts.size !== undefined ? { size: opts.size } : {}),
  });
  const ownGpu = !opts.gpu;
  let gpu = opts.gpu;
  let filter: SpectralFilter | undefined;
  try {
    const size = session.info.size;
    const numLogits = session.info.numClasses;
    if (masks.size !== size) {
      throw new UserError(
        `Cannot score masks "${opts.masks}": they are ${masks.size}x${masks.size}, the model "${opts.model}" takes ${size}x${size} images`,
      );
    }
    const norm = given
      ? { ...given, source: "flag" as const }
      : resolveNormalization({}, session.info, opts.model);
    let ds: Dataset;
    if (opts.dataset) ds = opts.dataset;
    else if (opts.data) {
      ds = await openDataset(opts.data, {
        layout: opts.layout ?? "auto",
        ...(opts.classes ? { classes: opts.classes } : {}),
      });
    } else {
      throw new UserError("Cannot score masks: no dataset given");
    }
    for (const c of ds.classes) {
      if (c.index >= numLogits) {
        throw new UserError(
          `Cannot score class ${c.index} ("${c.name}"): the model has ${numLogits} outputs`,
        );
      }
    }
    const classPos = new Map<number, number>();
    ds.classes.forEach((c, i) => classPos.set(c.index, i));
    const subset = opts.keepOrder
      ? [...ds.samples]
      : searchSubset(ds, { split, perClass: opts.perClass, seed });
    const numClasses = ds.classes.length;
    const classOf = Int32Array.from(subset, (s) => classPos.get(s.label)!);
    const targetOf = Int32Array.from(subset, (s) => s.label);
    const batching = referenceBatching(classOf, {
      numClasses,
      batchSize: referenceBatch,
      numLogits,
    });
    const images = new Array<number>(numClasses).fill(0);
    for (const c of classOf) images[c]!++;
    const normValues = {
      name: norm.name,
      mean: [...norm.mean],
      std: [...norm.std],
    };
    const config: Record<string, unknown> = {
      modelSha256,
      masksSha256: await sha256Hex(masks.masks),
      imageSize: size,
      numLogits,
      classes: ds.classes.map((c) => c.index),
      images: subset.length,
      subset: await sha256Hex(
        subset.map((s) => `${relative(ds.root, s.path)}\t${s.label}`).join(
          "\n",
        ),
      ),
      loss,
      split,
      perClass: opts.perClass ?? null,
      seed,
      keepOrder: opts.keepOrder ?? false,
      batchSize,
      referenceBatch,
      blockImages,
      maskSpace,
      resize,
      cropPct,
      interpolation,
      normalization: normValues,
      backend,
    };
    const classes = ds.classes.map((c) => ({
      index: c.index,
      wnid: c.wnid ?? null,
      name: c.name,
    }));
    const record = (evaluations: number, seconds: number) => ({
      format: "hfss-score",
      format_version: 1,
      masks: {
        path: opts.masks,
        kind: masks.kind,
        count: masks.count,
        image_size: masks.size,
      },
      model: { path: opts.model, sha256: modelSha256 },
      data: {
        root: ds.root,
        layout: ds.layout,
        split,
        per_class: opts.perClass ?? null,
        seed,
        images: subset.length,
        order: opts.keepOrder
          ? "the dataset's own order"
          : "stratifiedSplit then shuffled with stream search-order",
      },
      classes,
      images_per_class: images,
      loss,
      batch_size: batchSize,
      reference_batch: referenceBatch,
      block_images: blockImages,
      masking: maskSpace,
      resize,
      crop_pct: cropPct,
      interpolation,
      normalization: { ...normValues, source: norm.source },
      backend,
      sources: {
        loss: from(opts.loss, stageLoss(masks)),
        resize: from(opts.resize, m?.resize),
        interpolation: from(opts.interpolation, m?.interpolation),
        masking: from(opts.maskSpace, m?.masking),
      },
      evaluations,
      seconds,
    });

    const shard = opts.shard;
    const range = shard
      ? shardClasses(images, shard)
      : { first: 0, end: numClasses };
    const dir = shard ? shardDir(opts.out, shard) : opts.out;
    const opened = await openCheckpoint(dir, {
      config: shard ? { ...config, shard: { ...shard } } : config,
      optionOf: (key) => kConfigOptions[key] ?? key,
      ...(opts.restart ? { restart: true } : {}),
    });
    const n = masks.count;
    const acc = new ClassLossAccumulator({ numCandidates: n, numClasses });
    const done = opened.state?.done &&
      await pathExists(join(dir, shard ? kPartialFile : kScoreFiles.config));
    // A shard scores its classes' images only, in the subset's order.
    const idx: number[] = [];
    classOf.forEach((c, i) => {
      if (c >= range.first && c < range.end) idx.push(i);
    });
    const inShard = new Uint8Array(classOf.length);
    for (const i of idx) inShard[i] = 1;
    const pick = <T extends Int32Array | Float64Array>(a: T): T =>
      shard ? a.filter((_, i) => inShard[i] === 1) as T : a;
    const what = shard
      ? `hfss score (shard ${shard.index} of ${shard.count}, classes ${range.first}-${
        range.end - 1
      })`
      : "hfss score";
    let evaluations = 0, seconds = 0;
    if (opened.state && opened.acc) acc.loadBytes(opened.acc);
    if (done) {
      log(
        `${what}: already finished with this configuration (${dir}); results reused`,
      );
      evaluations = opened.state!.stats.evaluations;
      seconds = opened.state!.stats.seconds;
    } else {
      const prior = opened.state?.stats ??
        { evaluations: 0, images: 0, seconds: 0 };
      if (shard) await Deno.remove(join(dir, kPartialFile)).catch(() => {});
      const total = n * idx.length;
      log(
        `${what}: ${n} masks (${masks.kind} "${opts.masks}") x ${idx.length} images of ${
          range.end - range.first
        } classes = ${total} evaluations; ` +
          `loss ${loss}, mask ${maskSpace}, resize ${resize}, normalize ${norm.name} (${norm.source})` +
          (opened.state ? `; resuming at ${prior.evaluations}` : ""),
      );
      opts.progress?.start(total, prior.evaluations);
      gpu ??= await GpuContext.create();
      filter = await SpectralFilter.create(gpu, {
        size,
        channels: 3,
        maxImages: blockImages,
      });
      const { blocks, result } = await evaluateMasks({
        images: shard ? idx.map((i) => subset[i]!) : subset,
        classOf: pick(classOf),
        targetOf: pick(targetOf),
        numClasses,
        numLogits,
        // One pool: every mask meets every image.
        masks: {
          count: n,
          shared: true,
          poolKey: () => "masks",
          masks: () => masks.masks,
        },
        preprocess: {
          size,
          resize,
          cropPct: cropPct ?? kDefaultCropPct,
          interpolation,
          norm,
          maskSpace,
        },
        batchSize,
        blockImages,
        weightOf: pick(batching.weight),
        filter,
        model: session,
        acc,
        start: opened.state?.position ?? { block: 0, chunk: 0 },
        prior,
        checkpoint: opened.checkpoint,
        checkpointSeconds: opts.checkpointSeconds ?? 120,
        onProgress: (k) => opts.progress?.tick(k),
        ...(opts.overlap !== undefined ? { overlap: opts.overlap } : {}),
        log,
      });
      evaluations = prior.evaluations + result.evaluations;
      seconds = prior.seconds + result.seconds;
      const stats = {
        evaluations,
        images: prior.images + result.images,
        seconds,
      };
      if (shard) {
        await opened.checkpoint.save(
          { block: blocks.length, chunk: 0 },
          acc.toBytes(),
          stats,
          true,
        );
        const { evaluations: _e, seconds: _s, ...base } = record(0, 0);
        const data: ScoreShardData = {
          record: base,
          origins: masks.origins,
          classes,
          images,
          reference_constant: [...batching.constant],
          blocks: scheduleBlocks(classOf, { blockImages, numClasses }).length,
        };
        // Last: partial.json marks the shard complete.
        await writePartial(dir, {
          kind: "score",
          shard,
          classes: range,
          config,
          data: data as unknown as Record<string, unknown>,
          stats,
        }, encodeShardSums(acc, range));
      } else {
        await writeScoreFiles(opts.out, {
          losses: acc.losses(loss, batching.constant),
          accuracy: acc.accuracy(),
          masks,
          classes,
          images,
          record: record(evaluations, seconds),
        });
        await opened.checkpoint.save(
          { block: blocks.length, chunk: 0 },
          acc.toBytes(),
          stats,
          true,
        );
      }
      log(
        `${what}: ${evaluations} evaluations, ${result.seconds.toFixed(1)} s (${
          (result.evaluations / Math.max(1e-9, result.seconds)).toFixed(1)
        } evaluations/s) -> ${dir}`,
      );
    }
    return {
      out: dir,
      config: record(evaluations, seconds),
      masks,
      classes,
      images,
      losses: acc.losses(loss, batching.constant),
      accuracy: acc.accuracy(),
      classRange: range,
      skipped: Boolean(done),
      evaluations,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    filter?.[Symbol.dispose]();
    if (ownGpu) gpu?.[Symbol.dispose]();
    await session.release();
  }
}

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** Write text chunks to `path` through a temporary file and a rename. */
async function writeLinesAtomic(
  path: string,
  chunks: Iterable<string>,
): Promise<void> {
  const tmp = `${path}.${Deno.pid}.tmp`;
  const enc = new TextEncoder();
  const file = await Deno.open(tmp, {
    write: true,
    create: true,
    truncate: true,
  });
  try {
    for (const chunk of chunks) {
      const bytes = enc.encode(chunk);
      for (let off = 0; off < bytes.length;) {
        off += await file.write(bytes.subarray(off));
      }
    }
  } catch (err) {
    file.close();
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  file.close();
  await Deno.rename(tmp, path);
}

/** Write the files of a score folder (arrays first, config.json last). */
export async function writeScoreFiles(
  out: string,
  r: {
    losses: Float64Array;
    accuracy: Float64Array;
    masks: Pick<ScoreMasks, "count" | "origins">;
    classes: { index: number; wnid: string | null }[];
    images: number[];
    record: Record<string, unknown>;
  },
): Promise<void> {
  const n = r.masks.count, k = r.classes.length;
  await writeFileAtomic(
    join(out, kScoreFiles.losses),
    encodeNpy(r.losses, "float64", [n, k]),
  );
  await writeFileAtomic(
    join(out, kScoreFiles.accuracy),
    encodeNpy(r.accuracy, "float64", [n, k]),
  );
  // Streamed: n × K rows can be far more than one string holds.
  await writeLinesAtomic(
    join(out, kScoreFiles.scores),
    (function* () {
      yield toCsv([[
        "mask",
        "class_id",
        "wnid",
        "n_images",
        "loss",
        "accuracy",
      ]]);
      for (let i = 0; i < n; i++) {
        const rows: CsvValue[][] = [];
        for (let c = 0; c < k; c++) {
          rows.push([
            i,
            r.classes[c]!.index,
            r.classes[c]!.wnid ?? "",
            r.images[c]!,
            finite(r.losses[i * k + c]!),
            finite(r.accuracy[i * k + c]!),
          ]);
        }
        yield toCsv(rows);
      }
    })(),
  );
  await writeFileAtomic(
    join(out, kScoreFiles.masks),
    recordsToCsv(
      r.masks.origins.map((o, i) => ({
        mask: i,
        source_class_pos: o.classPos,
        source_class_id: o.classId,
        source_wnid: o.wnid ?? "",
        source_rank: o.rank,
      })),
      [
        "mask",
        "source_class_pos",
        "source_class_id",
        "source_wnid",
        "source_rank",
      ],
    ),
  );
  await writeJsonAtomic(join(out, kScoreFiles.config), r.record);
}
