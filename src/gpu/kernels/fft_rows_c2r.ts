/**
 * Wrapper of `shaders/fft_rows_c2r.wgsl`: inverse complex-to-real FFT along
 * half-spectrum rows, with normalisation and a per-channel scale/offset.
 * Encodes into a caller-supplied encoder; owns its uniform buffers.
 */
import stockham from "../../../shaders/fft_rows_c2r.wgsl" with { type: "text" };
import twoLevel from "../../../shaders/fft2l_rows_c2r.wgsl" with {
  type: "text",
};
import registers from "../../../shaders/fftr_rows_c2r.wgsl" with {
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

/** Buffers and sizes of one {@link FftRowsC2r.encode} call. */
export interface FftRowsC2rArgs {
  twiddles: GPUBuffer;
  /** Half spectra `[masks, rows, bins]` vec2f. */
  src: GPUBuffer | BufferRange;
  /** Real output `[masks, rows, n]` float32. */
  dst: GPUBuffer | BufferRange;
  /** (scale, offset) float32 pairs, one per channel. */
  channelMap: GPUBuffer;
  rows: number;
  /** Rows per plane (S). */
  planeRows: number;
  channels: number;
  /** Factor applied before scale (1/(S*S) for a 2D inverse). */
  norm: number;
  masks: number;
}

/** Inverse real-row FFT kernel for one shape. */
export class FftRowsC2r {
  readonly shape: FftKernelShape;
  #device: GPUDevice;
  #kernel: CompiledKernel;
  #params = new Map<string, GPUBuffer>();

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
  ): Promise<FftRowsC2r> {
    const kernel = await compileKernel(device, {
      name: "fft_rows_c2r",
      algorithm: shape.algorithm,
      source: { stockham, "two-level": twoLevel, registers }[shape.algorithm],
      codelet: { n: shape.plan.n, outputs: "quads" },
      bindings: [
        "uniform",
        "read-only-storage",
        "storage",
        "read-only-storage",
      ],
      constants: coreConstants(shape),
    });
    return new FftRowsC2r(device, shape, kernel);
  }

  /** Encode one dispatch over `rows` rows for each of `masks` masks. */
  encode(encoder: GPUCommandEncoder, args: FftRowsC2rArgs): void {
    const key = `${args.rows},${args.planeRows},${args.channels},${args.norm}`;
    let params = this.#params.get(key);
    if (!params) {
      const data = new ArrayBuffer(16);
      new Uint32Array(data, 0, 3).set([
        args.rows,
        args.planeRows,
        args.channels,
      ]);
      new Float32Array(data, 12, 1)[0] = args.norm;
      params = createBufferWithData(this.#device, new Uint8Array(data), {
        usage: GPUBufferUsage.UNIFORM,
        label: "fft_rows_c2r params",
      });
      this.#params.set(key, params);
    }
    const bindGroup = this.#device.createBindGroup({
      layout: this.#kernel.layout,
      entries: [
        { binding: 0, resource: { buffer: args.twiddles } },
        { binding: 1, resource: { buffer: params } },
        { binding: 2, resource: resource(args.src) },
        { binding: 3, resource: resource(args.dst) },
        { binding: 4, resource: { buffer: args.channelMap } },
      ],
    });
    const pass = encoder.beginComputePass({ label: "fft_rows_c2r" });
    pass.setPipeline(this.#kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(
      Math.ceil(args.rows / (2 * this.shape.transforms)),
      1,
      args.masks,
    );
    pass.end();
  }

  /** Destroy the uniform buffers this wrapper created. */
  [Symbol.dispose](): void {
    for (const b of this.#params.values()) b.destroy();
    this.#params.clear();
  }
}
