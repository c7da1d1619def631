/**
 * Child process for the watchdog fault test: a guarded call that blocks the
 * main thread synchronously (as a deadlocked wasm model run does) for
 * `Deno.args[0]` ms; prints "returned" if it ever comes back.
 */
import { watched } from "../../src/model/watchdog.ts";

const ms = Number(Deno.args[0] ?? 10_000);
await watched(`model "stuck.onnx"`, () => {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) { /* blocked: no timer of this thread runs */ }
  return Promise.resolve();
});
console.log("returned");
