/**
 * GPU timing. `GpuTimer` uses `timestamp-query` when the device has it and
 * degrades to a no-op otherwise (its `read()` then returns null); negative
 * deltas, which the spec allows, are dropped. `wallTime` measures wall-clock
 * time of a submitted piece of work up to `onSubmittedWorkDone()`, the fallback.
 */

/** Wall-clock milliseconds of `fn` (which submits work) until the queue drains. */
export async function wallTime(
  device: GPUDevice,
  fn: () => void | Promise<void>,
): Promise<number> {
  const t0 = performance.now();
  await fn();
  await device.queue.onSubmittedWorkDone();
  return performance.now() - t0;
}

/** Pairs of timestamps around compute passes; a no-op without `timestamp-query`. */
export class GpuTimer {
  readonly enabled: boolean;
  #device: GPUDevice;
  #querySet: GPUQuerySet | null = null;
  #resolve: GPUBuffer | null = null;
  #labels: string[] = [];
  #capacity: number;

  /** `capacity`: most timed passes between `read()` calls. */
  constructor(device: GPUDevice, capacity = 16) {
    this.#device = device;
    this.#capacity = capacity;
    this.enabled = device.features.has("timestamp-query");
    if (this.enabled) {
      this.#querySet = device.createQuerySet({
        type: "timestamp",
        count: 2 * capacity,
      });
      this.#resolve = device.createBuffer({
        size: 16 * capacity,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
    }
  }

  /** Timestamp writes for the next pass (undefined when disabled or full). */
  timestampWrites(label: string): GPUComputePassTimestampWrites | undefined {
    if (!this.#querySet || this.#labels.length >= this.#capacity) {
      return undefined;
    }
    const i = this.#labels.length;
    this.#labels.push(label);
    return {
      querySet: this.#querySet,
      beginningOfPassWriteIndex: 2 * i,
      endOfPassWriteIndex: 2 * i + 1,
    };
  }

  /** Resolve the queries into this timer's buffer (encode after the passes). */
  resolve(encoder: GPUCommandEncoder): void {
    if (!this.#querySet || !this.#resolve || this.#labels.length === 0) return;
    encoder.resolveQuerySet(
      this.#querySet,
      0,
      2 * this.#labels.length,
      this.#resolve,
      0,
    );
  }

  /** Milliseconds per label (summed when repeated), or null when disabled. Resets the timer. */
  async read(): Promise<Record<string, number> | null> {
    if (!this.#resolve || this.#labels.length === 0) return null;
    const n = this.#labels.length;
    const staging = this.#device.createBuffer({
      size: 16 * n,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      const enc = this.#device.createCommandEncoder();
      enc.copyBufferToBuffer(this.#resolve, 0, staging, 0, 16 * n);
      this.#device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const t = new BigInt64Array(staging.getMappedRange().slice(0));
      const out: Record<string, number> = {};
      this.#labels.forEach((label, i) => {
        const d = Number(t[2 * i + 1]! - t[2 * i]!) / 1e6;
        if (d >= 0) out[label] = (out[label] ?? 0) + d;
      });
      return out;
    } finally {
      staging.destroy();
      this.#labels = [];
    }
  }

  /** Destroy the query set and buffer. */
  [Symbol.dispose](): void {
    this.#querySet?.destroy();
    this.#resolve?.destroy();
    this.#querySet = null;
    this.#resolve = null;
  }
}
