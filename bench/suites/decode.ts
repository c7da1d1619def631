/**
 * decode suite: the input side, measured next to inference in the same run.
 *
 * - `decode_mozjpeg` / `decode_jpegjs`: JPEG bytes -> RGB images/s on the
 *   calling thread (files already in memory), for the wasm decoder and the
 *   pure-JS fallback;
 * - `decode_preprocess`: read + decode + resize/crop to S images/s through
 *   `loadBatches()` with 0, 1 and 2 decode workers;
 * - `inference`: model images/s on already preprocessed batches;
 * - `end_to_end`: `evaluateClean()` images/s (decode overlapped with
 *   inference) with 0 and 1 workers.
 *
 * Data: the first images of ../shared/data/images/imagenet_val_subset and
 * MobileNetV2-quant (MobileNetV1-0.25 with --quick); without ../shared,
 * generated JPEGs and a tiny generated model. The machine may be shared:
 * read the figures as ratios within one run.
 */
import { join } from "node:path";
import { syntheticJpeg } from "../../src/testing/synthetic_jpeg.ts";
import type { BenchContext } from "../context.ts";
import { openDataset, type Sample } from "../../src/data/dataset.ts";
import { decodeImage } from "../../src/data/decode.ts";
import { loadBatches } from "../../src/data/loader.ts";
import { normalization, normalizeTensor } from "../../src/data/preprocess.ts";
import { evaluateClean } from "../../src/model/accuracy.ts";
import { ModelSession } from "../../src/model/session.ts";
import { haveShared, shared } from "../../src/testing/shared_data.ts";
import { meanLinearModel } from "../../src/testing/tiny_models.ts";

async function generated(
  dir: string,
  n: number,
): Promise<{ samples: Sample[]; model: string }> {
  const samples: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const w = 500, h = 375;
    const path = join(dir, `g${i}.jpg`);
    await Deno.writeFile(
      path,
      await syntheticJpeg(w, h, (p) => [
        (p * 7 + i) % 256,
        ((p / w) * 3) % 256,
        (i * 31) % 256,
      ], 85),
    );
    samples.push({ path, label: i % 3 });
  }
  const model = join(dir, "tiny.onnx");
  await Deno.writeFile(
    model,
    meanLinearModel({
      size: 224,
      classes: 1000,
      weights: new Float32Array(3000).map((_, k) => (k % 13) / 13),
    }),
  );
  return { samples, model };
}

/** Run the suite. */
export async function run(ctx: BenchContext): Promise<Record<string, unknown>> {
  const n = ctx.quick ? 48 : 128;
  const tmp = await Deno.makeTempDir({ prefix: "hfss_bench_decode_" });
  try {
    let samples: Sample[];
    let modelPath: string;
    let normalize = "inception";
    if (
      haveShared("data/images/imagenet_val_subset/labels.csv") &&
      haveShared("data/models")
    ) {
      const ds = await openDataset(shared("data/images/imagenet_val_subset"));
      samples = ds.samples.slice(0, n);
      modelPath = shared(
        ctx.quick
          ? "data/models/mobilenet_v1_0.25_128_quant.onnx"
          : "data/models/mobilenet_v2_1.0_224_quant.onnx",
      );
    } else {
      ctx.log(
        "decode: ../shared absent, using generated JPEGs and a tiny model",
      );
      const g = await generated(tmp, n);
      samples = g.samples;
      modelPath = g.model;
      normalize = "none";
    }
    const bytes = await Promise.all(samples.map((s) => Deno.readFile(s.path)));
    const model = await ModelSession.open(modelPath);
    try {
      const S = model.info.size;
      const batch = 32;
      const out: Record<string, unknown> = {
        images: samples.length,
        model: modelPath.split("/").at(-1),
        size: S,
        batch,
      };

      ctx.log("decode: mozjpeg / jpeg-js");
      const moz = await ctx.measure(async () => {
        for (let i = 0; i < bytes.length; i++) {
          await decodeImage(bytes[i]!, samples[i]!.path);
        }
      }, { warmup: 1, reps: 2 });
      const js = await ctx.measure(async () => {
        for (let i = 0; i < bytes.length; i++) {
          await decodeImage(bytes[i]!, samples[i]!.path, {
            jpegDecoder: "jpeg-js",
          });
        }
      }, { warmup: 0, reps: 1 });
      out.decode_mozjpeg_images_per_s = samples.length / (moz.medianMs / 1000);
      out.decode_jpegjs_images_per_s = samples.length / (js.medianMs / 1000);

      const loaderRate = async (workers: number) => {
        const t = await ctx.measure(async () => {
          for await (
            const _ of loadBatches(samples, {
              batchSize: batch,
              size: S,
              resize: "crop",
              workers,
            })
          ) {
            // drain
          }
        }, { warmup: workers > 0 ? 1 : 0, reps: ctx.quick ? 1 : 2 });
        return samples.length / (t.medianMs / 1000);
      };
      ctx.log("decode: read+decode+preprocess through loadBatches()");
      const dp: Record<string, number> = {};
      for (const w of [0, 1, 2]) dp[`workers_${w}`] = await loaderRate(w);
      out.decode_preprocess_images_per_s = dp;

      ctx.log("decode: inference on preprocessed batches");
      let x: Float32Array | undefined;
      for await (
        const b of loadBatches(samples.slice(0, batch), {
          batchSize: batch,
          size: S,
        })
      ) x = b.tensor;
      normalizeTensor(x!, normalization(normalize), S);
      const rows = x!.length / (3 * S * S);
      const inf = await ctx.measure(() => model.run(x!, rows), {
        warmup: 1,
        reps: ctx.quick ? 2 : 3,
      });
      out.inference_images_per_s = rows / (inf.medianMs / 1000);

      ctx.log("decode: end to end (evaluateClean)");
      const e2e: Record<string, number> = {};
      for (const w of [0, 1]) {
        const r = await evaluateClean(model, samples, {
          batchSize: batch,
          resize: "crop",
          workers: w,
          normalization: normalization(normalize),
        });
        e2e[`workers_${w}`] = r.images_per_s;
      }
      out.end_to_end_images_per_s = e2e;
      out.decode_preprocess_over_inference = (dp.workers_0 ?? 0) /
        (out.inference_images_per_s as number);
      return out;
    } finally {
      await model.release();
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}
