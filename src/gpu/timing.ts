/**
 * GPU timing: wall-clock time of a submitted piece of work up to
 * `onSubmittedWorkDone()`, which needs no optional device feature.
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
