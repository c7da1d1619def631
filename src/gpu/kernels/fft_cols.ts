/**
 * Wrapper of `shaders/fft_cols.wgsl`: complex FFT along the columns of
 * half-spectrum planes; the inverse variant multiplies by a gain (mask)
 * first. Encodes into a caller-supplied encoder; owns its uniform buffers.
 */
import stockham from "../../../shaders/fft_cols.wgsl" with { type: "text" };
import twoLevel from "../../../shaders/fft2l_cols.wgsl" with { type: "text" };
import registers from "../../../shaders/fftr_cols.wgsl" with { type: "text" };
import {
  type BufferRange,
  type CompiledKernel,
  compileKernel,
  coreConstants,
  FftKernel,
  type FftKernelShape,
} from "./_fft_shared.ts";
import { halfBins } from "../../fft/plan.ts";

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
export class FftCols extends FftKernel<FftColsShape> {
  private constructor(
    device: GPUDevice,
    shape: FftColsShape,
    kernel: CompiledKernel,
  ) {
    super(device, shape, kernel, "fft_cols");
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
    const params = this.params.get(
      values.join(","),
      () => new Uint32Array(values),
    );
    const bins = halfBins(this.shape.plan.n);
    // The forward transform reads no gain; its binding gets a stand-in.
    const gain = args.gain ?? args.twiddles;
    let groups: [number, number, number];
    if (this.shape.algorithm === "registers") {
      // two columns per invocation, column pairs of all planes flattened in x
      const pairs = args.planes * Math.ceil(bins / 2);
      groups = [Math.ceil(pairs / this.shape.workgroupSize), 1, args.masks];
    } else {
      groups = [
        Math.ceil(bins / this.shape.transforms),
        args.planes,
        args.masks,
      ];
    }
    this.dispatch(
      encoder,
      args.twiddles,
      params,
      [args.src, args.dst, gain],
      groups,
    );
  }
}
