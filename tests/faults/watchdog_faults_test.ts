/**
 * Fault injection, stalled model calls: a call that blocks the main thread
 * (onnxruntime-web's threaded wasm deadlock stops its timers) ends the
 * process with one error line instead of hanging; a call that returns in
 * time is unaffected and the process exits normally.
 */
import assert from "node:assert/strict";

async function child(blockMs: number, timeoutS: string) {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./_stall.ts", import.meta.url).pathname,
      String(blockMs),
    ],
    env: { HFSS_MODEL_TIMEOUT: timeoutS, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    seconds: (performance.now() - t0) / 1000,
  };
}

Deno.test("watched() turns a call that blocks the main thread into one error line and a nonzero exit", async () => {
  const r = await child(60_000, "1");
  assert.notEqual(r.code, 0);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0]!,
    /^error: Model call stalled: model "stuck\.onnx" has not returned after 1 s; stopped/,
  );
  assert.ok(r.seconds < 30, `took ${r.seconds} s`); // not the 60 s block
});

Deno.test("watched() lets a call that returns in time finish, and does not keep the process alive", async () => {
  const r = await child(200, "20");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "returned");
  assert.ok(r.seconds < 15, `took ${r.seconds} s`);
});
