/**
 * Sharded score on a tiny planted problem: three shards merged give the
 * unsharded score's files byte for byte; a finished shard is reused; the
 * merge refuses a missing shard and writes nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { gpuAvailable } from "../gpu_helper.ts";
import { hfss } from "../cli/_hfss.ts";
import { runScore, type ScoreOptions } from "../../src/score/score.ts";
import { mergeScore } from "../../src/shard/score.ts";
import { encodeNpy } from "../../src/dfm/npy.ts";
import {
  writeTinyDataset,
  writeTinyModel,
} from "../../src/testing/tiny_search.ts";

Deno.test({
  name:
    "mergeScore() joins three score shards into the unsharded score's files byte for byte and refuses a missing shard",
  ignore: !gpuAvailable,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "hfss_shard_score_" });
    try {
      const model = join(tmp, "tiny.onnx");
      await writeTinyModel(model, { size: 32, classes: 4 });
      const data = join(tmp, "data");
      await writeTinyDataset(data, { size: 32, classes: 4, perClass: 4 });
      // Unequal classes (2, 4, 4, 4 images): the split balances image counts.
      await Deno.remove(join(data, "c0", "img0.png"));
      await Deno.remove(join(data, "c0", "img1.png"));
      // Five masks: low-pass discs of growing radius (in the FFT's layout).
      const n = 5, s = 32;
      const masks = new Uint8Array(n * s * s);
      for (let m = 0; m < n; m++) {
        for (let y = 0; y < s; y++) {
          for (let x = 0; x < s; x++) {
            const fy = Math.min(y, s - y), fx = Math.min(x, s - x);
            if (fy * fy + fx * fx <= (2 + 3 * m) ** 2) {
              masks[(m * s + y) * s + x] = 1;
            }
          }
        }
      }
      const npy = join(tmp, "masks.npy");
      await Deno.writeFile(npy, encodeNpy(masks, "uint8", [n, s, s]));
      // The reference loss with batches of 3 mixes classes within a batch,
      // so a shard's per-image weights come from the whole subset.
      const base = (out: string): ScoreOptions => ({
        masks: npy,
        model,
        data,
        out,
        loss: "reference",
        batchSize: 3,
        blockImages: 2,
        log: () => {},
      });
      const whole = join(tmp, "whole");
      const full = await runScore(base(whole));
      assert.equal(full.evaluations, n * 14);

      const sharded = join(tmp, "sharded");
      const ranges = [];
      for (const index of [1, 2]) {
        const r = await runScore({
          ...base(sharded),
          shard: { index, count: 3 },
        });
        ranges.push(r.classRange);
      }
      // Shard 3 missing: refused in one line, nothing written.
      await assert.rejects(
        () => mergeScore(sharded),
        (err: Error) =>
          err.message ===
            `Cannot merge "${sharded}": shard 3 of 3 is missing (no shard-3-of-3/)`,
      );
      const names = async (dir: string) => {
        const out: string[] = [];
        for await (const e of Deno.readDir(dir)) out.push(e.name);
        return out.sort();
      };
      assert.deepEqual(await names(sharded), [
        "shard-1-of-3",
        "shard-2-of-3",
      ]);
      const r3 = await runScore({
        ...base(sharded),
        shard: { index: 3, count: 3 },
      });
      ranges.push(r3.classRange);
      // Whole classes, contiguous, balanced by images (2+4 | 4 | 4).
      assert.deepEqual(ranges, [
        { first: 0, end: 2 },
        { first: 2, end: 3 },
        { first: 3, end: 4 },
      ]);
      // A finished shard of this configuration is reused.
      const again = await runScore({
        ...base(sharded),
        shard: { index: 2, count: 3 },
      });
      assert.ok(again.skipped);

      const m = await hfss("merge", "--score", sharded, "--json");
      assert.equal(m.code, 0, m.stderr);
      const summary = JSON.parse(m.stdout);
      assert.equal(summary.shards, 3);
      assert.equal(summary.evaluations, n * 14);
      for (
        const f of ["losses.npy", "accuracy.npy", "scores.csv", "masks.csv"]
      ) {
        assert.deepEqual(
          await Deno.readFile(join(sharded, f)),
          await Deno.readFile(join(whole, f)),
          f,
        );
      }
      // config.json too, but for the time spent.
      const config = async (dir: string) => {
        const c = JSON.parse(
          await Deno.readTextFile(join(dir, "config.json")),
        );
        delete c.seconds;
        return c;
      };
      const wc = await config(whole), sc = await config(sharded);
      assert.equal(wc.evaluations, n * 14);
      assert.deepEqual(sc, wc);
      // The merged folder is a finished score: an unsharded run reuses it.
      const reused = await runScore(base(sharded));
      assert.ok(reused.skipped);
      assert.deepEqual(reused.losses, full.losses);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
