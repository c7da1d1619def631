/**
 * `hfss info`: runtime, WebGPU adapter, and (with `--model`) the model's
 * inputs/outputs and, given `--data`, its clean top-1/top-5 accuracy, mean
 * cross-entropy and images/s. Results go to stdout (text or one JSON object
 * with `--json`); progress goes to stderr.
 */
import { type Command, Option } from "commander";
import { GpuContext } from "../gpu/context.ts";
import { UserError } from "../errors.ts";
import { Progress } from "./progress.ts";
import {
  type Dataset,
  type DatasetLayout,
  describeDataset,
  kDatasetLayouts,
  openDataset,
  parseClassList,
  type Sample,
} from "../data/dataset.ts";
import {
  describePreprocess,
  kDefaultCropPct,
  type ResizeMode,
  resolveNormalization,
} from "../data/preprocess.ts";
import { type Backend, ModelSession } from "../model/session.ts";
import { type CleanAccuracy, evaluateClean } from "../model/accuracy.ts";
import { Rng } from "../rng.ts";

/** Options of `hfss info` as commander parses them. */
export interface InfoOptions {
  json?: boolean;
  model?: string;
  data?: string[];
  layout?: string;
  classes?: string;
  resize?: string;
  cropPct?: string;
  size?: string;
  normalize?: string;
  mean?: string;
  std?: string;
  batchSize?: string;
  limit?: string;
  seed?: string;
  backend?: string;
  threads?: string;
  workers?: string;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function intFlag(
  name: string,
  v: string | undefined,
  dflt: number,
  min = 1,
): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new UserError(
      `Cannot use --${name} ${v}: expected an integer >= ${min}`,
      { exitCode: 2 },
    );
  }
  return n;
}

/** Register the `info` subcommand. */
export function register(program: Command): void {
  program
    .command("info")
    .description(
      "print the runtime and the WebGPU adapter; with --model, the model's inputs/outputs and, with --data, its clean accuracy",
    )
    .option("--json", "print one JSON object instead of text")
    .option("--model <file>", "ONNX classifier to inspect")
    .option(
      "--data <dir>",
      "dataset folder to measure clean accuracy on (repeatable)",
      collect,
    )
    .addOption(
      new Option("--layout <layout>", "dataset layout")
        .choices([...kDatasetLayouts]).default("auto"),
    )
    .option(
      "--classes <list>",
      "only these classes: indices, ranges a-b, wnids or folder names",
    )
    .addOption(
      new Option(
        "--resize <mode>",
        "squash (resize to SxS) or crop (shorter side to S/crop-pct, centre crop)",
      ).choices(["squash", "crop"]).default("crop"),
    )
    .option(
      "--crop-pct <f>",
      "centre-crop fraction for --resize crop",
      String(kDefaultCropPct),
    )
    .option(
      "--size <S>",
      "input side the data is prepared at (must match the model; default: the model's)",
    )
    .option(
      "--normalize <name>",
      "imagenet (torchvision mean/std), inception (x/127.5-1) or none (default: the model's declared one, else imagenet)",
    )
    .option(
      "--mean <r,g,b>",
      "explicit normalisation mean on [0,1] pixels (overrides --normalize)",
    )
    .option(
      "--std <r,g,b>",
      "explicit normalisation std on [0,1] pixels (overrides --normalize)",
    )
    .option("--batch-size <B>", "images per inference batch", "32")
    .option(
      "--limit <N>",
      "use at most N images per dataset (seeded random subset)",
    )
    .option("--seed <n>", "seed for --limit", "42")
    .addOption(
      new Option("--backend <name>", "onnxruntime execution provider")
        .choices(["wasm", "webgpu"]).default("wasm"),
    )
    .option("--threads <n>", "wasm threads (default: CPU count)")
    .option("--workers <n>", "image decode workers (0 = main thread)", "1")
    .action(async (opts: InfoOptions) => {
      if (opts.model) {
        await modelInfo(opts);
        return;
      }
      if (opts.data) {
        throw new UserError("Cannot measure accuracy: --data needs --model", {
          exitCode: 2,
        });
      }
      await runtimeInfo(opts);
    });
}

function runtime() {
  return {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    os: Deno.build.os,
    arch: Deno.build.arch,
    cpus: navigator.hardwareConcurrency,
  };
}

async function runtimeInfo(opts: InfoOptions): Promise<void> {
  using gpu = await GpuContext.create();
  const adapter = gpu.report();
  const rt = runtime();
  if (opts.json) {
    console.log(JSON.stringify({ runtime: rt, adapter }, null, 2));
    return;
  }
  console.log(
    `runtime: deno ${rt.deno} (${rt.os}/${rt.arch}, ${rt.cpus} CPUs)`,
  );
  console.log(
    `adapter: ${adapter.description}${
      adapter.isFallbackAdapter ? " (fallback/software)" : ""
    }`,
  );
  console.log(`backend: ${adapter.backend}`);
  console.log(`features: ${adapter.features.join(", ") || "(none)"}`);
  for (const [k, v] of Object.entries(adapter.limits)) {
    console.log(`limit ${k}: ${v}`);
  }
}

interface DatasetResult {
  root: string;
  layout: string;
  classes: number;
  valid_labels: number | null;
  notes: string[];
  result: CleanAccuracy;
  subsets?: { name: string; result: CleanAccuracy }[];
}

async function modelInfo(opts: InfoOptions): Promise<void> {
  // --backend, --resize and --layout are checked by commander (choices).
  const backend = (opts.backend ?? "wasm") as Backend;
  const resize = (opts.resize ?? "crop") as ResizeMode;
  const cropPct = Number(opts.cropPct ?? kDefaultCropPct);
  if (!(cropPct > 0 && cropPct <= 1)) {
    throw new UserError(
      `Cannot use --crop-pct ${opts.cropPct}: expected a number in (0, 1]`,
      { exitCode: 2 },
    );
  }
  const layout = (opts.layout ?? "auto") as DatasetLayout;
  if (
    opts.normalize !== undefined || opts.mean !== undefined ||
    opts.std !== undefined
  ) {
    resolveNormalization(opts); // bad flags fail before the model loads
  }
  const batchSize = intFlag("batch-size", opts.batchSize, 32);
  const workers = intFlag("workers", opts.workers, 1, 0);
  const threads = opts.threads === undefined
    ? undefined
    : intFlag("threads", opts.threads, 1);
  const limit = opts.limit === undefined
    ? undefined
    : intFlag("limit", opts.limit, 1);
  const seed = intFlag("seed", opts.seed, 42, 0);
  const classes = opts.classes ? parseClassList(opts.classes) : undefined;

  const model = await ModelSession.open(
    opts.model!,
    threads === undefined ? { backend } : { backend, threads },
  );
  try {
    const info = model.info;
    // The flags, else the model's declared normalisation, else imagenet.
    const norm = resolveNormalization(opts, info, opts.model);
    if (opts.size !== undefined) {
      model.checkFits({ size: intFlag("size", opts.size, 1) });
    }
    if (opts.data && info.channels !== 3) model.checkFits({ channels: 3 });
    const preprocessing = describePreprocess({
      size: info.size,
      resize,
      cropPct,
    }, norm);
    const modelJson = {
      path: opts.model,
      backend,
      threads: threads ?? navigator.hardwareConcurrency,
      input: { name: info.inputName, shape: info.inputShape, type: "float32" },
      output: { name: info.outputName, shape: info.outputShape },
      size: info.size,
      channels: info.channels,
      num_classes: info.numClasses,
      metadata: info.metadata,
    };
    if (!opts.json) {
      console.log(`model: ${opts.model} (onnxruntime-web ${backend})`);
      console.log(
        `input: ${info.inputName} float32 [${info.inputShape.join(",")}]`,
      );
      console.log(`output: ${info.outputName} [${info.outputShape.join(",")}]`);
      for (const [k, v] of Object.entries(info.metadata)) {
        console.log(`metadata: ${k} = ${v}`);
      }
      console.log(
        `normalization: ${norm.name} mean=[${norm.mean.join(",")}] std=[${
          norm.std.join(",")
        }] (source: ${norm.source})`,
      );
      if (opts.data) {
        console.log(
          `preprocessing: ${
            resize === "crop"
              ? `resize shorter side to ${preprocessing.resize_shorter}, centre crop ${info.size}`
              : `squash to ${info.size}x${info.size}`
          } (bilinear, antialiased), normalize ${norm.name}`,
        );
      }
    }
    const results: DatasetResult[] = [];
    for (const root of opts.data ?? []) {
      const ds = await openDataset(
        root,
        classes ? { layout, classes } : { layout },
      );
      checkDataFits(model, ds);
      let samples: Sample[] = ds.samples;
      if (limit !== undefined && limit < samples.length) {
        const pick = new Set(
          new Rng(seed).fork("limit", root).sample(samples.length, limit),
        );
        samples = samples.filter((_, i) => pick.has(i));
      }
      if (!opts.json) {
        console.log(
          `data: ${root} (${describeDataset(ds)})${
            samples.length < ds.samples.length
              ? `, using ${samples.length}`
              : ""
          }`,
        );
      }
      for (const n of ds.notes) console.error(`note: ${n}`);
      const groups = ds.subsets
        ? ds.subsets.map((s) => ({
          name: s.name,
          samples: samples.filter((x) => x.subset === s.name),
        }))
        : [{ name: "", samples }];
      const subsetResults: { name: string; result: CleanAccuracy }[] = [];
      const progress = new Progress({
        label: `eval ${root}`,
        total: samples.length,
        unit: "img",
      });
      for (const g of groups) {
        if (g.samples.length === 0) continue;
        const r = await evaluateClean(model, g.samples, {
          batchSize,
          resize,
          cropPct,
          workers,
          normalization: norm,
          ...(ds.validLabels ? { validLabels: ds.validLabels } : {}),
          onError: (_s, e) => {
            console.error(`\nwarning: ${e.message} (skipped)`);
          },
          onBatch: (n) => progress.tick(n),
        });
        subsetResults.push({ name: g.name, result: r });
      }
      const pooled = pool(subsetResults.map((s) => s.result));
      progress.finish(`top-1 ${(pooled.top1 * 100).toFixed(2)}%`);
      const entry: DatasetResult = {
        root,
        layout: ds.layout,
        classes: ds.classes.length,
        valid_labels: ds.validLabels ? ds.validLabels.length : null,
        notes: ds.notes,
        result: pooled,
      };
      if (ds.subsets) entry.subsets = subsetResults;
      results.push(entry);
      if (!opts.json) {
        printResult("", pooled);
        if (ds.subsets) {
          for (const s of subsetResults) {
            printResult(`  ${s.name}: `, s.result);
          }
        }
      }
    }
    if (opts.json) {
      const all = pool(results.map((r) => r.result));
      const out: Record<string, unknown> = {
        runtime: runtime(),
        model: modelJson,
        normalization: {
          name: norm.name,
          mean: norm.mean,
          std: norm.std,
          source: norm.source,
        },
      };
      if (results.length > 0) {
        out.preprocessing = preprocessing;
        Object.assign(out, {
          top1: all.top1,
          top5: all.top5,
          mean_ce: all.mean_ce,
          images: all.images,
          failed: all.failed,
          images_per_s: all.images_per_s,
          seconds: all.seconds,
        });
        out.datasets = results.map((r) => ({
          root: r.root,
          layout: r.layout,
          classes: r.classes,
          valid_labels: r.valid_labels,
          notes: r.notes,
          ...r.result,
          ...(r.subsets
            ? { subsets: r.subsets.map((s) => ({ name: s.name, ...s.result })) }
            : {}),
        }));
      }
      console.log(
        JSON.stringify(
          out,
          (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v),
          2,
        ),
      );
    }
  } finally {
    await model.release();
  }
}

function checkDataFits(model: ModelSession, ds: Dataset): void {
  const imagenet = ds.layout !== "folders" && ds.layout !== "labels-csv";
  if (imagenet) {
    model.checkFits({ numClasses: 1000 });
  } else {
    const maxLabel = Math.max(...ds.classes.map((c) => c.index));
    model.checkFits({ maxLabel });
  }
}

function pool(rs: CleanAccuracy[]): CleanAccuracy {
  const images = rs.reduce((a, r) => a + r.images, 0);
  const w = (f: (r: CleanAccuracy) => number) =>
    images
      ? rs.reduce((a, r) => a + (r.images ? f(r) * r.images : 0), 0) / images
      : NaN;
  const seconds = rs.reduce((a, r) => a + r.seconds, 0);
  return {
    images,
    failed: rs.reduce((a, r) => a + r.failed, 0),
    top1: w((r) => r.top1),
    top5: w((r) => r.top5),
    mean_ce: w((r) => r.mean_ce),
    seconds,
    images_per_s: seconds > 0 ? images / seconds : 0,
    decode_wait_s: rs.reduce((a, r) => a + r.decode_wait_s, 0),
    inference_s: rs.reduce((a, r) => a + r.inference_s, 0),
  };
}

function printResult(prefix: string, r: CleanAccuracy): void {
  console.log(
    `${prefix}top-1 ${(r.top1 * 100).toFixed(2)}%  top-5 ${
      (r.top5 * 100).toFixed(2)
    }%  mean CE ${r.mean_ce.toFixed(4)}  images ${r.images}${
      r.failed ? ` (${r.failed} failed)` : ""
    }  ${r.images_per_s.toFixed(1)} img/s`,
  );
}
