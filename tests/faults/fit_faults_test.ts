/**
 * Fault injection in the library: models that do not fit the data, options
 * that would silently pad or overwrite, a finished stage copied without its
 * checkpoint, an interrupted restart, masks that are no DFM.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { gpuAvailable } from "../gpu_helper.ts";
import { runSearch, type SearchOptions } from "../../src/search/search.ts";
import { evaluateDfms } from "../../src/eval/evaluate_dfms.ts";
import { meanLinearModel } from "../../src/testing/tiny_models.ts";
import {
  writeTinyDataset,
  writeTinyModel,
} from "../../src/testing/tiny_search.ts";
import { loadNpyMask } from "../../src/dfm/mask_source.ts";
import { encodeNpy } from "../../src/dfm/npy.ts";
import { OptionError, UserError } from "../../src/errors.ts";
import { writeTestStage } from "../eval/stage_fixture.ts";

async function fixture() {
  const dir = await Deno.makeTempDir({ prefix: "hfss_fault_fit_" });
  const model = join(dir, "model.onnx");
  const data = join(dir, "data");
  await writeTinyModel(model, { size: 32, classes: 3 });
  await writeTinyDataset(data, { size: 32, classes: 3, perClass: 3 });
  return { dir, model, data };
}

function search(
  model: string,
  data: string,
  out: string,
  more: Partial<SearchOptions> = {},
): SearchOptions {
  return {
    model,
    data,
    out,
    stages: [1],
    candidates: 6,
    top: 2,
    split: 1,
    batchSize: 4,
    normalize: "inception",
    checkpointSeconds: 0,
    log: () => {},
    ...more,
  };
}

Deno.test("runSearch() refuses a 1-channel model on RGB data before any compute", async () => {
  const fx = await fixture();
  try {
    const gray = join(fx.dir, "gray.onnx");
    await Deno.writeFile(
      gray,
      meanLinearModel({
        size: 32,
        channels: 1,
        classes: 3,
        weights: new Float32Array(3).fill(1),
      }),
    );
    await assert.rejects(
      () => runSearch(search(gray, fx.data, join(fx.dir, "out"))),
      (e: unknown) =>
        e instanceof UserError &&
        /it expects 1 input channels, got 3/.test(e.message),
    );
  } finally {
    await Deno.remove(fx.dir, { recursive: true });
  }
});

Deno.test("runSearch() refuses a top-N above the candidates and a candidate count no memory holds", async () => {
  const fx = await fixture();
  try {
    const out = join(fx.dir, "out");
    await assert.rejects(
      () => runSearch(search(fx.model, fx.data, out, { top: 50 })),
      (e: unknown) =>
        e instanceof OptionError && e.option === "top" &&
        /at most the 6 candidates of stage 1, got 50/.test(e.problem),
    );
    await assert.rejects(
      () => runSearch(search(fx.model, fx.data, out, { candidates: 1e12 })),
      (e: unknown) => e instanceof OptionError && e.option === "candidates",
    );
  } finally {
    await Deno.remove(fx.dir, { recursive: true });
  }
});

Deno.test({
  name:
    "runSearch() never overwrites a finished stage of another configuration copied without .checkpoint, and restart keeps the old result until the new one is written",
  ignore: !gpuAvailable,
  sanitizeResources: false,
  async fn() {
    const fx = await fixture();
    try {
      await Deno.mkdir(join(fx.data, "c9_empty"));
      const notes: string[] = [];
      const a = join(fx.dir, "a");
      await runSearch(
        search(fx.model, fx.data, a, { log: (l) => notes.push(l) }),
      );
      // the empty class is left out, noted and counted
      assert.ok(notes.some((n) => /note: left out 1 class .*c9_empty/.test(n)));
      const man = JSON.parse(
        await Deno.readTextFile(join(a, "stage1", "manifest.json")),
      );
      assert.equal(man.classes.length, 3);
      assert.equal(man.extra.dataset.counts.empty_classes, 1);

      // a copy without dot-folders is still finished ...
      const b = join(fx.dir, "b");
      await Deno.mkdir(join(b, "stage1"), { recursive: true });
      for (const f of ["manifest.json", "masks.npy", "losses.npy"]) {
        await Deno.copyFile(join(a, "stage1", f), join(b, "stage1", f));
      }
      const same = await runSearch(search(fx.model, fx.data, b));
      assert.equal(same.stages[0]!.skipped, true);
      // ... and another configuration is refused, leaving it as it was
      const before = await Deno.readFile(join(b, "stage1", "manifest.json"));
      await assert.rejects(
        () => runSearch(search(fx.model, fx.data, b, { proportion: 0.6 })),
        /option proportion was 0\.8, now 0\.6/,
      );
      assert.deepEqual(
        await Deno.readFile(join(b, "stage1", "manifest.json")),
        before,
      );
      // restart, interrupted: the old result is still there
      const stop = new Error("interrupted");
      await assert.rejects(
        () =>
          runSearch(search(fx.model, fx.data, b, {
            proportion: 0.6,
            restart: true,
            progress: {
              start() {
                throw stop; // after the old checkpoint is discarded
              },
              tick() {},
              finish() {},
            },
          })),
        (e: unknown) => e === stop,
      );
      assert.deepEqual(
        await Deno.readFile(join(b, "stage1", "manifest.json")),
        before,
      );
      // restart run to the end replaces it
      const done = await runSearch(
        search(fx.model, fx.data, b, { proportion: 0.6, restart: true }),
      );
      assert.equal(done.stages[0]!.skipped, false);
      const after = JSON.parse(
        await Deno.readTextFile(join(b, "stage1", "manifest.json")),
      );
      assert.equal(after.P, 0.6);
    } finally {
      await Deno.remove(fx.dir, { recursive: true });
    }
  },
});

Deno.test("evaluateDfms() refuses a model whose outputs do not cover the classes, and warns about a model other than the searched one", async () => {
  const fx = await fixture();
  try {
    const stage = join(fx.dir, "stage");
    await writeTestStage(stage, { classes: [0, 1, 2], size: 32 });
    const two = join(fx.dir, "two.onnx");
    await writeTinyModel(two, { size: 32, classes: 2 });
    const base = {
      dfm: stage,
      id: fx.data,
      ood: fx.data,
      fprNegatives: 2,
      batchSize: 4,
      filter: "cpu" as const,
    };
    await assert.rejects(
      () => evaluateDfms({ ...base, model: two, out: join(fx.dir, "e2") }),
      /it outputs 2 classes, the data has label 2/,
    );
    // the stage says it was searched with another model (sha256 0…0)
    const mp = join(stage, "manifest.json");
    const m = JSON.parse(await Deno.readTextFile(mp));
    m.model = { path: "searched.onnx", sha256: "0".repeat(64) };
    await Deno.writeTextFile(mp, JSON.stringify(m));
    const warnings: string[] = [];
    const out = join(fx.dir, "e3");
    await evaluateDfms({
      ...base,
      model: fx.model,
      out,
      log: () => {}, // --quiet
      warn: (l) => warnings.push(l),
    });
    assert.ok(
      warnings.some((w) =>
        /^warning: model ".*model\.onnx" .* is not the model the DFMs were searched with \("searched\.onnx"/
          .test(w)
      ),
      warnings.join("\n"),
    );
    const config = JSON.parse(
      await Deno.readTextFile(join(out, "config.json")),
    );
    assert.deepEqual(config.dfm_search_model, {
      path: "searched.onnx",
      sha256: "0".repeat(64),
      same_as_model: false,
    });
  } finally {
    await Deno.remove(fx.dir, { recursive: true });
  }
});

Deno.test("loadNpyMask() refuses a mask with a value other than 0 and 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hfss_fault_npy_" });
  try {
    const path = join(dir, "m.npy");
    const m = new Uint8Array(16).fill(1);
    m[5] = 2;
    await Deno.writeFile(path, encodeNpy(m, "uint8", [4, 4]));
    await assert.rejects(
      () => loadNpyMask(path),
      /Cannot use mask ".*m\.npy": value 2 at \[1, 1\] is not 0 or 1/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
