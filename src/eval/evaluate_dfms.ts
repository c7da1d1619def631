/**
 * One evaluation of a DFM stage: per-class TPR with and without each class's
 * rank-0 DFM, in-distribution and on an OOD set or under FGSM, plus each
 * DFM's false-positive rate; resumable class by class (src/eval/runner.ts).
 *
 * This module resolves what the runner needs from files: the stage, its
 * classes and normalisation, the ID and OOD datasets, the model, the attack
 * and the spectral filter, and the configuration recorded in `config.json`.
 */
import { isAbsolute, resolve } from "node:path";
import { OptionError, UserError } from "../errors.ts";
import {
  type DatasetLayout,
  describeDataset,
  openDataset,
  perClass,
  type Sample,
} from "../data/dataset.ts";
import { loadBatches, startDecodeWorkers } from "../data/loader.ts";
import { classIndexToWnid } from "../data/labels.ts";
import {
  type OodLayout,
  type OodPart,
  resolveOodParts,
  toOodSamples,
} from "../data/ood.ts";
import {
  type GeneratedSample,
  isGeneratedSample,
  loadGeneratedBatches,
  startGenerateWorkers,
} from "../corrupt/generated.ts";
import { type CorruptFormat, kStoredJpegQuality } from "../corrupt/corrupt.ts";
import {
  type BlurEngine,
  type CorruptDevice,
  openBlurEngine,
} from "../corrupt/gpu_blur.ts";
import { kCorruptGeneratorVersion, kUnavailable } from "../corrupt/registry.ts";
import { frostTexturesRecord, loadFrostTextures } from "../corrupt/frost.ts";
import type { Normalization } from "../data/preprocess.ts";
import { readStage, stageMask } from "../dfm/store.ts";
import { stageNormalization } from "../dfm/stage_normalization.ts";
import { ModelSession } from "../model/session.ts";
import { readInputFile } from "../io/read.ts";
import { sha256Hex } from "../io/sha256.ts";
import { RunLock } from "../io/lock.ts";
import { Rng } from "../rng.ts";
import { createFgsm, type Fgsm } from "./fgsm.ts";
import { saveAdversarial } from "./adversarial.ts";
import { createMaskFilter, type MaskFilterKind } from "./mask_filter.ts";
import {
  type BatchLoader,
  type EvalClass,
  type EvalSummary,
  runEval,
  type RunEvalOptions,
} from "./runner.ts";
import { runEvalShard } from "../shard/eval.ts";
import { shardName, type ShardSpec } from "../shard/partition.ts";
import type { CompatMode } from "./tpr_curves.ts";
import {
  type Interpolation,
  kDefaultInterpolation,
  type ResizeMode,
} from "../data/preprocess.ts";

/** Options of {@linkcode evaluateDfms}; values already checked. */
export interface EvaluateDfmsOptions {
  model: string;
  /** DFM stage folder. */
  dfm: string;
  /** In-distribution folder. */
  id: string;
  idLayout?: DatasetLayout;
  ood?: string;
  oodLayout?: OodLayout;
  /** Generated ImageNet-C: `jpeg` (quality-85 round trip, as released) or `png`. */
  corruptFormat?: CorruptFormat;
  /** Generated ImageNet-C: where defocus/motion/zoom blur run. */
  corruptDevice?: CorruptDevice;
  /** Generated ImageNet-C: folder of the original's frost textures (frost is generated). */
  frostTextures?: string;
  attack?: "fgsm";
  /** FGSM step on [0,1] pixels, and how it was written (`8/255`). */
  epsilon?: number;
  epsilonText?: string;
  fgsmLoss?: "ce" | "reference";
  /** With an attack: folder for the attacked inputs (src/eval/adversarial.ts). */
  saveAdversarial?: string;
  out: string;
  /** Class indices, wnids or names of the stage to keep. */
  classes?: string[];
  maxClasses?: number;
  maxImages?: number;
  /** ImageNet-C subsets (`corruption[/severity]`). */
  subsets?: string[];
  /** Default: the stage's masking. */
  maskSpace?: "normalized" | "pixel";
  resizeId?: ResizeMode;
  resizeOod?: ResizeMode;
  cropPct?: number;
  /** Resampling filter. Default: the stage's (bilinear for older stages). */
  interpolation?: Interpolation;
  /** Default: the stage's. */
  normalization?: Normalization;
  fprNegatives?: number;
  seed?: number;
  batchSize?: number;
  backend?: "wasm" | "webgpu";
  threads?: number;
  workers?: number;
  filter?: MaskFilterKind;
  compat?: CompatMode;
  label?: string;
  restart?: boolean;
  /** Evaluate only this shard's classes, into `<out>/shard-<i>-of-<n>/` (src/shard/eval.ts). */
  shard?: ShardSpec;
  /** Images above this many pixels are skipped with a warning (checked from the header). */
  maxPixels?: number;
  /** Progress lines (stderr in the CLI; silenced when quiet). */
  log?: (line: string) => void;
  /**
   * Notes and warnings (skipped images, dataset notes, a model other than the
   * searched one): never silenced. @default log
   */
  warn?: (line: string) => void;
}

/**
 * Evaluate a DFM stage; writes `per_class.csv`, `summary.json`, … into
 * `o.out` and returns the summary.
 *
 * @example
 * ```ts ignore
 * await evaluateDfms({ model: "m.onnx", dfm: "DFM/run/stage1", id: "val/", ood: "in-c/", out: "results/" });
 * ```
 */
export async function evaluateDfms(
  o: EvaluateDfmsOptions,
): Promise<EvalSummary> {
  if (!o.ood && !o.attack) {
    throw new OptionError("ood", "an OOD set or an attack is needed");
  }
  if (o.saveAdversarial !== undefined && !o.attack) {
    throw new OptionError("saveAdversarial", "needs an attack (fgsm)");
  }
  // One run per folder (per shard for a sharded run); taking the lock also
  // proves the folder writable, before any compute.
  const lock = RunLock.acquire(
    o.out,
    "eval",
    o.shard ? { name: shardName(o.shard) } : {},
  );
  try {
    if (lock.takenOver) {
      const t = lock.takenOver;
      (o.warn ?? o.log)?.(
        `note: took over "${o.out}" from process ${t.pid} on ${t.hostname} (${t.command}, since ${t.started_at}), which is no longer running`,
      );
    }
    return await evaluateLocked(o);
  } finally {
    lock.release();
  }
}

async function evaluateLocked(o: EvaluateDfmsOptions): Promise<EvalSummary> {
  const log = o.log ?? (() => {});
  const warn = o.warn ?? log;
  const attackName = o.attack;
  const stage = await readStage(o.dfm);
  const man = stage.manifest;
  const maskSpace = o.maskSpace ?? man.masking;
  const resizeId = o.resizeId ?? "crop";
  const resizeOod = o.resizeOod ?? "squash";
  const compat = o.compat ?? "hfss";
  const backend = o.backend ?? "wasm";
  const cropPct = o.cropPct ?? 0.875;
  const interpolation = o.interpolation ?? man.interpolation ??
    kDefaultInterpolation;
  const norm = o.normalization ?? stageNormalization(man);
  const seed = o.seed ?? 42;
  const batchSize = o.batchSize ?? 32;
  const maxImages = o.maxImages;
  const fprNegatives = o.fprNegatives ?? 100;
  const epsilonText = o.epsilonText ?? "8/255";
  const epsilon = o.epsilon ?? 8 / 255;
  const fgsmLoss = o.fgsmLoss ?? "ce";

  // classes: the stage's, filtered by `classes`, first `maxClasses`
  let dfmClasses = man.classes.map((c, pos) => ({
    pos,
    index: c.index,
    wnid: c.wnid,
  }));
  if (o.classes) {
    const want = new Set<number>();
    for (const k of o.classes) {
      const hit = man.classes.find((c) =>
        String(c.index) === k || c.wnid === k || c.name === k
      );
      if (!hit) {
        throw new UserError(
          `Cannot select class "${k}": it is not in the DFM stage "${o.dfm}"`,
        );
      }
      want.add(hit.index);
    }
    dfmClasses = dfmClasses.filter((c) => want.has(c.index));
  }
  if (o.maxClasses !== undefined) {
    dfmClasses = dfmClasses.slice(0, o.maxClasses);
  }
  const classIds = dfmClasses.map((c) => c.index);

  const rng = new Rng(seed);
  const limit = (s: Sample[], key: string) =>
    maxImages === undefined
      ? s
      : perClass(s, maxImages, rng.fork("max-images", key));
  const idDs = await openDataset(o.id, { layout: o.idLayout ?? "auto" });
  warn(`id: ${o.id} (${describeDataset(idDs)})`);
  for (const n of idDs.notes) warn(`note: ${n}`);
  const idSet = new Set(classIds);
  const idEval = toOodSamples(
    limit(idDs.samples.filter((s) => idSet.has(s.label)), "id"),
  );
  // FPR pool draws from every ID image (other classes included)
  const idAll = toOodSamples(idDs.samples);
  const idPool = idAll.filter((s) => !idSet.has(s.label));
  const idForRunner = [...idEval, ...idPool];

  let parts: OodPart[] = [];
  let validLabels: number[] | undefined;
  let oodLayoutUsed: string | null = null;
  if (o.ood) {
    const r = await resolveOodParts(o.ood, {
      layout: o.oodLayout ?? "auto",
      classes: classIds,
      subsets: o.subsets,
      limit,
      frost: o.frostTextures !== undefined,
    });
    warn(`ood: ${o.ood} (${r.layout})`);
    for (const n of r.notes) warn(`note: ${n}`);
    parts = r.parts;
    validLabels = r.validLabels;
    oodLayoutUsed = r.layout;
  }
  const corruptFormat = o.corruptFormat ?? "jpeg";
  // generated frost: the textures are read once, before any model is opened
  const frost = o.frostTextures !== undefined &&
      parts.some((p) => p.group === "frost")
    ? await loadFrostTextures(o.frostTextures)
    : null;

  // FGSM: onnxruntime-web runs single-threaded unless `threads` says
  // otherwise: building the gradient model with threaded wasm can deadlock
  // inside onnxruntime-web (see createFgsm() in src/eval/fgsm.ts). Both the
  // classifier and the attack set the thread count before onnxruntime-web
  // starts, so their order does not matter.
  const threads = o.threads ?? (attackName ? 1 : undefined);
  // One read serves the session and the recorded hash.
  const modelBytes = await readInputFile(o.model, "Cannot open model");
  // A symbolic-size model runs at the DFMs' side; a fixed-size one that
  // differs is refused below with the sizes named.
  const open = (size?: number) =>
    ModelSession.open(o.model, {
      bytes: modelBytes,
      backend,
      ...(threads !== undefined ? { threads } : {}),
      ...(size !== undefined ? { size } : {}),
    });
  const session = await open(man.image_size).catch((err) => {
    if (err instanceof OptionError && err.option === "size") return open();
    throw err;
  });
  const info = session.info;
  try {
    // the data is decoded as RGB; every evaluated class must be an output
    session.checkFits({
      channels: 3,
      ...(classIds.length ? { maxLabel: Math.max(...classIds) } : {}),
    });
  } catch (err) {
    await session.release();
    throw err;
  }
  if (info.size !== man.image_size) {
    await session.release();
    throw new UserError(
      `Cannot evaluate DFMs of size ${man.image_size} on model "${o.model}": it takes ${info.size}×${info.size} images`,
    );
  }
  let attack: Fgsm | undefined;
  if (attackName) {
    try {
      attack = await createFgsm(o.model, {
        loss: fgsmLoss,
        epsilon,
        mean: norm.mean,
        std: norm.std,
        backend,
        model: info,
        ...(threads !== undefined ? { threads } : {}),
      });
    } catch (err) {
      await session.release();
      throw err;
    }
  }
  const size = info.size;
  const modelSha = await sha256Hex(modelBytes);
  const searched = man.model;
  const sameModel = searched.sha256 === null
    ? null
    : searched.sha256 === modelSha;
  if (sameModel === false) {
    warn(
      `warning: model "${o.model}" (sha256 ${
        modelSha.slice(0, 12)
      }…) is not the model the DFMs were searched with ("${searched.path}", sha256 ${
        searched.sha256!.slice(0, 12)
      }…); the results measure the reliance of another model`,
    );
  }
  const abs = (p: string) => isAbsolute(p) ? p : resolve(p);
  const config: Record<string, unknown> = {
    format_version: 1,
    ...(o.label ? { label: o.label } : {}),
    model: { path: abs(o.model), sha256: modelSha },
    dfm: abs(o.dfm),
    dfm_stage: man.stage,
    dfm_search_model: {
      path: searched.path,
      sha256: searched.sha256,
      same_as_model: sameModel,
    },
    dfm_rank: 0,
    dfm_symmetry: man.symmetry,
    dfm_search_masking: man.masking,
    dataset_counts: idDs.counts,
    id: {
      root: abs(o.id),
      layout: idDs.layout,
      note: "in-distribution split = the --id folder",
    },
    ood: o.ood
      ? {
        root: abs(o.ood),
        layout: oodLayoutUsed,
        parts: parts.map((p) => p.name),
        logits: validLabels
          ? `restricted to ${validLabels.length} classes`
          : "all",
        aggregation: parts.length > 1
          ? "per class: mean over parts with images of the class"
          : "single part",
      }
      : null,
    attack: attackName
      ? {
        name: attackName,
        epsilon,
        epsilon_text: epsilonText,
        loss: fgsmLoss,
        on: o.ood ? "ood" : "id",
        counting:
          "correct only if clean and perturbed inputs are both classified correctly (eval_fgsm.py)",
      }
      : null,
    mask_space: maskSpace,
    resize_id: resizeId,
    resize_ood: resizeOod,
    crop_pct: cropPct,
    // Recorded only when not the default, so earlier runs still resume.
    ...(interpolation !== kDefaultInterpolation ? { interpolation } : {}),
    normalization: { name: norm.name, mean: norm.mean, std: norm.std },
    classes: classIds,
    max_images: maxImages ?? null,
    fpr_negatives: fprNegatives,
    fpr_pool:
      "fixed seeded sample of the --id images; negatives of class c = pool images of other classes",
    seed,
    compat,
  };

  // spectral filter: GPU when an adapter exists, else CPU; which one ran is
  // recorded in config.json/summary.json (`filter`, not compared on resume)
  let filter;
  try {
    filter = await createMaskFilter({
      size,
      maxImages: batchSize,
      kind: o.filter ?? "auto",
      onWarning: (m) => warn(`warning: ${m}`),
    });
  } catch (err) {
    await attack?.release();
    await session.release();
    throw err;
  }
  config.filter = filter.info;
  // generated ImageNet-C: where the blurs run changes outputs by float
  // rounding, so it is part of the compared configuration
  let blur: BlurEngine | null = null;
  if (oodLayoutUsed === "imagenet-c-generate") {
    try {
      blur = await openBlurEngine(o.corruptDevice ?? "auto");
    } catch (err) {
      await attack?.release();
      filter[Symbol.dispose]();
      await session.release();
      throw err;
    }
    (config.ood as Record<string, unknown>).generate = {
      seed,
      format: corruptFormat,
      jpeg_quality: corruptFormat === "jpeg" ? kStoredJpegQuality : null,
      blur_device: blur.description,
      not_generated: frost ? {} : kUnavailable,
    };
    // top level, so a resume under another generator or other textures is
    // refused with the key named
    config.corrupt_generator_version = kCorruptGeneratorVersion;
    config.frost_textures = frost ? frostTexturesRecord(frost) : null;
  }
  const workers = o.workers ?? 0;
  // worker threads for the whole run (the loader is called once per class
  // and part); generator threads keep their images' crops between parts
  const decoders = startDecodeWorkers(workers);
  const generators = oodLayoutUsed === "imagenet-c-generate"
    ? startGenerateWorkers(workers, { frost })
    : null;
  const loader: BatchLoader = (samples, lo) =>
    samples.length > 0 && isGeneratedSample(samples[0]!)
      ? loadGeneratedBatches(samples as GeneratedSample[], {
        batchSize: lo.batchSize,
        size,
        resize: lo.resize,
        cropPct,
        interpolation,
        seed,
        format: corruptFormat,
        gpu: blur?.gpu ?? null,
        frost,
        pool: generators,
        ...(o.maxPixels !== undefined ? { maxPixels: o.maxPixels } : {}),
        onError: (s, e) => lo.onError(s.path, e),
      })
      : loadBatches(samples, {
        batchSize: lo.batchSize,
        size,
        resize: lo.resize,
        cropPct,
        interpolation,
        pool: decoders,
        ...(o.maxPixels !== undefined ? { maxPixels: o.maxPixels } : {}),
        onError: (s, e) => lo.onError(s.path, e),
      });

  try {
    const classes: EvalClass[] = dfmClasses.map((c) => ({
      classId: c.index,
      wnid: c.wnid ??
        (c.index >= 0 && c.index < 1000 ? classIndexToWnid(c.index) : ""),
      mask: stageMask(stage, c.pos, 0),
    }));
    log(
      `eval: ${classes.length} classes, ${idEval.length} ID images${
        parts.length
          ? `, ${
            parts.reduce((s, p) => s + p.samples.length, 0)
          } OOD images in ${parts.length} part(s)`
          : ""
      }${attackName ? `, ${attackName} ε=${epsilonText}` : ""}; filter on ${
        filter.onGpu ? "GPU" : "CPU"
      }`,
    );
    const t0 = performance.now();
    const runOptions: RunEvalOptions = {
      out: o.out,
      classes,
      id: idForRunner,
      oodParts: parts,
      ...(validLabels ? { oodSubset: validLabels } : {}),
      ...(attack ? { attack } : {}),
      classifier: session,
      filter,
      loader,
      mean: norm.mean,
      std: norm.std,
      maskSpace,
      resizeId,
      resizeOod,
      fprNegatives,
      seed,
      batchSize,
      compat,
      config,
      ...(o.restart ? { restart: true } : {}),
      onClass: (r, done, total) => {
        const f = (a: number, b: number) => (b > 0 ? (a / b).toFixed(3) : "-");
        log(
          `class ${done}/${total} ${r.class_id} ${r.wnid}: org ${
            f(r.org_correct, r.n_id)
          } dfm ${
            f(r.org_dfm_correct, r.n_id)
          } (n=${r.n_id}); ood n=${r.n_ood}; dfm fpr ${f(r.dfm_fp, r.n_neg)}`,
        );
      },
      onWarning: (m) => warn(`warning: ${m}`),
    };
    const { summary, dir } = o.shard
      ? await runEvalShard(runOptions, o.shard)
      : { summary: await runEval(runOptions), dir: o.out };
    log(
      `eval: done in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s → ${dir}`,
    );
    if (attack && o.saveAdversarial !== undefined) {
      // the attacked images again, in one pass that keeps what it makes
      const saved = await saveAdversarial({
        dir: o.saveAdversarial,
        samples: o.ood ? parts.flatMap((p) => p.samples) : idEval,
        loader,
        resize: o.ood ? resizeOod : resizeId,
        batchSize,
        size,
        attack,
        classifier: session,
        mean: norm.mean,
        std: norm.std,
        ...(validLabels ? { subset: validLabels } : {}),
        onError: (path, err) =>
          log(
            `warning: skipping "${path}": ${
              err instanceof Error ? err.message : String(err)
            }`,
          ),
      });
      log(`eval: ${saved.count} attacked images → ${o.saveAdversarial}`);
    }
    return summary;
  } finally {
    await attack?.release();
    filter[Symbol.dispose]();
    blur?.[Symbol.dispose]();
    decoders?.terminate();
    generators?.terminate();
    await session.release();
  }
}
