/**
 * corrupt suite: ImageNet-C generation speed per corruption and severity (on
 * 224 x 224 centre crops, one image at a time on the calling thread), next to
 * decoding the same images (JPEG bytes -> RGB -> centre crop), interleaved
 * image by image in the same run: generation should not be slower than
 * decoding at any severity (`corrupt_over_decode_worst_severity` >= 1).
 * Frost runs on the synthetic textures of `tests/fixtures/corrupt/frost/`.
 *
 * With a WebGPU adapter, the GPU blurs (`gpu_blur.ts`: defocus, motion,
 * zoom) on the same crops as one batch, upload and readback included.
 *
 * Also: the quality-85 storage round trip (`storedImage("jpeg")`) and writing
 * a JPEG file (`encodeStored("jpeg")`); and the evaluation's generated
 * ImageNet-C loader (`loadGeneratedBatches()`: read, decode, crop, corrupt,
 * store, resize to 224) drained without inference on the calling thread and
 * on 1 and 2 worker threads, passes interleaved, each pass on its own images
 * (no crop is ever reused across passes), called as the evaluation calls it:
 * one call per (class of 16 images, subset), the subsets gaussian_noise/3,
 * zoom_blur/2 and jpeg_compression/5. The worker figures count whatever
 * cores are free: on a machine shared with other jobs they are a floor.
 *
 * Data: the first images of ../shared/data/images/imagenet_val_subset, or
 * generated JPEGs without ../shared.
 */
import { fileURLToPath } from "node:url";
import type { BenchContext } from "../context.ts";
import { decodeImage, type RgbImage } from "../../src/data/decode.ts";
import { openDataset } from "../../src/data/dataset.ts";
import {
  centreCrop,
  corruptCrop,
  corruptionRng,
  encodeStored,
  storedImage,
} from "../../src/corrupt/corrupt.ts";
import { loadFrostTextures } from "../../src/corrupt/frost.ts";
import {
  kCorruptionNames,
  kSeverities,
  subsetName,
} from "../../src/corrupt/registry.ts";
import { GpuBlur, kGpuBlurNames } from "../../src/corrupt/gpu_blur.ts";
import {
  generatedParts,
  loadGeneratedBatches,
  startGenerateWorkers,
} from "../../src/corrupt/generated.ts";
import { resolveSubsets } from "../../src/corrupt/registry.ts";
import { haveShared, shared } from "../../src/testing/shared_data.ts";
import { syntheticJpeg } from "../../src/testing/synthetic_jpeg.ts";

async function inputs(n: number): Promise<Uint8Array[]> {
  if (haveShared("data/images/imagenet_val_subset/labels.csv")) {
    const ds = await openDataset(shared("data/images/imagenet_val_subset"));
    return await Promise.all(
      ds.samples.slice(0, n).map((s) => Deno.readFile(s.path)),
    );
  }
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      await syntheticJpeg(500, 375, (p) => [
        (p * 7 + i) % 256,
        ((p / 500) * 3) % 256,
        (i * 31) % 256,
      ], 85),
    );
  }
  return out;
}

/** Median of a list of numbers. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** Run the suite. */
export async function run(ctx: BenchContext): Promise<Record<string, unknown>> {
  const n = ctx.quick ? 4 : 12;
  const bytes = await inputs(n);
  const reps = ctx.quick ? 1 : 3;
  const rate = (t: { medianMs: number }) => n / (t.medianMs / 1000);
  const decodeCrop = async (i: number) =>
    centreCrop(await decodeImage(bytes[i]!, `img${i}.jpg`));
  const crops: RgbImage[] = [];
  for (let i = 0; i < n; i++) crops.push(await decodeCrop(i));

  // Decoding and every (corruption, severity) alternate image by image, so
  // load from other jobs falls on both sides of each ratio alike; one untimed
  // pass first lets the JIT settle.
  // Frost on the synthetic stand-in textures of the tests: the same sizes
  // of work as the original photographs (a crop and a blend).
  const frost = await loadFrostTextures(
    fileURLToPath(
      new URL("../../tests/fixtures/corrupt/frost/", import.meta.url),
    ),
  );
  const subsets = kCorruptionNames.flatMap((corruption) =>
    kSeverities.map((severity) => ({ corruption, severity }))
  );
  const decodeMs: number[] = [];
  const ms = new Map<string, number[]>(subsets.map((s) => [subsetName(s), []]));
  for (let rep = -1; rep < reps; rep++) {
    ctx.log(
      rep < 0 ? "corrupt: warm-up pass" : `corrupt: pass ${rep + 1}/${reps}`,
    );
    for (let i = 0; i < n; i++) {
      let t = performance.now();
      await decodeCrop(i);
      if (rep >= 0) decodeMs.push(performance.now() - t);
      for (const subset of subsets) {
        const rng = corruptionRng(0, `img${i}`, subset);
        t = performance.now();
        corruptCrop(crops[i]!, subset, rng, frost);
        if (rep >= 0) ms.get(subsetName(subset))!.push(performance.now() - t);
      }
    }
  }
  const decode = median(decodeMs);
  const out: Record<string, unknown> = {
    images: n,
    passes: reps,
    decode_crop_ms: decode,
    decode_crop_images_per_s: 1000 / decode,
  };
  // Per corruption: median ms per image at severities 1..5, images/s at
  // severity 3, and the slowest severity's speed over decoding's.
  const perMs: Record<string, string> = {};
  const per: Record<string, number> = {};
  const worst: Record<string, number> = {};
  for (const corruption of kCorruptionNames) {
    const m = kSeverities.map((severity) =>
      median(ms.get(subsetName({ corruption, severity }))!)
    );
    perMs[corruption] = m.map((x) => x.toFixed(2)).join(" ");
    per[corruption] = 1000 / m[2]!;
    worst[corruption] = decode / Math.max(...m);
  }
  out.corrupt_ms_severity_1_to_5 = perMs;
  out.corrupt_images_per_s = per;
  out.corrupt_over_decode_worst_severity = worst;
  out.slowest_over_decode = Math.min(...Object.values(worst));
  if (ctx.gpu) {
    // The GPU blurs on a batch of the same crops (upload and readback included).
    using blur = await GpuBlur.create(ctx.gpu.device);
    const gpuRate: Record<string, number> = {};
    const gpuRatio: Record<string, number> = {};
    for (const name of kGpuBlurNames) {
      ctx.log(`corrupt: ${name} on the GPU`);
      const subset = { corruption: name, severity: 3 as const };
      const t = await ctx.measure(async () => {
        await blur.run(
          name,
          crops.map((c) => c.data),
          224,
          3,
          crops.map((_, i) => corruptionRng(0, `img${i}`, subset)),
        );
      }, { warmup: 1, reps });
      gpuRate[name] = rate(t);
      gpuRatio[name] = rate(t) * decode / 1000;
    }
    out.gpu_corrupt_images_per_s = gpuRate;
    out.gpu_corrupt_over_decode = gpuRatio;
  }
  ctx.log("corrupt: storage (quality 85)");
  const st = await ctx.measure(() => {
    for (const c of crops) storedImage(c, "jpeg");
  }, { warmup: 1, reps });
  out.store_jpeg_roundtrip_images_per_s = rate(st);
  const wr = await ctx.measure(() => {
    for (const c of crops) encodeStored(c, "jpeg");
  }, { warmup: 1, reps });
  out.write_jpeg_file_images_per_s = rate(wr);
  Object.assign(out, await generatedLoader(ctx, reps));
  return out;
}

/** Clean image files on disk: the val subset, or generated JPEGs in `tmp`. */
async function imageFiles(tmp: string, n: number): Promise<string[]> {
  if (haveShared("data/images/imagenet_val_subset/labels.csv")) {
    const ds = await openDataset(shared("data/images/imagenet_val_subset"));
    return ds.samples.slice(0, n).map((s) => s.path);
  }
  const bytes = await inputs(n);
  return await Promise.all(bytes.map(async (b, i) => {
    const path = `${tmp}/img_${i}.jpg`;
    await Deno.writeFile(path, b);
    return path;
  }));
}

/** `loadGeneratedBatches()` on 0, 1 and 2 workers (see the header). */
async function generatedLoader(
  ctx: BenchContext,
  reps: number,
): Promise<Record<string, unknown>> {
  const kClass = 16;
  const settings = [0, 1, 2];
  const tmp = await Deno.makeTempDir({ prefix: "hfss_bench_generated_" });
  const pools = settings.map((w) => startGenerateWorkers(w));
  try {
    // one slice of images per pass, plus one for the untimed warm-up
    const perSlice = ctx.quick ? 32 : 96;
    const files = await imageFiles(tmp, perSlice * (reps + 1));
    const slices = Math.floor(files.length / perSlice);
    const subsets = resolveSubsets([
      "gaussian_noise/3",
      "zoom_blur/2",
      "jpeg_compression/5",
    ]);
    const pass = async (
      w: number,
      slice: number,
    ): Promise<{ images: number; ms: number }> => {
      const clean = files.slice(slice * perSlice, (slice + 1) * perSlice)
        .map((path) => ({ path, label: 0 }));
      let images = 0;
      const t = performance.now();
      for (let c = 0; c < clean.length; c += kClass) {
        const parts = generatedParts(tmp, clean.slice(c, c + kClass), subsets);
        for (const part of parts) {
          for await (
            const b of loadGeneratedBatches(part.samples, {
              batchSize: kClass,
              size: 224,
              seed: 0,
              format: "jpeg",
              pool: pools[w] ?? null,
            })
          ) images += b.samples.length;
        }
      }
      return { images, ms: performance.now() - t };
    };
    const totals = settings.map(() => ({ images: 0, ms: 0 }));
    for (let rep = -1; rep < Math.min(reps, slices - 1); rep++) {
      ctx.log(
        rep < 0
          ? "corrupt: generated loader, warm-up"
          : `corrupt: generated loader, pass ${rep + 1}/${reps}`,
      );
      for (let k = 0; k < settings.length; k++) {
        // rotate the order and the slices, so every setting meets every
        // slice and every position once
        const w = settings[(k + Math.max(rep, 0)) % settings.length]!;
        const slice = rep < 0 ? 0 : 1 + (rep + w) % (slices - 1);
        const r = await pass(w, slice);
        if (rep >= 0) {
          totals[w]!.images += r.images;
          totals[w]!.ms += r.ms;
        }
      }
    }
    const perS = Object.fromEntries(
      settings.map((w) => [
        `workers_${w}`,
        totals[w]!.images / (totals[w]!.ms / 1000),
      ]),
    );
    return {
      generated_loader_images_per_s: perS,
      generated_loader_over_calling_thread: Object.fromEntries(
        settings.slice(1).map((w) => [
          `workers_${w}`,
          perS[`workers_${w}`]! / perS.workers_0!,
        ]),
      ),
    };
  } finally {
    for (const p of pools) p?.terminate();
    await Deno.remove(tmp, { recursive: true });
  }
}
