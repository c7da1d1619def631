/**
 * What the single-pass kernel wrappers share: a pipeline compiled once per
 * device (layout `auto`, the WGSL's overrides), uniform parameter buffers
 * owned by the wrapper, and one dispatch that binds buffers 0..n in order.
 */
import { withValidation } from "../buffers.ts";
import { UniformCache } from "./_fft_shared.ts";

const kPipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/** A compiled single-entry-point kernel on one device. */
export class ComputeKernel {
  readonly device: GPUDevice;
  readonly name: string;
  #pipeline: GPUComputePipeline;
  /** Uniform buffers of this wrapper, destroyed with it. */
  readonly params: UniformCache;

  private constructor(device: GPUDevice, name: string, p: GPUComputePipeline) {
    this.device = device;
    this.name = name;
    this.#pipeline = p;
    this.params = new UniformCache(device, name);
  }

  /** Compile `source` (or reuse the device's pipeline of that name). */
  static async create(
    device: GPUDevice,
    name: string,
    source: string,
    constants: Record<string, number>,
  ): Promise<ComputeKernel> {
    let byName = kPipelines.get(device);
    if (!byName) kPipelines.set(device, byName = new Map());
    let pipeline = byName.get(name);
    if (!pipeline) {
      pipeline = await withValidation(
        device,
        `create the ${name} pipeline`,
        () =>
          device.createComputePipeline({
            label: name,
            layout: "auto",
            compute: {
              module: device.createShaderModule({ label: name, code: source }),
              entryPoint: "main",
              constants,
            },
          }),
      );
      byName.set(name, pipeline);
    }
    return new ComputeKernel(device, name, pipeline);
  }

  /** Encode one pass binding `buffers` at 0, 1, … and dispatching (x, y). */
  dispatch(
    encoder: GPUCommandEncoder,
    buffers: readonly GPUBuffer[],
    x: number,
    y = 1,
  ): void {
    const pass = encoder.beginComputePass({ label: this.name });
    pass.setPipeline(this.#pipeline);
    pass.setBindGroup(
      0,
      this.device.createBindGroup({
        layout: this.#pipeline.getBindGroupLayout(0),
        entries: buffers.map((buffer, binding) => ({
          binding,
          resource: { buffer },
        })),
      }),
    );
    pass.dispatchWorkgroups(x, y);
    pass.end();
  }

  /** Destroy the uniform buffers. */
  [Symbol.dispose](): void {
    this.params[Symbol.dispose]();
  }
}
