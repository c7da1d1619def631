/**
 * `hfss eval`: per-class TPR with and without each class's rank-0 DFM,
 * in-distribution and on an OOD set or under FGSM, plus each DFM's
 * false-positive rate; resumable class by class (see src/eval/runner.ts).
 *
 * Choices the reference made inconsistently are flags, recorded in
 * `config.json` / `summary.json` (reference-hfss.md §2.11 #4–#6, §3):
 * - `--mask-space normalized|pixel` (default: the DFM stage's `masking`,
 *   `normalized` for reference-style searches; eval_inr.py used `pixel`);
 * - `--resize-id crop|squash` (default `crop`: Resize(256)+CenterCrop(224) as
 *   the reference's Org columns), `--resize-ood squash|crop` (default `squash`:
 *   Resize((224,224)) as its IN-C/IN-v2/Sketch columns);
 * - the in-distribution split is the `--id` folder (the reference used
 *   ImageNet *train*; we recommend the val folder, disjoint from the search);
 * - normalisation: default the DFM stage's (what the search used).
 * OOD layouts: ImageNet-C (every corruption×severity found; per class the
 * mean over them, as the notebook, and per corruption), ImageNet-v2 (a subset
 * folder, or a root with several subsets: per class the mean over subsets),
 * ImageNet-R/-A (argmax over their 200 classes), sketch, folder, labels-csv.
 * With `--attack fgsm` and no `--ood`, the attack runs on the ID images
 * (eval_fgsm.py); with `--ood` too, on the OOD images.
 */
import { isAbsolute, join, resolve } from "node:path";
import type { Command } from "commander";
import { UserError } from "../errors.ts";
import { ConfigMismatchError } from "../io/resume_config.ts";
import {
  type Dataset,
  type DatasetLayout,
  kDatasetLayouts,
  openDataset,
  perClass,
} from "../data/dataset.ts";
import { type Sample } from "../data/dataset.ts";
import { loadBatches } from "../data/loader.ts";
import { classIndexToWnid } from "../data/labels.ts";
import {
  type Normalization,
  normalization,
  parseNormalizeFlags,
} from "../data/preprocess.ts";
import { readStage, stageMask } from "../dfm/store.ts";
import { ModelSession } from "../model/session.ts";
import { GpuContext } from "../gpu/context.ts";
import { readInputFile } from "../io/read.ts";
import { sha256Hex } from "../io/sha256.ts";
import { SpectralFilter } from "../gpu/spectral_filter.ts";
import { Rng } from "../rng.ts";
import { CpuFft, cpuFilter } from "../fft/cpu_fft.ts";
import { createFgsm, type Fgsm } from "../eval/fgsm.ts";
import {
  type BatchLoader,
  type EvalClass,
  type EvalPart,
  type EvalSample,
  type EvalSummary,
  type MaskFilter,
  runEval,
} from "../eval/runner.ts";
import type { CompatMode } from "../eval/tpr_curves.ts";

/** `--ood-layout` names (the issue's) → dataset layouts. */
const kOodLayouts: Record<string, DatasetLayout> = {
  "imagenet-v2": "imagenet-v2",
  "imagenet-c": "imagenet-c",
  sketch: "imagenet-sketch",
  "imagenet-sketch": "imagenet-sketch",
  "imagenet-r": "imagenet-r",
  "imagenet-a": "imagenet-a",
  folder: "folders",
  folders: "folders",
  "labels-csv": "labels-csv",
  imagenet: "imagenet",
  auto: "auto",
};

/** Options of {@linkcode evalCommand} (the CLI flags). */
export interface EvalCliOptions {
  model: string;
  dfm: string;
  id: string;
  idLayout?: string;
  ood?: string;
  oodLayout?: string;
  attack?: string;
  epsilon?: string;
  fgsmLoss?: string;
  out: string;
  classes?: string;
  maxClasses?: string;
  maxImages?: string;
  subsets?: string;
  maskSpace?: string;
  resizeId?: string;
  resizeOod?: string;
  cropPct?: string;
  normalize?: string;
  mean?: string;
  std?: string;
  fprNegatives?: string;
  seed?: string;
  batchSize?: string;
  backend?: string;
  threads?: string;
  workers?: string;
  filter?: string;
  compat?: string;
  label?: string;
  restart?: boolean;
  json?: boolean;
  quiet?: boolean;
}

function intFlag(
  v: string | undefined,
  name: string,
  dflt: number,
  min = 0,
): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new UserError(
      `Cannot use ${name} "${v}": expected an integer >= ${min}`,
      { exitCode: 2 },
    );
  }
  return n;
}

function choice<T extends string>(
  v: string | undefined,
  name: string,
  allowed: readonly T[],
  dflt: T,
): T {
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new UserError(
      `Cannot use ${name} "${v}": expected ${allowed.join(", ")}`,
      { exitCode: 2 },
    );
  }
  return v as T;
}

/** Parse an epsilon like `8/255`, `0.03`. */
export function parseEpsilon(text: string): number {
  const m = /^\s*([0-9.eE+-]+)\s*(?:\/\s*([0-9.eE+-]+))?\s*$/.exec(text);
  const v = m
    ? (m[2] !== undefined ? Number(m[1]) / Number(m[2]) : Number(m[1]))
    : NaN;
  if (!Number.isFinite(v) || v < 0) {
    throw new UserError(
      `Cannot use --epsilon "${text}": expected a number or a fraction like 8/255`,
      {
        exitCode: 2,
      },
    );
  }
  return v;
}

/** ImageNet-v2 root holding several subset folders (each with numeric class folders)? */
async function v2Subsets(root: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(root)) {
    if (e.isDirectory && !/^\d+$/.test(e.name)) names.push(e.name);
  }
  const out: string[] = [];
  for (const n of names.sort()) {
    for await (const e of Deno.readDir(join(root, n))) {
      if (e.isDirectory && /^\d+$/.test(e.name)) {
        out.push(n);
        break;
      }
    }
  }
  return out;
}

function toEval(s: readonly Sample[]): EvalSample[] {
  return s.map((x) => ({ path: x.path, label: x.label }));
}

/** Options of {@linkcode resolveOodParts}. */
export interface OodPartsOptions {
  layout: DatasetLayout;
  /** Class ids to keep. */
  classes: number[];
  /** ImageNet-C subsets to keep (`corruption[/severity]`). */
  subsets?: string[] | undefined;
  /** Subsample a part's samples (`key` = part name). */
  limit?: (s: Sample[], key: string) => Sample[];
}

/**
 * The OOD parts of a dataset: one per ImageNet-C corruption/severity (group =
 * corruption), one per ImageNet-v2 subset folder when the root holds several
 * (sorted by name), else one part. `limit` subsamples each part.
 */
export async function resolveOodParts(
  root: string,
  options: OodPartsOptions,
): Promise<
  { parts: EvalPart[]; validLabels?: number[]; layout: string; notes: string[] }
> {
  const { layout, classes, subsets } = options;
  const limit = options.limit ?? ((s: Sample[]) => s);
  const opts = { classes, ...(subsets ? { subsets } : {}) };
  if (layout === "imagenet-v2") {
    const subs = await v2Subsets(root);
    if (subs.length > 0) {
      const parts: EvalPart[] = [];
      const notes: string[] = [];
      for (const s of subs) {
        const ds = await openDataset(join(root, s), {
          layout: "imagenet-v2",
          classes,
        });
        notes.push(...ds.notes);
        parts.push({ name: s, samples: toEval(limit(ds.samples, s)) });
      }
      return { parts, layout: "imagenet-v2", notes };
    }
  }
  const ds: Dataset = await openDataset(root, { layout, ...opts });
  if (ds.layout === "imagenet-c") {
    const groups = new Map<string, Sample[]>();
    for (const s of ds.samples) {
      const k = s.subset ?? "";
      const g = groups.get(k);
      if (g) g.push(s);
      else groups.set(k, [s]);
    }
    const order = ds.subsets?.map((x) => x.name) ?? [...groups.keys()];
    const parts = order.filter((n) => groups.has(n)).map((n) => ({
      name: n,
      group: n.includes("/") ? n.slice(0, n.lastIndexOf("/")) : n,
      samples: toEval(limit(groups.get(n)!, n)),
    }));
    return { parts, layout: ds.layout, notes: ds.notes };
  }
  return {
    parts: [{ name: ds.layout, samples: toEval(limit(ds.samples, "ood")) }],
    ...(ds.validLabels ? { validLabels: ds.validLabels } : {}),
    layout: ds.layout,
    notes: ds.notes,
  };
}

/**
 * Run `hfss eval` with parsed flags; returns the summary.
 *
 * @example
 * ```ts ignore
 * await evalCommand({ model: "m.onnx", dfm: "DFM/run/stage1", id: "val/", out: "results/" });
 * ```
 */
export async function evalCommand(o: EvalCliOptions): Promise<EvalSummary> {
  const log = (m: string) => {
    if (!o.quiet) console.error(m);
  };
  const stage = await readStage(o.dfm);
  const man = stage.manifest;
  const maskSpace = choice(
    o.maskSpace,
    "--mask-space",
    ["normalized", "pixel"] as const,
    man.masking,
  );
  const resizeId = choice(
    o.resizeId,
    "--resize-id",
    ["crop", "squash"] as const,
    "crop",
  );
  const resizeOod = choice(
    o.resizeOod,
    "--resize-ood",
    ["squash", "crop"] as const,
    "squash",
  );
  const compat = choice(
    o.compat,
    "--compat",
    ["hfss", "reference"] as const,
    "hfss",
  ) as CompatMode;
  const backend = choice(
    o.backend,
    "--backend",
    ["wasm", "webgpu"] as const,
    "wasm",
  );
  const filterKind = choice(
    o.filter,
    "--filter",
    ["auto", "gpu", "cpu"] as const,
    "auto",
  );
  const cropPct = o.cropPct === undefined ? 0.875 : Number(o.cropPct);
  if (!(cropPct > 0 && cropPct <= 1)) {
    throw new UserError(
      `Cannot use --crop-pct "${o.cropPct}": expected a number in (0, 1]`,
      { exitCode: 2 },
    );
  }
  const norm: Normalization =
    o.normalize !== undefined || o.mean !== undefined || o.std !== undefined
      ? parseNormalizeFlags({
        ...(o.normalize !== undefined ? { normalize: o.normalize } : {}),
        ...(o.mean !== undefined ? { mean: o.mean } : {}),
        ...(o.std !== undefined ? { std: o.std } : {}),
      })
      : man.normalization.name in { imagenet: 1, inception: 1, none: 1 }
      ? normalization(man.normalization.name)
      : normalization({
        mean: man.normalization.mean,
        std: man.normalization.std,
      });
  const seed = intFlag(o.seed, "--seed", 42);
  const batchSize = intFlag(o.batchSize, "--batch-size", 32, 1);
  const maxImages = o.maxImages === undefined
    ? undefined
    : intFlag(o.maxImages, "--max-images", 0, 1);
  const fprNegatives = intFlag(o.fprNegatives, "--fpr-negatives", 100);
  const attackName = o.attack === undefined
    ? undefined
    : choice(o.attack, "--attack", ["fgsm"] as const, "fgsm");
  if (!o.ood && !attackName) {
    throw new UserError(
      "Cannot run eval: give an OOD set (--ood) or an attack (--attack fgsm)",
      { exitCode: 2 },
    );
  }
  const epsilonText = o.epsilon ?? "8/255";
  const epsilon = parseEpsilon(epsilonText);
  const fgsmLoss = choice(
    o.fgsmLoss,
    "--fgsm-loss",
    ["ce", "reference"] as const,
    "ce",
  );
  const idLayout = choice(o.idLayout, "--id-layout", kDatasetLayouts, "auto");
  const oodLayoutName = o.oodLayout ?? "auto";
  const oodLayout = kOodLayouts[oodLayoutName];
  if (!oodLayout) {
    throw new UserError(
      `Cannot use --ood-layout "${oodLayoutName}": expected ${
        Object.keys(kOodLayouts).join(", ")
      }`,
      { exitCode: 2 },
    );
  }

  // classes: the stage's, filtered by --classes, first --max-classes
  let dfmClasses = man.classes.map((c, pos) => ({
    pos,
    index: c.index,
    wnid: c.wnid,
  }));
  if (o.classes) {
    const keys = o.classes.split(",").map((s) => s.trim()).filter(Boolean);
    const want = new Set<number>();
    for (const k of keys) {
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
    dfmClasses = dfmClasses.slice(
      0,
      intFlag(o.maxClasses, "--max-classes", 0, 1),
    );
  }
  const classIds = dfmClasses.map((c) => c.index);

  const rng = new Rng(seed);
  const limit = (s: Sample[], key: string) =>
    maxImages === undefined
      ? s
      : perClass(s, maxImages, rng.fork("max-images", key));
  const idDs = await openDataset(o.id, { layout: idLayout });
  for (const n of idDs.notes) log(`note: ${n}`);
  const idSet = new Set(classIds);
  const idEval = toEval(
    limit(idDs.samples.filter((s) => idSet.has(s.label)), "id"),
  );
  // FPR pool draws from every ID image (other classes included)
  const idAll = toEval(idDs.samples);
  const idPool = idAll.filter((s) => !idSet.has(s.label));
  const idForRunner = [...idEval, ...idPool];

  let parts: EvalPart[] = [];
  let validLabels: number[] | undefined;
  let oodLayoutUsed: string | null = null;
  const subsets = o.subsets
    ? o.subsets.split(",").map((s) => s.trim()).filter(Boolean)
    : undefined;
  if (o.ood) {
    const r = await resolveOodParts(o.ood, {
      layout: oodLayout,
      classes: classIds,
      subsets,
      limit,
    });
    for (const n of r.notes) log(`note: ${n}`);
    parts = r.parts;
    validLabels = r.validLabels;
    oodLayoutUsed = r.layout;
  }

  // FGSM: onnxruntime-web runs single-threaded unless --threads says
  // otherwise: building the gradient model with threaded wasm can deadlock
  // inside onnxruntime-web (see createFgsm() in src/eval/fgsm.ts). Both the
  // classifier and the attack set the thread count before onnxruntime-web
  // starts, so their order does not matter.
  const threads = o.threads !== undefined
    ? intFlag(o.threads, "--threads", 1, 1)
    : attackName
    ? 1
    : undefined;
  if (attackName && threads !== undefined && threads > 1) {
    log(
      `warning: --threads ${threads} with --attack: building the FGSM gradient model with threaded onnxruntime-web can hang; use --threads 1 if it does`,
    );
  }
  // One read serves the session and the recorded hash.
  const modelBytes = await readInputFile(o.model, "Cannot open model");
  const session = await ModelSession.open(o.model, {
    bytes: modelBytes,
    backend,
    ...(threads !== undefined ? { threads } : {}),
  });
  let attack: Fgsm | undefined;
  if (attackName) {
    try {
      attack = await createFgsm(o.model, {
        loss: fgsmLoss,
        epsilon,
        mean: norm.mean,
        std: norm.std,
        backend,
        ...(threads !== undefined ? { threads } : {}),
      });
    } catch (err) {
      await session.release();
      throw err;
    }
  }
  const info = session.info;
  if (info.size !== man.image_size) {
    await attack?.release();
    await session.release();
    throw new UserError(
      `Cannot evaluate DFMs of size ${man.image_size} on model "${o.model}": it takes ${info.size}×${info.size} images`,
    );
  }
  const size = info.size;
  const modelSha = await sha256Hex(modelBytes);
  const abs = (p: string) => isAbsolute(p) ? p : resolve(p);
  const config: Record<string, unknown> = {
    format_version: 1,
    ...(o.label ? { label: o.label } : {}),
    model: { path: abs(o.model), sha256: modelSha },
    dfm: abs(o.dfm),
    dfm_stage: man.stage,
    dfm_rank: 0,
    dfm_symmetry: man.symmetry,
    dfm_search_masking: man.masking,
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
  let gpu: GpuContext | undefined;
  let spectral: SpectralFilter | undefined;
  let filterInfo: Record<string, unknown> = {
    kind: "cpu",
    reason: "--filter cpu",
  };
  if (filterKind !== "cpu") {
    try {
      gpu = await GpuContext.create();
      spectral = await SpectralFilter.create(gpu, {
        size,
        maxImages: batchSize,
      });
      const a = gpu.report();
      filterInfo = {
        kind: "gpu",
        adapter: a.description,
        fallback_adapter: a.isFallbackAdapter,
      };
    } catch (err) {
      if (filterKind === "gpu") throw err;
      const why = err instanceof Error ? err.message : String(err);
      log(`warning: no WebGPU filter (${why}); filtering on the CPU (slow)`);
      filterInfo = { kind: "cpu", reason: `no WebGPU filter: ${why}` };
      gpu?.[Symbol.dispose]();
      gpu = undefined;
    }
  }
  config.filter = filterInfo;
  const cpuFft = spectral ? undefined : new CpuFft(size);
  const filter: MaskFilter = spectral
    ? {
      apply: async (images, count, mask, opts) => {
        spectral!.load(images, count);
        using set = spectral!.uploadMasks(mask, 1);
        return await spectral!.apply(set, {
          ...(opts?.scale ? { scale: opts.scale } : {}),
          ...(opts?.offset ? { offset: opts.offset } : {}),
        });
      },
    }
    : {
      apply: (images, count, mask, opts) =>
        Promise.resolve(
          cpuFilter(images.subarray(0, count * 3 * size * size), mask, {
            size,
            fft: cpuFft!,
            channels: 3,
            ...(opts?.scale ? { scale: opts.scale } : {}),
            ...(opts?.offset ? { offset: opts.offset } : {}),
          }),
        ),
    };
  const workers = o.workers === undefined
    ? 0
    : intFlag(o.workers, "--workers", 0);
  const loader: BatchLoader = (samples, lo) =>
    loadBatches(samples, {
      batchSize: lo.batchSize,
      size,
      resize: lo.resize,
      cropPct,
      workers,
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
        spectral ? "GPU" : "CPU"
      }`,
    );
    const t0 = performance.now();
    const summary = await runEval({
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
      onWarning: (m) => log(`warning: ${m}`),
    });
    log(
      `eval: done in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s → ${o.out}`,
    );
    return summary;
  } catch (err) {
    if (err instanceof ConfigMismatchError) {
      throw new UserError(
        err.describe((k) => k, "use --restart or another --out"),
      );
    }
    throw err;
  } finally {
    await attack?.release();
    spectral?.[Symbol.dispose]();
    gpu?.[Symbol.dispose]();
    await session.release();
  }
}

/** Register the `eval` subcommand. */
export function register(program: Command): void {
  program
    .command("eval")
    .description(
      "per-class TPR with/without each class's DFM, in-distribution and on an OOD set or under FGSM; resumable",
    )
    .requiredOption("--model <file>", "ONNX classifier")
    .requiredOption(
      "--dfm <dir>",
      "DFM stage folder (…/stage<k>); rank-0 mask of each class is used",
    )
    .requiredOption(
      "--id <dir>",
      "in-distribution images (this folder is the ID split; e.g. ImageNet val)",
    )
    .option(
      "--id-layout <layout>",
      `ID layout: ${kDatasetLayouts.join("|")}`,
      "auto",
    )
    .option("--ood <dir>", "OOD set root")
    .option(
      "--ood-layout <layout>",
      "imagenet-v2|imagenet-c|sketch|imagenet-r|imagenet-a|folder|labels-csv|imagenet|auto",
      "auto",
    )
    .option(
      "--subsets <list>",
      "ImageNet-C: keep these corruption[/severity] subsets (comma-separated)",
    )
    .option("--attack <name>", "adversarial attack as the shifted set: fgsm")
    .option("--epsilon <eps>", "FGSM step on [0,1] pixels", "8/255")
    .option(
      "--fgsm-loss <loss>",
      "ce (cross-entropy) | reference (nll_loss on logits = -z_y)",
      "ce",
    )
    .requiredOption("--out <dir>", "output folder (resumable)")
    .option(
      "--classes <list>",
      "evaluate only these classes (indices, wnids or names; comma-separated)",
    )
    .option(
      "--max-classes <n>",
      "evaluate only the first n classes of the stage",
    )
    .option(
      "--max-images <n>",
      "at most n images per class (ID, and per OOD part), seeded",
    )
    .option(
      "--mask-space <space>",
      "normalized | pixel (default: the DFM stage's masking)",
    )
    .option(
      "--resize-id <mode>",
      "crop (Resize256+Crop224, reference Org) | squash",
      "crop",
    )
    .option(
      "--resize-ood <mode>",
      "squash (Resize((S,S)), reference OOD) | crop",
      "squash",
    )
    .option("--crop-pct <f>", "centre-crop fraction for crop", "0.875")
    .option(
      "--normalize <name>",
      "imagenet | inception | none (default: the DFM stage's)",
    )
    .option("--mean <list>", "normalisation mean (comma-separated)")
    .option("--std <list>", "normalisation std (comma-separated)")
    .option(
      "--fpr-negatives <n>",
      "size of the seeded pool of other-class ID images for DFM FPR (0: off)",
      "100",
    )
    .option("--seed <n>", "seed of the FPR pool and image subsampling", "42")
    .option("--batch-size <n>", "images per inference batch", "32")
    .option("--backend <name>", "onnxruntime backend: wasm | webgpu", "wasm")
    .option(
      "--threads <n>",
      "wasm threads (default: all cores; 1 with --attack)",
    )
    .option("--workers <n>", "image decode workers", "0")
    .option("--filter <where>", "spectral filter: auto | gpu | cpu", "auto")
    .option(
      "--compat <mode>",
      "AvgTPR empty groups in summary.json: hfss (null) | reference (0)",
      "hfss",
    )
    .option("--label <text>", "display name of this run in the report")
    .option(
      "--restart",
      "discard a previous run in --out with another configuration",
    )
    .option("--quiet", "no progress on stderr")
    .option("--json", "print the summary as JSON")
    .action(async (opts: EvalCliOptions) => {
      const s = await evalCommand(opts);
      if (opts.json) {
        console.log(JSON.stringify(s, null, 2));
        return;
      }
      const f = (
        v: number | null | undefined,
      ) => (typeof v === "number" ? v.toFixed(4) : "-");
      console.log(`classes: ${s.classes}${s.complete ? "" : " (incomplete)"}`);
      console.log(
        `org_acc ${f(s.mean.org_acc)}  org_dfm_acc ${f(s.mean.org_dfm_acc)}`,
      );
      console.log(
        `corrupt_acc ${f(s.mean.corrupt_acc)}  corrupt_dfm_acc ${
          f(s.mean.corrupt_dfm_acc)
        }`,
      );
      console.log(`org_fpr ${f(s.mean.org_fpr)}  dfm_fpr ${f(s.mean.dfm_fpr)}`);
      for (const g of s.groups) {
        console.log(`  ${g.name}: ${f(g.acc)} / dfm ${f(g.dfm_acc)}`);
      }
      console.log(
        `files: ${join(opts.out, "per_class.csv")}, ${
          join(opts.out, "summary.json")
        }`,
      );
    });
}
