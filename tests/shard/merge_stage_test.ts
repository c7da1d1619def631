/**
 * Sharded search end to end on a tiny planted problem: three shard
 * processes per stage, merged, byte-compared with the unsharded run; a shard
 * killed mid-way and rerun; merges refused for a missing and a mismatched
 * shard.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { gpuAvailable } from "../gpu_helper.ts";
import { hfss, hfssCommand } from "../cli/_hfss.ts";
import { runSearch, type SearchOptions } from "../../src/search/search.ts";
import { mergeStage } from "../../src/shard/merge_stage.ts";
import {
  writeTinyDataset,
  writeTinyModel,
} from "../../src/testing/tiny_search.ts";

const kCandidates = 12;

/** `hfss search` arguments of stage 1, shard i of n, with the shared settings. */
function shardArgs(
  model: string,
  data: string,
  out: string,
  shard: string,
  ...extra: string[]
): string[] {
  return [
    "search",
    "--model",
    model,
    "--data",
    data,
    "--out",
    out,
    "--stage",
    "1",
    "--shard",
    shard,
    "--candidates",
    String(kCandidates),
    "--top",
    "3",
    "--split",
    "1",
    "--batch-size",
    "8",
    ...extra,
  ];
}

function options(
  model: string,
  data: string,
  out: string,
  extra: Partial<SearchOptions> = {},
): SearchOptions {
  return {
    model,
    data,
    out,
    stages: [1],
    candidates: kCandidates,
    top: 3,
    split: 1,
    batchSize: 8,
    log: () => {},
    ...extra,
  };
}

/** `deno run main.ts <args>` as a child process, not awaited. */
function spawnHfss(args: string[]): Deno.ChildProcess {
  return hfssCommand(args, "null").spawn();
}

/** Every file of a stage folder (checkpoints and shards left out), relative. */
async function stageFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      if (e.name.startsWith(".") || e.name.startsWith("shard-")) continue;
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else out.push(relative(dir, p));
    }
  };
  await walk(dir);
  return out.sort();
}

async function assertSameStage(got: string, want: string): Promise<void> {
  const files = await stageFiles(want);
  assert.ok(files.includes("manifest.json") && files.includes("masks.npy"));
  assert.ok(files.some((f) => f.startsWith("png/")), files.join(","));
  assert.deepEqual(await stageFiles(got), files);
  for (const f of files) {
    assert.deepEqual(
      await Deno.readFile(join(got, f)),
      await Deno.readFile(join(want, f)),
      `${f} differs`,
    );
  }
}

async function setup(tmp: string) {
  const model = join(tmp, "model.onnx");
  const data = join(tmp, "data");
  await writeTinyModel(model, { size: 32, classes: 6 });
  // Uneven classes, so that shards and blocks do not line up by accident.
  await writeTinyDataset(data, { size: 32, classes: 6, perClass: 4 });
  await Deno.remove(join(data, "c1", "img3.png"));
  await Deno.remove(join(data, "c4", "img2.png"));
  return { model, data };
}

Deno.test({
  name:
    "mergeStage() of three shard processes per stage writes the unsharded stage files byte for byte, and the next stage starts from it",
  ignore: !gpuAvailable,
  sanitizeResources: false,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "hfss_shard_" });
    try {
      const { model, data } = await setup(tmp);
      const whole = join(tmp, "whole"), sharded = join(tmp, "sharded");
      await runSearch(options(model, data, whole, { stages: [1, 2] }));

      // Stage 1: three shard processes at once, then `hfss merge`.
      const runs = await Promise.all(
        [1, 2, 3].map((i) =>
          hfss(...shardArgs(model, data, sharded, `${i}/3`))
        ),
      );
      for (const r of runs) assert.equal(r.code, 0, r.stderr);
      const merged = await hfss("merge", "--stage", join(sharded, "stage1"));
      assert.equal(merged.code, 0, merged.stderr);
      await assertSameStage(join(sharded, "stage1"), join(whole, "stage1"));

      // Stage 2 (per-class lineage) from the merged stage 1, shards in process.
      for (const i of [3, 1, 2]) {
        await runSearch(
          options(model, data, sharded, {
            stages: [2],
            shard: { index: i, count: 3 },
          }),
        );
      }
      const s = await mergeStage(join(sharded, "stage2"));
      assert.equal(s.shards, 3);
      assert.equal(s.evaluations, kCandidates * 22);
      await assertSameStage(join(sharded, "stage2"), join(whole, "stage2"));

      // An unsharded run sees both merged stages as finished.
      const again = await runSearch(
        options(model, data, sharded, { stages: [1, 2] }),
      );
      assert.deepEqual(again.stages.map((x) => x.skipped), [true, true]);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "a shard killed mid-way resumes and merges to the same bytes; merge refuses a missing or mismatched shard and writes nothing",
  ignore: !gpuAvailable,
  sanitizeResources: false,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "hfss_shard_kill_" });
    try {
      const { model, data } = await setup(tmp);
      const whole = join(tmp, "whole"), sharded = join(tmp, "sharded");
      const stage = join(sharded, "stage1");
      const shard2 = join(stage, "shard-2-of-3");
      await runSearch(options(model, data, whole));

      // Kill shard 2 as soon as it has saved progress (checkpoints after
      // every model call with --checkpoint-seconds 0).
      const p = spawnHfss(
        shardArgs(model, data, sharded, "2/3", "--checkpoint-seconds", "0"),
      );
      const state = join(shard2, ".checkpoint", "state.json");
      let exited = false;
      const status = p.status.then(() => exited = true);
      while (
        !exited && !(await Deno.stat(state).then(() => true, () => false))
      ) {
        await new Promise((r) => setTimeout(r, 5));
      }
      if (!exited) p.kill("SIGKILL");
      await status;
      const saved = JSON.parse(await Deno.readTextFile(state));
      assert.equal(saved.done, false, "killed before the shard finished");
      await assert.rejects(Deno.stat(join(shard2, "partial.json")));

      for (const i of [1, 3]) {
        await runSearch(
          options(model, data, sharded, { shard: { index: i, count: 3 } }),
        );
      }
      // Shard 2 missing its result: refused, nothing written.
      await assert.rejects(
        mergeStage(stage),
        /Cannot merge ".*stage1": shard 2 of 3 is not finished/,
      );
      const rerun = await runSearch(
        options(model, data, sharded, { shard: { index: 2, count: 3 } }),
      );
      assert.equal(rerun.stages[0]!.resumed, true);
      // A shard folder removed: named in one line by the CLI, exit code 1.
      await Deno.rename(join(stage, "shard-3-of-3"), join(tmp, "away"));
      const missing = await hfss("merge", "--stage", stage);
      assert.equal(missing.code, 1);
      assert.match(
        missing.stderr,
        /^error: Cannot merge ".*stage1": shard 3 of 3 is missing \(no shard-3-of-3\/\)\n$/,
      );
      // A shard of another configuration (top-N) in its place.
      await runSearch(
        options(model, data, sharded, {
          shard: { index: 3, count: 3 },
          top: 4,
        }),
      );
      await assert.rejects(
        mergeStage(stage),
        /shard 3 of 3 has another configuration than shard 1 \(top: 4, shard 1: 3\)/,
      );
      await assert.rejects(Deno.stat(join(stage, "manifest.json")));
      await Deno.remove(join(stage, "shard-3-of-3"), { recursive: true });
      await Deno.rename(join(tmp, "away"), join(stage, "shard-3-of-3"));
      await mergeStage(stage);
      await assertSameStage(stage, join(whole, "stage1"));
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
