/**
 * A watchdog for model calls. onnxruntime-web 1.30's threaded wasm can
 * hang inside `session.run()` under Deno (see `createFgsm()` in
 * src/eval/fgsm.ts): a thread of its wasm thread pool dies with
 * `RuntimeError: memory access out of bounds` (its worker's
 * `uncaughtException` handler exits it), while the main thread spins inside
 * wasm waiting for that thread, its timers stopped; a run would hang forever.
 * Any session with more than one thread can be hit; the shape probe of the
 * FGSM gradient build hit it in 6 of 8 fresh processes. A separate thread (`watchdog_worker.ts`) times every
 * guarded call and, when one outlives its limit, prints one error line and
 * ends the process; progress already checkpointed is kept, so a rerun resumes.
 *
 * The limit is generous so that slow hardware is never mistaken for a
 * deadlock: the larger of 5 minutes and 50 times the slowest call seen so far
 * in this process. `HFSS_MODEL_TIMEOUT` (seconds) overrides it; 0 disables
 * the watchdog.
 */
import { Worker } from "node:worker_threads";

const kFloorMs = 5 * 60_000;
const kSlowFactor = 50;

let worker: Worker | undefined;
let nextId = 0;
let slowestMs = 0;

function configuredMs(): number | undefined {
  let raw: string | undefined;
  try {
    raw = Deno.env.get("HFSS_MODEL_TIMEOUT");
  } catch {
    return undefined; // no env permission: defaults
  }
  if (raw === undefined || raw.trim() === "") return undefined;
  const s = Number(raw);
  return Number.isFinite(s) && s >= 0 ? s * 1000 : undefined;
}

/** The limit the next guarded call gets, in ms (0 = not watched). */
export function watchdogLimitMs(): number {
  return configuredMs() ?? Math.max(kFloorMs, kSlowFactor * slowestMs);
}

function ensureWorker(): Worker {
  if (!worker) {
    worker = new Worker(new URL("./watchdog_worker.ts", import.meta.url));
    worker.unref(); // never keeps the process alive
  }
  return worker;
}

/**
 * Run `call` under the watchdog. `what` names it in the error line
 * (`model "m.onnx"`).
 *
 * @example
 * ```ts
 * const out = await watched(`model "${path}"`, () => session.run(feeds));
 * ```
 */
export async function watched<T>(
  what: string,
  call: () => Promise<T>,
): Promise<T> {
  const limit = watchdogLimitMs();
  if (limit <= 0) return await call();
  const w = ensureWorker();
  const id = nextId++;
  w.postMessage({ type: "arm", id, what, timeoutMs: limit });
  const t0 = performance.now();
  try {
    return await call();
  } finally {
    slowestMs = Math.max(slowestMs, performance.now() - t0);
    w.postMessage({ type: "disarm", id });
  }
}
