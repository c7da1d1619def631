/**
 * Pieces shared by the three FFT kernel wrappers: the core WGSL, override
 * constants from a plan, the twiddle table and per-device pipeline caching.
 */
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
    return `${registerCore}\n${body}\n${options.source}`;
  }
  const core = options.algorithm === "two-level" ? twoLevelCore : stockhamCore;
  return `${core}\n${options.source}`;
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
