/**
 * Resumable, class-by-class HFSS evaluation (reference-hfss.md §3).
 *
 * For every class c of the DFM stage (in the stage's class order) the runner
 * measures, with DFM_c = the class's rank-0 mask:
 * - `org_acc` / `org_dfm_acc`: TPR_c on the in-distribution images of c
 *   without / with DFM_c;
 * - `corrupt_acc` / `corrupt_dfm_acc`: TPR_c on the OOD set (mean over its
 *   parts: ImageNet-C corruption×severity folders, ImageNet-v2 subsets, …;
 *   a part without images of c is left out of the mean), or under attack
 *   (FGSM, counted as in eval_fgsm.py: correct only if the clean input is
 *   classified correctly and the perturbed one too);
 * - `org_fpr` / `dfm_fpr`: the fraction of a fixed, seeded pool of
 *   in-distribution images of other classes predicted as c without / with
 *   DFM_c (FP/N of the ICCV'23 predecessor).
 *
 * Files under `out/` (all rewritten atomically except the JSONL log):
 * - `config.json`: everything that defines the run (a rerun with a different
 *   configuration is refused unless `restart` is set);
 * - `classes.jsonl`: one record per finished class, appended, integer counts;
 *   a torn last line (killed mid-write) is dropped on resume;
 * - `per_class.csv`, `per_part.csv`: written from the JSONL records in class
 *   order, so a resumed run gives byte-identical files;
 * - `summary.json`: configuration, class means, per-part and per-corruption
 *   means, and the AvgTPR curves (written when all classes are done).
 *
 * Masking spaces (`maskSpace`): `normalized` filters the normalised image
 * (search.py, eval_in2cs.py, eval_fgsm.py), `pixel` filters the [0,1] image
 * and normalises after (eval_inr.py); see reference-hfss.md §2.11 #4.
 */
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic.ts";
import { Rng } from "../rng.ts";
import { recordsToCsv } from "../io/csv.ts";
import { finiteOrNull } from "../io/json.ts";
import {
  canonicalJson,
  configDifferences,
  ConfigMismatchError,
  firstDifference,
} from "../io/resume_config.ts";
import { normalizeTensor, type ResizeMode } from "../data/preprocess.ts";
import { argmaxRows, countClass, nanMean, rate } from "./metrics.ts";
import {
  type CompatMode,
  type TprCurveJson,
  tprCurveToJson,
  tprPanels,
} from "./tpr_curves.ts";

/** One image: file path and its 1000-class label. */
export interface EvalSample {
  path: string;
  label: number;
}

/** A part of the OOD set (one IN-C corruption/severity, one IN-v2 subset, …). */
export interface EvalPart {
  /** Name recorded in the outputs, e.g. `gaussian_noise/3` or `matched-frequency`. */
  name: string;
  /** Group name for per-group means (IN-C: the corruption). */
  group?: string;
  samples: EvalSample[];
}

export type { ResizeMode };

/** A batch of decoded images, pixel space [0,1], `[B,3,S,S]`. */
export interface LoadedBatch {
  samples: EvalSample[];
  tensor: Float32Array;
}

/** Loads images in batches (src/data/loader.ts `loadBatches` fits this). */
export type BatchLoader = (
  samples: EvalSample[],
  options: {
    batchSize: number;
    resize: ResizeMode;
    onError: (path: string, err: unknown) => void;
  },
) => AsyncIterable<LoadedBatch>;

/** A classifier: normalised `[B,3,S,S]` in, logits `[B,K]` out. */
export interface Classifier {
  run(x: Float32Array, batch: number): Promise<Float32Array>;
}

/** The spectral filter: `scale·Re(ifft2(ifftshift(fftshift(fft2(x))·M))) + offset` per channel. */
export interface MaskFilter {
  apply(
    images: Float32Array,
    count: number,
    mask: Uint8Array,
    options?: { scale?: ArrayLike<number>; offset?: ArrayLike<number> },
  ): Promise<Float32Array>;
}

/** An adversarial attack on normalised inputs (FGSM, src/eval/fgsm.ts). */
export interface Attack {
  attack(
    x: Float32Array,
    labels: Int32Array,
    batch: number,
  ): Promise<Float32Array>;
}

/** A class to evaluate and its rank-0 DFM. */
export interface EvalClass {
  classId: number;
  wnid: string;
  /** Rank-0 mask `[S,S]`, 0/1, fftshifted layout. */
  mask: Uint8Array;
}

/** Options of {@linkcode runEval}. */
export interface RunEvalOptions {
  /** Output folder. */
  out: string;
  classes: EvalClass[];
  /** In-distribution images (all classes; class c's images give org_*, the others the FPR pool). */
  id: EvalSample[];
  /** OOD parts; with an attack and no OOD set, the attack runs on the ID images. */
  oodParts: EvalPart[];
  /** OOD predictions restricted to these class ids (IN-R/IN-A), or all. */
  oodSubset?: readonly number[];
  attack?: Attack;
  classifier: Classifier;
  filter: MaskFilter;
  loader: BatchLoader;
  /** Normalisation (3 channels). */
  mean: readonly number[];
  std: readonly number[];
  maskSpace: "normalized" | "pixel";
  resizeId: ResizeMode;
  resizeOod: ResizeMode;
  /** Size of the FPR pool of other-class ID images (0: no FPR). */
  fprNegatives: number;
  seed: number;
  batchSize: number;
  /** Empty-group convention of the AvgTPR curves in summary.json. */
  compat?: CompatMode;
  /**
   * Recorded in config.json and summary.json; compared on resume, except the
   * keys of {@linkcode kUncheckedConfigKeys}.
   */
  config: Record<string, unknown>;
  /** Start over even if `out/` holds a run with another configuration. */
  restart?: boolean;
  /** Stop after this many newly finished classes (for tests of resume). */
  maxNewClasses?: number;
  /** Progress callback (stderr logging lives in the CLI). */
  onClass?: (record: ClassRecord, done: number, total: number) => void;
  onWarning?: (message: string) => void;
}

/** Counts of one OOD part for one class. */
export interface PartCount {
  name: string;
  group?: string;
  n: number;
  correct: number;
  dfm_correct: number;
}

/** One line of `classes.jsonl`. */
export interface ClassRecord {
  class_id: number;
  wnid: string;
  n_id: number;
  org_correct: number;
  org_dfm_correct: number;
  n_ood: number;
  parts: PartCount[];
  n_neg: number;
  org_fp: number;
  dfm_fp: number;
  n_errors: number;
}

/** A row of `per_class.csv`. */
export interface ClassRow {
  class_id: number;
  wnid: string;
  n_id: number;
  n_ood: number;
  org_acc: number;
  org_dfm_acc: number;
  corrupt_acc: number;
  corrupt_dfm_acc: number;
  n_neg: number;
  org_fpr: number;
  dfm_fpr: number;
}

/** Columns of `per_class.csv`, in order. */
export const kClassColumns: readonly (keyof ClassRow)[] = [
  "class_id",
  "wnid",
  "n_id",
  "n_ood",
  "org_acc",
  "org_dfm_acc",
  "corrupt_acc",
  "corrupt_dfm_acc",
  "n_neg",
  "org_fpr",
  "dfm_fpr",
];

/**
 * Summary written to `summary.json`. Format 2 writes the curves with
 * snake_case keys; format 1 (camelCase curve keys) is still read by the report.
 */
export interface EvalSummary {
  format_version: 2;
  config: Record<string, unknown>;
  classes: number;
  complete: boolean;
  /** Means over classes (NaN values skipped; null when none). */
  mean: Record<string, number | null>;
  /** Mean over classes of each OOD part's TPR. */
  parts: {
    name: string;
    group?: string;
    classes: number;
    acc: number | null;
    dfm_acc: number | null;
  }[];
  /** Mean over classes of each group (IN-C corruption: mean over severities first). */
  groups: {
    name: string;
    classes: number;
    acc: number | null;
    dfm_acc: number | null;
  }[];
  /** AvgTPR curves of the notebook (split on org_dfm_acc). */
  curves: { compat: CompatMode; id: TprCurveJson; ood: TprCurveJson };
}

/**
 * Per-class row from a JSONL record: rates of the counts; the OOD columns are
 * the mean over parts that have images of the class (the notebook's mean over
 * corruption×severity / IN-v2 subsets).
 *
 * @example
 * ```ts
 * const row = classRow({
 *   class_id: 1, wnid: "n01443537", n_id: 4, org_correct: 3, org_dfm_correct: 1,
 *   n_ood: 3, parts: [{ name: "a", n: 2, correct: 1, dfm_correct: 0 },
 *     { name: "b", n: 1, correct: 1, dfm_correct: 1 }],
 *   n_neg: 10, org_fp: 0, dfm_fp: 2, n_errors: 0,
 * });
 * row.corrupt_acc; // 0.75 (mean of 1/2 and 1/1)
 * ```
 */
export function classRow(r: ClassRecord): ClassRow {
  const withImages = r.parts.filter((p) => p.n > 0);
  return {
    class_id: r.class_id,
    wnid: r.wnid,
    n_id: r.n_id,
    n_ood: r.n_ood,
    org_acc: rate(r.org_correct, r.n_id),
    org_dfm_acc: rate(r.org_dfm_correct, r.n_id),
    corrupt_acc: nanMean(withImages.map((p) => p.correct / p.n)),
    corrupt_dfm_acc: nanMean(withImages.map((p) => p.dfm_correct / p.n)),
    n_neg: r.n_neg,
    org_fpr: rate(r.org_fp, r.n_neg),
    dfm_fpr: rate(r.dfm_fp, r.n_neg),
  };
}

/** Read `classes.jsonl`, dropping a torn last line; returns records and the byte length of the valid prefix. */
export async function readClassLog(
  path: string,
): Promise<{ records: ClassRecord[]; validBytes: number; totalBytes: number }> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return { records: [], validBytes: 0, totalBytes: 0 };
    }
    throw err;
  }
  const records: ClassRecord[] = [];
  let pos = 0;
  let valid = 0;
  const enc = new TextEncoder();
  while (pos < text.length) {
    const nl = text.indexOf("\n", pos);
    if (nl < 0) break; // torn line without newline
    const line = text.slice(pos, nl);
    pos = nl + 1;
    if (line.trim() !== "") {
      try {
        records.push(JSON.parse(line) as ClassRecord);
      } catch {
        break;
      }
    }
    valid += enc.encode(line).length + 1; // the line and its newline
  }
  return { records, validBytes: valid, totalBytes: enc.encode(text).length };
}

/**
 * Config keys recorded but not compared on resume: `filter` (which spectral
 * filter ran, GPU or CPU) does not change results beyond float32 rounding
 * (both compute the reference filter; GPU-vs-float64 tests hold them within
 * 1e-4), so a run may resume on another machine. When it changes, config.json
 * takes the new value and a warning says so.
 */
export const kUncheckedConfigKeys: readonly string[] = [
  "filter",
  "dataset_counts",
];

/** Normalise pixel images `[count,3,S,S]` to model input into a new array. */
function normalized(
  x: Float32Array,
  count: number,
  mean: readonly number[],
  std: readonly number[],
): Float32Array {
  const size = Math.round(Math.sqrt(x.length / (count * 3)));
  return normalizeTensor(x.slice(), {
    name: "custom",
    mean: [mean[0]!, mean[1]!, mean[2]!],
    std: [std[0]!, std[1]!, std[2]!],
  }, size);
}

interface BatchResult {
  n: number;
  correct: number;
  dfmCorrect: number;
}

/**
 * Run (or resume) the evaluation. Returns the summary (complete or not).
 *
 * @example
 * ```ts ignore
 * const summary = await runEval({ out: "results/", classes, id, oodParts, ... });
 * ```
 */
export async function runEval(o: RunEvalOptions): Promise<EvalSummary> {
  const logPath = join(o.out, "classes.jsonl");
  const done = await openRunFolder(o, logPath);
  const measure = new ClassMeasure(o);
  const total = o.classes.length;
  let newlyDone = 0;
  for (const cls of o.classes) {
    if (done.has(cls.classId)) continue;
    if (o.maxNewClasses !== undefined && newlyDone >= o.maxNewClasses) break;
    const record = await measure.classRecord(cls);
    await appendLine(logPath, JSON.stringify(record));
    done.set(cls.classId, record);
    newlyDone++;
    await writeTables(o.out, o.classes, done);
    o.onClass?.(record, done.size, total);
  }
  await writeTables(o.out, o.classes, done);
  const summary = summarize(o.config, o.classes, done, o.compat ?? "hfss");
  await writeJsonAtomic(join(o.out, "summary.json"), summary);
  return summary;
}

/**
 * Check `out/config.json` against this run's configuration (a change of an
 * unchecked key is taken over with a warning), drop a torn last record of
 * the class log, and return the finished records by class id.
 */
async function openRunFolder(
  o: RunEvalOptions,
  logPath: string,
): Promise<Map<number, ClassRecord>> {
  await Deno.mkdir(o.out, { recursive: true });
  const configPath = join(o.out, "config.json");
  const config = o.config;
  let existing: Record<string, unknown> | undefined;
  try {
    existing = JSON.parse(await Deno.readTextFile(configPath));
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const difference = existing &&
    firstDifference(existing, config, kUncheckedConfigKeys);
  if (difference) {
    if (!o.restart) {
      throw new ConfigMismatchError({
        run: "evaluation",
        dir: o.out,
        difference,
      });
    }
    existing = undefined;
  }
  if (!existing) {
    await Deno.remove(logPath).catch(() => {});
    await writeJsonAtomic(configPath, config);
  } else if (canonicalJson(existing) !== canonicalJson(config)) {
    for (const { key, saved, current } of configDifferences(existing, config)) {
      o.onWarning?.(
        `resuming "${o.out}" with ${key} ${
          JSON.stringify(current)
        }; earlier classes ran with ${JSON.stringify(saved)}`,
      );
    }
    await writeJsonAtomic(configPath, config);
  }
  const log = await readClassLog(logPath);
  if (log.validBytes < log.totalBytes) {
    o.onWarning?.(`dropping a torn last record of "${logPath}"`);
    await Deno.truncate(logPath, log.validBytes);
  }
  const done = new Map<number, ClassRecord>();
  for (const r of log.records) done.set(r.class_id, r);
  return done;
}

/** Append one line to a log file (created when missing). */
async function appendLine(path: string, line: string): Promise<void> {
  const f = await Deno.open(path, { append: true, create: true });
  try {
    await f.write(new TextEncoder().encode(line + "\n"));
  } finally {
    f.close();
  }
}

/**
 * The FPR pool: a fixed, seeded sample of `fprNegatives` ID images, drawn
 * from the images sorted by path (so the pool does not depend on the order
 * in which the dataset listed them), in sorted order.
 */
export function fprPool(
  id: readonly EvalSample[],
  o: { fprNegatives: number; seed: number },
): EvalSample[] {
  const sortedId = [...id].sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : a.label - b.label
  );
  const poolSize = Math.min(o.fprNegatives, sortedId.length);
  const poolIdx = poolSize > 0
    ? new Rng(o.seed).fork("fpr-pool").sample(sortedId.length, poolSize)
    : [];
  return [...poolIdx].sort((a, b) => a - b).map((i) => sortedId[i]!);
}

/** The FPR pool's batches, loaded once: labels, filter inputs, clean predictions. */
interface PoolCache {
  labels: Int32Array[];
  /** Each batch as the filter takes it (see `filterInput`). */
  inputs: Float32Array[];
  cleanPred: Int32Array[];
}

/** Measures the counts of one class's record (ID, OOD or attack, FPR). */
class ClassMeasure {
  readonly #o: RunEvalOptions;
  readonly #pool: EvalSample[];
  #poolCache: PoolCache | undefined;
  /** Unreadable images of the class being measured. */
  #errors = 0;
  readonly #onError = (path: string, err: unknown) => {
    this.#errors++;
    this.#o.onWarning?.(
      `skipping "${path}": ${err instanceof Error ? err.message : String(err)}`,
    );
  };

  constructor(o: RunEvalOptions) {
    this.#o = o;
    this.#pool = fprPool(o.id, o);
  }

  /** The record of one class. */
  async classRecord(cls: EvalClass): Promise<ClassRecord> {
    const o = this.#o;
    this.#errors = 0;
    const attackOnId = o.attack !== undefined && o.oodParts.length === 0;
    const idRes = await this.#measure(
      byLabel(o.id, cls.classId),
      cls,
      o.resizeId,
      undefined,
      attackOnId ? o.attack : undefined,
    );
    const parts: PartCount[] = [];
    if (attackOnId) {
      parts.push(partCount({ name: "fgsm" }, idRes.attacked!));
    } else {
      for (const part of o.oodParts) {
        const r = await this.#measure(
          byLabel(part.samples, cls.classId),
          cls,
          o.resizeOod,
          o.oodSubset,
          o.attack,
        );
        parts.push(partCount(part, o.attack ? r.attacked! : r.clean));
      }
    }
    const fpr = await this.#falsePositives(cls);
    return {
      class_id: cls.classId,
      wnid: cls.wnid,
      n_id: idRes.clean.n,
      org_correct: idRes.clean.correct,
      org_dfm_correct: idRes.clean.dfmCorrect,
      n_ood: parts.reduce((s, p) => s + p.n, 0),
      parts,
      n_neg: fpr.nNeg,
      org_fp: fpr.orgFp,
      dfm_fp: fpr.dfmFp,
      n_errors: this.#errors,
    };
  }

  /** The filter's input: the normalised batch, or the pixels when masking in pixel space. */
  #filterInput(pixels: Float32Array, norm: Float32Array): Float32Array {
    return this.#o.maskSpace === "normalized" ? norm : pixels;
  }

  /** Filter `#filterInput()` of a batch; the result is normalised model input. */
  async #filterNorm(
    input: Float32Array,
    count: number,
    mask: Uint8Array,
  ): Promise<Float32Array> {
    const o = this.#o;
    if (o.maskSpace === "normalized") {
      return await o.filter.apply(input, count, mask);
    }
    return await o.filter.apply(input, count, mask, {
      scale: o.std.map((s) => 1 / s),
      offset: o.mean.map((m, i) => -m / o.std[i]!),
    });
  }

  /** Clean and DFM counts (and attacked counts when `attack`) for samples of class c. */
  async #measure(
    samples: EvalSample[],
    cls: EvalClass,
    resize: ResizeMode,
    subset: readonly number[] | undefined,
    attack: Attack | undefined,
  ): Promise<{ clean: BatchResult; attacked?: BatchResult }> {
    const o = this.#o;
    const clean = { n: 0, correct: 0, dfmCorrect: 0 };
    const attacked = { n: 0, correct: 0, dfmCorrect: 0 };
    const opts = subset ? { subset } : {};
    const predict = async (x: Float32Array, b: number) =>
      argmaxRows(await o.classifier.run(x, b), b, opts);
    for await (
      const batch of o.loader(samples, {
        batchSize: o.batchSize,
        resize,
        onError: this.#onError,
      })
    ) {
      const b = batch.samples.length;
      if (b === 0) continue;
      const norm = normalized(batch.tensor, b, o.mean, o.std);
      const filtered = await this.#filterNorm(
        this.#filterInput(batch.tensor, norm),
        b,
        cls.mask,
      );
      const p0 = await predict(norm, b);
      const p1 = await predict(filtered, b);
      clean.n += b;
      clean.correct += countClass(p0, cls.classId);
      clean.dfmCorrect += countClass(p1, cls.classId);
      if (attack) {
        const labels = new Int32Array(b).fill(cls.classId);
        const a0 = await predict(await attack.attack(norm, labels, b), b);
        const a1 = await predict(await attack.attack(filtered, labels, b), b);
        attacked.n += b;
        for (let i = 0; i < b; i++) {
          if (p0[i] === cls.classId && a0[i] === cls.classId) {
            attacked.correct++;
          }
          if (p1[i] === cls.classId && a1[i] === cls.classId) {
            attacked.dfmCorrect++;
          }
        }
      }
    }
    return attack ? { clean, attacked } : { clean };
  }

  async #loadPool(): Promise<PoolCache> {
    if (this.#poolCache) return this.#poolCache;
    const o = this.#o;
    const cache: PoolCache = { labels: [], inputs: [], cleanPred: [] };
    for await (
      const batch of o.loader(this.#pool, {
        batchSize: o.batchSize,
        resize: o.resizeId,
        onError: this.#onError,
      })
    ) {
      const b = batch.samples.length;
      if (b === 0) continue;
      cache.labels.push(Int32Array.from(batch.samples, (s) => s.label));
      const norm = normalized(batch.tensor, b, o.mean, o.std);
      cache.inputs.push(this.#filterInput(batch.tensor, norm));
      cache.cleanPred.push(argmaxRows(await o.classifier.run(norm, b), b));
    }
    return this.#poolCache = cache;
  }

  /** Pool images of other classes predicted as c, without and with DFM_c. */
  async #falsePositives(
    cls: EvalClass,
  ): Promise<{ nNeg: number; orgFp: number; dfmFp: number }> {
    let nNeg = 0, orgFp = 0, dfmFp = 0;
    if (this.#pool.length === 0) return { nNeg, orgFp, dfmFp };
    const cache = await this.#loadPool();
    for (let k = 0; k < cache.inputs.length; k++) {
      const preds = cache.cleanPred[k]!;
      const labels = cache.labels[k]!;
      const b = preds.length;
      // rows whose true class is not c are the negatives
      const keep: number[] = [];
      for (let i = 0; i < b; i++) if (labels[i] !== cls.classId) keep.push(i);
      if (keep.length === 0) continue;
      const filtered = await this.#filterNorm(cache.inputs[k]!, b, cls.mask);
      const p1 = argmaxRows(await this.#o.classifier.run(filtered, b), b);
      for (const i of keep) {
        nNeg++;
        if (preds[i] === cls.classId) orgFp++;
        if (p1[i] === cls.classId) dfmFp++;
      }
    }
    return { nNeg, orgFp, dfmFp };
  }
}

function byLabel(samples: EvalSample[], c: number): EvalSample[] {
  return samples.filter((s) => s.label === c);
}

function partCount(
  part: { name: string; group?: string | undefined },
  res: BatchResult,
): PartCount {
  return {
    name: part.name,
    ...(part.group !== undefined ? { group: part.group } : {}),
    n: res.n,
    correct: res.correct,
    dfm_correct: res.dfmCorrect,
  };
}

function orderedRecords(
  classes: EvalClass[],
  done: Map<number, ClassRecord>,
): ClassRecord[] {
  const out: ClassRecord[] = [];
  for (const c of classes) {
    const r = done.get(c.classId);
    if (r) out.push(r);
  }
  return out;
}

export async function writeTables(
  out: string,
  classes: EvalClass[],
  done: Map<number, ClassRecord>,
): Promise<void> {
  const records = orderedRecords(classes, done);
  const rows = records.map(classRow);
  await writeFileAtomic(
    join(out, "per_class.csv"),
    recordsToCsv(
      rows as unknown as Record<string, number | string>[],
      kClassColumns,
    ),
  );
  const partRows = records.flatMap((r) =>
    r.parts.map((p) => ({
      class_id: r.class_id,
      wnid: r.wnid,
      part: p.name,
      group: p.group ?? "",
      n: p.n,
      acc: rate(p.correct, p.n),
      dfm_acc: rate(p.dfm_correct, p.n),
    }))
  );
  await writeFileAtomic(
    join(out, "per_part.csv"),
    recordsToCsv(partRows, [
      "class_id",
      "wnid",
      "part",
      "group",
      "n",
      "acc",
      "dfm_acc",
    ]),
  );
}

/**
 * Summary of finished records: class means, per-part and per-group means,
 * AvgTPR curves.
 */
export function summarize(
  config: Record<string, unknown>,
  classes: EvalClass[],
  done: Map<number, ClassRecord>,
  compat: CompatMode,
): EvalSummary {
  const records = orderedRecords(classes, done);
  const rows = records.map(classRow);
  const mean: Record<string, number | null> = {};
  for (const k of kClassColumns) {
    if (k === "class_id" || k === "wnid") continue;
    mean[k] = finiteOrNull(nanMean(rows.map((r) => r[k] as number)));
  }
  const partNames: { name: string; group?: string }[] = [];
  const seen = new Set<string>();
  for (const r of records) {
    for (const p of r.parts) {
      if (!seen.has(p.name)) {
        seen.add(p.name);
        partNames.push(
          p.group !== undefined
            ? { name: p.name, group: p.group }
            : { name: p.name },
        );
      }
    }
  }
  const parts = partNames.map(({ name, group }) => {
    const accs: number[] = [];
    const daccs: number[] = [];
    for (const r of records) {
      const p = r.parts.find((x) => x.name === name);
      if (!p || p.n === 0) continue;
      accs.push(p.correct / p.n);
      daccs.push(p.dfm_correct / p.n);
    }
    return {
      name,
      ...(group !== undefined ? { group } : {}),
      classes: accs.length,
      acc: finiteOrNull(nanMean(accs)),
      dfm_acc: finiteOrNull(nanMean(daccs)),
    };
  });
  const groupNames = [
    ...new Set(
      partNames.flatMap((p) => p.group !== undefined ? [p.group] : []),
    ),
  ];
  const groups = groupNames.map((g) => {
    const accs: number[] = [];
    const daccs: number[] = [];
    for (const r of records) {
      const ps = r.parts.filter((p) => p.group === g && p.n > 0);
      if (ps.length === 0) continue;
      accs.push(nanMean(ps.map((p) => p.correct / p.n)));
      daccs.push(nanMean(ps.map((p) => p.dfm_correct / p.n)));
    }
    return {
      name: g,
      classes: accs.length,
      acc: finiteOrNull(nanMean(accs)),
      dfm_acc: finiteOrNull(nanMean(daccs)),
    };
  });
  const panels = tprPanels({
    org_acc: rows.map((r) => r.org_acc),
    org_dfm_acc: rows.map((r) => r.org_dfm_acc),
    corrupt_acc: rows.map((r) => r.corrupt_acc),
    corrupt_dfm_acc: rows.map((r) => r.corrupt_dfm_acc),
  }, { compat });
  return {
    format_version: 2,
    config,
    classes: records.length,
    complete: records.length === classes.length,
    mean,
    parts,
    groups,
    curves: {
      compat,
      id: tprCurveToJson(panels.id),
      ood: tprCurveToJson(panels.ood),
    },
  };
}
