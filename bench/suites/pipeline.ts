/**
 * pipeline suite: candidate × image evaluations/s of the whole search
 * (`runSearch`, stage 1: decode + preprocess once per image, forward FFT once,
 * mask + inverse FFT per candidate on the WebGPU adapter, model, per-class
 * loss) next to inference-only images/s of the same model, backend and batch
 * size on the same (already preprocessed) images, measured in the same run.
 * The ratio is the search's efficiency against pure inference (goal >= 0.9).
 * `ratio_without_filter_time` leaves out the time the loop spent in the
 * filter pass: on a software adapter (lavapipe) that pass runs on the same
 * CPU cores as the model, on a real GPU it runs beside it.
 *
 * Model: ../shared/data/models/mobilenet_v1_0.25_128_quant.onnx (and
 * mobilenet_v2_1.0_224_quant.onnx outside --quick) on the first images of
 * ../shared/data/images/imagenet_val_subset; without ../shared, a tiny
 * generated linear model on generated images. Set HFSS_BENCH_BACKEND=webgpu
 * to use onnxruntime's WebGPU execution provider.
 */
import { join } from "node:path";
import { type BenchContext, summarize } from "../context.ts";
import { runSearch, type StageSummary } from "../../src/search/search.ts";
import { ModelSession } from "../../src/model/session.ts";
import { type Dataset, openDataset } from "../../src/data/dataset.ts";
import { readImage } from "../../src/data/decode.ts";
import {
  normalization,
  normalizeTensor,
  toTensor,
} from "../../src/data/preprocess.ts";
// Test fixtures, shared on purpose: the tiny model and dataset builders and
// the ../shared paths live in one place (src/testing/), which the tests use too.
import { haveShared, shared } from "../../src/testing/shared_data.ts";
import {
  writeTinyDataset,
  writeTinyModel,
} from "../../src/testing/tiny_search.ts";

interface Case {
  name: string;
  model: string;
  dataset: Dataset;
  normalize: string;
}

function firstImages(ds: Dataset, n: number): Dataset {
  const samples = ds.samples.slice(0, n);
  const labels = new Set(samples.map((s) => s.label));
  return {
    ...ds,
    samples,
    classes: ds.classes.filter((c) => labels.has(c.index)),
  };
}

async function inferenceOnly(
  ctx: BenchContext,
  c: Case,
  o: { batch: number; backend: "wasm" | "webgpu"; rows: number },
): Promise<{ images_per_s: number; rows: number }> {
  const session = await ModelSession.open(c.model, { backend: o.backend });
  try {
    const S = session.info.size;
    const per = 3 * S * S;
    const norm = normalization(c.normalize);
    const n = Math.min(o.batch, c.dataset.samples.length);
    const base = new Float32Array(n * per);
    for (let i = 0; i < n; i++) {
      const img = await readImage(c.dataset.samples[i]!.path);
      toTensor(img, { size: S, resize: "squash", out: base, offset: i * per });
    }
    normalizeTensor(base, norm, S);
    // A batch of `batch` rows made of the decoded images (repeated as needed).
    const x = new Float32Array(o.batch * per);
    for (let r = 0; r < o.batch; r++) {
      x.set(base.subarray((r % n) * per, (r % n + 1) * per), r * per);
    }
    const calls = Math.max(1, Math.round(o.rows / o.batch));
    const t = await ctx.measure(async () => {
      for (let i = 0; i < calls; i++) await session.run(x, o.batch);
    }, { warmup: 1, reps: ctx.quick ? 2 : 3 });
    return {
      images_per_s: (calls * o.batch) / (t.medianMs / 1000),
      rows: calls * o.batch,
    };
  } finally {
    await session.release();
  }
}

/** Run the suite. */
export async function run(ctx: BenchContext): Promise<Record<string, unknown>> {
  if (!ctx.gpu) return { skipped: "no WebGPU adapter" };
  const backend = (Deno.env.get("HFSS_BENCH_BACKEND") ?? "wasm") as
    | "wasm"
    | "webgpu";
  const batch = 64;
  const tmp = await Deno.makeTempDir({ prefix: "hfss_bench_pipeline_" });
  try {
    const cases: Case[] = [];
    const kVal = "data/images/imagenet_val_subset";
    if (haveShared("data/models") && haveShared(kVal)) {
      const ds = await openDataset(shared(kVal));
      cases.push({
        name: "mobilenet_v1_0.25_128",
        model: shared("data/models/mobilenet_v1_0.25_128_quant.onnx"),
        dataset: firstImages(ds, 48),
        normalize: "inception",
      });
      if (!ctx.quick) {
        cases.push({
          name: "mobilenet_v2_1.0_224",
          model: shared("data/models/mobilenet_v2_1.0_224_quant.onnx"),
          dataset: firstImages(ds, 16),
          normalize: "inception",
        });
      }
    } else {
      const model = join(tmp, "tiny.onnx");
      await writeTinyModel(model, { size: 64, classes: 10 });
      await writeTinyDataset(join(tmp, "data"), {
        size: 64,
        classes: 4,
        perClass: 8,
      });
      cases.push({
        name: "tiny_linear_64",
        model,
        dataset: await openDataset(join(tmp, "data")),
        normalize: "inception",
      });
    }
    const reps = ctx.quick ? 2 : 3;
    const figures: Record<string, unknown> = {
      config: { backend, batch, reps },
    };
    for (const c of cases) {
      const candidates = ctx.quick ? 24 : 48;
      const search = (overlap: boolean, rep: number) =>
        runSearch({
          model: c.model,
          dataset: c.dataset,
          stages: [1],
          out: join(tmp, `${c.name}-${overlap}-${rep}`),
          candidates,
          split: 1,
          batchSize: batch,
          normalize: c.normalize,
          backend,
          gpu: ctx.gpu!,
          overlap,
          log: () => {},
        }).then((r) => r.stages[0]!);
      // Interleaved repetitions (search, search without overlap, inference
      // only), medians reported: the machine may be shared.
      const runs: {
        s: StageSummary;
        serial: StageSummary;
        inf: number;
      }[] = [];
      for (let rep = 0; rep < reps; rep++) {
        ctx.log(
          `pipeline: ${c.name} (${
            rep + 1
          }/${reps}): search stage 1, ${candidates} candidates x ${c.dataset.samples.length} images; same without overlap; inference only`,
        );
        const s = await search(true, rep);
        const serial = await search(false, rep);
        const inf = await inferenceOnly(ctx, c, {
          batch,
          backend,
          rows: Math.min(s.evaluations, 8 * batch),
        });
        runs.push({ s, serial, inf: inf.images_per_s });
      }
      const med = (f: (r: typeof runs[number]) => number) =>
        summarize(runs.map(f)).medianMs;
      const s = runs[0]!.s;
      const evalsPerS = med((r) => r.s.evaluationsPerSecond);
      const infPerS = med((r) => r.inf);
      figures[c.name] = {
        search_evaluations: s.evaluations,
        search_seconds: med((r) => r.s.seconds),
        search_evaluations_per_s: evalsPerS,
        search_model_seconds: med((r) => r.s.modelSeconds),
        search_filter_seconds: med((r) => r.s.filterSeconds),
        search_image_wait_seconds: med((r) => r.s.loadSeconds),
        search_prepare_seconds: med((r) => r.s.prepareSeconds),
        search_loss_seconds: med((r) => r.s.lossSeconds),
        search_checkpoint_seconds: med((r) => r.s.checkpointSeconds),
        search_no_overlap_evaluations_per_s: med((r) =>
          r.serial.evaluationsPerSecond
        ),
        overlap_speedup: med((r) =>
          r.s.evaluationsPerSecond / r.serial.evaluationsPerSecond
        ),
        inference_images_per_s: infPerS,
        ratio: evalsPerS / infPerS,
        ratio_per_rep: runs.map((r) =>
          +(r.s.evaluationsPerSecond / r.inf).toFixed(3)
        ).join(" "),
        // On a software adapter the filter pass runs on the same CPU cores
        // as inference (its submit blocks); with it removed, the ratio a
        // separate GPU would allow:
        ratio_without_filter_time: med((r) =>
          r.s.evaluations / (r.s.seconds - r.s.filterSeconds) / r.inf
        ),
      };
    }
    return figures;
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
