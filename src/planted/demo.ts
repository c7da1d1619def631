/**
 * The planted-shortcut demo: build (or reuse) a planted benchmark, run the
 * staged search on it with `runSearch`, and score every stage's rank-0 DFMs
 * against the planted ground truth.
 *
 * Work folder layout (option `work`, default `work/demo`):
 * - `planted/`: the benchmark (`images/class<KK>/*.png`, `labels.csv`, `model.onnx`,
 *   `planted.json`), see `prepare.ts`;
 * - `search/stage<k>/`: the search's DFM stage folders (`manifest.json`,
 *   `masks.npy`, `losses.npy`, `png/`), see `src/dfm/store.ts`;
 * - `demo.json`: the figures printed by the demo.
 *
 * Figures per stage (rank-0 DFM of every class, `metrics.ts`): recall of the
 * class's planted bins, share of other classes' planted bins kept, kept
 * fraction (= chance level), and the DFM-filtered accuracy: each class's
 * images filtered by their class's DFM, classified by the planted model.
 * Filtered logits are computed exactly from the images' pair energies and the
 * mask's effective gains at the planted pairs (`model.ts`; checked against a
 * float64 DFT filter in tests/planted/model_test.ts). Clean accuracy is
 * measured by running `model.onnx` with onnxruntime-web on the PNG files.
 */
import { join } from "node:path";
import { decode } from "fast-png";
import { UserError } from "../errors.ts";
import { readStage, stageDir, stageMask } from "../dfm/store.ts";
import { stageCount } from "../dfm/grid.ts";
import { ModelSession } from "../model/session.ts";
import { openDataset } from "../data/dataset.ts";
import {
  normalizeTensor,
  type ResolvedNormalization,
  resolveNormalization,
} from "../data/preprocess.ts";
import { runSearch, type SearchSummary } from "../search/search.ts";
import type { Lineage } from "../search/lineage.ts";
import type { LossKind } from "../search/loss.ts";
import type { SymmetryMode } from "../dfm/symmetry.ts";
import { writeJsonAtomic } from "../io/atomic.ts";
import { snakeKeys } from "../json_keys.ts";
import { defaultParams, type PlantedParams } from "./dataset.ts";
import type { LayoutName } from "./layouts.ts";
import {
  crossEntropy,
  logitsFromEnergies,
  maskPairGains,
  pairEnergies,
} from "./model.ts";
import { preparePlanted } from "./prepare.ts";
import { type ClassRecovery, recoverySummary } from "./metrics.ts";

/** Demo defaults (chosen with `simulate.ts`, see the module comment of `simulate.ts`). */
export const kDemoDefaults = {
  work: "work/demo",
  seed: 42,
  size: 32,
  classes: 10,
  layout: "default" as LayoutName,
  candidates: 60,
  proportion: 0.8,
  top: 10,
  perClass: 40,
  targetCe: 0.3,
  batchSize: 480,
};

/** Options of {@linkcode runDemo}. */
export interface DemoOptions {
  work?: string;
  seed?: number;
  size?: number;
  classes?: number;
  layout?: LayoutName;
  /** Stages to run. @default every stage of the size (1-4 at S = 32, 1-5 at S = 64) */
  stages?: number[];
  candidates?: number;
  proportion?: number;
  top?: number;
  perClass?: number;
  /** Search lineage (default: the search's, per-class). */
  lineage?: Lineage;
  /** Mask symmetry (default: the search's, exact). */
  symmetry?: SymmetryMode;
  /** Ranking loss (default: the search's, class-ce). */
  loss?: LossKind;
  /** Regenerate the benchmark and restart the search. */
  force?: boolean;
  /** onnxruntime wasm threads. */
  threads?: number;
  log?: (line: string) => void;
}

/** Figures of one stage. */
export interface DemoStage {
  stage: number;
  dir: string;
  meanRecall: number;
  meanOtherKept: number;
  meanKeptFraction: number;
  /** Accuracy of every class's images filtered by their class's rank-0 DFM. */
  filteredAccuracy: number;
  classes:
    (ClassRecovery & { cleanAccuracy: number; filteredAccuracy: number })[];
  searchSeconds: number;
}

/** Everything the demo measured. */
export interface DemoResult {
  work: string;
  benchmark: {
    dir: string;
    reused: boolean;
    params: PlantedParams;
    model: string;
    planted: { label: number; bins: [number, number][] }[];
  };
  clean: { accuracy: number; ce: number; images: number };
  /** The model's normalisation (declared in its metadata) and its source. */
  normalization: {
    name: string;
    mean: number[];
    std: number[];
    source: string;
  };
  search: {
    out: string;
    /** The search's resolved configuration (`runSearch` summary). */
    config: Record<string, unknown>;
    candidates: number;
    proportion: number;
    top: number;
    stages: number[];
  };
  stages: DemoStage[];
  seconds: { prepare: number; search: number; total: number };
}

function defaultLog(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
}

/**
 * Read the benchmark's PNGs into a [N,3,S,S] tensor in [0,1], in labels.csv
 * order (the `labels-csv` dataset layout).
 */
export async function readPlantedImages(
  root: string,
  size: number,
): Promise<{ x: Float32Array; labels: number[] }> {
  const { samples } = await openDataset(root, { layout: "labels-csv" });
  const per = 3 * size * size;
  const x = new Float32Array(samples.length * per);
  const labels: number[] = [];
  for (let i = 0; i < samples.length; i++) {
    const { path, label } = samples[i]!;
    const png = decode(await Deno.readFile(path));
    if (png.width !== size || png.height !== size || png.channels !== 3) {
      throw new UserError(
        `Cannot read planted image "${path}": not a ${size}x${size} RGB PNG`,
      );
    }
    for (let k = 0; k < size * size; k++) {
      for (let c = 0; c < 3; c++) {
        x[i * per + c * size * size + k] = png.data[3 * k + c]! / 255;
      }
    }
    labels.push(label);
  }
  return { x, labels };
}

/**
 * Run the demo end to end.
 *
 * @example
 * ```ts
 * const r = await runDemo({ work: "work/demo", stages: [1, 2] });
 * console.log(r.stages.at(-1)!.meanRecall);
 * ```
 */
export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const d = kDemoDefaults;
  const log = opts.log ?? defaultLog;
  const work = opts.work ?? d.work;
  const candidates = opts.candidates ?? d.candidates;
  const proportion = opts.proportion ?? d.proportion;
  const top = opts.top ?? d.top;
  const t0 = performance.now();
  const params = defaultParams({
    seed: opts.seed ?? d.seed,
    size: opts.size ?? d.size,
    classes: opts.classes ?? d.classes,
    layout: opts.layout ?? d.layout,
    perClass: opts.perClass ?? d.perClass,
  });
  // Validates the size first (grid sizes exist for multiples of 32).
  const lastStage = stageCount(params.size);
  const stages = opts.stages ??
    Array.from({ length: lastStage }, (_, i) => i + 1);
  const root = join(work, "planted");
  const prep = await preparePlanted(root, params, {
    targetCe: d.targetCe,
    force: opts.force ?? false,
  });
  const s = params.size, k = params.classes;
  log(
    `planted benchmark: ${k} classes x ${params.perClass} images, ${s}x${s}, layout ${params.layout}, ` +
      `seed ${params.seed}, ${params.pairsPerClass} frequency pairs per class ` +
      `(${prep.reused ? "reused" : "generated"}) -> ${root}`,
  );
  const { x, labels } = await readPlantedImages(root, s);
  // Clean figures: the ONNX model on the PNG files.
  const session = await ModelSession.open(prep.modelPath, {
    backend: "wasm",
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
  });
  let clean;
  let norm: ResolvedNormalization;
  try {
    // The model declares its normalisation (inception) in its metadata.
    norm = resolveNormalization({}, session.info, prep.modelPath);
    const logits = await session.run(
      normalizeTensor(x.slice(), norm, s),
      labels.length,
    );
    clean = {
      ...crossEntropy(logits, { labels, classes: k }),
      images: labels.length,
    };
  } finally {
    await session.release();
  }
  log(
    `model ${prep.modelPath}: normalization ${norm.name} (source: ${norm.source}), clean accuracy ${
      clean.accuracy.toFixed(3)
    }, mean CE ${clean.ce.toFixed(3)}`,
  );
  const tPrep = performance.now();

  // The search.
  const out = join(work, "search");
  const searchOpts = {
    model: prep.modelPath,
    // One folder per class: class names class00, class01, … in the DFM
    // manifests. (labels.csv holds the same labels and names, but lists the
    // images interleaved by class: reading it would change the search order
    // and with it the DFMs of a given seed.)
    data: join(root, "images"),
    layout: "folders" as const,
    stages,
    out,
    candidates,
    proportion,
    top,
    split: 1,
    seed: params.seed,
    // No `normalize`: the search takes the model's declared one.
    batchSize: Math.max(d.batchSize, params.perClass),
    blockImages: params.perClass,
    log,
    ...(opts.lineage !== undefined ? { lineage: opts.lineage } : {}),
    ...(opts.symmetry !== undefined ? { symmetry: opts.symmetry } : {}),
    ...(opts.loss !== undefined ? { loss: opts.loss } : {}),
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
  };
  let summary: SearchSummary;
  try {
    summary = await runSearch({
      ...searchOpts,
      restart: (opts.force ?? false) || !prep.reused,
    });
  } catch (err) {
    if (
      !(err instanceof UserError &&
        /Cannot resume the search/.test(err.message))
    ) throw err;
    log(`${err.message.split(" (rerun")[0]}: restarting the search`);
    summary = await runSearch({ ...searchOpts, restart: true });
  }
  const tSearch = performance.now();

  // Score every stage.
  const bins = prep.truth.classes.map((c) => c.bins);
  const energies = pairEnergies(x, prep.spec);
  const p = prep.spec.pairs.length;
  const cleanLogits = logitsFromEnergies(energies, prep.spec);
  const byClass: number[][] = Array.from({ length: k }, () => []);
  labels.forEach((l, i) => byClass[l]!.push(i));
  // Per-class clean accuracy: the same for every stage.
  const cleanAccuracy = byClass.map((idx, label) =>
    crossEntropy(
      Float64Array.from(
        idx.flatMap((i) =>
          Array.from(cleanLogits.subarray(i * k, (i + 1) * k))
        ),
      ),
      { labels: idx.map(() => label), classes: k },
    ).accuracy
  );
  const result: DemoStage[] = [];
  for (const st of summary.stages) {
    const dir = stageDir(out, st.stage);
    const data = await readStage(dir); // runSearch wrote its png/ pictures
    const masks: Uint8Array[] = [];
    for (let label = 0; label < k; label++) {
      const pos = data.manifest.classes.findIndex((c) => c.index === label);
      masks.push(pos >= 0 ? stageMask(data, pos, 0) : new Uint8Array(s * s));
    }
    const rec = recoverySummary(masks, { size: s, bins });
    let correctAll = 0;
    const classes = rec.classes.map((r) => {
      const idx = byClass[r.label]!;
      const e = new Float64Array(idx.length * p);
      idx.forEach((i, j) =>
        e.set(energies.subarray(i * p, (i + 1) * p), j * p)
      );
      const filtered = crossEntropy(
        logitsFromEnergies(e, prep.spec, {
          gains: maskPairGains(masks[r.label]!, prep.spec),
        }),
        { labels: idx.map(() => r.label), classes: k },
      );
      correctAll += filtered.accuracy * idx.length;
      return {
        ...r,
        cleanAccuracy: cleanAccuracy[r.label]!,
        filteredAccuracy: filtered.accuracy,
      };
    });
    result.push({
      stage: st.stage,
      dir,
      meanRecall: rec.meanRecall,
      meanOtherKept: rec.meanOtherKept,
      meanKeptFraction: rec.meanKeptFraction,
      filteredAccuracy: correctAll / labels.length,
      classes,
      searchSeconds: st.seconds,
    });
  }
  const tEnd = performance.now();
  const res: DemoResult = {
    work,
    benchmark: {
      dir: root,
      reused: prep.reused,
      params,
      model: prep.modelPath,
      planted: prep.truth.classes.map((c) => ({
        label: c.label,
        bins: c.bins,
      })),
    },
    clean,
    normalization: summary.config.normalization as DemoResult[
      "normalization"
    ],
    search: {
      out,
      config: summary.config,
      candidates,
      proportion,
      top,
      stages,
    },
    stages: result,
    seconds: {
      prepare: (tPrep - t0) / 1000,
      search: (tSearch - tPrep) / 1000,
      total: (tEnd - t0) / 1000,
    },
  };
  await writeJsonAtomic(join(work, "demo.json"), snakeKeys(res));
  return res;
}

/** Human-readable report of a demo result (stdout text). */
export function formatDemo(r: DemoResult): string {
  const lines: string[] = [];
  const f = (v: number) => v.toFixed(3);
  lines.push(
    `planted benchmark ${r.benchmark.dir}: ${r.benchmark.params.classes} classes, ` +
      `${r.benchmark.params.size}x${r.benchmark.params.size}, layout ${r.benchmark.params.layout}, seed ${r.benchmark.params.seed}`,
  );
  lines.push(
    `clean accuracy ${f(r.clean.accuracy)} (mean CE ${
      f(r.clean.ce)
    }, ${r.clean.images} images)`,
  );
  lines.push(
    `normalization: ${r.normalization.name} (source: ${r.normalization.source})`,
  );
  lines.push(
    `search: stages ${
      r.search.stages.join(",")
    }, N_B ${r.search.candidates}, P ${r.search.proportion}, ` +
      `top ${r.search.top}, lineage ${r.search.config.lineage}, symmetry ${r.search.config.symmetry}, ` +
      `loss ${r.search.config.loss} -> ${r.search.out}`,
  );
  lines.push("");
  lines.push("stage  recall  other-kept  kept(chance)  filtered-acc  seconds");
  for (const st of r.stages) {
    lines.push(
      `${String(st.stage).padEnd(5)}  ${f(st.meanRecall)}   ${
        f(st.meanOtherKept)
      }       ${f(st.meanKeptFraction)}         ` +
        `${f(st.filteredAccuracy)}         ${st.searchSeconds.toFixed(1)}`,
    );
  }
  const last = r.stages.at(-1);
  if (last) {
    lines.push("");
    lines.push(`stage ${last.stage}, per class (rank-0 DFM):`);
    lines.push("class  recall  other-kept  kept   clean-acc  filtered-acc");
    for (const c of last.classes) {
      lines.push(
        `${String(c.label).padEnd(5)}  ${f(c.recall)}   ${
          f(c.otherKept)
        }       ${f(c.keptFraction)}  ` +
          `${f(c.cleanAccuracy)}      ${f(c.filteredAccuracy)}`,
      );
    }
    lines.push(
      `mean   ${f(last.meanRecall)}   ${f(last.meanOtherKept)}       ${
        f(last.meanKeptFraction)
      }  ` +
        `${f(r.clean.accuracy)}      ${f(last.filteredAccuracy)}`,
    );
  }
  lines.push("");
  lines.push(
    `time: ${r.seconds.total.toFixed(1)} s (benchmark ${
      r.seconds.prepare.toFixed(1)
    } s, search ${r.seconds.search.toFixed(1)} s)`,
  );
  return lines.join("\n");
}
