/**
 * One helper for GPU tests: `gpuAvailable` (an adapter exists) and
 * `withDevice(fn)`, which creates a GpuContext, runs `fn` inside a validation
 * error scope, and in `finally` pops the scope and destroys the device; a
 * validation error fails the test.
 *
 * ```ts
 * Deno.test({ name: "x", ignore: !gpuAvailable, fn: () => withDevice(async (gpu) => { ... }) });
 * ```
 */
import { GpuContext } from "../src/gpu/context.ts";

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
