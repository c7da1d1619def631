/**
 * Fault injection, whole runs as a user starts them (`hfss search`, `hfss
 * eval` as child processes on a tiny planted model and dataset): a second
 * run on a folder in use is refused in one line; Ctrl-C says where the
 * progress is; kill -9 at several points resumes to byte-identical files; a
 * damaged finished stage is computed again.
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

function searchArgs(model: string, data: string, out: string): string[] {
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
  ];
}

function evalArgs(
  model: string,
  data: string,
  dfm: string,
  out: string,
): string[] {
  return [
    "eval",
    "--model",
    model,
    "--dfm",
    dfm,
    "--id",
    data,
    "--ood",
    data,
    "--fpr-negatives",
    "4",
    "--batch-size",
    "4",
    "--out",
    out,
  ];
}

type State = { done?: boolean; stats?: { evaluations?: number } };
const state = (out: string, k: number) =>
  readJson(join(out, `stage${k}`, ".checkpoint", "state.json")) as
    | State
    | undefined;
const midStage = (out: string, k: number) => () => {
  const s = state(out, k);
  return !!s && !s.done && (s.stats?.evaluations ?? 0) > 0;
};

async function sameFiles(a: string, b: string, must: string): Promise<void> {
  const files = listFiles(a);
  assert.deepEqual(listFiles(b), files);
  assert.ok(files.includes(must), files.join(", "));
  for (const f of files) {
    assert.deepEqual(
      await Deno.readFile(join(b, f)),
      await Deno.readFile(join(a, f)),
      `${f} differs`,
    );
  }
}

async function waitForLock(out: string): Promise<number | undefined> {
  for (let i = 0; i < 3000; i++) {
    const pid = readJson(join(out, ".hfss.lock"))?.pid;
    if (typeof pid === "number") return pid;
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}

Deno.test({
  name:
    "hfss search: a second run is refused while the first runs, Ctrl-C and kill -9 resume to byte-identical files, a damaged stage is recomputed",
  ignore: !gpuAvailable,
  sanitizeResources: false,
  async fn() {
    const fx = await tinyFixture();
    let cleanup = () => {};
    try {
      const ref = join(fx.dir, "ref");
      const out = join(fx.dir, "out");
      const r0 = await hfss(...searchArgs(fx.model, fx.data, ref));
      assert.equal(r0.code, 0, r0.stderr);
      assert.match(r0.stderr, /data: .* \(folders \(detected: 3 class folders/);

      // 1. a second run on the same folder: refused, naming the first
      const a = searchArgs(fx.model, fx.data, out);
      const first = spawn(a);
      const firstOut = first.output();
      // never leave the first run behind when an assertion fails
      cleanup = () => {
        try {
          first.kill("SIGKILL");
        } catch { /* ended */ }
      };
      assert.equal(await waitForLock(out), first.pid);
      const second = await hfss(...a);
      assert.equal(second.code, 1, second.stderr);
      assert.match(
        second.stderr,
        new RegExp(
          `^error: Cannot use output folder ".*out": it is in use by process ${first.pid} on this host \\(search, since [^)]*\\); wait for it to finish or choose another folder\\n$`,
        ),
      );
      // 2. Ctrl-C in stage 1 says where the progress is
      while (!midStage(out, 1)()) {
        await new Promise((r) => setTimeout(r, 10));
      }
      first.kill("SIGINT");
      const f = await firstOut;
      const fErr = new TextDecoder().decode(f.stderr);
      assert.equal(f.code, 130, fErr);
      assert.match(
        fErr,
        /error: Interrupted; progress is saved in ".*out"; rerun the same command to resume\n$/,
      );
      // 3. kill -9 once stage 1 is done, and in stage 2
      const landed = [
        await killWhen(a, () => !!state(out, 1)?.done),
        await killWhen(a, midStage(out, 2)),
      ];
      assert.ok(landed.some(Boolean), "no kill landed before the run ended");
      const r1 = await hfss(...a);
      assert.equal(r1.code, 0, r1.stderr);
      assert.match(r1.stderr, /resuming at|already finished/);
      await sameFiles(ref, out, "stage2/masks.npy");

      // 4. a truncated masks.npy is no finished stage: computed again
      const masks = join(out, "stage2", "masks.npy");
      const bytes = await Deno.readFile(masks);
      await Deno.writeFile(masks, bytes.subarray(0, bytes.length - 100));
      const r2 = await hfss(...a);
      assert.equal(r2.code, 0, r2.stderr);
      assert.match(r2.stderr, /note: stage 2 in ".*" is damaged/);
      assert.match(r2.stdout, /stage 1: already finished/);
      await sameFiles(ref, out, "stage2/masks.npy");
    } finally {
      cleanup();
      await Deno.remove(fx.dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "hfss eval killed with SIGKILL between classes resumes to byte-identical files",
  ignore: !gpuAvailable,
  sanitizeResources: false,
  async fn() {
    const fx = await tinyFixture({ perClass: 6 });
    try {
      const dfm = join(fx.dir, "dfm");
      const s = await hfss(
        ...searchArgs(fx.model, fx.data, dfm).map((v) => v === "1-2" ? "1" : v),
      );
      assert.equal(s.code, 0, s.stderr);
      const stage = join(dfm, "stage1");
      const ref = join(fx.dir, "ref");
      const out = join(fx.dir, "out");
      const r0 = await hfss(...evalArgs(fx.model, fx.data, stage, ref));
      assert.equal(r0.code, 0, r0.stderr);
      const lines = () => {
        try {
          return Deno.readTextFileSync(join(out, "classes.jsonl"))
            .split("\n").filter(Boolean).length;
        } catch {
          return 0;
        }
      };
      const landed = await killWhen(
        evalArgs(fx.model, fx.data, stage, out),
        () => lines() >= 1,
      );
      assert.ok(lines() < 3 || !landed);
      const r1 = await hfss(...evalArgs(fx.model, fx.data, stage, out));
      assert.equal(r1.code, 0, r1.stderr);
      if (landed) assert.match(r1.stderr, /took over/);
      await sameFiles(ref, out, "per_class.csv");
    } finally {
      await Deno.remove(fx.dir, { recursive: true });
    }
  },
});
