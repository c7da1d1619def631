/**
 * SpectralFilter: batched 2D FFT -> Fourier mask -> inverse 2D FFT on WebGPU.
 *
 * For every mask M (S x S, reference fftshifted layout, DC at (S/2, S/2)),
 * image b and channel c:
 *   out[m][b][c] = scale[c] * Re(ifft2(ifftshift(fftshift(fft2(x_bc)) * M))) + offset[c]
 * computed exactly as ifft2(fft2(x) * G) with the symmetric effective gain
 * G(k) = (M(k) + M(-k)) / 2 (unshifted layout), which is what keeping the real
 * part does for any mask. The filtered spectrum is then Hermitian, so only the
 * half spectrum (S/2+1 bins per row) is computed: rfft along rows (two real
 * rows per complex FFT), complex FFT along columns. `load` computes the forward
 * transform once; `apply` reuses it for every mask (inverse columns with the
 * gain fused into the load, inverse rows with scale/offset fused into the
 * store). Batches are chunked so no binding exceeds the device limit.
 *
 * Kernel families (chosen by `planSpectral`): "registers" (one transform per
 * invocation, no workgroup memory: fastest on CPU adapters such as lavapipe),
 * "two-level" (N1 x 32 with one workgroup-memory exchange: GPUs), "stockham"
 * (any 2,3,5,7-smooth size). Half spectra live on the GPU as complex float32
 * rows of `plan.binStride` values.
 */
import { UserError } from "../errors.ts";
import { type FftAlgorithm, halfBins } from "../fft/plan.ts";
import { planSpectral, type SpectralPlan } from "./spectral_plan.ts";
import type { GpuContext } from "./context.ts";
import {
  alignUp,
  createBuffer,
  createBufferWithData,
  kStorageOffsetAlignment,
} from "./buffers.ts";
import { createTwiddleBuffer } from "./kernels/_fft_shared.ts";
import { FftCols } from "./kernels/fft_cols.ts";
import { FftRowsC2r } from "./kernels/fft_rows_c2r.ts";
import { FftRowsR2c } from "./kernels/fft_rows_r2c.ts";

/** Options of {@link SpectralFilter.create}. */
export interface SpectralFilterOptions {
  /** Image side S. */
  size: number;
  /** Channels per image (default 3). */
  channels?: number;
  /** Most images `load` accepts (default 32). */
  maxImages?: number;
  /** Work buffer bytes: masks per dispatch = floor(workBytes / one mask's output) (default 16 MiB, at least one image chunk). */
  workBytes?: number;
  /** Binding limit to plan chunks for (default and maximum: the device's). */
  maxBinding?: number;
  /** FFT kernel family (default "auto"). */
  algorithm?: FftAlgorithm | "auto";
}

/** Options of {@link SpectralFilter.apply}. */
export interface ApplyOptions {
  /** First mask of the set to apply (default 0). */
  first?: number;
  /** Masks to apply (default: the rest of the set). */
  count?: number;
  /** Per-channel factor (default 1). */
  scale?: ArrayLike<number>;
  /** Per-channel offset (default 0). */
  offset?: ArrayLike<number>;
}

/** Masks uploaded to the GPU as half-spectrum gains. */
export interface MaskSet {
  readonly count: number;
  [Symbol.dispose](): void;
}

interface GainSegment {
  buffer: GPUBuffer;
  first: number;
  count: number;
}

class GainSet implements MaskSet {
  readonly count: number;
  readonly owner: SpectralFilter;
  readonly segments: GainSegment[];
  #disposed = false;
  constructor(owner: SpectralFilter, count: number, segments: GainSegment[]) {
    this.owner = owner;
    this.count = count;
    this.segments = segments;
  }
  get disposed(): boolean {
    return this.#disposed;
  }
  [Symbol.dispose](): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const s of this.segments) s.buffer.destroy();
  }
}

interface ImageChunk {
  first: number;
  count: number;
}

/** Layout of {@link maskToGain} output. */
export interface GainLayout {
  /** Floats between masks. */
  stride: number;
  /** Floats between rows (at least floor(S/2)+1). */
  rowStride: number;
}

/**
 * Convert masks in the reference fftshifted layout to half-spectrum gains
 * G[u][v] = (M(u,v) + M(-u,-v))/2, unshifted, v < floor(S/2)+1; gain (i, u, v)
 * is written at `out[i * stride + u * rowStride + v]` (padding left 0).
 */
export function maskToGain(
  masks: Float32Array | Uint8Array,
  count: number,
  size: number,
  layout: GainLayout,
): Float32Array {
  const { stride, rowStride } = layout;
  const out = new Float32Array(count * stride);
  const bins = halfBins(size);
  const h0 = Math.floor(size / 2);
  const sh = new Int32Array(size);
  for (let u = 0; u < size; u++) sh[u] = (u + h0) % size;
  for (let m = 0; m < count; m++) {
    const mo = m * size * size;
    const go = m * stride;
    for (let u = 0; u < size; u++) {
      const h = sh[u]!;
      const hn = sh[(size - u) % size]!;
      for (let v = 0; v < bins; v++) {
        const a = masks[mo + h * size + sh[v]!]!;
        const b = masks[mo + hn * size + sh[(size - v) % size]!]!;
        out[go + u * rowStride + v] = (a + b) / 2;
      }
    }
  }
  return out;
}

/**
 * The spectral engine: load images once, apply many masks.
 *
 * @example
 * ```ts
 * using gpu = await GpuContext.create();
 * using filter = await SpectralFilter.create(gpu, { size: 224, maxImages: 32 });
 * filter.load(images, 32);                       // [32,3,224,224] float32
 * using masks = filter.uploadMasks(dfms, 100);   // [100,224,224] uint8, fftshifted
 * const out = await filter.apply(masks, { first: 0, count: 10, scale: [2, 2, 2], offset: [-1, -1, -1] });
 * // out: [10,32,3,224,224] float32
 * ```
 */
export class SpectralFilter {
  readonly plan: SpectralPlan;
  readonly maxImages: number;
  #gpu: GpuContext;
  #device: GPUDevice;
  #r2c: FftRowsR2c;
  #colsF: FftCols;
  #colsI: FftCols;
  #c2r: FftRowsC2r;
  #twiddles: GPUBuffer;
  #input: GPUBuffer;
  #spectra: GPUBuffer[] = [];
  #work: GPUBuffer;
  #output: GPUBuffer;
  #staging: GPUBuffer[];
  #chunks: ImageChunk[] = [];
  #loaded = 0;
  #workBytes: number;
  #maxBinding: number;
  #gainStride: number;
  #disposed = false;
  /** Tail of the chain that serialises apply() calls (they share staging buffers). */
  #queue: Promise<unknown> = Promise.resolve();
  #applying = 0;

  private constructor(
    gpu: GpuContext,
    plan: SpectralPlan,
    maxImages: number,
    workBytes: number,
    maxBinding: number,
    kernels: [FftRowsR2c, FftCols, FftCols, FftRowsC2r],
  ) {
    this.#gpu = gpu;
    this.#device = gpu.device;
    this.plan = plan;
    this.maxImages = maxImages;
    this.#workBytes = workBytes;
    this.#maxBinding = maxBinding;
    [this.#r2c, this.#colsF, this.#colsI, this.#c2r] = kernels;
    const d = this.#device;
    const S = plan.size;
    this.#gainStride = alignUp(S * plan.binStride, kStorageOffsetAlignment / 4);
    this.#twiddles = createTwiddleBuffer(d, S);
    const chunkImages = plan.imagesPerChunk;
    this.#input = createBuffer(d, {
      size: chunkImages * plan.outputBytesPerImage,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      label: "spectral input",
    });
    this.#work = createBuffer(d, {
      size: workBytes,
      usage: GPUBufferUsage.STORAGE,
      label: "spectral work",
    });
    this.#output = createBuffer(d, {
      size: workBytes,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
      label: "spectral output",
    });
    this.#staging = [0, 1].map((i) =>
      createBuffer(d, {
        size: workBytes,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
        label: `spectral staging ${i}`,
      })
    );
  }

  /** Plan, compile the kernels and allocate the work buffers. */
  static async create(
    gpu: GpuContext,
    opts: SpectralFilterOptions,
  ): Promise<SpectralFilter> {
    const maxImages = opts.maxImages ?? 32;
    const maxBinding = Math.min(gpu.maxBinding, opts.maxBinding ?? Infinity);
    const plan = planSpectral({
      size: opts.size,
      channels: opts.channels ?? 3,
      maxBinding,
      maxImages,
      workgroupStorage: gpu.device.limits.maxComputeWorkgroupStorageSize,
      algorithm: opts.algorithm,
      cpuAdapter: gpu.report().isFallbackAdapter,
    });
    const perImage = Math.max(
      plan.spectrumBytesPerImage,
      plan.outputBytesPerImage,
    );
    const workBytes = Math.min(
      maxBinding,
      Math.max(opts.workBytes ?? 16 * 2 ** 20, perImage * plan.imagesPerChunk),
    );
    const rowShape = {
      plan: plan.fft,
      algorithm: plan.algorithm,
      transforms: plan.rowTransformsPerGroup,
      workgroupSize: plan.rowWorkgroupSize,
    };
    const colShape = {
      plan: plan.fft,
      algorithm: plan.algorithm,
      transforms: plan.colTransformsPerGroup,
      workgroupSize: plan.colWorkgroupSize,
    };
    const kernels = await Promise.all([
      FftRowsR2c.create(gpu.device, rowShape),
      FftCols.create(gpu.device, { ...colShape, inverseMasked: false }),
      FftCols.create(gpu.device, { ...colShape, inverseMasked: true }),
      FftRowsC2r.create(gpu.device, rowShape),
    ]) as [FftRowsR2c, FftCols, FftCols, FftRowsC2r];
    return new SpectralFilter(
      gpu,
      plan,
      maxImages,
      workBytes,
      maxBinding,
      kernels,
    );
  }

  /** Images currently loaded. */
  get count(): number {
    return this.#loaded;
  }

  #check(): void {
    if (this.#disposed) throw new Error("SpectralFilter used after dispose");
    if (this.#gpu.lost) {
      throw new UserError("Cannot use the GPU: the device was lost");
    }
  }

  /**
   * Upload `count` real images `[count, C, S, S]` and compute their half
   * spectra (kept on the GPU until the next `load`).
   */
  load(images: Float32Array, count: number): void {
    this.#check();
    if (this.#applying > 0) {
      throw new Error(
        "Cannot load images: an apply() is still running; await it first",
      );
    }
    const { size: S, channels: C, imagesPerChunk } = this.plan;
    const per = C * S * S;
    if (!Number.isInteger(count) || count < 1 || count > this.maxImages) {
      throw new UserError(
        `Cannot load ${count} images into the spectral filter: it holds 1 to ${this.maxImages}`,
      );
    }
    if (images.length < count * per) {
      throw new UserError(
        `Cannot load ${count} images of ${C}x${S}x${S}: got ${images.length} values, need ${
          count * per
        }`,
      );
    }
    const d = this.#device;
    this.#chunks = [];
    for (let first = 0; first < count; first += imagesPerChunk) {
      this.#chunks.push({
        first,
        count: Math.min(imagesPerChunk, count - first),
      });
    }
    while (this.#spectra.length < this.#chunks.length) {
      this.#spectra.push(createBuffer(d, {
        size: imagesPerChunk * this.plan.spectrumBytesPerImage,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
        label: `spectra chunk ${this.#spectra.length}`,
      }));
    }
    this.#chunks.forEach((chunk, i) => {
      d.queue.writeBuffer(
        this.#input,
        0,
        images.subarray(
          chunk.first * per,
          (chunk.first + chunk.count) * per,
        ) as Float32Array<
          ArrayBuffer
        >,
      );
      const rows = chunk.count * C * S;
      const enc = d.createCommandEncoder({ label: "spectral load" });
      this.#r2c.encode(enc, {
        twiddles: this.#twiddles,
        src: this.#input,
        dst: this.#work,
        rows,
      });
      this.#colsF.encode(enc, {
        twiddles: this.#twiddles,
        src: this.#work,
        dst: this.#spectra[i]!,
        planes: chunk.count * C,
        masks: 1,
      });
      d.queue.submit([enc.finish()]);
    });
    this.#loaded = count;
  }

  /**
   * Upload `count` masks `[count, S, S]` (reference fftshifted layout) as
   * half-spectrum gains. The returned set belongs to this filter; dispose it
   * when done (the filter's dispose does not).
   */
  uploadMasks(masks: Float32Array | Uint8Array, count: number): MaskSet {
    this.#check();
    const S = this.plan.size;
    if (!Number.isInteger(count) || count < 1) {
      throw new UserError(
        `Cannot upload ${count} masks: need a positive count`,
      );
    }
    if (masks.length < count * S * S) {
      throw new UserError(
        `Cannot upload ${count} masks of ${S}x${S}: got ${masks.length} values, need ${
          count * S * S
        }`,
      );
    }
    const strideBytes = this.#gainStride * 4;
    const perSegment = Math.max(1, Math.floor(this.#maxBinding / strideBytes));
    const segments: GainSegment[] = [];
    for (let first = 0; first < count; first += perSegment) {
      const n = Math.min(perSegment, count - first);
      const gains = maskToGain(
        masks.subarray(first * S * S, (first + n) * S * S),
        n,
        S,
        { stride: this.#gainStride, rowStride: this.plan.binStride },
      );
      segments.push({
        buffer: createBufferWithData(this.#device, gains, {
          usage: GPUBufferUsage.STORAGE,
          label: `mask gains ${first}..${first + n}`,
        }),
        first,
        count: n,
      });
    }
    return new GainSet(this, count, segments);
  }

  /**
   * Filter every loaded image with masks `first .. first+count-1` of `masks`.
   * Returns float32 `[count, B, C, S, S]`. Concurrent calls run one after
   * another; `load` must wait until they are done.
   */
  apply(masks: MaskSet, opts: ApplyOptions = {}): Promise<Float32Array> {
    this.#applying++;
    const run = this.#queue.then(() => this.#apply(masks, opts));
    this.#queue = run.catch(() => undefined);
    return run.finally(() => this.#applying--);
  }

  async #apply(masks: MaskSet, opts: ApplyOptions): Promise<Float32Array> {
    this.#check();
    if (!(masks instanceof GainSet) || masks.owner !== this) {
      throw new Error(
        "Cannot apply masks: the mask set was uploaded to another filter",
      );
    }
    if (masks.disposed) {
      throw new Error("Cannot apply masks: the mask set was disposed");
    }
    if (this.#loaded === 0) {
      throw new Error("Cannot apply masks: no images are loaded");
    }
    const first = opts.first ?? 0;
    const count = opts.count ?? masks.count - first;
    if (
      !Number.isInteger(first) || !Number.isInteger(count) || first < 0 ||
      count < 1 ||
      first + count > masks.count
    ) {
      throw new UserError(
        `Cannot apply masks ${first}..${
          first + count - 1
        }: the set has ${masks.count} masks`,
      );
    }
    const { size: S, channels: C, spectrumBytesPerImage, outputBytesPerImage } =
      this.plan;
    const chanData = new Float32Array(2 * C);
    for (let c = 0; c < C; c++) {
      chanData[2 * c] = opts.scale?.[c] ?? 1;
      chanData[2 * c + 1] = opts.offset?.[c] ?? 0;
    }
    const d = this.#device;
    const chan = createBufferWithData(d, chanData, {
      usage: GPUBufferUsage.STORAGE,
      label: "channel scale/offset",
    });
    const B = this.#loaded;
    const perImageOut = C * S * S;
    const result = new Float32Array(count * B * perImageOut);
    const strideBytes = this.#gainStride * 4;
    // Pipelined: group i+1 is submitted before group i is read back, into the
    // other of two staging buffers.
    interface Pending {
      staging: GPUBuffer;
      mapped: Promise<void>;
      bytes: number;
      chunk: ImageChunk;
      m: number;
      g: number;
    }
    let pending: Pending | null = null;
    let flip = 0;
    const drain = async (p: Pending) => {
      try {
        await p.mapped;
        const data = new Float32Array(p.staging.getMappedRange(0, p.bytes));
        const n = p.chunk.count * perImageOut;
        for (let k = 0; k < p.g; k++) {
          result.set(
            data.subarray(k * n, (k + 1) * n),
            ((p.m - first + k) * B + p.chunk.first) * perImageOut,
          );
        }
      } finally {
        if (p.staging.mapState !== "unmapped") p.staging.unmap();
      }
    };
    try {
      for (const [ci, chunk] of this.#chunks.entries()) {
        const planes = chunk.count * C;
        const rows = planes * S;
        const specBytes = chunk.count * spectrumBytesPerImage;
        const outPerMask = chunk.count * outputBytesPerImage;
        const perMask = Math.max(specBytes, outPerMask);
        const group = Math.max(1, Math.floor(this.#workBytes / perMask));
        for (let m = first; m < first + count;) {
          const seg = masks.segments.find((s) =>
            m >= s.first && m < s.first + s.count
          )!;
          const g = Math.min(
            group,
            first + count - m,
            seg.first + seg.count - m,
          );
          const enc = d.createCommandEncoder({ label: "spectral apply" });
          this.#colsI.encode(enc, {
            twiddles: this.#twiddles,
            src: { buffer: this.#spectra[ci]!, size: specBytes },
            dst: { buffer: this.#work, size: g * specBytes },
            gain: {
              buffer: seg.buffer,
              offset: (m - seg.first) * strideBytes,
              size: g * strideBytes,
            },
            planes,
            masks: g,
            gainStride: this.#gainStride,
          });
          const outBytes = g * outPerMask;
          this.#c2r.encode(enc, {
            twiddles: this.#twiddles,
            src: { buffer: this.#work, size: g * specBytes },
            dst: { buffer: this.#output, size: outBytes },
            channelMap: chan,
            rows,
            planeRows: S,
            channels: C,
            norm: 1 / (S * S),
            masks: g,
          });
          const staging = this.#staging[flip]!;
          flip = 1 - flip;
          enc.copyBufferToBuffer(this.#output, 0, staging, 0, outBytes);
          d.queue.submit([enc.finish()]);
          const next: Pending = {
            staging,
            mapped: staging.mapAsync(GPUMapMode.READ, 0, outBytes),
            bytes: outBytes,
            chunk,
            m,
            g,
          };
          const prev = pending;
          pending = next;
          if (prev) await drain(prev);
          m += g;
        }
      }
      if (pending) {
        const last: Pending = pending;
        pending = null;
        await drain(last);
      }
    } finally {
      if (pending) {
        const left: Pending = pending;
        await left.mapped.catch(() => undefined);
        if (left.staging.mapState !== "unmapped") left.staging.unmap();
      }
      chan.destroy();
    }
    return result;
  }

  /**
   * Read back the half spectra of the loaded images: float32 interleaved
   * complex `[B, C, S, floor(S/2)+1, 2]`, unshifted, unnormalised fft2.
   */
  async spectrum(): Promise<Float32Array> {
    this.#check();
    const { spectrumBytesPerImage, size: S, channels: C, bins, binStride } =
      this.plan;
    const out = new Float32Array(this.#loaded * C * S * bins * 2);
    const d = this.#device;
    for (const [ci, chunk] of this.#chunks.entries()) {
      const bytes = chunk.count * spectrumBytesPerImage;
      const staging = createBuffer(d, {
        size: bytes,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
        label: "spectrum readback",
      });
      try {
        const enc = d.createCommandEncoder({ label: "spectrum readback" });
        enc.copyBufferToBuffer(this.#spectra[ci]!, 0, staging, 0, bytes);
        d.queue.submit([enc.finish()]);
        await staging.mapAsync(GPUMapMode.READ);
        const data = new Float32Array(staging.getMappedRange());
        const rows = chunk.count * C * S;
        const first = chunk.first * C * S;
        for (let r = 0; r < rows; r++) {
          out.set(
            data.subarray(2 * r * binStride, 2 * (r * binStride + bins)),
            2 * (first + r) * bins,
          );
        }
      } finally {
        staging.destroy();
      }
    }
    return out;
  }

  /** Destroy every buffer this filter created (mask sets are disposed by their users). */
  [Symbol.dispose](): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const b of this.#spectra) b.destroy();
    this.#spectra = [];
    this.#input.destroy();
    this.#work.destroy();
    this.#output.destroy();
    for (const b of this.#staging) b.destroy();
    this.#twiddles.destroy();
    this.#r2c[Symbol.dispose]();
    this.#colsF[Symbol.dispose]();
    this.#colsI[Symbol.dispose]();
    this.#c2r[Symbol.dispose]();
  }
}
