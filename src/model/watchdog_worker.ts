/**
 * Worker body for `watchdog.ts`. It runs on its own thread, so it still runs
 * when the main thread is stuck inside a synchronous call (a deadlocked wasm
 * model run stops the main thread's timers). When an armed call outlives its
 * time, it prints one error line and ends the process.
 *
 * Messages in: `{ type: "arm", id, what, timeoutMs }`, `{ type: "disarm", id }`.
 */
import { parentPort } from "node:worker_threads";

interface Arm {
  type: "arm";
  id: number;
  what: string;
  timeoutMs: number;
}
interface Disarm {
  type: "disarm";
  id: number;
}

let timer: ReturnType<typeof setTimeout> | undefined;
let armed = -1;

function fire(msg: Arm): void {
  const s = Math.round(msg.timeoutMs / 1000);
  const line =
    `error: Model call stalled: ${msg.what} has not returned after ${s} s; stopped (onnxruntime-web's threaded wasm can deadlock: rerun to resume, or run with 1 thread)\n`;
  try {
    Deno.stderr.writeSync(new TextEncoder().encode(line));
  } catch { /* stderr closed: still stop */ }
  try {
    Deno.kill(Deno.pid, "SIGTERM");
  } catch { /* fall through to SIGKILL */ }
  // a SIGTERM listener on the stuck main thread never runs
  setTimeout(() => Deno.kill(Deno.pid, "SIGKILL"), 3000);
}

parentPort!.on("message", (msg: Arm | Disarm) => {
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
  if (msg.type === "arm") {
    armed = msg.id;
    timer = setTimeout(() => {
      if (armed === msg.id) fire(msg);
    }, msg.timeoutMs);
  } else if (msg.id === armed) {
    armed = -1;
  }
});
