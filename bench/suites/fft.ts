/**
 * fft suite: images/s of forward FFT + mask + inverse FFT for 3x224x224 images
 * at batch 32 on the WebGPU adapter (SpectralFilter: load + apply one mask,
 * readback included), next to the plain TypeScript CPU FFT (`cpuFilter`, one
 * thread) on the same data in the same run. Also: apply-only throughput when a
 * loaded batch is reused for many masks, and the fraction of a measured copy
 * kernel's memory bandwidth that the GPU path reaches. Besides wall-clock
 * rates, `images_per_cpu_s` divides by the process CPU time (all threads, the
 * software adapter's included): on a shared machine it is the steadier figure,
 * and on an idle 2-core machine the wall rate of a 2-thread adapter approaches
 * twice it.
 */
import type { BenchContext, Timing } from "../context.ts";
import { CpuFft, cpuFilter } from "../../src/fft/cpu_fft.ts";
import { SpectralFilter } from "../../src/gpu/spectral_filter.ts";
import { CopyKernel } from "../../src/gpu/kernels/copy.ts";
import { wallTime } from "../../src/gpu/timing.ts";
import { Rng } from "../../src/rng.ts";

const kSize = 224;
const kChannels = 3;
const kBatch = 32;
const kMasksPerLoad = 8;

async function copyBandwidth(
  ctx: BenchContext,
  device: GPUDevice,
): Promise<number> {
  const bytes = 64 * 2 ** 20;
  const usage = GPUBufferUsage.STORAGE;
  const a = device.createBuffer({ size: bytes, usage });
  const b = device.createBuffer({ size: bytes, usage });
  try {
    const copy = await CopyKernel.create(device);
    const t = await ctx.measure(() =>
      wallTime(device, () => {
        const enc = device.createCommandEncoder();
        copy.encode(enc, { src: a, dst: b, bytes });
        device.queue.submit([enc.finish()]);
      })
    );
    return (2 * bytes) / (t.medianMs / 1000);
  } finally {
    a.destroy();
    b.destroy();
  }
}

/** Run the fft suite. */
export async function run(ctx: BenchContext): Promise<Record<string, unknown>> {
  const S = kSize, C = kChannels, B = kBatch;
  const rng = new Rng(1, ["bench/fft"]);
  const images = new Float32Array(B * C * S * S);
  for (let i = 0; i < images.length; i++) images[i] = rng.float();
  const masks = new Uint8Array(kMasksPerLoad * S * S);
  for (let i = 0; i < masks.length; i++) masks[i] = rng.float() < 0.5 ? 1 : 0;

  // CPU baseline on a few images of the same batch.
  const cpuImages = ctx.quick ? 2 : 4;
  const fft = new CpuFft(S);
  const cpuIn = images.subarray(0, cpuImages * C * S * S);
  let cpuOut: Float32Array = new Float32Array(0);
  ctx.log(`fft: CPU baseline on ${cpuImages} images`);
  const cpu = await ctx.measure(() => {
    cpuOut = cpuFilter(cpuIn, masks.subarray(0, S * S), { size: S, fft });
  }, { warmup: 0, reps: ctx.quick ? 1 : 2 });
  const cpuRate = cpuImages / (cpu.medianMs / 1000);
  const perCpuSecond = (images: number, t: Timing) =>
    t.cpuMeanMs ? images / (t.cpuMeanMs / 1000) : null;
  const figures: Record<string, unknown> = {
    config: { size: S, channels: C, batch: B, masks_per_load: kMasksPerLoad },
    cpu: {
      images: cpuImages,
      images_per_s: cpuRate,
      images_per_cpu_s: perCpuSecond(cpuImages, cpu),
      time: cpu,
    },
  };
  if (!ctx.gpu) return { ...figures, gpu: null };

  const device = ctx.gpu.device;
  using filter = await SpectralFilter.create(ctx.gpu, {
    size: S,
    channels: C,
    maxImages: B,
  });
  using set = filter.uploadMasks(masks, kMasksPerLoad);
  let out: Float32Array = new Float32Array(0);
  ctx.log("fft: GPU load + apply (1 mask)");
  const full = await ctx.measure(async () => {
    filter.load(images, B);
    out = await filter.apply(set, { count: 1 });
  });
  let maxDiff = 0;
  for (let i = 0; i < cpuOut.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(cpuOut[i]! - out[i]!));
  }
  ctx.log(`fft: GPU apply-only (${kMasksPerLoad} masks per load)`);
  const applyMany = await ctx.measure(() => filter.apply(set));
  const loadOnly = await ctx.measure(() =>
    wallTime(device, () => filter.load(images, B))
  );
  const rate = B / (full.medianMs / 1000);
  const applyRate = (B * kMasksPerLoad) / (applyMany.medianMs / 1000);

  // Bytes the load + apply path must move at least (each pass reads its input and writes its output).
  const bins = filter.plan.bins;
  const P = B * C;
  const real = P * S * S * 4;
  const half = P * S * bins * 8;
  const bytes = (real + half) + 2 * half + (2 * half + S * bins * 4) +
    (half + real) + 2 * real;
  // The same load + apply with each kernel family, same data, same run: the
  // "stockham" family is a straightforward workgroup-memory Stockham, the
  // kind of kernel the 74 images/s reference figure came from.
  const families: Record<string, number> = {};
  for (const algorithm of ["stockham", "two-level", "registers"] as const) {
    ctx.log(`fft: load + apply with the ${algorithm} kernels`);
    using f = await SpectralFilter.create(ctx.gpu, {
      size: S,
      channels: C,
      maxImages: B,
      algorithm,
    });
    using one = f.uploadMasks(masks, 1);
    const t = await ctx.measure(async () => {
      f.load(images, B);
      await f.apply(one);
    }, { warmup: 1, reps: ctx.quick ? 1 : 3 });
    families[algorithm] = B / (t.medianMs / 1000);
  }
  ctx.log("fft: copy-kernel bandwidth");
  const copyBw = await copyBandwidth(ctx, device);
  const achieved = bytes / (full.medianMs / 1000);
  const adapter = ctx.gpu.report();
  return {
    ...figures,
    gpu: {
      adapter: adapter.description,
      fallback: adapter.isFallbackAdapter,
      algorithm: filter.plan.algorithm,
      load_apply_images_per_s: rate,
      load_apply_images_per_cpu_s: perCpuSecond(B, full),
      load_apply_time: full,
      apply_images_per_s_per_mask: applyRate,
      apply_time_8_masks: applyMany,
      load_time: loadOnly,
      max_abs_diff_vs_cpu: maxDiff,
    },
    ratio_gpu_over_cpu: rate / cpuRate,
    ratio_gpu_over_cpu_per_cpu_s: (() => {
      const g = perCpuSecond(B, full), c = perCpuSecond(cpuImages, cpu);
      return g && c ? g / c : null;
    })(),
    ratio_gpu_over_74_images_per_s: rate / 74,
    families_load_apply_images_per_s: families,
    ratio_registers_over_stockham: families.registers! / families.stockham!,
    bandwidth: {
      bytes_per_batch: bytes,
      copy_gb_per_s: copyBw / 1e9,
      achieved_gb_per_s: achieved / 1e9,
      fraction_of_copy: achieved / copyBw,
      note: adapter.isFallbackAdapter
        ? "fallback (software) adapter: memory bandwidth is not the bound; figure for reference only"
        : "real GPU",
    },
  };
}
