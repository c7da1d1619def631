/**
 * Wrapper of `shaders/corrupt_taps.wgsl`: sparse 2-D correlation with a
 * per-image tap list (defocus and motion blur). Pipeline cached per device;
 * encodes into a caller-supplied encoder; owns its uniform buffers.
 */
import source from "../../../shaders/corrupt_taps.wgsl" with { type: "text" };
import { ComputeKernel } from "./_compute_kernel.ts";

const kWorkgroup = 64;

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
  #kernel: ComputeKernel;

  private constructor(kernel: ComputeKernel) {
    this.#kernel = kernel;
  }

  /** Compile (or reuse) the pipeline. */
  static async create(device: GPUDevice): Promise<CorruptTaps> {
    return new CorruptTaps(
      await ComputeKernel.create(device, "corrupt_taps", source, {
        WG: kWorkgroup,
      }),
    );
  }

  /** Encode one dispatch over `images` images. */
  encode(encoder: GPUCommandEncoder, args: CorruptTapsArgs): void {
    const values = [
      args.size,
      args.stride,
      args.border === "edge" ? 0 : 1,
      args.images,
    ];
    const params = this.#kernel.params.get(
      values.join(","),
      () => new Uint32Array(values),
    );
    this.#kernel.dispatch(
      encoder,
      [args.src, args.taps, args.count, args.dst, params],
      Math.ceil((args.size * args.size) / kWorkgroup),
      args.images,
    );
  }

  /** Destroy the uniform buffers this wrapper created. */
  [Symbol.dispose](): void {
    this.#kernel[Symbol.dispose]();
  }
}
