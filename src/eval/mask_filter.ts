/**
 * The spectral mask filter for whole images, on the GPU when a WebGPU adapter
 * is there and on the CPU otherwise (or as asked). Both apply
 * `Re(ifft2(ifftshift(fftshift(fft2(x)) · M)))` per channel; which one runs is
 * reported so that outputs can record it.
 */
import { GpuContext } from "../gpu/context.ts";
import { SpectralFilter } from "../gpu/spectral_filter.ts";
import { CpuFft, cpuFilter } from "../fft/cpu_fft.ts";

/** Where to filter: `auto` takes the GPU when one can be opened. */
export type MaskFilterKind = "auto" | "gpu" | "cpu";

/** Options of {@linkcode createMaskFilter}. */
export interface MaskFilterOptions {
  /** Image side S. */
  size: number;
  /** Largest batch of images one `apply` gets. */
  maxImages: number;
  /** Default `auto`. */
  kind?: MaskFilterKind;
  /** Told why `auto` fell back to the CPU. */
  onWarning?: (message: string) => void;
}

/** Per-channel affine of the filtered values (`x * scale + offset`). */
export interface MaskFilterAffine {
  scale?: ArrayLike<number>;
  offset?: ArrayLike<number>;
}

/** Which filter runs, as recorded in `config.json` (`filter`). */
export type MaskFilterInfo =
  | { kind: "gpu"; adapter: string; fallback_adapter: boolean }
  | { kind: "cpu"; reason: string };

/** A filter of `[count,3,S,S]` images by one `[S,S]` mask (fftshifted). */
export interface ImageMaskFilter extends Disposable {
  readonly info: MaskFilterInfo;
  readonly onGpu: boolean;
  apply(
    images: Float32Array,
    count: number,
    mask: Float32Array | Uint8Array,
    options?: MaskFilterAffine,
  ): Promise<Float32Array>;
}

function affine(o: MaskFilterAffine | undefined): MaskFilterAffine {
  return {
    ...(o?.scale ? { scale: o.scale } : {}),
    ...(o?.offset ? { offset: o.offset } : {}),
  };
}

/**
 * Open the filter: the GPU one unless `kind` is `cpu`; with `auto`, a GPU
 * that cannot be opened falls back to the CPU with a warning.
 */
export async function createMaskFilter(
  opts: MaskFilterOptions,
): Promise<ImageMaskFilter> {
  const { size } = opts;
  const kind = opts.kind ?? "auto";
  let reason = "CPU filter requested";
  if (kind !== "cpu") {
    let gpu: GpuContext | undefined;
    try {
      gpu = await GpuContext.create();
      const spectral = await SpectralFilter.create(gpu, {
        size,
        channels: 3,
        maxImages: opts.maxImages,
      });
      const a = gpu.report();
      const ctx = gpu;
      return {
        info: {
          kind: "gpu",
          adapter: a.description,
          fallback_adapter: a.isFallbackAdapter,
        },
        onGpu: true,
        apply: async (images, count, mask, o) => {
          spectral.load(images, count);
          using set = spectral.uploadMasks(mask, 1);
          return await spectral.apply(set, affine(o));
        },
        [Symbol.dispose]: () => {
          spectral[Symbol.dispose]();
          ctx[Symbol.dispose]();
        },
      };
    } catch (err) {
      gpu?.[Symbol.dispose]();
      if (kind === "gpu") throw err;
      const why = err instanceof Error ? err.message : String(err);
      opts.onWarning?.(
        `no WebGPU filter (${why}); filtering on the CPU (slow)`,
      );
      reason = `no WebGPU filter: ${why}`;
    }
  }
  const fft = new CpuFft(size);
  return {
    info: { kind: "cpu", reason },
    onGpu: false,
    apply: (images, count, mask, o) =>
      Promise.resolve(
        cpuFilter(images.subarray(0, count * 3 * size * size), mask, {
          size,
          fft,
          channels: 3,
          ...affine(o),
        }),
      ),
    [Symbol.dispose]: () => {},
  };
}
