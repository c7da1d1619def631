/**
 * Pieces shared by the three FFT kernel wrappers: the core WGSL, override
 * constants from a plan, the twiddle table, per-device pipeline caching, the
 * per-wrapper cache of small uniform buffers and the wrappers' base class.
 */
import codelets from "../../../shaders/fft_codelets.wgsl" with {
  type: "text",
};
import stockhamCore from "../../../shaders/fft_core.wgsl" with { type: "text" };
import twoLevelCore from "../../../shaders/fft2l_core.wgsl" with {
  type: "text",
};
import registerCore from "../../../shaders/fftr_core.wgsl" with {
  type: "text",
};
import { type CodeletOptions, registerFftSource } from "./_fft_codelet.ts";
import type { FftAlgorithm, FftPlan } from "../../fft/plan.ts";
import { createBufferWithData, withValidation } from "../buffers.ts";

/** Shape of one FFT kernel instance: code-affecting values only. */
export interface FftKernelShape {
  plan: FftPlan;
  /** Kernel family: the core WGSL that is prepended. */
  algorithm: FftAlgorithm;
  /** Transforms per workgroup. */
  transforms: number;
  /** Invocations per workgroup. */
  workgroupSize: number;
}

/** Override constants of `fft_core.wgsl` for a shape. */
export function coreConstants(shape: FftKernelShape): Record<string, number> {
  if (shape.algorithm === "registers") {
    if (shape.transforms !== shape.workgroupSize) {
      throw new Error(
        `Cannot shape a register FFT kernel: workgroup size ${shape.workgroupSize} is not ${shape.transforms}`,
      );
    }
    return { WG: shape.workgroupSize };
  }
  if (shape.algorithm === "two-level") {
    if (shape.workgroupSize !== 32 * shape.transforms) {
      throw new Error(
        `Cannot shape a two-level FFT kernel: workgroup size ${shape.workgroupSize} is not 32 * ${shape.transforms}`,
      );
    }
    return { N1: shape.plan.n / 32, T: shape.transforms };
  }
  const constants: Record<string, number> = {
    N: shape.plan.n,
    T: shape.transforms,
    WG: shape.workgroupSize,
  };
  let stages = 0;
  shape.plan.radices.forEach((r, i) => {
    if (r > 1) {
      constants[`R${i}`] = r;
      stages++;
    }
  });
  constants.STAGES_ODD = stages % 2;
  return constants;
}

/** Twiddles exp(-2 pi i k / n), k < n, as interleaved float32 (computed in float64). */
export function twiddles(n: number): Float32Array {
  const out = new Float32Array(2 * n);
  for (let k = 0; k < n; k++) {
    const a = (-2 * Math.PI * k) / n;
    out[2 * k] = Math.cos(a);
    out[2 * k + 1] = Math.sin(a);
  }
  return out;
}

/** Upload the twiddle table for length n; the caller owns the buffer. */
export function createTwiddleBuffer(device: GPUDevice, n: number): GPUBuffer {
  return createBufferWithData(device, twiddles(n), {
    usage: GPUBufferUsage.STORAGE,
    label: `fft twiddles n=${n}`,
  });
}

/** A compiled kernel: pipeline and its explicit bind group layout. */
export interface CompiledKernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

function kernelCode(options: CompileKernelOptions): string {
  if (options.algorithm === "registers") {
    if (!options.codelet) {
      throw new Error(`Cannot build ${options.name}: no codelet given`);
    }
    const body = registerFftSource(options.codelet.n, options.codelet);
    return `${codelets}\n${registerCore}\n${body}\n${options.source}`;
  }
  const core = options.algorithm === "two-level" ? twoLevelCore : stockhamCore;
  return `${codelets}\n${core}\n${options.source}`;
}

const kCache = new WeakMap<GPUDevice, Map<string, CompiledKernel>>();

/** Storage binding kinds of a kernel's bindings 1.. (binding 0 is the twiddles). */
export type BindingKind = "uniform" | "read-only-storage" | "storage";

/** Options of {@link compileKernel}. */
export interface CompileKernelOptions {
  name: string;
  algorithm: FftAlgorithm;
  /** Kernel WGSL, appended to the core of `algorithm`. */
  source: string;
  /** FFT length and output mode of the generated body ("registers" only). */
  codelet?: CodeletOptions & { n: number };
  bindings: BindingKind[];
  constants: Record<string, number>;
}

/**
 * Compile (or fetch from the per-device cache) a kernel made of the core WGSL
 * plus `source`. Pipeline creation runs in a validation error scope.
 */
export async function compileKernel(
  device: GPUDevice,
  options: CompileKernelOptions,
): Promise<CompiledKernel> {
  let cache = kCache.get(device);
  if (!cache) {
    cache = new Map();
    kCache.set(device, cache);
  }
  const key = `${options.name}|${options.algorithm}|${
    JSON.stringify(options.constants)
  }|${JSON.stringify(options.codelet ?? null)}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const compiled = await withValidation(
    device,
    `create the ${options.name} pipeline`,
    () => {
      const module = device.createShaderModule({
        label: options.name,
        code: kernelCode(options),
      });
      const entries: GPUBindGroupLayoutEntry[] = [
        {
          binding: 0,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: "read-only-storage" },
        },
        ...options.bindings.map((type, i) => ({
          binding: i + 1,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type },
        })),
      ];
      const layout = device.createBindGroupLayout({
        label: options.name,
        entries,
      });
      const pipeline = device.createComputePipeline({
        label: options.name,
        layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: "main", constants: options.constants },
      });
      return { pipeline, layout };
    },
  );
  cache.set(key, compiled);
  return compiled;
}

/** A buffer binding: whole buffer or a range. */
export interface BufferRange {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}

/** Normalise a buffer or a range to a bind-group resource. */
export function resource(b: GPUBuffer | BufferRange): GPUBufferBinding {
  if ("buffer" in b && !(b instanceof GPUBuffer)) {
    return { buffer: b.buffer, offset: b.offset ?? 0, size: b.size };
  }
  return { buffer: b as GPUBuffer };
}

/**
 * Small uniform buffers of one kernel wrapper, one per distinct parameter
 * set, created on first use and destroyed with the cache.
 */
export class UniformCache {
  #device: GPUDevice;
  #label: string;
  #buffers = new Map<string, GPUBuffer>();

  constructor(device: GPUDevice, label: string) {
    this.#device = device;
    this.#label = label;
  }

  /** The buffer holding `data()` for `key`, uploaded the first time. */
  get(key: string, data: () => ArrayBufferView): GPUBuffer {
    let buffer = this.#buffers.get(key);
    if (!buffer) {
      buffer = createBufferWithData(this.#device, data(), {
        usage: GPUBufferUsage.UNIFORM,
        label: `${this.#label} params`,
      });
      this.#buffers.set(key, buffer);
    }
    return buffer;
  }

  /** Destroy every buffer this cache created. */
  [Symbol.dispose](): void {
    for (const b of this.#buffers.values()) b.destroy();
    this.#buffers.clear();
  }
}

/**
 * Base of the FFT kernel wrappers: the compiled pipeline of one shape, the
 * uniform buffers the wrapper creates, and the one-pass dispatch they share.
 * Every kernel binds the twiddles at 0 and its parameters at 1.
 */
export abstract class FftKernel<S extends FftKernelShape> {
  readonly shape: S;
  /** Uniform parameter buffers, destroyed with the wrapper. */
  protected readonly params: UniformCache;
  #device: GPUDevice;
  #kernel: CompiledKernel;
  #label: string;

  protected constructor(
    device: GPUDevice,
    shape: S,
    kernel: CompiledKernel,
    label: string,
  ) {
    this.#device = device;
    this.shape = shape;
    this.#kernel = kernel;
    this.#label = label;
    this.params = new UniformCache(device, label);
  }

  /** Encode one compute pass; `buffers` are bound from binding 2 on. */
  protected dispatch(
    encoder: GPUCommandEncoder,
    twiddles: GPUBuffer,
    params: GPUBuffer,
    buffers: (GPUBuffer | BufferRange)[],
    groups: [number, number, number],
  ): void {
    const bindGroup = this.#device.createBindGroup({
      layout: this.#kernel.layout,
      entries: [
        { binding: 0, resource: { buffer: twiddles } },
        { binding: 1, resource: { buffer: params } },
        ...buffers.map((b, i) => ({ binding: i + 2, resource: resource(b) })),
      ],
    });
    const pass = encoder.beginComputePass({ label: this.#label });
    pass.setPipeline(this.#kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(...groups);
    pass.end();
  }

  /** Destroy the uniform buffers this wrapper created. */
  [Symbol.dispose](): void {
    this.params[Symbol.dispose]();
  }
}
