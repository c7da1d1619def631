/**
 * Defocus, motion and zoom blur of a batch of 224 x 224 crops on the GPU
 * (`corrupt_taps.wgsl`, `corrupt_zoom.wgsl`): the three corruptions whose
 * cost is per-pixel arithmetic rather than sequential random draws. The
 * random part (motion blur's angle) is drawn on the CPU from the same stream
 * as the CPU path, and the final 8-bit rounding is the CPU path's too; the
 * GPU accumulates in f32 where the CPU uses f64, so an output sample can
 * differ by one level (tests bound the difference).
 *
 * Batches are chunked so no binding exceeds 128 MiB.
 */
import type { Rng } from "../rng.ts";
import {
  createBuffer,
  createBufferWithData,
  readBuffer,
} from "../gpu/buffers.ts";
import { CorruptTaps } from "../gpu/kernels/corrupt_taps.ts";
import { CorruptZoom } from "../gpu/kernels/corrupt_zoom.ts";
import { diskKernel } from "./defocus.ts";
import { zoomGeometry } from "./zoom.ts";
import { motionKernel } from "./motion.ts";
import { kConstants, type Severity } from "./registry.ts";

/** The corruptions {@link GpuBlur} runs. */
export type GpuBlurName = "defocus_blur" | "motion_blur" | "zoom_blur";
export const kGpuBlurNames: readonly GpuBlurName[] = [
  "defocus_blur",
  "motion_blur",
  "zoom_blur",
];

const kMaxBinding = 128 * 1024 * 1024;

/** Runs the GPU blurs on one device; dispose to free its buffers. */
export class GpuBlur {
  #device: GPUDevice;
  #taps: CorruptTaps;
  #zoom: CorruptZoom;

  private constructor(device: GPUDevice, taps: CorruptTaps, zoom: CorruptZoom) {
    this.#device = device;
    this.#taps = taps;
    this.#zoom = zoom;
  }

  static async create(device: GPUDevice): Promise<GpuBlur> {
    return new GpuBlur(
      device,
      await CorruptTaps.create(device),
      await CorruptZoom.create(device),
    );
  }

  /**
   * Corrupt 8-bit HWC crops (`size` x `size` x 3). `rngs[i]` is image i's
   * stream (motion blur draws its angle from it, as the CPU path does).
   */
  async run(
    name: GpuBlurName,
    crops: readonly Uint8Array[],
    size: number,
    severity: Severity,
    rngs: readonly Rng[],
  ): Promise<Uint8Array[]> {
    const per = size * size * 3 * 4;
    const chunk = Math.max(1, Math.floor(kMaxBinding / per));
    const out: Uint8Array[] = [];
    for (let i = 0; i < crops.length; i += chunk) {
      out.push(
        ...await this.#runChunk(
          name,
          crops.slice(i, i + chunk),
          size,
          severity,
          rngs.slice(i, i + chunk),
        ),
      );
    }
    return out;
  }

  async #runChunk(
    name: GpuBlurName,
    crops: readonly Uint8Array[],
    size: number,
    severity: Severity,
    rngs: readonly Rng[],
  ): Promise<Uint8Array[]> {
    const device = this.#device;
    const b = crops.length;
    const n = size * size * 3;
    // Motion blur works on 0..255 values (ImageMagick's scale), the others on [0, 1].
    const input = new Float32Array(b * n);
    for (let i = 0; i < b; i++) {
      const c = crops[i]!;
      for (let j = 0; j < n; j++) {
        input[i * n + j] = name === "motion_blur" ? c[j]! : c[j]! / 255;
      }
    }
    const owned: GPUBuffer[] = [];
    const upload = (data: ArrayBufferView, label: string): GPUBuffer => {
      const buf = createBufferWithData(device, data, {
        usage: GPUBufferUsage.STORAGE,
        label,
      });
      owned.push(buf);
      return buf;
    };
    try {
      const src = upload(input, "corrupt src");
      const dst = createBuffer(device, {
        size: input.byteLength,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
        label: "corrupt dst",
      });
      owned.push(dst);
      const encoder = device.createCommandEncoder({ label: name });
      if (name === "zoom_blur") {
        const zs = kConstants.zoom_blur[severity - 1]!;
        const z = new Float32Array(zs.length * 4);
        zs.forEach((f, k) => {
          const g = zoomGeometry(size, f);
          z.set([g.ratio, g.top, g.trim, g.ch], k * 4);
        });
        this.#zoom.encode(encoder, {
          src,
          zooms: upload(z, "corrupt zooms"),
          dst,
          images: b,
          size,
          count: zs.length,
        });
      } else {
        const lists: { dx: number; dy: number; w: number }[][] = [];
        if (name === "defocus_blur") {
          const [radius, alias] = kConstants.defocus_blur[severity - 1]!;
          const { kernel, k } = diskKernel(radius, alias);
          const r = (k - 1) >> 1;
          const list: { dx: number; dy: number; w: number }[] = [];
          for (let j = 0; j < k; j++) {
            for (let i = 0; i < k; i++) {
              const w = kernel[j * k + i]!;
              if (w !== 0) list.push({ dx: i - r, dy: j - r, w });
            }
          }
          for (let i = 0; i < b; i++) lists.push(list);
        } else {
          const [radius, sigma] = kConstants.motion_blur[severity - 1]!;
          for (let i = 0; i < b; i++) {
            const angle = -45 + 90 * rngs[i]!.float();
            const m = motionKernel(radius, sigma, angle);
            lists.push(
              [...m.weights].map((w, t) => ({ dx: m.dx[t]!, dy: m.dy[t]!, w })),
            );
          }
        }
        const stride = Math.max(...lists.map((l) => l.length));
        const taps = new Float32Array(b * stride * 4);
        const count = new Uint32Array(b);
        lists.forEach((l, i) => {
          count[i] = l.length;
          l.forEach((t, k) =>
            taps.set([t.dx, t.dy, t.w, 0], (i * stride + k) * 4)
          );
        });
        this.#taps.encode(encoder, {
          src,
          taps: upload(taps, "corrupt taps"),
          count: upload(count, "corrupt tap counts"),
          dst,
          images: b,
          size,
          stride,
          border: name === "motion_blur" ? "edge" : "reflect101",
        });
      }
      device.queue.submit([encoder.finish()]);
      const res = new Float32Array(await readBuffer(device, dst));
      const f = Math.fround;
      const out: Uint8Array[] = [];
      for (let i = 0; i < b; i++) {
        const o = new Uint8Array(n);
        for (let j = 0; j < n; j++) {
          const v = res[i * n + j]!;
          if (name === "motion_blur") {
            const q = Math.floor(v * 257 + 0.5);
            const u = Math.floor(q / 257);
            o[j] = u < 0 ? 0 : u > 255 ? 255 : u;
          } else {
            o[j] = Math.trunc(f((v < 0 ? 0 : v > 1 ? 1 : v) * 255));
          }
        }
        out.push(o);
      }
      return out;
    } finally {
      for (const buf of owned) buf.destroy();
    }
  }

  /** Destroy the kernels' uniform buffers. */
  [Symbol.dispose](): void {
    this.#taps[Symbol.dispose]();
    this.#zoom[Symbol.dispose]();
  }
}

/** Where the GPU-capable blurs run: `auto` = a hardware GPU when there is one. */
export type CorruptDevice = "auto" | "cpu" | "gpu";
export const kCorruptDevices: readonly CorruptDevice[] = ["auto", "cpu", "gpu"];

/** The blurs' engine for a run and what to record about it. */
export interface BlurEngine extends Disposable {
  /** Null: every corruption on the CPU. */
  gpu: GpuBlur | null;
  /** `cpu`, or `gpu (<adapter>)`, for config files and logs. */
  description: string;
}

/**
 * Open the blur engine for `device`. `auto` uses the GPU only on a hardware
 * adapter: on a software adapter (lavapipe) the CPU path is faster (see the
 * `corrupt` bench suite). `gpu` insists (an error without an adapter).
 */
export async function openBlurEngine(
  device: CorruptDevice,
): Promise<BlurEngine> {
  const cpu: BlurEngine = {
    gpu: null,
    description: "cpu",
    [Symbol.dispose]() {},
  };
  if (device === "cpu") return cpu;
  const { GpuContext } = await import("../gpu/context.ts");
  let ctx;
  try {
    ctx = await GpuContext.create();
  } catch (err) {
    if (device === "gpu") throw err;
    return cpu;
  }
  const report = ctx.report();
  if (device === "auto" && report.isFallbackAdapter) {
    ctx[Symbol.dispose]();
    return cpu;
  }
  const blur = await GpuBlur.create(ctx.device);
  return {
    gpu: blur,
    description: `gpu (${report.description || report.device || "adapter"})`,
    [Symbol.dispose]() {
      blur[Symbol.dispose]();
      ctx[Symbol.dispose]();
    },
  };
}
