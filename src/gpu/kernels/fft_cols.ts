/**
 * Wrapper of `shaders/fft_cols.wgsl`: complex FFT along the columns of
 * half-spectrum planes; the inverse variant multiplies by a gain (mask)
 * first. Encodes into a caller-supplied encoder; owns its uniform buffers.
 */
import stockham from "../../../shaders/fft_cols.wgsl" with { type: "text" };
import twoLevel from "../../../shaders/fft2l_cols.wgsl" with { type: "text" };
import registers from "../../../shaders/fftr_cols.wgsl" with { type: "text" };
import { createBufferWithData } from "../buffers.ts";
import {
  type BufferRange,
  type CompiledKernel,
  compileKernel,
  coreConstants,
  type FftKernelShape,
  resource,
} from "./_fft_shared.ts";

/** Shape of a column kernel: core shape plus direction. */
export interface FftColsShape extends FftKernelShape {
  /** Inverse transform (unnormalised) with a gain applied before it. */
  inverseMasked: boolean;
}

/** Buffers and sizes of one {@link FftCols.encode} call. */
export interface FftColsArgs {
  twiddles: GPUBuffer;
  /** Planes `[planes, n, bins]` vec2f. */
  src: GPUBuffer | BufferRange;
  /** Output `[masks, planes, n, bins]` vec2f. */
  dst: GPUBuffer | BufferRange;
  /** Gains `[masks, gainStride]` float32, each mask `[n, binStride]` (inverse only). */
  gain?: GPUBuffer | BufferRange;
  planes: number;
  /** Masks (workgroups in z); 1 for the forward transform. */
  masks: number;
  /** Floats between consecutive masks in `gain`. */
  gainStride?: number;
}

/** Column FFT kernel for one shape. */
export class FftCols {
  readonly shape: FftColsShape;
  #device: GPUDevice;
  #kernel: CompiledKernel;
  #params = new Map<string, GPUBuffer>();

  private constructor(
    device: GPUDevice,
    shape: FftColsShape,
    kernel: CompiledKernel,
  ) {
    this.#device = device;
    this.shape = shape;
    this.#kernel = kernel;
  }

  /** Compile (cached per device) the pipeline for `shape`. */
  static async create(
    device: GPUDevice,
    shape: FftColsShape,
  ): Promise<FftCols> {
    const kernel = await compileKernel(device, {
      name: "fft_cols",
      algorithm: shape.algorithm,
      source: { stockham, "two-level": twoLevel, registers }[shape.algorithm],
      codelet: { n: shape.plan.n, outputs: "full", width: 2 },
      bindings: [
        "uniform",
        "read-only-storage",
        "storage",
        "read-only-storage",
      ],
      constants: coreConstants(shape),
    });
    return new FftCols(device, shape, kernel);
  }

  /** Encode one dispatch over `planes` planes and `masks` masks. */
  encode(encoder: GPUCommandEncoder, args: FftColsArgs): void {
    const values = [
      args.planes,
      this.shape.inverseMasked ? 1 : 0,
      args.gainStride ?? 0,
      0,
    ];
    const key = values.join(",");
    let params = this.#params.get(key);
    if (!params) {
      params = createBufferWithData(this.#device, new Uint32Array(values), {
        usage: GPUBufferUsage.UNIFORM,
        label: "fft_cols params",
      });
      this.#params.set(key, params);
    }
    const bins = Math.floor(this.shape.plan.n / 2) + 1;
    const bindGroup = this.#device.createBindGroup({
      layout: this.#kernel.layout,
      entries: [
        { binding: 0, resource: { buffer: args.twiddles } },
        { binding: 1, resource: { buffer: params } },
        { binding: 2, resource: resource(args.src) },
        { binding: 3, resource: resource(args.dst) },
        { binding: 4, resource: resource(args.gain ?? args.twiddles) },
      ],
    });
    const pass = encoder.beginComputePass({ label: "fft_cols" });
    pass.setPipeline(this.#kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    if (this.shape.algorithm === "registers") {
      // two columns per invocation, column pairs of all planes flattened in x
      pass.dispatchWorkgroups(
        Math.ceil(
          (args.planes * Math.ceil(bins / 2)) / this.shape.workgroupSize,
        ),
        1,
        args.masks,
      );
    } else {
      pass.dispatchWorkgroups(
        Math.ceil(bins / this.shape.transforms),
        args.planes,
        args.masks,
      );
    }
    pass.end();
  }

  /** Destroy the uniform buffers this wrapper created. */
  [Symbol.dispose](): void {
    for (const b of this.#params.values()) b.destroy();
    this.#params.clear();
  }
}
