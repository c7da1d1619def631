/**
 * The staged HFSS search, end to end (`hfss search`, and `hfss demo` through
 * {@link runSearch}).
 *
 * For each stage k: build the stage's candidate pools (lineage.ts), visit the
 * search subset once (images outer, candidates inner; evaluate.ts), rank the
 * candidates of every class by its loss (loss.ts, topn.ts) and write the
 * stage folder `<out>/stage<k>/` (dfm/store.ts). Stage k > 1 takes its parents
 * from stage k−1 (this run's, or `from`).
 *
 * Search subset: the dataset (after `classes`), split with `stratifiedSplit`
 * (`split`, seed stream "split"; `split` 1 keeps every image), optionally
 * capped per class (`perClass`), then put in a seeded random order (stream
 * "search-order"), like the permuted test indices of the reference's
 * StratifiedShuffleSplit. That order defines the batches of `--loss
 * reference` (consecutive `batchSize` images) and the visiting order of
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
import { UserError } from "../errors.ts";
import { Rng } from "../rng.ts";
import { GpuContext } from "../gpu/context.ts";
import { SpectralFilter } from "../gpu/spectral_filter.ts";
import {
  type Dataset,
  type DatasetLayout,
  openDataset,
  perClass as perClassSample,
  type Sample,
  stratifiedSplit,
} from "../data/dataset.ts";
import { readImage } from "../data/decode.ts";
import {
  kDefaultCropPct,
  type Normalization,
  normalization,
  normalizeTensor,
  type ResizeMode,
  type ResolvedNormalization,
  resolveNormalization,
  toTensor,
} from "../data/preprocess.ts";
import { ModelSession } from "../model/session.ts";
import { gridSize, stageCount } from "../dfm/grid.ts";
import type { SymmetryMode } from "../dfm/symmetry.ts";
import {
  type DfmClass,
  type DfmClassTop,
  kStageFiles,
  newStageManifest,
  readStage,
  type StageData,
  stageDir,
  stageMask,
  writeStage,
} from "../dfm/store.ts";
import { writeStagePictures } from "../dfm/render.ts";
import { pathExists, readInputFile } from "../io/read.ts";
import { openCheckpoint } from "./checkpoint.ts";
import { sha256Hex } from "../io/sha256.ts";
import {
  ClassLossAccumulator,
  type LossKind,
  referenceBatching,
} from "./loss.ts";
import { topN } from "./topn.ts";
import { CandidatePools, type Lineage, type Parents } from "./lineage.ts";
import { type Block, evaluateStage, type StageTimings } from "./evaluate.ts";
import {
  checkRaceParams,
  type RaceParams,
  raceRecord,
  RaceState,
} from "./race.ts";
import {
  classImageLists,
  loadRaceStateBytes,
  newRaceQueue,
  raceStage,
  raceStateBytes,
  raceValue,
  survivorLosses,
} from "./race_stage.ts";

/** Where masks are applied (`--mask-space`). */
export type MaskSpace = "normalized" | "pixel";

/** Options of {@link runSearch}; everything but `model`, data and `out` has a default. */
export interface SearchOptions {
  /** ONNX model path. */
  model: string;
  /** Dataset root (or give `dataset`). */
  data?: string;
  /** An already opened dataset (overrides `data`, `layout`, `classes`). */
  dataset?: Dataset;
  /** @default "auto" */
  layout?: DatasetLayout;
  /** Class filter (indices, wnids or folder names). */
  classes?: (string | number)[];
  /** Stages to run, ascending and consecutive, e.g. [1] or [1, 2, 3, 4]. */
  stages: number[];
  /** Previous stage folder when the first stage is > 1 (default `<out>/stage<k-1>`). */
  from?: string;
  /** Run folder; stage k goes to `<out>/stage<k>`. */
  out: string;
  /** N_B. @default 500 */
  candidates?: number;
  /** P. @default 0.8 */
  proportion?: number;
  /** Top-N kept per class. @default 10 */
  top?: number;
  /** Search fraction of every class (1 = all images). @default 0.05 */
  split?: number;
  /** At most this many search images per class. */
  perClass?: number;
  /** Rows per model call; also the batch of `--loss reference`. @default 64 */
  batchSize?: number;
  /** @default 42 */
  seed?: number;
  /** @default "exact" */
  symmetry?: SymmetryMode;
  /** @default "class-ce" */
  loss?: LossKind;
  /** @default "per-class" */
  lineage?: Lineage;
  /**
   * Race each class's candidates over its images (race.ts); `top` is taken
   * from the search. Default: exhaustive evaluation.
   */
  race?: RaceParams;
  /** @default "normalized" (the reference masks after normalisation) */
  maskSpace?: MaskSpace;
  /** @default "squash" (the reference) */
  resize?: ResizeMode;
  /** Centre-crop fraction for `resize: "crop"`. @default 0.875 */
  cropPct?: number;
  /**
   * Preset name or explicit mean/std (recorded with source `flag`).
   * @default the model's declared normalisation (`hfss.normalization` metadata), else "imagenet"
   */
  normalize?: string | { mean: number[]; std: number[] };
  /** @default "wasm" */
  backend?: "wasm" | "webgpu";
  /** onnxruntime wasm threads. */
  threads?: number;
  /** Discard checkpoints and finished stages with another configuration. */
  restart?: boolean;
  /** Seconds between mid-block checkpoints. @default 120 */
  checkpointSeconds?: number;
  /** Images per filter load (fixed block size). @default min(batchSize, 16) */
  blockImages?: number;
  /** Overlap image loading and filter passes with the model (default true). */
  overlap?: boolean;
  /** Log lines (defaults to stderr). */
  log?: (line: string) => void;
  /** Progress callbacks (the CLI draws a bar). */
  progress?: SearchProgress;
  /** A GPU context to use (else one is created and destroyed). */
  gpu?: GpuContext;
}

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

/** Defaults of the search options (the reference's where it has one). */
export const kSearchDefaults = {
  candidates: 500,
  proportion: 0.8,
  top: 10,
  split: 0.05,
  batchSize: 64,
  seed: 42,
  symmetry: "exact" as SymmetryMode,
  loss: "class-ce" as LossKind,
  lineage: "per-class" as Lineage,
  maskSpace: "normalized" as MaskSpace,
  resize: "squash" as ResizeMode,
  normalize: "imagenet",
  backend: "wasm" as const,
  checkpointSeconds: 120,
};

/** CLI option named in messages for each configuration key. */
const kOptionNames: Record<string, string> = {
  model: "--model",
  modelSha256: "--model (file contents)",
  subset: "--data/--classes/--split/--per-class (the search images)",
  classes: "--classes",
  stage: "--stage",
  candidates: "--candidates",
  proportion: "--proportion",
  top: "--top",
  split: "--split",
  perClass: "--per-class",
  batchSize: "--batch-size",
  blockImages: "--batch-size (images per block)",
  seed: "--seed",
  symmetry: "--symmetry",
  loss: "--loss",
  lineage: "--lineage",
  maskSpace: "--mask-space",
  resize: "--resize",
  cropPct: "--crop-pct",
  normalization: "--normalize/--mean/--std",
  backend: "--backend",
  parent: "--from (the previous stage's DFMs)",
};

/**
 * Parse `--stage k` / `--stages a-b` into stage numbers.
 * @example
 * ```ts
 * parseStages("1-4"); // [1, 2, 3, 4]
 * ```
 */
export function parseStages(spec: string): number[] {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(spec);
  if (!m) {
    throw new UserError(
      `Cannot parse stages "${spec}": expected a stage (2) or a range (1-4)`,
      { exitCode: 2 },
    );
  }
  const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
  if (a < 1 || b < a) {
    throw new UserError(
      `Cannot use stages "${spec}": stages start at 1 and the range must ascend`,
      { exitCode: 2 },
    );
  }
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

function defaultLog(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
}

function checkRange(
  name: string,
  v: number,
  ok: boolean,
  what: string,
): void {
  if (!ok || !Number.isFinite(v)) {
    throw new UserError(`Cannot use ${name} ${v}: ${what}`, { exitCode: 2 });
  }
}

function checkPositiveInt(name: string, v: number): void {
  checkRange(
    name,
    v,
    Number.isInteger(v) && v >= 1,
    "expected a positive integer",
  );
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
  const d = kSearchDefaults;
  const candidates = opts.candidates ?? d.candidates;
  const proportion = opts.proportion ?? d.proportion;
  const top = opts.top ?? d.top;
  const split = opts.split ?? d.split;
  const batchSize = opts.batchSize ?? d.batchSize;
  const seed = opts.seed ?? d.seed;
  const symmetry = opts.symmetry ?? d.symmetry;
  const loss = opts.loss ?? d.loss;
  const lineage = opts.lineage ?? d.lineage;
  const maskSpace = opts.maskSpace ?? d.maskSpace;
  const resize = opts.resize ?? d.resize;
  const cropPct = resize === "crop" ? (opts.cropPct ?? kDefaultCropPct) : null;
  const backend = opts.backend ?? d.backend;
  // Checked before the model is opened; resolved against it below.
  const given: Normalization | undefined = opts.normalize === undefined
    ? undefined
    : normalization(opts.normalize);
  const blockImages = opts.blockImages ?? Math.min(batchSize, 16);
  const race = opts.race ? { ...opts.race, top } : null;
  if (race) checkRaceParams(race);
  checkRange(
    "--candidates",
    candidates,
    Number.isInteger(candidates) && candidates >= 3,
    "expected an integer >= 3",
  );
  checkRange(
    "--proportion",
    proportion,
    proportion > 0 && proportion <= 1,
    "expected a value in (0, 1]",
  );
  checkPositiveInt("--top", top);
  checkRange(
    "--split",
    split,
    split > 0 && split <= 1,
    "expected a fraction in (0, 1]",
  );
  checkPositiveInt("--batch-size", batchSize);
  checkRange("--seed", seed, Number.isInteger(seed), "expected an integer");
  if (opts.perClass !== undefined) {
    checkPositiveInt("--per-class", opts.perClass);
  }
  if (opts.stages.length === 0) {
    throw new UserError(
      "Cannot search: no stage given (use --stage or --stages)",
      { exitCode: 2 },
    );
  }
  const stages = [...opts.stages];
  for (let i = 1; i < stages.length; i++) {
    if (stages[i] !== stages[i - 1]! + 1) {
      throw new UserError(
        `Cannot run stages ${stages.join(",")}: stages must be consecutive`,
        { exitCode: 2 },
      );
    }
  }

  // Model (first: it fixes S and K).
  const modelPath = opts.model;
  const modelBytes = await readInputFile(modelPath, "Cannot open model");
  const modelSha256 = await sha256Hex(modelBytes);
  const session = await ModelSession.open(modelPath, {
    bytes: modelBytes,
    backend,
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
  });
  const ownGpu = !opts.gpu;
  let gpu: GpuContext | undefined = opts.gpu;
  let filter: SpectralFilter | undefined;
  try {
    const norm: ResolvedNormalization = given
      ? { ...given, source: "flag" }
      : resolveNormalization({}, session.info, modelPath);
    // Results depend on the values, not on where they came from: the source
    // is left out of the resume check.
    const normValues: Normalization = {
      name: norm.name,
      mean: [...norm.mean],
      std: [...norm.std],
    };
    const normRecord = { ...normValues, source: norm.source };
    const size = session.info.size;
    const numLogits = session.info.numClasses;
    const lastStage = stageCount(size);
    for (const k of stages) {
      if (k > lastStage) gridSize(size, k); // throws the grid module's message
    }

    // Data.
    let ds: Dataset;
    if (opts.dataset) ds = opts.dataset;
    else if (opts.data) {
      ds = await openDataset(opts.data, {
        layout: opts.layout ?? "auto",
        ...(opts.classes ? { classes: opts.classes } : {}),
      });
    } else {
      throw new UserError("Cannot search: no dataset given (use --data)", {
        exitCode: 2,
      });
    }
    const classPos = new Map<number, number>();
    ds.classes.forEach((c, i) => classPos.set(c.index, i));
    for (const c of ds.classes) {
      if (c.index >= numLogits) {
        throw new UserError(
          `Cannot search class ${c.index} ("${c.name}"): the model has ${numLogits} outputs`,
        );
      }
    }
    const subset = searchSubset(ds, { split, perClass: opts.perClass, seed });
    const numClasses = ds.classes.length;
    const classOf = Int32Array.from(subset, (s) => classPos.get(s.label)!);
    const targetOf = Int32Array.from(subset, (s) => s.label);
    const batching = referenceBatching(classOf, {
      numClasses,
      batchSize,
      numLogits,
    });
    const subsetHash = await sha256Hex(
      subset.map((s) => `${relativeTo(ds.root, s.path)}\t${s.label}`).join(
        "\n",
      ),
    );
    const dfmClasses: DfmClass[] = ds.classes.map((c) => {
      const e: DfmClass = { index: c.index, name: c.name };
      if (c.wnid) e.wnid = c.wnid;
      return e;
    });
    const perClassCount = new Array<number>(numClasses).fill(0);
    for (const c of classOf) perClassCount[c]!++;

    // Everything that changes results (paths are not: the model is identified
    // by its bytes, the images by their paths relative to the root and labels).
    const runConfig: Record<string, unknown> = {
      modelSha256,
      imageSize: size,
      numLogits,
      classes: ds.classes.map((c) => c.index),
      images: subset.length,
      subset: subsetHash,
      candidates,
      proportion,
      top,
      split,
      perClass: opts.perClass ?? null,
      batchSize,
      blockImages,
      seed,
      symmetry,
      loss,
      lineage,
      maskSpace,
      resize,
      cropPct,
      normalization: normValues,
      backend,
      ...(race ? { race: raceRecord(race) } : {}),
    };
    log(
      `hfss search: model ${modelPath} (S=${size}, ${numLogits} outputs, ${backend}), ` +
        `${numClasses} classes, ${subset.length} search images (split ${split}` +
        `${
          opts.perClass ? `, at most ${opts.perClass} per class` : ""
        }), stages ${stages.join(",")}`,
    );
    log(
      `  N_B ${candidates}, P ${proportion}, top ${top}, batch ${batchSize}, seed ${seed}, ` +
        `symmetry ${symmetry}, loss ${loss}, lineage ${lineage}, mask ${maskSpace}, ` +
        `resize ${resize}, normalize ${norm.name} (mean ${
          norm.mean.join(",")
        } std ${norm.std.join(",")}; ${kSourceText[norm.source]})`,
    );

    const summaries: StageSummary[] = [];
    let parentDir = stages[0]! > 1
      ? (opts.from ?? stageDir(opts.out, stages[0]! - 1))
      : null;
    for (const k of stages) {
      const dir = stageDir(opts.out, k);
      let parents: Parents | undefined;
      let parentStage: StageData | undefined;
      let parentSha: string | null = null;
      if (k > 1) {
        parentStage = await readStage(parentDir!).catch((err) => {
          throw new UserError(
            `Cannot start stage ${k}: the previous stage "${parentDir}" is not readable (${
              (err as Error).message
            }); run stage ${k - 1} first or give --from`,
          );
        });
        const pm = parentStage.manifest;
        if (pm.image_size !== size) {
          throw new UserError(
            `Cannot start stage ${k} from "${parentDir}": its masks are ${pm.image_size}x${pm.image_size}, the model takes ${size}`,
          );
        }
        if (pm.stage !== k - 1) {
          throw new UserError(
            `Cannot start stage ${k} from "${parentDir}": it holds stage ${pm.stage}, expected ${
              k - 1
            }`,
          );
        }
        parentSha = await sha256Hex(
          await Deno.readFile(join(parentDir!, pm.files.masks)),
        );
        const ps = parentStage;
        parents = {
          stage: pm.stage,
          numClasses: pm.classes.length,
          ranksOf: (c) => ps.manifest.top[c]?.candidates.length ?? pm.top_n,
          mask: (c, r) => stageMask(ps, c, r),
        };
      }
      const pools = new CandidatePools({
        seed,
        stage: k,
        size,
        candidates,
        proportion,
        symmetry,
        lineage,
        ...(parents ? { parents } : {}),
        parentClassOf: parentStage
          ? parentClassMap(parentStage, ds, parentDir!)
          : undefined,
        classKey: (c) => ds.classes[c]!.index,
      });
      // Lineage does not change stage 1 (one shared pool, no parents).
      const config = {
        ...runConfig,
        lineage: k === 1 ? null : lineage,
        stage: k,
        parent: parentSha,
      };
      const opened = await openCheckpoint(dir, {
        config,
        optionName: (key) => kOptionNames[key] ?? key,
        ...(opts.restart ? { restart: true } : {}),
      });
      const M = pools.count;
      const total = M * subset.length;
      if (opened.state?.done && await pathExists(join(dir, "manifest.json"))) {
        const st = opened.state.stats;
        const s: StageSummary = {
          stage: k,
          dir,
          skipped: true,
          resumed: false,
          grid: gridSize(size, k),
          candidates: M,
          classes: numClasses,
          images: st.images,
          evaluations: st.evaluations,
          evaluationsThisRun: 0,
          seconds: 0,
          totalSeconds: st.seconds,
          evaluationsPerSecond: 0,
          modelSeconds: 0,
          filterSeconds: 0,
          loadSeconds: 0,
          prepareSeconds: 0,
          lossSeconds: 0,
          checkpointSeconds: 0,
        };
        if (!(await pathExists(join(dir, kStageFiles.png)))) {
          await writePictures(dir, await readStage(dir));
        }
        log(
          `stage ${k}: already finished with this configuration (${dir}); skipped`,
        );
        summaries.push(s);
        parentDir = dir;
        continue;
      }
      if (opts.restart) {
        await Deno.remove(join(dir, "manifest.json")).catch(() => {});
      }

      // Fixed schedule.
      const blocks = scheduleBlocks(classOf, {
        blockImages,
        shared: pools.shared,
        numClasses,
      });
      const acc = new ClassLossAccumulator({ numCandidates: M, numClasses });
      let start = { block: 0, chunk: 0 };
      const prior = { evaluations: 0, images: 0, seconds: 0 };
      if (opened.state && opened.acc && !race) {
        acc.loadBytes(opened.acc);
        start = opened.state.position;
        Object.assign(prior, opened.state.stats);
      } else if (opened.state) {
        // Raced: the accumulators are restored with the race (below).
        Object.assign(prior, opened.state.stats);
      }
      const resumed = opened.state !== null;
      log(
        `stage ${k}: grid ${gridSize(size, k)}, ${M} candidates per pool (${
          pools.shared ? "shared pool" : "one pool per class"
        }), ${subset.length} images, ${total} evaluations` +
          (resumed ? `; resuming at ${prior.evaluations} evaluations` : ""),
      );

      gpu ??= await GpuContext.create();
      filter ??= await SpectralFilter.create(gpu, {
        size,
        channels: 3,
        maxImages: blockImages,
      });
      const scale = maskSpace === "pixel"
        ? norm.std.map((s) => 1 / s)
        : undefined;
      const offset = maskSpace === "pixel"
        ? norm.mean.map((m, c) => -m / norm.std[c]!)
        : undefined;
      opts.progress?.start(k, total, prior.evaluations);
      const loadImages = (idx: number[]) =>
        loadBlock(subset, idx, {
          size,
          resize,
          cropPct: cropPct ?? kDefaultCropPct,
          norm: maskSpace === "normalized" ? norm : null,
          log,
        });
      const raced = race
        ? new RaceState({
          params: race,
          numCandidates: M,
          imagesOf: perClassCount,
        })
        : null;
      const result = raced
        ? await raceStage({
          classImages: classImageLists(classOf, numClasses),
          targetOf,
          weightOf: batching.weight,
          valueOf: raceValue(loss, {
            classOf,
            weightOf: batching.weight,
            numClasses,
          }),
          numLogits,
          batchSize,
          poolMasks: (c) => pools.masks(c),
          loadImages,
          filter,
          model: session,
          ...(scale ? { scale, offset: offset! } : {}),
          acc,
          race: raced,
          queue: opened.state && opened.acc
            ? loadRaceStateBytes(opened.acc, acc, raced)
            : newRaceQueue(),
          checkpoint: opened.checkpoint,
          checkpointSeconds: opts.checkpointSeconds ?? d.checkpointSeconds,
          prior,
          onProgress: (n) => opts.progress?.tick(n),
        })
        : await evaluateStage({
          blocks,
          classOf,
          targetOf,
          weightOf: batching.weight,
          numLogits,
          batchSize,
          numCandidates: M,
          poolKey: (c) => pools.poolKey(c),
          poolMasks: (c) => pools.masks(c),
          loadImages,
          filter,
          model: session,
          ...(scale ? { scale, offset: offset! } : {}),
          acc,
          start,
          checkpoint: opened.checkpoint,
          checkpointSeconds: opts.checkpointSeconds ?? d.checkpointSeconds,
          prior,
          onProgress: (n) => opts.progress?.tick(n),
          ...(opts.overlap !== undefined ? { overlap: opts.overlap } : {}),
        });

      // Rank and write.
      const losses = raced
        ? survivorLosses(acc.losses(loss, batching.constant), raced)
        : acc.losses(loss, batching.constant);
      const accuracy = acc.accuracy();
      const best = topN(losses, { numCandidates: M, numClasses, n: top });
      const area = size * size;
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
      const manifest = newStageManifest({
        model: { path: modelPath, sha256: modelSha256 },
        image_size: size,
        stage: k,
        grid: gridSize(size, k),
        seed,
        P: proportion,
        N_B: candidates,
        candidates: M,
        top_n: top,
        symmetry,
        loss,
        lineage: pools.shared ? "shared" : "per-class",
        normalization: normRecord,
        masking: maskSpace,
        resize,
        crop_pct: cropPct,
        split: {
          root: ds.root,
          layout: ds.layout,
          fraction: split,
          per_class: opts.perClass ?? null,
          seed,
          images: subset.length,
          order: "stratifiedSplit then shuffled with stream search-order",
          subset_sha256: subsetHash,
        },
        classes: dfmClasses,
        top: topEntries,
        race: race ? raceRecord(race) : null,
        evaluations_spent: prior.evaluations + result.evaluations,
        evaluations_exhaustive: total,
        extra: {
          search: {
            lineage_option: k === 1 ? null : lineage,
            batch_size: batchSize,
            block_images: blockImages,
            backend,
            parent: parentDir && k > 1
              ? { dir: relative(opts.out, parentDir), masks_sha256: parentSha }
              : null,
          },
          images_per_class: perClassCount,
          accuracy: topAccuracy,
        },
      });
      await writeStage(dir, { manifest, masks, losses: topLosses });
      // Before the stage is marked done: a finished stage has its pictures.
      await writePictures(dir, { manifest, masks, losses: topLosses });
      const stats = {
        evaluations: prior.evaluations + result.evaluations,
        images: prior.images + result.images,
        seconds: prior.seconds + result.seconds,
      };
      await opened.checkpoint.save(
        { block: blocks.length, chunk: 0 },
        raced ? raceStateBytes(acc, raced, newRaceQueue()) : acc.toBytes(),
        stats,
        true,
      );
      const s: StageSummary = {
        stage: k,
        dir,
        skipped: false,
        resumed,
        grid: gridSize(size, k),
        candidates: M,
        classes: numClasses,
        images: stats.images,
        evaluations: stats.evaluations,
        evaluationsThisRun: result.evaluations,
        seconds: result.seconds,
        totalSeconds: stats.seconds,
        evaluationsPerSecond: result.seconds > 0
          ? result.evaluations / result.seconds
          : 0,
        ...result.timings,
      };
      opts.progress?.finish(k, s);
      const spentText = raced
        ? `raced (${
          race!.rule
        }): ${stats.evaluations} of ${total} evaluations (${
          (total / Math.max(1, stats.evaluations)).toFixed(2)
        }x fewer)`
        : `${M} candidates x ${stats.images} images = ${stats.evaluations} evaluations`;
      log(
        `stage ${k}: ${spentText}; ` +
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
      summaries.push(s);
      parentDir = dir;
    }
    return {
      out: opts.out,
      config: { ...runConfig, normalization: normRecord },
      stages: summaries,
    };
  } finally {
    filter?.[Symbol.dispose]();
    if (ownGpu) gpu?.[Symbol.dispose]();
    await session.release();
  }
}

/** How the log line names a normalisation's source. */
const kSourceText: Record<ResolvedNormalization["source"], string> = {
  flag: "from --normalize/--mean/--std",
  model: "declared by the model",
  default: "default; the model declares none",
};

/** (Re)write `<dir>/png/` from the stage, dropping pictures of an earlier run. */
async function writePictures(dir: string, stage: StageData): Promise<void> {
  await Deno.remove(join(dir, kStageFiles.png), { recursive: true }).catch(
    () => {},
  );
  await writeStagePictures(dir, stage);
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function relativeTo(root: string, path: string): string {
  const r = resolve(root) + "/";
  const p = resolve(path);
  return p.startsWith(r) ? p.slice(r.length) : p;
}

/** Map current class positions to the parent stage's class positions (by model index). */
function parentClassMap(
  parent: StageData,
  ds: Dataset,
  dir: string,
): (c: number) => number {
  const byIndex = new Map<number, number>();
  parent.manifest.classes.forEach((c, i) => byIndex.set(c.index, i));
  return (c) => {
    const info = ds.classes[c]!;
    const p = byIndex.get(info.index);
    if (p === undefined) {
      throw new UserError(
        `Cannot refine class ${info.index} ("${info.name}") per class: the previous stage "${dir}" has no DFMs for it (use --lineage shared or the same --classes)`,
      );
    }
    return p;
  };
}

/**
 * The fixed block schedule: shared pools take the subset in order, cut every
 * `blockImages`; per-class pools take each class's images (subset order) and
 * cut them every `blockImages`, class after class.
 */
export function scheduleBlocks(
  classOf: ArrayLike<number>,
  opts: { blockImages: number; shared: boolean; numClasses: number },
): Block[] {
  const blocks: Block[] = [];
  const n = classOf.length;
  if (opts.shared) {
    for (let s = 0; s < n; s += opts.blockImages) {
      const indices = Array.from(
        { length: Math.min(opts.blockImages, n - s) },
        (_, i) => s + i,
      );
      blocks.push({ indices, pool: classOf[s]! });
    }
    return blocks;
  }
  const byClass: number[][] = Array.from({ length: opts.numClasses }, () => []);
  for (let i = 0; i < n; i++) byClass[classOf[i]!]!.push(i);
  byClass.forEach((idx, c) => {
    for (let s = 0; s < idx.length; s += opts.blockImages) {
      blocks.push({ indices: idx.slice(s, s + opts.blockImages), pool: c });
    }
  });
  return blocks;
}

/** Decode and preprocess the images of one block (unreadable ones are skipped with a warning). */
export async function loadBlock(
  subset: Sample[],
  indices: number[],
  o: {
    size: number;
    resize: ResizeMode;
    cropPct: number;
    norm: Normalization | null;
    log: (line: string) => void;
  },
): Promise<{ tensor: Float32Array; indices: number[] }> {
  const per = 3 * o.size * o.size;
  const tensor = new Float32Array(indices.length * per);
  const kept: number[] = [];
  const images = await Promise.all(
    indices.map((i) =>
      readImage(subset[i]!.path).catch((err) => {
        o.log(
          `warning: ${err instanceof Error ? err.message : err}; image skipped`,
        );
        return null;
      })
    ),
  );
  images.forEach((img, j) => {
    if (!img) return;
    toTensor(img, {
      size: o.size,
      resize: o.resize,
      cropPct: o.cropPct,
      out: tensor,
      offset: kept.length * per,
    });
    kept.push(indices[j]!);
  });
  const out = tensor.subarray(0, kept.length * per);
  if (o.norm) normalizeTensor(out, o.norm, o.size);
  return { tensor: out, indices: kept };
}
