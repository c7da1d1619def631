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
import {
  type BufferRange,
  type CompiledKernel,
  compileKernel,
  coreConstants,
  FftKernel,
  type FftKernelShape,
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
export class FftRowsR2c extends FftKernel<FftKernelShape> {
  private constructor(
    device: GPUDevice,
    shape: FftKernelShape,
    kernel: CompiledKernel,
  ) {
    super(device, shape, kernel, "fft_rows_r2c");
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
    const params = this.params.get(
      String(args.rows),
      () => new Uint32Array([args.rows, 0, 0, 0]),
    );
    this.dispatch(encoder, args.twiddles, params, [args.src, args.dst], [
      Math.ceil(args.rows / (2 * this.shape.transforms)),
      1,
      1,
    ]);
  }
}
