/**
 * One helper for GPU tests: `gpuAvailable` (an adapter exists) and
 * `withDevice(fn)`, which creates a GpuContext, runs `fn` inside a validation
 * error scope, and in `finally` pops the scope and destroys the device; a
 * validation error fails the test. On Linux with a Vulkan driver it selects
 * the Vulkan backend for the test process (see `preferVulkanBackend`).
 *
 * ```ts
 * Deno.test({ name: "x", ignore: !gpuAvailable, fn: () => withDevice(async (gpu) => { ... }) });
 * ```
 */
import { GpuContext } from "../src/gpu/context.ts";

/** Where the Vulkan loader looks for driver manifests (Linux). */
const kVulkanIcdDirs = [
  "/etc/vulkan/icd.d",
  "/usr/local/share/vulkan/icd.d",
  "/usr/share/vulkan/icd.d",
];

function haveVulkanDriver(): boolean {
  if (Deno.env.get("VK_DRIVER_FILES") || Deno.env.get("VK_ICD_FILENAMES")) {
    return true;
  }
  for (const dir of kVulkanIcdDirs) {
    try {
      for (const e of Deno.readDirSync(dir)) {
        if (e.name.endsWith(".json")) return true;
      }
    } catch {
      // absent or unreadable: try the next one
    }
  }
  return false;
}

/**
 * Select the Vulkan backend for the whole test process when a Vulkan driver
 * is installed and DENO_WEBGPU_BACKEND is unset. With the default backends
 * wgpu also probes OpenGL through libEGL (libglvnd), whose libGLdispatch keeps
 * per-thread state. `deno test` runs every module on a thread of its own; when
 * the last GPU module's thread exits while the main thread runs the process's
 * exit-time destructors, libGLdispatch frees that state twice and the process
 * aborts after the summary ("double free or corruption (fasttop)"). Without
 * the GL backend those libraries are never loaded. Deno reads the variable
 * when an isolate first creates its WebGPU instance, so this runs before the
 * probe below. Without --allow-env or --allow-read the default stays.
 */
function preferVulkanBackend(): void {
  try {
    if (Deno.build.os !== "linux") return;
    if (Deno.env.get("DENO_WEBGPU_BACKEND") !== undefined) return;
    if (haveVulkanDriver()) Deno.env.set("DENO_WEBGPU_BACKEND", "vulkan");
  } catch {
    // no permission: keep the default backends
  }
}

preferVulkanBackend();

async function probe(): Promise<boolean> {
  try {
    if (!("gpu" in navigator) || !navigator.gpu) return false;
    return (await navigator.gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

/** True when a WebGPU adapter exists (tests use `ignore: !gpuAvailable`). */
export const gpuAvailable: boolean = await probe();

/** Run `fn` with a fresh GpuContext under a validation error scope. */
export async function withDevice<T>(
  fn: (gpu: GpuContext) => Promise<T>,
): Promise<T> {
  const gpu = await GpuContext.create();
  gpu.device.pushErrorScope("validation");
  let popped = false;
  try {
    const value = await fn(gpu);
    popped = true;
    const error = await gpu.device.popErrorScope();
    if (error) throw new Error(`WebGPU validation error: ${error.message}`);
    return value;
  } finally {
    if (!popped) await gpu.device.popErrorScope().catch(() => null);
    gpu[Symbol.dispose]();
  }
}
