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
import {
  type BufferRange,
  type CompiledKernel,
  compileKernel,
  coreConstants,
  FftKernel,
  type FftKernelShape,
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
export class FftRowsC2r extends FftKernel<FftKernelShape> {
  private constructor(
    device: GPUDevice,
    shape: FftKernelShape,
    kernel: CompiledKernel,
  ) {
    super(device, shape, kernel, "fft_rows_c2r");
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
    const params = this.params.get(key, () => {
      const data = new ArrayBuffer(16);
      new Uint32Array(data, 0, 3).set([
        args.rows,
        args.planeRows,
        args.channels,
      ]);
      new Float32Array(data, 12, 1)[0] = args.norm;
      return new Uint8Array(data);
    });
    this.dispatch(
      encoder,
      args.twiddles,
      params,
      [args.src, args.dst, args.channelMap],
      [Math.ceil(args.rows / (2 * this.shape.transforms)), 1, args.masks],
    );
  }
}
