import assert from "node:assert/strict";
import { join } from "node:path";
import { gpuAvailable } from "../gpu_helper.ts";
import { runSearch } from "../../src/search/search.ts";
import { readStage } from "../../src/dfm/store.ts";
import { decodeNpy, encodeNpy } from "../../src/dfm/npy.ts";
import { parseCsv } from "../../src/io/csv.ts";
import { runScore } from "../../src/score/score.ts";
import { OptionError } from "../../src/errors.ts";
import {
  writeTinyDataset,
  writeTinyModel,
} from "../../src/testing/tiny_search.ts";

const kGpu = { ignore: !gpuAvailable, sanitizeResources: false };

Deno.test({
  name:
    "runScore() of a stage folder reproduces the stage's own losses.npy exactly (class-ce and reference)",
  ...kGpu,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "hfss_score_" });
    try {
      const model = join(tmp, "tiny.onnx");
      await writeTinyModel(model, { size: 32, classes: 4 });
      const data = join(tmp, "data");
      await writeTinyDataset(data, { size: 32, classes: 3, perClass: 6 });
      const common = {
        model,
        data,
        split: 0.7,
        seed: 5,
        batchSize: 8,
        normalize: "inception",
        log: () => {},
      };
      for (const loss of ["class-ce", "reference"] as const) {
        const out = join(tmp, `run-${loss}`);
        await runSearch({
          ...common,
          stages: [1, 2],
          out,
          candidates: 9,
          top: 3,
          loss,
        });
        for (const k of [1, 2]) {
          const stage = await readStage(join(out, `stage${k}`));
          const scored = join(tmp, `score-${loss}-${k}`);
          const r = await runScore({
            ...common,
            masks: join(out, `stage${k}`),
            out: scored,
          });
          const K = r.classes.length;
          assert.equal(K, 3);
          assert.equal(r.masks.count, 9);
          assert.equal(r.config.loss, loss); // the stage's, by default
          // Mask i is (class c, rank r) of the stage: its loss on class c.
          const got = new Float64Array(9);
          r.masks.origins.forEach((o, i) => {
            got[o.classPos! * 3 + o.rank!] = r.losses[i * K + o.classPos!]!;
          });
          // Exactly: deepStrictEqual compares numbers with Object.is.
          assert.deepEqual([...got], [...stage.losses], `${loss} stage ${k}`);
          // The files hold the same numbers.
          const npy = decodeNpy(
            await Deno.readFile(join(scored, "losses.npy")),
          );
          assert.deepEqual(npy.shape, [9, 3]);
          assert.deepEqual([...npy.data], [...r.losses]);
          const csv = parseCsv(
            await Deno.readTextFile(join(scored, "scores.csv")),
          );
          assert.deepEqual(csv[0], [
            "mask",
            "class_id",
            "wnid",
            "n_images",
            "loss",
            "accuracy",
          ]);
          assert.equal(csv.length, 1 + 9 * 3);
          assert.equal(Number(csv[1 + 4 * 3 + 2]![4]), r.losses[4 * 3 + 2]);
          assert.equal(
            Number(csv[1 + 4 * 3 + 2]![5]),
            r.accuracy[4 * 3 + 2],
          );
          const acc = decodeNpy(
            await Deno.readFile(join(scored, "accuracy.npy")),
          );
          assert.ok([...acc.data].every((a) => a >= 0 && a <= 1));
        }
      }
      // A finished score is reused; another loss is refused unless restarted.
      const again = await runScore({
        ...common,
        masks: join(tmp, "run-class-ce", "stage1"),
        out: join(tmp, "score-class-ce-1"),
      });
      assert.equal(again.skipped, true);
      await assert.rejects(
        runScore({
          ...common,
          masks: join(tmp, "run-class-ce", "stage1"),
          out: join(tmp, "score-class-ce-1"),
          loss: "reference",
        }),
        /Cannot resume .*loss/,
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "runScore() of an .npy of masks: the reference loss of one batch follows its formula; keepOrder needs split 1; a wrong mask size is refused",
  ...kGpu,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "hfss_score_npy_" });
    try {
      const model = join(tmp, "tiny.onnx");
      await writeTinyModel(model, { size: 32, classes: 3 });
      const data = join(tmp, "data");
      await writeTinyDataset(data, { size: 32, classes: 3, perClass: 4 });
      const all = new Uint8Array(2 * 32 * 32);
      all.fill(1, 0, 32 * 32); // mask 0 keeps everything, mask 1 nothing
      await Deno.writeFile(
        join(tmp, "m.npy"),
        encodeNpy(all, "uint8", [2, 32, 32]),
      );
      const r = await runScore({
        masks: join(tmp, "m.npy"),
        model,
        data,
        out: join(tmp, "out"),
        normalize: "inception",
        log: () => {},
      });
      assert.equal(r.config.loss, "class-ce");
      // An all-pass mask leaves images as they are (up to float32 FFT
      // rounding); the all-stop mask makes every image zero, so every class
      // gets the same loss (its logit bias alone).
      const clean = r.losses.subarray(0, 3);
      assert.ok([...clean].every((v) => Number.isFinite(v) && v >= 0));
      assert.ok(clean.some((v, c) => v !== r.losses[3 + c]));
      // The reference loss over one batch of every image (--keep-order,
      // --reference-batch n): L(c) = (n_c·CE(c) + (n − n_c)·ln K) / n, with
      // CE(c) the class-ce loss of the same mask.
      const ref = await runScore({
        masks: join(tmp, "m.npy"),
        model,
        data,
        out: join(tmp, "ref"),
        normalize: "inception",
        loss: "reference",
        keepOrder: true,
        referenceBatch: 12,
        batchSize: 5,
        log: () => {},
      });
      const ce = await runScore({
        masks: join(tmp, "m.npy"),
        model,
        data,
        out: join(tmp, "ce"),
        normalize: "inception",
        keepOrder: true,
        batchSize: 5,
        log: () => {},
      });
      for (let i = 0; i < 6; i++) {
        const c = i % 3, nc = ref.images[c]!;
        const want = (nc * ce.losses[i]! + (12 - nc) * Math.log(3)) / 12;
        assert.ok(Math.abs(ref.losses[i]! - want) < 1e-12, `${i}`);
      }
      await assert.rejects(
        runScore({
          masks: join(tmp, "m.npy"),
          model,
          data,
          out: join(tmp, "bad"),
          keepOrder: true,
          split: 0.5,
          log: () => {},
        }),
        (e) => e instanceof OptionError && e.option === "keepOrder",
      );
      await Deno.writeFile(
        join(tmp, "small.npy"),
        encodeNpy(new Uint8Array(16 * 16), "uint8", [1, 16, 16]),
      );
      await assert.rejects(
        runScore({
          masks: join(tmp, "small.npy"),
          model,
          data,
          out: join(tmp, "out2"),
          log: () => {},
        }),
        /Cannot score masks ".*small.npy": they are 16x16, the model ".*" takes 32x32 images/,
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
