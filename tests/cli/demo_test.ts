/**
 * `hfss demo` on a small planted benchmark: the search recovers the planted
 * frequencies well above chance, and the same seed gives the same DFMs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT } from "../../src/testing/shared_data.ts";
import { gpuAvailable } from "../gpu_helper.ts";
import { readPlantedImages, runDemo } from "../../src/planted/demo.ts";
import { readStage, stageMask } from "../../src/dfm/store.ts";
import type { PreparedPlanted } from "../../src/planted/prepare.ts";
import { pairEnergies } from "../../src/planted/model.ts";
import { simulateSearch } from "../../src/planted/simulate.ts";

const kSmall = [
  "--num-classes",
  "4",
  "--per-class",
  "12",
  "--candidates",
  "30",
  "--stages",
  "1-4",
];

Deno.test({
  name:
    "hfss demo recovers planted frequencies well above chance; same seed, same DFMs",
  ignore: !gpuAvailable,
  fn: async () => {
    const tmp = await Deno.makeTempDir();
    try {
      const work = join(tmp, "cli");
      const p = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--unstable-webgpu",
          "-A",
          "main.ts",
          "demo",
          "--work",
          work,
          "--json",
          ...kSmall,
        ],
        cwd: REPO_ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(p.stderr);
      assert.equal(p.code, 0, stderr);
      // --json prints the result with snake_case keys
      const r = JSON.parse(new TextDecoder().decode(p.stdout)) as {
        clean: { accuracy: number };
        normalization: unknown;
        stages: {
          mean_recall: number;
          mean_kept_fraction: number;
          mean_other_kept: number;
          classes: { recall: number }[];
        }[];
      };
      assert.equal(r.stages.length, 4);
      assert.ok(r.clean.accuracy >= 0.95, `clean accuracy ${r.clean.accuracy}`);
      const last = r.stages.at(-1)!;
      // Chance: a mask keeping a fraction f of the bins keeps f of any bin set.
      assert.ok(
        last.mean_kept_fraction < 0.6,
        `kept ${last.mean_kept_fraction}`,
      );
      assert.ok(
        last.mean_recall >= Math.min(1, last.mean_kept_fraction + 0.4),
        `recall ${last.mean_recall} vs chance ${last.mean_kept_fraction}`,
      );
      assert.ok(
        last.mean_other_kept < last.mean_kept_fraction,
        `other-kept ${last.mean_other_kept}`,
      );
      // Per-class recall against the written files, counted by hand.
      const planted = JSON.parse(
        await Deno.readTextFile(join(work, "planted", "planted.json")),
      ) as PreparedPlanted["truth"];
      assert.equal(planted.classes.length, 4);
      const stage4 = await readStage(join(work, "search", "stage4"));
      assert.deepEqual(
        stage4.manifest.classes.map((c) => [c.index, c.name]),
        [[0, "class00"], [1, "class01"], [2, "class02"], [3, "class03"]],
      );
      for (const c of planted.classes) {
        const m = stageMask(
          stage4,
          stage4.manifest.classes.findIndex((x) => x.index === c.label),
          0,
        );
        const kept = c.bins.filter(([h, w]) => m[h * 32 + w] === 1).length;
        assert.equal(last.classes[c.label]!.recall, kept / c.bins.length);
      }
      // The real search (GPU filter + ONNX model) ranks stage 1 as the exact
      // pair-energy simulation of the same candidates does, with the same losses.
      const { x, labels } = await readPlantedImages(join(work, "planted"), 32);
      const spec = planted.model.spec;
      const sim = simulateSearch({
        spec,
        energies: pairEnergies(x, spec),
        labels,
        stages: 1,
        candidates: 30,
        proportion: 0.8,
        topN: 10,
        seed: 42,
      });
      const stage1 = await readStage(join(work, "search", "stage1"));
      for (let c = 0; c < 4; c++) {
        const simLoss = sim[0]!.losses[c]!;
        const realLoss = stage1.manifest.top[c]!.losses as number[];
        for (let r = 0; r < 10; r++) {
          assert.ok(
            Math.abs(simLoss[r]! - realLoss[r]!) <
              1e-3 * Math.max(1, simLoss[r]!),
            `class ${c} rank ${r}`,
          );
        }
        assert.deepEqual(sim[0]!.masks[c]![0], stageMask(stage1, c, 0));
      }
      // The search normalised as the planted model declares (inception),
      // and wrote each stage's pictures itself.
      assert.deepEqual(r.normalization, {
        name: "inception",
        mean: [0.5, 0.5, 0.5],
        std: [0.5, 0.5, 0.5],
        source: "model",
      });
      assert.deepEqual(
        stage4.manifest.normalization,
        r.normalization,
      );
      for (const k of [1, 2, 3, 4]) {
        const png = join(work, "search", `stage${k}`, "png");
        assert.ok(
          [...Deno.readDirSync(png)].some((e) => e.name.startsWith("class_")),
        );
      }

      // Same seed in another folder (in-process): byte-identical DFMs.
      const work2 = join(tmp, "again");
      const r2 = await runDemo({
        work: work2,
        classes: 4,
        perClass: 12,
        candidates: 30,
        stages: [1, 2, 3, 4],
        log: () => {},
      });
      for (const k of [1, 2, 3, 4]) {
        const a = await Deno.readFile(
          join(work, "search", `stage${k}`, "masks.npy"),
        );
        const b = await Deno.readFile(
          join(work2, "search", `stage${k}`, "masks.npy"),
        );
        assert.deepEqual(a, b, `stage ${k} masks differ`);
      }
      assert.equal(r2.stages.at(-1)!.meanRecall, last.mean_recall);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
