/**
 * Wrapper of `shaders/corrupt_zoom.wgsl`: ImageNet-C zoom blur (mean of the
 * image and its centre zooms). Pipeline cached per device; encodes into a
 * caller-supplied encoder; owns its uniform buffers.
 */
import source from "../../../shaders/corrupt_zoom.wgsl" with { type: "text" };
import { withValidation } from "../buffers.ts";
import { UniformCache } from "./_fft_shared.ts";

const kWorkgroup = 64;
const kCache = new WeakMap<GPUDevice, GPUComputePipeline>();

/** Buffers and sizes of one {@link CorruptZoom.encode} call. */
export interface CorruptZoomArgs {
  /** `[images, size, size, 3]` f32 in [0, 1]. */
  src: GPUBuffer;
  /** `[zooms]` vec4f (ratio, top, trim, crop side). */
  zooms: GPUBuffer;
  /** `[images, size, size, 3]` f32. */
  dst: GPUBuffer;
  images: number;
  size: number;
  /** Number of zoom factors. */
  count: number;
}

/** The zoom-blur kernel on one device. */
export class CorruptZoom {
  #device: GPUDevice;
  #pipeline: GPUComputePipeline;
  #params: UniformCache;

  private constructor(device: GPUDevice, pipeline: GPUComputePipeline) {
    this.#device = device;
    this.#pipeline = pipeline;
    this.#params = new UniformCache(device, "corrupt_zoom");
  }

  /** Compile (or reuse) the pipeline. */
  static async create(device: GPUDevice): Promise<CorruptZoom> {
    let pipeline = kCache.get(device);
    if (!pipeline) {
      pipeline = await withValidation(
        device,
        "create the corrupt_zoom pipeline",
        () =>
          device.createComputePipeline({
            label: "corrupt_zoom",
            layout: "auto",
            compute: {
              module: device.createShaderModule({
                label: "corrupt_zoom",
                code: source,
              }),
              entryPoint: "main",
              constants: { WG: kWorkgroup },
            },
          }),
      );
      kCache.set(device, pipeline);
    }
    return new CorruptZoom(device, pipeline);
  }

  /** Encode one dispatch over `images` images. */
  encode(encoder: GPUCommandEncoder, args: CorruptZoomArgs): void {
    const values = [args.size, args.count, args.images, 0];
    const params = this.#params.get(
      values.join(","),
      () => new Uint32Array(values),
    );
    const pass = encoder.beginComputePass({ label: "corrupt_zoom" });
    pass.setPipeline(this.#pipeline);
    pass.setBindGroup(
      0,
      this.#device.createBindGroup({
        layout: this.#pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: args.src } },
          { binding: 1, resource: { buffer: args.zooms } },
          { binding: 2, resource: { buffer: args.dst } },
          { binding: 3, resource: { buffer: params } },
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
