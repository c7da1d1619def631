/**
 * `hfss info`: runtime, WebGPU adapter, and (with `--model`) the model's
 * inputs/outputs and, given `--data`, its clean top-1/top-5 accuracy, mean
 * cross-entropy and images/s. Results go to stdout (text or one JSON object
 * with `--json`); progress goes to stderr.
 */
import type { Command } from "commander";
import { GpuContext } from "../gpu/context.ts";
import { Progress } from "./progress.ts";
import {
  type DatasetLayout,
  describeDataset,
  openDataset,
  parseClassList,
} from "../data/dataset.ts";
import {
  describePreprocess,
  type Interpolation,
  kDefaultCropPct,
  kDefaultInterpolation,
  type ResizeMode,
  resolveNormalization,
} from "../data/preprocess.ts";
import { type Backend, ModelSession } from "../model/session.ts";
import { type CleanAccuracy, poolAccuracy } from "../model/accuracy.ts";
import {
  checkDataFits,
  limitSamples,
  measureDataset,
} from "../model/dataset_accuracy.ts";
import { arg, option, shared, usage } from "./args.ts";
import { printJson } from "./json.ts";
import { noteModelSize } from "./model_note.ts";

/** Options of `hfss info` as commander parses them. */
export interface InfoOptions {
  json?: boolean;
  model?: string;
  data?: string[];
  layout: DatasetLayout;
  classes?: string;
  resize: ResizeMode;
  cropPct: number;
  interpolation?: Interpolation;
  size?: number;
  normalize?: string;
  mean?: string;
  std?: string;
  batchSize: number;
  limit?: number;
  seed: number;
  backend: Backend;
  threads?: number;
  workers: number;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
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
    .addOption(shared.layout())
    .option(
      "--classes <list>",
      "only these classes: indices, ranges a-b, wnids or folder names",
    )
    .addOption(
      shared.resize(
        "--resize",
        "squash (resize to SxS) | crop (shorter side to S/crop-pct, centre crop)",
        "crop",
      ),
    )
    .addOption(shared.cropPct(kDefaultCropPct))
    .addOption(shared.interpolation())
    .addOption(shared.size())
    .addOption(shared.normalize("the model's declared one, else imagenet"))
    .addOption(shared.mean())
    .addOption(shared.std())
    .addOption(shared.batchSize("images per inference batch", 32))
    .addOption(
      option(
        "--limit <n>",
        "use at most n images per dataset (seeded random subset)",
        arg.int({ min: 1 }),
      ),
    )
    .addOption(shared.seed("seed for --limit", 42))
    .addOption(shared.backend())
    .addOption(shared.threads("wasm threads (default: all cores)"))
    .addOption(shared.workers(1))
    .action(async (opts: InfoOptions) => {
      if (opts.model) {
        await modelInfo(opts);
        return;
      }
      if (opts.data) usage("--data", "needs --model");
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
    printJson({ runtime: rt, adapter });
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
  const { backend, resize, cropPct, layout, batchSize, workers, threads } =
    opts;
  if (
    opts.normalize !== undefined || opts.mean !== undefined ||
    opts.std !== undefined
  ) {
    resolveNormalization(opts); // bad flags fail before the model loads
  }
  const classes = opts.classes ? parseClassList(opts.classes) : undefined;

  const model = await ModelSession.open(opts.model!, {
    backend,
    ...(threads === undefined ? {} : { threads }),
    ...(opts.size === undefined ? {} : { size: opts.size }),
  });
  try {
    const info = model.info;
    noteModelSize(model);
    // The flags, else the model's declared normalisation, else imagenet.
    const norm = resolveNormalization(opts, info, opts.model);
    const interpolation = opts.interpolation ?? kDefaultInterpolation;
    const preprocessing = describePreprocess({
      size: info.size,
      resize,
      cropPct,
      interpolation,
    }, norm);
    const modelJson = {
      path: opts.model,
      backend,
      threads: threads ?? navigator.hardwareConcurrency,
      input: {
        name: info.inputName,
        shape: info.inputShape,
        type: info.inputType,
        layout: info.layout,
      },
      output: {
        name: info.outputName,
        shape: info.outputShape,
        type: info.outputType,
      },
      external_data: info.externalData,
      size: info.size,
      size_source: info.sizeSource,
      channels: info.channels,
      num_classes: info.numClasses,
      metadata: info.metadata,
    };
    if (!opts.json) {
      console.log(`model: ${opts.model} (onnxruntime-web ${backend})`);
      console.log(
        `input: ${info.inputName} ${info.inputType} ${info.layout} [${
          info.inputShape.join(",")
        }]${
          info.sizeSource === "model"
            ? ""
            : ` (run at ${info.size}x${info.size}, ${
              info.sizeSource === "option" ? "--size" : "default"
            })`
        }`,
      );
      console.log(
        `output: ${info.outputName} ${info.outputType} [${
          info.outputShape.join(",")
        }] (${info.numClasses} classes)`,
      );
      if (info.externalData.length) {
        console.log(`external data: ${info.externalData.join(", ")}`);
      }
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
          } (${interpolation}, antialiased), normalize ${norm.name}`,
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
      const samples = limitSamples(ds.samples, opts.limit, opts.seed, root);
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
      const progress = new Progress({
        label: `eval ${root}`,
        total: samples.length,
        unit: "img",
      });
      const measured = await measureDataset(model, ds, samples, {
        batchSize,
        resize,
        cropPct,
        interpolation,
        workers,
        normalization: norm,
        onError: (_s, e) => {
          console.error(`\nwarning: ${e.message} (skipped)`);
        },
        onBatch: (n) => progress.tick(n),
      });
      const pooled = measured.result;
      const subsetResults = measured.subsets ?? [];
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
      const all = poolAccuracy(results.map((r) => r.result));
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
      printJson(out);
    }
  } finally {
    await model.release();
  }
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
