/**
 * corrupt suite: ImageNet-C generation speed, images/s per corruption
 * (severity 3, on 224 x 224 centre crops, one image at a time on the calling
 * thread), next to decoding the same images (JPEG bytes -> RGB -> centre
 * crop) in the same run: generation should not be slower than decoding.
 *
 * With a WebGPU adapter, the GPU blurs (`gpu_blur.ts`: defocus, motion,
 * zoom) on the same crops as one batch, upload and readback included.
 *
 * Also: the quality-85 storage round trip (`storedImage("jpeg")`) and writing
 * a JPEG file (`encodeStored("jpeg")`).
 *
 * Data: the first images of ../shared/data/images/imagenet_val_subset, or
 * generated JPEGs without ../shared.
 */
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
import { kGeneratedCorruptions } from "../../src/corrupt/registry.ts";
import { GpuBlur, kGpuBlurNames } from "../../src/corrupt/gpu_blur.ts";
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

/** Run the suite. */
export async function run(ctx: BenchContext): Promise<Record<string, unknown>> {
  const n = ctx.quick ? 4 : 12;
  const bytes = await inputs(n);
  const reps = ctx.quick ? 1 : 2;
  const rate = (t: { medianMs: number }) => n / (t.medianMs / 1000);

  ctx.log("corrupt: decode + centre crop");
  let crops: RgbImage[] = [];
  const dec = await ctx.measure(async () => {
    crops = [];
    for (let i = 0; i < n; i++) {
      crops.push(centreCrop(await decodeImage(bytes[i]!, `img${i}.jpg`)));
    }
  }, { warmup: 1, reps });
  const decodeRate = rate(dec);
  const out: Record<string, unknown> = {
    images: n,
    severity: 3,
    decode_crop_images_per_s: decodeRate,
  };
  const per: Record<string, number> = {};
  const ratio: Record<string, number> = {};
  for (const corruption of kGeneratedCorruptions) {
    ctx.log(`corrupt: ${corruption}`);
    const subset = { corruption, severity: 3 as const };
    const t = await ctx.measure(() => {
      for (let i = 0; i < n; i++) {
        corruptCrop(crops[i]!, subset, corruptionRng(0, `img${i}`, subset));
      }
    }, { warmup: 1, reps });
    per[corruption] = rate(t);
    ratio[corruption] = rate(t) / decodeRate;
  }
  out.corrupt_images_per_s = per;
  out.corrupt_over_decode = ratio;
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
      gpuRatio[name] = rate(t) / decodeRate;
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
  return out;
}
