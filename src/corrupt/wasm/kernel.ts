/**
 * What the WebAssembly kernel wrappers share: the module instantiated from
 * its committed bytes on first use (one instance per isolate, so each worker
 * has its own; compiled synchronously: the modules are a few kB), regions
 * aligned for v128 loads, and the memory grown to fit a layout.
 */

/** The exports every kernel module has. */
export interface KernelExports {
  memory: WebAssembly.Memory;
}

/** A getter of the module's exports, instantiating it on the first call. */
export function lazyKernel<E extends KernelExports>(base64: string): () => E {
  let exports: E | undefined;
  return () => {
    if (exports) return exports;
    const bin = atob(base64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const module = new WebAssembly.Module(bytes);
    exports = new WebAssembly.Instance(module).exports as unknown as E;
    return exports;
  };
}

/** `n` rounded up to a multiple of 16 bytes (a v128). */
export function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}

/** Grow `memory` to at least `bytes` (never shrinks; views made before a growth are detached). */
export function ensureMemory(memory: WebAssembly.Memory, bytes: number): void {
  const have = memory.buffer.byteLength;
  if (have < bytes) memory.grow(Math.ceil((bytes - have) / 65536));
}
