/**
 * Wrapper of `shaders/copy.wgsl`: a plain vec4 copy kernel, the yardstick for
 * memory bandwidth in benchmarks. Encodes into a caller-supplied encoder.
 */
import source from "../../../shaders/copy.wgsl" with { type: "text" };
import { withValidation } from "../buffers.ts";

const kWorkgroup = 256;
const kPer = 4;
const kCache = new WeakMap<GPUDevice, GPUComputePipeline>();

/** Copy kernel bound to one device (pipeline cached per device). */
export class CopyKernel {
  #device: GPUDevice;
  #pipeline: GPUComputePipeline;

  private constructor(device: GPUDevice, pipeline: GPUComputePipeline) {
    this.#device = device;
    this.#pipeline = pipeline;
  }

  /** Compile (or reuse) the copy pipeline. */
  static async create(device: GPUDevice): Promise<CopyKernel> {
    let pipeline = kCache.get(device);
    if (!pipeline) {
      pipeline = await withValidation(
        device,
        "create the copy pipeline",
        () =>
          device.createComputePipeline({
            label: "copy",
            layout: "auto",
            compute: {
              module: device.createShaderModule({
                label: "copy",
                code: source,
              }),
              entryPoint: "main",
              constants: { WG: kWorkgroup, PER: kPer },
            },
          }),
      );
      kCache.set(device, pipeline);
    }
    return new CopyKernel(device, pipeline);
  }

  /** Encode a copy of `bytes` (multiple of 16) from `src` to `dst`. */
  encode(
    encoder: GPUCommandEncoder,
    args: { src: GPUBuffer; dst: GPUBuffer; bytes: number },
  ): void {
    const words = args.bytes / 16;
    const groups = Math.ceil(words / (kWorkgroup * kPer));
    const x = Math.min(groups, 65535);
    const pass = encoder.beginComputePass({ label: "copy" });
    pass.setPipeline(this.#pipeline);
    pass.setBindGroup(
      0,
      this.#device.createBindGroup({
        layout: this.#pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: args.src, size: args.bytes } },
          { binding: 1, resource: { buffer: args.dst, size: args.bytes } },
        ],
      }),
    );
    pass.dispatchWorkgroups(x, Math.ceil(groups / x));
    pass.end();
  }
}
