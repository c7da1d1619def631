/**
 * GpuContext: the one place that calls `navigator.gpu`. It requests an
 * adapter (fallback adapters such as lavapipe are accepted), a device with the
 * adapter's limits and the optional features it supports, and destroys the
 * device on dispose.
 */
import { UserError } from "../errors.ts";

/** What `hfss info` and benchmark JSON record about the adapter. */
export interface AdapterReport {
  description: string;
  vendor: string;
  architecture: string;
  device: string;
  backend: string;
  isFallbackAdapter: boolean;
  features: string[];
  limits: Record<string, number>;
}

const kOptionalFeatures: GPUFeatureName[] = ["timestamp-query", "shader-f16"];

const kReportedLimits = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
] as const;

/**
 * Give Mesa a private `XDG_RUNTIME_DIR` when none is set: without one it
 * prints "error: XDG_RUNTIME_DIR is invalid or not set in the environment."
 * on stderr when the adapter is requested, which reads like an hfss error.
 * The folder is `<tmp>/hfss-runtime-<uid>`, mode 0700 and owned by the user;
 * when it cannot be made so (no permission, someone else's folder), the
 * variable stays unset and Mesa's warning is left as it is.
 */
export function ensureRuntimeDir(): void {
  try {
    if (Deno.env.get("XDG_RUNTIME_DIR")) return;
    const uid = Deno.uid();
    if (uid === null) return; // not a POSIX system: Mesa does not look.
    const tmp = (Deno.env.get("TMPDIR") || "/tmp").replace(/\/+$/, "");
    const dir = `${tmp}/hfss-runtime-${uid}`;
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = Deno.lstatSync(dir);
    if (!st.isDirectory || st.uid !== uid || ((st.mode ?? 0) & 0o077) !== 0) {
      return;
    }
    Deno.env.set("XDG_RUNTIME_DIR", dir);
  } catch {
    // Without env/sys/write permission the warning stays; nothing else changes.
  }
}

/** Owns a GPUDevice. */
export class GpuContext {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  readonly features: ReadonlySet<string>;
  #disposed = false;
  #lost = false;

  private constructor(adapter: GPUAdapter, device: GPUDevice) {
    this.adapter = adapter;
    this.device = device;
    this.features = new Set(device.features as unknown as Iterable<string>);
    device.lost.then((info) => {
      this.#lost = true;
      if (info.reason !== "destroyed") {
        console.error(`error: GPU device lost: ${info.message}`);
      }
    });
  }

  /** Request an adapter and device; throws a UserError naming what to install when none exists. */
  static async create(): Promise<GpuContext> {
    if (!("gpu" in navigator) || !navigator.gpu) {
      throw new UserError(
        "Cannot use WebGPU: run Deno with --unstable-webgpu (deno task hfss does)",
      );
    }
    ensureRuntimeDir();
    const adapter = await navigator.gpu.requestAdapter({
      powerPreference: "high-performance",
    });
    if (!adapter) {
      throw new UserError(
        "Cannot find a WebGPU adapter: install a GPU driver, or the software Vulkan driver " +
          "(Debian/Ubuntu: apt-get install mesa-vulkan-drivers libvulkan1)",
      );
    }
    const requiredFeatures = kOptionalFeatures.filter((f) =>
      adapter.features.has(f)
    );
    const requiredLimits: Record<string, number> = {};
    for (const name of kReportedLimits) {
      requiredLimits[name] = adapter.limits[name];
    }
    const device = await adapter.requestDevice({
      requiredFeatures,
      requiredLimits,
    });
    return new GpuContext(adapter, device);
  }

  /** Whether the device was lost (a lost device cannot be reused). */
  get lost(): boolean {
    return this.#lost;
  }

  /** The largest storage binding, the bound for chunking batches. */
  get maxBinding(): number {
    return this.device.limits.maxStorageBufferBindingSize;
  }

  /** A JSON-friendly description of the adapter, for `info` and benchmarks. */
  report(): AdapterReport {
    const info = this.adapter.info;
    const limits: Record<string, number> = {};
    for (const name of kReportedLimits) limits[name] = this.device.limits[name];
    return {
      description: info.description || "(unnamed adapter)",
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      backend: Deno.env.get("DENO_WEBGPU_BACKEND") ??
        "default (vulkan, else gl)",
      isFallbackAdapter: Boolean(
        (info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter,
      ),
      features: [...this.features].sort(),
      limits,
    };
  }

  /** Destroy the device (once). */
  [Symbol.dispose](): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.device.destroy();
  }
}
