/**
 * Wrapper of `shaders/corrupt_taps.wgsl`: sparse 2-D correlation with a
 * per-image tap list (defocus and motion blur). Pipeline cached per device;
 * encodes into a caller-supplied encoder; owns its uniform buffers.
 */
import source from "../../../shaders/corrupt_taps.wgsl" with { type: "text" };
import { withValidation } from "../buffers.ts";
import { UniformCache } from "./_fft_shared.ts";

const kWorkgroup = 64;
const kCache = new WeakMap<GPUDevice, GPUComputePipeline>();

/** Border rule of {@link CorruptTaps}. */
export type TapBorder = "edge" | "reflect101";

/** Buffers and sizes of one {@link CorruptTaps.encode} call. */
export interface CorruptTapsArgs {
  /** `[images, size, size, 3]` f32. */
  src: GPUBuffer;
  /** `[images, stride]` vec4f (dx, dy, weight, 0). */
  taps: GPUBuffer;
  /** `[images]` u32 taps used per image. */
  count: GPUBuffer;
  /** `[images, size, size, 3]` f32. */
  dst: GPUBuffer;
  images: number;
  size: number;
  /** Tap slots per image in `taps`. */
  stride: number;
  border: TapBorder;
}

/** The tap-list correlation kernel on one device. */
export class CorruptTaps {
  #device: GPUDevice;
  #pipeline: GPUComputePipeline;
  #params: UniformCache;

  private constructor(device: GPUDevice, pipeline: GPUComputePipeline) {
    this.#device = device;
    this.#pipeline = pipeline;
    this.#params = new UniformCache(device, "corrupt_taps");
  }

  /** Compile (or reuse) the pipeline. */
  static async create(device: GPUDevice): Promise<CorruptTaps> {
    let pipeline = kCache.get(device);
    if (!pipeline) {
      pipeline = await withValidation(
        device,
        "create the corrupt_taps pipeline",
        () =>
          device.createComputePipeline({
            label: "corrupt_taps",
            layout: "auto",
            compute: {
              module: device.createShaderModule({
                label: "corrupt_taps",
                code: source,
              }),
              entryPoint: "main",
              constants: { WG: kWorkgroup },
            },
          }),
      );
      kCache.set(device, pipeline);
    }
    return new CorruptTaps(device, pipeline);
  }

  /** Encode one dispatch over `images` images. */
  encode(encoder: GPUCommandEncoder, args: CorruptTapsArgs): void {
    const values = [
      args.size,
      args.stride,
      args.border === "edge" ? 0 : 1,
      args.images,
    ];
    const params = this.#params.get(
      values.join(","),
      () => new Uint32Array(values),
    );
    const pass = encoder.beginComputePass({ label: "corrupt_taps" });
    pass.setPipeline(this.#pipeline);
    pass.setBindGroup(
      0,
      this.#device.createBindGroup({
        layout: this.#pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: args.src } },
          { binding: 1, resource: { buffer: args.taps } },
          { binding: 2, resource: { buffer: args.count } },
          { binding: 3, resource: { buffer: args.dst } },
          { binding: 4, resource: { buffer: params } },
        ],
      }),
    );
    pass.dispatchWorkgroups(
      Math.ceil((args.size * args.size) / kWorkgroup),
      args.images,
    );
    pass.end();
  }

  /** Destroy the uniform buffers this wrapper created. */
  [Symbol.dispose](): void {
    this.#params[Symbol.dispose]();
  }
}
