/**
 * Wrapper of `shaders/corrupt_zoom.wgsl`: ImageNet-C zoom blur (mean of the
 * image and its centre zooms). Pipeline cached per device; encodes into a
 * caller-supplied encoder; owns its uniform buffers.
 */
import source from "../../../shaders/corrupt_zoom.wgsl" with { type: "text" };
import { ComputeKernel } from "./_compute_kernel.ts";

const kWorkgroup = 64;

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
  #kernel: ComputeKernel;

  private constructor(kernel: ComputeKernel) {
    this.#kernel = kernel;
  }

  /** Compile (or reuse) the pipeline. */
  static async create(device: GPUDevice): Promise<CorruptZoom> {
    return new CorruptZoom(
      await ComputeKernel.create(device, "corrupt_zoom", source, {
        WG: kWorkgroup,
      }),
    );
  }

  /** Encode one dispatch over `images` images. */
  encode(encoder: GPUCommandEncoder, args: CorruptZoomArgs): void {
    const values = [args.size, args.count, args.images, 0];
    const params = this.#kernel.params.get(
      values.join(","),
      () => new Uint32Array(values),
    );
    this.#kernel.dispatch(
      encoder,
      [args.src, args.zooms, args.dst, params],
      Math.ceil((args.size * args.size) / kWorkgroup),
      args.images,
    );
  }

  /** Destroy the uniform buffers this wrapper created. */
  [Symbol.dispose](): void {
    this.#kernel[Symbol.dispose]();
  }
}
