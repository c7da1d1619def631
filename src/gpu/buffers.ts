/**
 * Buffer helpers: alignment constants, creation with upload, and readback
 * through a staging buffer that is destroyed in `finally`. Whoever calls a
 * `create*` helper owns the returned buffer and destroys it.
 */

/** Storage-buffer binding offsets must be multiples of this (WebGPU `minStorageBufferOffsetAlignment` default). */
export const kStorageOffsetAlignment = 256;

/** `copyBufferToBuffer` sizes and offsets must be multiples of 4 bytes. */
export const kCopyAlignment = 4;

/** Round `n` up to a multiple of `alignment`. */
export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

/** Options of {@link createBuffer}. */
export interface CreateBufferOptions {
  size: number;
  usage: GPUBufferUsageFlags;
  label?: string;
}

/** Create a buffer (size rounded up to 4 bytes, at least 4). */
export function createBuffer(
  device: GPUDevice,
  options: CreateBufferOptions,
): GPUBuffer {
  return device.createBuffer({
    label: options.label,
    size: Math.max(kCopyAlignment, alignUp(options.size, kCopyAlignment)),
    usage: options.usage,
  });
}

/** Options of {@link createBufferWithData}. */
export interface CreateBufferWithDataOptions {
  usage: GPUBufferUsageFlags;
  label?: string;
}

/**
 * Create a buffer holding `data` (written through `mappedAtCreation`).
 *
 * @example
 * ```ts
 * const buf = createBufferWithData(device, new Float32Array([1, 2]), { usage: GPUBufferUsage.STORAGE });
 * buf.destroy();
 * ```
 */
export function createBufferWithData(
  device: GPUDevice,
  data: ArrayBufferView,
  options: CreateBufferWithDataOptions,
): GPUBuffer {
  const size = Math.max(
    kCopyAlignment,
    alignUp(data.byteLength, kCopyAlignment),
  );
  const buffer = device.createBuffer({
    label: options.label,
    size,
    usage: options.usage,
    mappedAtCreation: true,
  });
  new Uint8Array(buffer.getMappedRange()).set(
    new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  );
  buffer.unmap();
  return buffer;
}

/** Options of {@link readBuffer}. */
export interface ReadBufferOptions {
  offset?: number;
  size?: number;
}

/**
 * Copy `size` bytes of `src` (which needs COPY_SRC usage) back to the CPU.
 * The staging buffer is destroyed in `finally`; the returned ArrayBuffer is a
 * copy that outlives it.
 */
export async function readBuffer(
  device: GPUDevice,
  src: GPUBuffer,
  options: ReadBufferOptions = {},
): Promise<ArrayBuffer> {
  const offset = options.offset ?? 0;
  const size = options.size ?? src.size - offset;
  const staging = device.createBuffer({
    label: "readback staging",
    size: alignUp(size, kCopyAlignment),
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    const encoder = device.createCommandEncoder({ label: "readback" });
    encoder.copyBufferToBuffer(src, offset, staging, 0, staging.size);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    return staging.getMappedRange(0, size).slice(0);
  } finally {
    staging.destroy();
  }
}

/**
 * Run `create` inside a validation error scope and throw an Error naming
 * `step` if the device reports one.
 */
export async function withValidation<T>(
  device: GPUDevice,
  step: string,
  create: () => T,
): Promise<T> {
  device.pushErrorScope("validation");
  let value: T;
  try {
    value = create();
  } catch (err) {
    await device.popErrorScope();
    throw err;
  }
  const error = await device.popErrorScope();
  if (error) throw new Error(`Cannot ${step}: ${error.message}`);
  return value;
}
