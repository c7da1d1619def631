/**
 * `hfss score` and `hfss search --race` as a user runs them: files and
 * summary of a score (and of a score shard), one-line errors for bad inputs,
 * racing flags.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { gpuAvailable } from "../gpu_helper.ts";
import {
  writeTinyDataset,
  writeTinyModel,
} from "../../src/testing/tiny_search.ts";
import { encodeNpy } from "../../src/dfm/npy.ts";
import { readStage } from "../../src/dfm/store.ts";
import { toSearchOptions } from "../../src/cli/search.ts";
import { hfss } from "./_hfss.ts";

Deno.test({
  name:
    "hfss score writes losses, accuracy, scores.csv and config.json and prints each class's best mask; --shard i/n scores its classes only",
  ignore: !gpuAvailable,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "hfss_cli_score_" });
    try {
      const model = join(tmp, "tiny.onnx");
      await writeTinyModel(model, { size: 32, classes: 3 });
      const data = join(tmp, "data");
      await writeTinyDataset(data, { size: 32, classes: 3, perClass: 3 });
      const masks = new Uint8Array(3 * 32 * 32);
      masks.fill(1, 0, 2 * 32 * 32);
      await Deno.writeFile(
        join(tmp, "m.npy"),
        encodeNpy(masks, "uint8", [3, 32, 32]),
      );
      const out = join(tmp, "out");
      const r = await hfss(
        "score",
        "--masks",
        join(tmp, "m.npy"),
        "--model",
        model,
        "--data",
        data,
        "--out",
        out,
        "--normalize",
        "inception",
        "--json",
      );
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.evaluations, 3 * 9);
      assert.equal(j.classes.length, 3);
      assert.ok("n_images" in j.classes[0]); // snake_case keys
      for (
        const f of [
          "losses.npy",
          "accuracy.npy",
          "scores.csv",
          "masks.csv",
          "config.json",
        ]
      ) {
        assert.ok((await Deno.stat(join(out, f))).isFile, f);
      }
      const config = JSON.parse(
        await Deno.readTextFile(join(out, "config.json")),
      );
      assert.equal(config.format, "hfss-score");
      assert.equal(config.masks.count, 3);
      const scoreArgs = (dir: string, shard: string) => [
        "score",
        "--masks",
        join(tmp, "m.npy"),
        "--model",
        model,
        "--data",
        data,
        "--out",
        dir,
        "--normalize",
        "inception",
        "--shard",
        shard,
        "--json",
      ];
      const sh = await hfss(...scoreArgs(join(tmp, "sharded"), "2/3"));
      assert.equal(sh.code, 0, sh.stderr);
      const sj = JSON.parse(sh.stdout);
      assert.equal(sj.evaluations, 3 * 3); // one class of three images
      assert.deepEqual(
        sj.classes.map((c: { class_id: number }) => c.class_id),
        [
          1,
        ],
      );
      assert.ok(
        (await Deno.stat(join(tmp, "sharded", "shard-2-of-3", "partial.json")))
          .isFile,
      );
      const over = await hfss(...scoreArgs(join(tmp, "sharded"), "4/3"));
      assert.equal(over.code, 2);
      assert.match(over.stderr, /--shard: expected 1 <= i <= n in i\/n/);
      const bad = await hfss(
        "score",
        "--masks",
        join(tmp, "missing.npy"),
        "--model",
        model,
        "--data",
        data,
        "--out",
        join(tmp, "out2"),
      );
      assert.equal(bad.code, 1);
      assert.match(
        bad.stderr.trim(),
        /^error: Cannot read masks ".*missing.npy": file not found$/,
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test("toSearchOptions() builds racing parameters from --race flags, defaults from --top", () => {
  const base = {
    model: "m.onnx",
    data: "d",
    layout: "auto" as const,
    candidates: 30,
    proportion: 0.8,
    top: 4,
    split: 1,
    batchSize: 8,
    seed: 1,
    out: "o",
    symmetry: "exact" as const,
    loss: "class-ce" as const,
    lineage: "per-class" as const,
    maskSpace: "normalized" as const,
    resize: "squash" as const,
    backend: "wasm" as const,
    checkpointSeconds: 120,
  };
  assert.equal(toSearchOptions(base).race, undefined);
  const r = toSearchOptions({ ...base, race: "gaussian", raceZ: 1.5 }).race!;
  assert.equal(r.rule, "gaussian");
  assert.equal(r.z, 1.5);
  assert.equal(r.minKeep, 8);
  assert.equal(r.slice, 8);
  assert.throws(
    () => toSearchOptions({ ...base, raceSlice: 4 }),
    /--race-slice: applies to racing only: give --race too/,
  );
});

Deno.test({
  name: "hfss search --race records the race and the evaluations spent",
  ignore: !gpuAvailable,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "hfss_cli_race_" });
    try {
      const model = join(tmp, "tiny.onnx");
      await writeTinyModel(model, { size: 32, classes: 3 });
      const data = join(tmp, "data");
      await writeTinyDataset(data, { size: 32, classes: 3, perClass: 8 });
      const out = join(tmp, "run");
      const r = await hfss(
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
        "2",
        "--normalize",
        "inception",
        "--race",
        "halving",
        "--race-slice",
        "2",
        "--out",
        out,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /stage 1: raced, \d+ of 720 evaluations/);
      const m = (await readStage(join(out, "stage1"))).manifest;
      assert.equal(m.race!.rule, "halving");
      assert.equal(m.race!.slice, 2);
      assert.equal(m.race!.min_keep, 4);
      assert.equal(m.evaluations_exhaustive, 720);
      assert.ok(
        Number.isInteger(m.evaluations_spent) &&
          m.evaluations_spent! < 720,
      );
      const bad = await hfss(
        "search",
        "--model",
        model,
        "--data",
        data,
        "--race",
        "fastest",
        "--out",
        out,
      );
      assert.equal(bad.code, 2);
      assert.match(
        bad.stderr,
        /--race: expected halving, gaussian, bernstein, none, got "fastest"/,
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
