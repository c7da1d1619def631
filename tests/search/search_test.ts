import assert from "node:assert/strict";
import { join } from "node:path";
import { haveShared, shared } from "../../src/testing/shared_data.ts";
import { gpuAvailable } from "../gpu_helper.ts";
import { runSearch, searchSubset } from "../../src/search/search.ts";
import { CandidatePools } from "../../src/search/lineage.ts";
import { generateCandidates } from "../../src/dfm/candidates.ts";
import { readStage, stageMask } from "../../src/dfm/store.ts";
import { writeStagePictures } from "../../src/dfm/render.ts";
import type { Dataset } from "../../src/data/dataset.ts";
import { scheduleBlocks } from "../../src/search/mask_evaluation.ts";
import {
  writeTinyDataset,
  writeTinyModel,
} from "../../src/testing/tiny_search.ts";

Deno.test("scheduleBlocks() cuts each class's images in fixed blocks, class after class", () => {
  const classOf = [1, 0, 1, 2, 0, 1, 1];
  const blocks = scheduleBlocks(classOf, { blockImages: 3, numClasses: 3 });
  assert.deepEqual(blocks.map((b) => [b.pool, b.indices]), [
    [0, [1, 4]],
    [1, [0, 2, 5]],
    [1, [6]],
    [2, [3]],
  ]);
});

Deno.test("searchSubset() is seeded, stratified and keeps every image with split 1", () => {
  const samples = Array.from(
    { length: 40 },
    (_, i) => ({ path: `/d/${i}.png`, label: i % 4 }),
  );
  const ds = {
    root: "/d",
    layout: "folders",
    classes: [],
    samples,
    notes: [],
  } as unknown as Dataset;
  const all = searchSubset(ds, { split: 1, seed: 42 });
  assert.deepEqual(
    all.map((s) => s.path).sort(),
    samples.map((s) => s.path).sort(),
  );
  const a = searchSubset(ds, { split: 0.2, seed: 42 });
  assert.deepEqual(a, searchSubset(ds, { split: 0.2, seed: 42 }));
  assert.equal(a.length, 8);
  for (let c = 0; c < 4; c++) {
    assert.equal(a.filter((s) => s.label === c).length, 2);
  }
  assert.notDeepEqual(
    a.map((s) => s.path),
    searchSubset(ds, { split: 0.2, seed: 7 }).map((s) => s.path),
  );
});

Deno.test("CandidatePools: stage 1 equals generateCandidates; per-class draws descend from their own class", () => {
  const base = {
    seed: 42,
    size: 32,
    candidates: 12,
    proportion: 0.8,
    symmetry: "exact" as const,
  };
  const s1 = new CandidatePools({ ...base, stage: 1, lineage: "per-class" });
  const ref = generateCandidates({
    size: 32,
    stage: 1,
    count: 12,
    proportion: 0.8,
    seed: 42,
  });
  assert.equal(s1.count, 12);
  ref.masks.forEach((m, i) =>
    assert.deepEqual(s1.masks(0).subarray(i * 1024, (i + 1) * 1024), m)
  );
  // Parents: class c's rank r mask is a distinct stage-1 mask.
  const parents = {
    stage: 1,
    numClasses: 3,
    ranksOf: () => 2,
    mask: (c: number, r: number) => ref.masks[c * 2 + r]!,
  };
  const per = new CandidatePools({
    ...base,
    stage: 2,
    lineage: "per-class",
    parents,
  });
  for (let c = 0; c < 3; c++) {
    const pool = per.pool(c);
    pool.parents.forEach((p, j) => {
      assert.equal(p!.classPos, c);
      const parent = parents.mask(c, p!.rank);
      const m = pool.masks.subarray(j * 1024, (j + 1) * 1024);
      // Exact symmetry of a product of symmetric masks keeps it inside the parent.
      for (let i = 0; i < 1024; i++) {
        assert.ok(m[i]! <= parent[i]!, `class ${c} cand ${j} bin ${i}`);
      }
    });
  }
  const m1 = per.masks(1).slice();
  per.masks(0); // cache another pool: candidate() regenerates the draw alone
  for (const id of [0, 4, 11]) {
    assert.deepEqual(
      per.candidate(1, id).mask,
      m1.subarray(id * 1024, (id + 1) * 1024),
    );
    assert.deepEqual(per.candidate(1, id).parent, per.pool(1).parents[id]);
  }
  assert.notDeepEqual(per.masks(0), per.masks(1));
  const sh = new CandidatePools({
    ...base,
    stage: 2,
    lineage: "shared",
    parents,
  });
  assert.deepEqual(sh.masks(0), sh.masks(2));
  assert.ok(new Set(sh.pool(0).parents.map((p) => p!.classPos)).size > 1);
});

Deno.test({
  name:
    "runSearch() normalises as the model declares without `normalize`, records the source, and writes the stage pictures",
  ignore: !gpuAvailable,
  sanitizeResources: false,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "hfss_search_norm_" });
    try {
      const declared = join(tmp, "declared.onnx");
      const plain = join(tmp, "plain.onnx");
      const meta = { "hfss.normalization": "inception" };
      await writeTinyModel(declared, { size: 32, classes: 3, metadata: meta });
      await writeTinyModel(plain, { size: 32, classes: 3 });
      const data = join(tmp, "data");
      await writeTinyDataset(data, { size: 32, classes: 3, perClass: 3 });
      const search = (name: string, model: string, normalize?: string) =>
        runSearch({
          model,
          data,
          stages: [1],
          out: join(tmp, name),
          candidates: 9,
          top: 2,
          split: 1,
          batchSize: 9,
          ...(normalize ? { normalize } : {}),
          log: () => {},
        });
      const runs = {
        model: await search("model", declared),
        flag: await search("flag", declared, "inception"),
        imagenet: await search("imagenet", declared, "imagenet"),
        default: await search("default", plain),
      };
      const stages = Object.fromEntries(
        await Promise.all(
          Object.keys(runs).map(async (k) =>
            [k, await readStage(join(tmp, k, "stage1"))] as const
          ),
        ),
      );
      const norm = (k: string) => {
        const n = stages[k]!.manifest.normalization as {
          name: string;
          source?: string;
        };
        return [n.name, n.source];
      };
      assert.deepEqual(norm("model"), ["inception", "model"]);
      assert.deepEqual(norm("flag"), ["inception", "flag"]);
      assert.deepEqual(norm("imagenet"), ["imagenet", "flag"]);
      assert.deepEqual(norm("default"), ["imagenet", "default"]);
      assert.deepEqual(
        (runs.model.config.normalization as { source: string }).source,
        "model",
      );
      // The declared normalisation is the one applied: same losses as the
      // explicit flag, other losses than imagenet (the tiny model is linear).
      assert.deepEqual(stages.model!.losses, stages.flag!.losses);
      assert.notDeepEqual(stages.model!.losses, stages.imagenet!.losses);
      // Same values, other source: the finished stage is reused, not refused.
      const again = await search("model", declared, "inception");
      assert.equal(again.stages[0]!.skipped, true);
      // png/ holds the stage's pictures, byte for byte as rendered from its files.
      const dir = join(tmp, "model", "stage1");
      const copy = join(tmp, "copy");
      const want = await writeStagePictures(copy, stages.model!);
      assert.ok(want.length >= 3, want.join(","));
      for (const path of want) {
        const name = path.slice(copy.length + 1);
        assert.deepEqual(
          await Deno.readFile(join(dir, name)),
          await Deno.readFile(path),
          name,
        );
      }
      const got = [...Deno.readDirSync(join(dir, "png"))].map((e) => e.name);
      assert.equal(got.length, want.length);
      // A finished stage missing its pictures gets them back when skipped.
      await Deno.remove(join(dir, "png"), { recursive: true });
      await search("model", declared);
      assert.equal([...Deno.readDirSync(join(dir, "png"))].length, want.length);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "runSearch() records the interpolation, searches with it, and refuses to resume a stage made with another",
  ignore: !gpuAvailable,
  sanitizeResources: false,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "hfss_search_interp_" });
    try {
      const model = join(tmp, "m.onnx");
      await writeTinyModel(model, { size: 32, classes: 3 });
      const data = join(tmp, "data");
      // Images larger than S, so the resampling filter matters.
      await writeTinyDataset(data, { size: 75, classes: 3, perClass: 3 });
      const search = (out: string, interpolation?: "bilinear" | "bicubic") =>
        runSearch({
          model,
          data,
          stages: [1],
          out: join(tmp, out),
          candidates: 9,
          top: 2,
          split: 1,
          batchSize: 9,
          ...(interpolation ? { interpolation } : {}),
          log: () => {},
        });
      const bicubic = await search("bicubic", "bicubic");
      await search("default");
      const b = await readStage(join(tmp, "bicubic", "stage1"));
      const d = await readStage(join(tmp, "default", "stage1"));
      assert.equal(b.manifest.interpolation, "bicubic");
      assert.equal(d.manifest.interpolation, "bilinear");
      assert.equal(bicubic.config.interpolation, "bicubic");
      assert.notDeepEqual(b.losses, d.losses);
      await assert.rejects(
        () => search("bicubic", "bilinear"),
        (e: unknown) => e instanceof Error && /interpolation/.test(e.message),
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

const kModel = "data/models/mobilenet_v1_0.25_128_quant.onnx";
const kImages = "data/images/imagenet_val_subset";

Deno.test({
  name:
    "runSearch() on MobileNetV1-0.25 (128 px) with 5 real classes writes valid stage 1-2 DFMs",
  ignore: !haveShared(kModel) || !haveShared(kImages) || !gpuAvailable,
  sanitizeResources: false,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "hfss_search_real_" });
    const logs: string[] = [];
    try {
      const classes = [96, 893, 780, 547, 510]; // 3 images each in the subset
      const summary = await runSearch({
        model: shared(kModel),
        data: shared(kImages),
        classes,
        stages: [1, 2],
        out,
        candidates: 12,
        split: 1,
        batchSize: 24,
        normalize: "inception",
        log: (l) => logs.push(l),
      });
      assert.equal(summary.stages.length, 2);
      for (const [i, s] of summary.stages.entries()) {
        assert.equal(s.images, 15);
        assert.equal(s.candidates, 12);
        assert.equal(s.evaluations, 12 * 15);
        const st = await readStage(join(out, `stage${i + 1}`));
        assert.equal(st.manifest.image_size, 128);
        assert.equal(st.manifest.grid, i === 0 ? 4 : 8);
        assert.deepEqual(
          st.manifest.classes.map((c) => c.index),
          [...classes].sort((a, b) => a - b),
        );
        for (let c = 0; c < 5; c++) {
          const l = [...st.losses.subarray(c * 10, c * 10 + 10)];
          const filled = l.slice(0, 10).filter(Number.isFinite);
          assert.equal(filled.length, 10);
          for (let r = 1; r < 10; r++) assert.ok(l[r - 1]! <= l[r]!);
          const m = stageMask(st, c, 0);
          const kept = m.reduce((a, v) => a + v, 0);
          assert.ok(kept > 0 && kept < 128 * 128);
        }
      }
      // Stage 2 masks lie inside their stage 1 parents.
      const s1 = await readStage(join(out, "stage1"));
      const s2 = await readStage(join(out, "stage2"));
      for (let c = 0; c < 5; c++) {
        const p = s2.manifest.top[c]!.parents[0]!;
        assert.equal(p.class_pos, c); // per-class lineage (default)
        const parent = stageMask(s1, p.class_pos, p.rank);
        const m = stageMask(s2, c, 0);
        for (let i = 0; i < m.length; i++) assert.ok(m[i]! <= parent[i]!);
      }
      // The clean accuracy of the best mask is recorded per class.
      const acc =
        (s2.manifest.extra as { accuracy: (number | null)[][] }).accuracy;
      assert.equal(acc.length, 5);
      assert.ok(
        acc.every((row) => row.every((a) => a !== null && a >= 0 && a <= 1)),
      );
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
