/**
 * `hfss search` as a subprocess: kill -9 and resume gives byte-identical DFM
 * files; a changed configuration is refused; a finished stage is skipped.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { gpuAvailable } from "../gpu_helper.ts";
import {
  writeTinyDataset,
  writeTinyModel,
} from "../../src/testing/tiny_search.ts";
import { readStage } from "../../src/dfm/store.ts";
import { toSearchOptions } from "../../src/cli/search.ts";
import { hfss, hfssCommand } from "./_hfss.ts";

const kFiles = [
  "stage1/masks.npy",
  "stage1/losses.npy",
  "stage1/manifest.json",
  "stage2/masks.npy",
  "stage2/losses.npy",
  "stage2/manifest.json",
];

function args(
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
    "30",
    "--top",
    "3",
    "--stages",
    "1-2",
    "--batch-size",
    "4",
    "--normalize",
    "inception",
    "--loss",
    "reference",
    "--checkpoint-seconds",
    "0",
    "--out",
    out,
    ...extra,
  ];
}

async function readState(
  out: string,
): Promise<{ stage: number; evals: number; done: boolean } | null> {
  for (const stage of [2, 1]) {
    try {
      const s = JSON.parse(
        await Deno.readTextFile(
          join(out, `stage${stage}`, ".checkpoint", "state.json"),
        ),
      );
      return { stage, evals: s.stats.evaluations, done: s.done };
    } catch { /* not yet */ }
  }
  return null;
}

/** Start a run and SIGKILL it once `ready(state)` holds; returns whether the kill landed before the end. */
async function runAndKill(
  a: string[],
  out: string,
  ready: (s: { stage: number; evals: number; done: boolean }) => boolean,
): Promise<boolean> {
  const child = hfssCommand(a, "null").spawn();
  let finished = false;
  child.status.then(() => finished = true);
  for (;;) {
    await new Promise((r) => setTimeout(r, 15));
    if (finished) return false;
    const s = await readState(out);
    if (s && ready(s)) break;
  }
  child.kill("SIGKILL");
  const st = await child.status;
  return !st.success;
}

Deno.test("toSearchOptions() leaves the normalisation to the model unless a flag gives one", () => {
  const base = {
    model: "m.onnx",
    data: "d",
    layout: "auto",
    candidates: 30,
    proportion: 0.8,
    top: 3,
    split: 1,
    batchSize: 4,
    seed: 42,
    out: "o",
    symmetry: "exact",
    loss: "class-ce",
    lineage: "per-class",
    maskSpace: "normalized",
    resize: "squash",
    backend: "wasm",
    checkpointSeconds: 120,
  } as const;
  assert.equal(toSearchOptions(base).normalize, undefined);
  assert.equal(
    toSearchOptions({ ...base, normalize: "none" }).normalize,
    "none",
  );
  assert.deepEqual(toSearchOptions({ ...base, std: "0.5" }).normalize, {
    mean: [0, 0, 0],
    std: [0.5, 0.5, 0.5],
  });
});

Deno.test({
  name:
    "hfss search killed with SIGKILL and rerun writes byte-identical DFM files",
  ignore: !gpuAvailable,
  sanitizeResources: false,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "hfss_search_" });
    try {
      const model = join(tmp, "tiny.onnx"), data = join(tmp, "data");
      await writeTinyModel(model, { size: 32, classes: 3 });
      await writeTinyDataset(data, { size: 32, classes: 3, perClass: 6 });
      const full = join(tmp, "full"), killed = join(tmp, "killed");
      const r0 = await hfss(...args(model, data, full));
      assert.equal(r0.code, 0, r0.stderr);
      // --quiet: the same files, no progress lines.
      const quiet = join(tmp, "quiet");
      const rq = await hfss(...args(model, data, quiet, ["--quiet"]));
      assert.equal(rq.code, 0, rq.stderr);
      assert.match(r0.stderr, /eval \(100%\)/);
      assert.doesNotMatch(rq.stderr, /eval \(/);
      for (const f of kFiles) {
        assert.deepEqual(
          await Deno.readFile(join(quiet, f)),
          await Deno.readFile(join(full, f)),
          f,
        );
      }

      // Kill once mid stage 1, once mid stage 2, then finish.
      const k1 = await runAndKill(
        args(model, data, killed),
        killed,
        (s) => s.stage === 1 && s.evals > 0 && !s.done,
      );
      const mid1 = await readState(killed);
      const k2 = await runAndKill(
        args(model, data, killed),
        killed,
        (s) => s.stage === 2 && s.evals > 0 && !s.done,
      );
      const mid2 = await readState(killed);
      const r1 = await hfss(...args(model, data, killed));
      assert.equal(r1.code, 0, r1.stderr);
      assert.ok(k1 || k2, "no kill landed before the run finished");
      if (k1) {
        assert.ok(mid1 && mid1.stage === 1 && !mid1.done, JSON.stringify(mid1));
      }
      if (k2) {
        assert.ok(mid2 && mid2.stage === 2 && !mid2.done, JSON.stringify(mid2));
      }
      assert.match(r1.stderr, /resuming at/);
      const pictures = ["stage1", "stage2"].flatMap((st) =>
        [...Deno.readDirSync(join(full, st, "png"))].map((e) =>
          `${st}/png/${e.name}`
        )
      );
      assert.ok(pictures.some((f) => f.startsWith("stage2/png/class_")));
      for (const f of [...kFiles, ...pictures]) {
        const a = await Deno.readFile(join(full, f));
        const b = await Deno.readFile(join(killed, f));
        assert.deepEqual(b, a, `${f} differs after kill and resume`);
      }
      assert.match(r0.stdout, /normalization: inception \(source: flag\)/);
      // Valid DFMs: 3 classes, top 3, 32x32, losses finite and ascending per class.
      const st = await readStage(join(killed, "stage2"));
      assert.equal(st.manifest.classes.length, 3);
      for (let c = 0; c < 3; c++) {
        const l = [...st.losses.subarray(c * 3, c * 3 + 3)];
        assert.ok(
          l.every(Number.isFinite) && l[0]! <= l[1]! && l[1]! <= l[2]!,
          String(l),
        );
      }

      // Finished stages are skipped with the same command.
      const r2 = await hfss(...args(model, data, killed));
      assert.equal(r2.code, 0, r2.stderr);
      assert.match(r2.stdout, /stage 1: already finished/);
      assert.match(r2.stdout, /stage 2: already finished/);

      // A changed configuration is refused, naming the option, and --restart discards.
      const r3 = await hfss(
        ...args(model, data, killed, ["--proportion", "0.6"]),
      );
      assert.equal(r3.code, 1);
      assert.match(
        r3.stderr,
        /error: Cannot resume the search in ".*stage1": option --proportion was 0\.8, now 0\.6 \(rerun with --restart/,
      );
      const r4 = await hfss(
        ...args(model, data, killed, ["--lineage", "shared"]),
      );
      assert.equal(r4.code, 1);
      assert.match(
        r4.stderr,
        /stage2": option --lineage was per-class, now shared/,
      );
      const r5 = await hfss(...args(model, data, killed, [
        "--lineage",
        "shared",
        "--restart",
        "--json",
      ]));
      assert.equal(r5.code, 0, r5.stderr);
      const summary = JSON.parse(r5.stdout) as {
        stages: { stage: number; evaluations: number; skipped: boolean }[];
      };
      assert.deepEqual(
        summary.stages.map((s) => [s.stage, s.evaluations, s.skipped]),
        [[1, 30 * 18, false], [2, 30 * 18, false]],
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
