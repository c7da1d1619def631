/**
 * Wrapper of `shaders/fft_rows_r2c.wgsl`: forward real-to-complex FFT along
 * rows (two real rows per complex transform). Encodes into a caller-supplied
 * encoder; owns its small uniform buffers.
 */
import stockham from "../../../shaders/fft_rows_r2c.wgsl" with { type: "text" };
import twoLevel from "../../../shaders/fft2l_rows_r2c.wgsl" with {
  type: "text",
};
import registers from "../../../shaders/fftr_rows_r2c.wgsl" with {
  type: "text",
};
import { createBufferWithData } from "../buffers.ts";
import {
  type BufferRange,
  type CompiledKernel,
  compileKernel,
  coreConstants,
  type FftKernelShape,
  resource,
} from "./_fft_shared.ts";

/** Buffers and sizes of one {@link FftRowsR2c.encode} call. */
export interface FftRowsR2cArgs {
  twiddles: GPUBuffer;
  /** Real rows, `rows * n` float32. */
  src: GPUBuffer | BufferRange;
  /** Half-spectrum rows, `rows * (n/2+1)` vec2f. */
  dst: GPUBuffer | BufferRange;
  rows: number;
}

/** Forward real-row FFT kernel for one shape. */
export class FftRowsR2c {
  readonly shape: FftKernelShape;
  #device: GPUDevice;
  #kernel: CompiledKernel;
  #params = new Map<number, GPUBuffer>();

  private constructor(
    device: GPUDevice,
    shape: FftKernelShape,
    kernel: CompiledKernel,
  ) {
    this.#device = device;
    this.shape = shape;
    this.#kernel = kernel;
  }

  /** Compile (cached per device) the pipeline for `shape`. */
  static async create(
    device: GPUDevice,
    shape: FftKernelShape,
  ): Promise<FftRowsR2c> {
    const kernel = await compileKernel(device, {
      name: "fft_rows_r2c",
      algorithm: shape.algorithm,
      source: { stockham, "two-level": twoLevel, registers }[shape.algorithm],
      codelet: { n: shape.plan.n, outputs: "pairs" },
      bindings: ["uniform", "read-only-storage", "storage"],
      constants: coreConstants(shape),
    });
    return new FftRowsR2c(device, shape, kernel);
  }

  /** Encode one dispatch over `rows` real rows. */
  encode(encoder: GPUCommandEncoder, args: FftRowsR2cArgs): void {
    let params = this.#params.get(args.rows);
    if (!params) {
      params = createBufferWithData(
        this.#device,
        new Uint32Array([args.rows, 0, 0, 0]),
        {
          usage: GPUBufferUsage.UNIFORM,
          label: "fft_rows_r2c params",
        },
      );
      this.#params.set(args.rows, params);
    }
    const bindGroup = this.#device.createBindGroup({
      layout: this.#kernel.layout,
      entries: [
        { binding: 0, resource: { buffer: args.twiddles } },
        { binding: 1, resource: { buffer: params } },
        { binding: 2, resource: resource(args.src) },
        { binding: 3, resource: resource(args.dst) },
      ],
    });
    const pass = encoder.beginComputePass({ label: "fft_rows_r2c" });
    pass.setPipeline(this.#kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(args.rows / (2 * this.shape.transforms)));
    pass.end();
  }

  /** Destroy the uniform buffers this wrapper created. */
  [Symbol.dispose](): void {
    for (const b of this.#params.values()) b.destroy();
    this.#params.clear();
  }
}
