/**
 * End to end: `hfss eval` on MobileNetV2 (quantised weights, inception
 * normalisation) with real ImageNet val images as ID and the OOD crops of
 * ../shared as OOD (labels-csv layouts), a small DFM stage written from
 * generated candidates, resume, FGSM (when src/eval/fgsm.ts exists), and the
 * report in headless Chromium. Kept small: 5 classes, 6 ID and 18 OOD images.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { buildProgram } from "../../main.ts";
import { parseCsv } from "../../src/io/csv.ts";
import { decodeNpy } from "../../src/dfm/npy.ts";
import { argmaxRows } from "../../src/eval/metrics.ts";
import { loadBatches } from "../../src/data/loader.ts";
import { ModelSession } from "../../src/model/session.ts";
import {
  haveShared,
  REPO_ROOT,
  shared,
} from "../../src/testing/shared_data.ts";
import { writeTestStage } from "../eval/stage_fixture.ts";
import { checkPage, haveChromium } from "../report/chromium.ts";

const MODEL = shared("data/models/mobilenet_v2_1.0_224_quant.onnx");
const ID = shared("data/images/imagenet_val_subset");
const OOD = shared("data/images/ood");
const CLASSES = [1, 319, 701, 817, 949]; // classes with images in both sets
const ALL_PASS = 817; // its DFM keeps every frequency: identity filter
const ignore = !haveShared("data/models/mobilenet_v2_1.0_224_quant.onnx") ||
  !haveShared("data/images/ood");

function haveFgsm(): boolean {
  try {
    return Deno.statSync(join(REPO_ROOT, "src/eval/fgsm.ts")).isFile;
  } catch {
    return false;
  }
}

/** labels.csv → [file, label] pairs (the data's own labels: the oracle for counts). */
async function labels(dir: string): Promise<[string, number][]> {
  const rows = parseCsv(await Deno.readTextFile(join(dir, "labels.csv")));
  return rows.slice(1).map((r) => [r[0]!, Number(r[1])]);
}

async function evalRun(args: string[]): Promise<void> {
  await buildProgram().parseAsync([
    "eval",
    ...(Deno.env.get("HFSS_TEST_VERBOSE") ? [] : ["--quiet"]),
    ...args,
  ], {
    from: "user",
  });
}

function table(text: string): Record<string, string>[] {
  const rows = parseCsv(text);
  const h = rows[0]!;
  return rows.slice(1).map((r) =>
    Object.fromEntries(h.map((k, i) => [k, r[i]!]))
  );
}

/** A rate is k/n for an integer k. */
function isRate(v: string, n: number): boolean {
  const x = Number(v);
  return Number.isFinite(x) && Math.abs(x * n - Math.round(x * n)) < 1e-9 &&
    x >= 0 && x <= 1;
}

Deno.test({
  name:
    "hfss eval on MobileNetV2 with real images: counts, identity DFM, resume, FGSM, report in Chromium",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // no WebGPU adapter: eval filters on the CPU (slower), so do less
    const gpu = await navigator.gpu?.requestAdapter().catch(() => null) ?? null;
    const root = await Deno.makeTempDir({ prefix: "hfss-eval-e2e-" });
    try {
      const stage = join(root, "DFM", "stage1");
      await writeTestStage(stage, {
        classes: CLASSES,
        size: 224,
        allPass: [ALL_PASS],
      });
      const res = join(root, "results", "ood");
      const common = [
        "--model",
        MODEL,
        "--dfm",
        stage,
        "--id",
        ID,
        "--id-layout",
        "labels-csv",
        "--fpr-negatives",
        gpu ? "8" : "0",
        "--batch-size",
        "8",
      ];
      // FGSM first: onnxruntime-web fixes its thread count when its first
      // session in this process is created; the FGSM run sets 1 thread (the
      // gradient build can deadlock with threaded wasm, see createFgsm() in
      // src/eval/fgsm.ts), the plain OOD run below would set all cores
      let fgsmRows: Record<string, string>[] = [];
      if (haveFgsm()) {
        // FGSM on the ID images: attacked TPR ≤ clean TPR; ε = 0 leaves it equal
        const fg = join(root, "results", "fgsm");
        const adv = join(root, "adversarial");
        await evalRun([
          ...common,
          "--attack",
          "fgsm",
          "--epsilon",
          "8/255",
          "--save-adversarial",
          adv,
          "--out",
          fg,
        ]);
        const f = table(await Deno.readTextFile(join(fg, "per_class.csv")));
        fgsmRows = f;
        for (const r of f) {
          assert.ok(Number(r.corrupt_acc) <= Number(r.org_acc));
          assert.ok(Number(r.corrupt_dfm_acc) <= Number(r.org_dfm_acc));
        }
        // --save-adversarial: one row per attacked ID image, whose clean and
        // attacked predictions give the eval's own attacked counts
        const saved = table(await Deno.readTextFile(join(adv, "images.csv")));
        const idImages = (await labels(ID)).filter(([, l]) =>
          CLASSES.includes(l)
        );
        assert.equal(saved.length, idImages.length);
        const npy = decodeNpy(
          await Deno.readFile(join(adv, "adversarial.npy")),
        );
        assert.deepEqual(npy.shape, [saved.length, 3, 224, 224]);
        assert.ok((npy.data as Float32Array).every((v) => v >= 0 && v <= 1));
        for (const r of f) {
          const mine = saved.filter((s) => s.label === r.class_id);
          const kept = mine.filter((s) =>
            s.clean_prediction === s.label && s.attacked_prediction === s.label
          ).length;
          assert.ok(
            Math.abs(Number(r.corrupt_acc) - kept / mine.length) < 1e-9,
            `class ${r.class_id}: ${r.corrupt_acc} vs ${kept}/${mine.length}`,
          );
          for (const s of mine) {
            await Deno.stat(join(adv, s.png!));
          }
        }
        const f0 = join(root, "eps0");
        // without a WebGPU adapter the CPU filter is slow: skip this second run
        if (gpu) {
          await evalRun([
            ...common,
            "--attack",
            "fgsm",
            "--epsilon",
            "0",
            "--fpr-negatives",
            "0",
            "--out",
            f0,
          ]);
          for (
            const r of table(await Deno.readTextFile(join(f0, "per_class.csv")))
          ) {
            assert.equal(r.corrupt_acc, r.org_acc);
            assert.equal(r.corrupt_dfm_acc, r.org_dfm_acc);
          }
        }
      } else {
        console.warn(
          "skipping the FGSM part: src/eval/fgsm.ts is not there yet",
        );
      }

      await evalRun([
        ...common,
        "--ood",
        OOD,
        "--ood-layout",
        "labels-csv",
        "--out",
        res,
      ]);
      const csv1 = await Deno.readTextFile(join(res, "per_class.csv"));
      const rows = table(csv1);
      assert.deepEqual(rows.map((r) => Number(r.class_id)), CLASSES);
      // n_id / n_ood against the labels.csv files
      const idLabels = await labels(ID);
      const oodLabels = await labels(OOD);
      for (const r of rows) {
        const c = Number(r.class_id);
        const nId = idLabels.filter(([, l]) => l === c).length;
        const nOod = oodLabels.filter(([, l]) => l === c).length;
        assert.equal(Number(r.n_id), nId, `n_id of ${c}`);
        assert.equal(Number(r.n_ood), nOod, `n_ood of ${c}`);
        for (const k of ["org_acc", "org_dfm_acc"]) {
          assert.ok(isRate(r[k]!, nId), `${k} of ${c}: ${r[k]}`);
        }
        for (const k of ["corrupt_acc", "corrupt_dfm_acc"]) {
          assert.ok(isRate(r[k]!, nOod), `${k} of ${c}`);
        }
        if (gpu) assert.ok(Number(r.n_neg) >= 7 && Number(r.n_neg) <= 8);
      }
      // identity DFM: with = without
      const ap = rows.find((r) => Number(r.class_id) === ALL_PASS)!;
      assert.equal(ap.org_dfm_acc, ap.org_acc);
      assert.equal(ap.corrupt_dfm_acc, ap.corrupt_acc);
      // org_acc against a direct run of the model on the class's images (crop resize, inception)
      const session = await ModelSession.open(MODEL);
      const idSamples = idLabels.filter(([, l]) => CLASSES.includes(l)).map((
        [f, l],
      ) => ({
        path: join(ID, f),
        label: l,
      }));
      const correct = new Map<number, number>();
      for await (
        const b of loadBatches(idSamples, {
          batchSize: 8,
          size: 224,
          resize: "crop",
        })
      ) {
        const x = b.tensor.map((v) => (v - 0.5) / 0.5);
        const p = argmaxRows(
          await session.run(x, b.samples.length),
          b.samples.length,
        );
        b.samples.forEach((s, i) =>
          correct.set(
            s.label,
            (correct.get(s.label) ?? 0) + (p[i] === s.label ? 1 : 0),
          )
        );
      }
      await session.release();
      for (const r of rows) {
        const c = Number(r.class_id);
        assert.equal(
          Number(r.org_acc),
          (correct.get(c) ?? 0) / Number(r.n_id),
          `org_acc of ${c}`,
        );
      }
      const summary1 = await Deno.readTextFile(join(res, "summary.json"));
      const cfg = JSON.parse(summary1).config;
      assert.equal(cfg.mask_space, "normalized");
      assert.equal(cfg.resize_id, "crop");
      assert.equal(cfg.resize_ood, "squash");
      assert.equal(cfg.normalization.name, "inception");
      assert.equal(cfg.seed, 42);
      // which spectral filter ran is recorded (the CPU one when there is no adapter)
      assert.equal(cfg.filter.kind, gpu ? "gpu" : "cpu");
      if (!gpu) assert.match(cfg.filter.reason, /no WebGPU filter/);

      // resume: drop the last two records, leave a torn line, rerun → same files
      const logPath = join(res, "classes.jsonl");
      const lines = (await Deno.readTextFile(logPath)).split("\n").filter(
        Boolean,
      );
      await Deno.writeTextFile(
        logPath,
        lines.slice(0, 3).join("\n") + "\n" + lines[3]!.slice(0, 20),
      );
      await evalRun([
        ...common,
        "--ood",
        OOD,
        "--ood-layout",
        "labels-csv",
        "--out",
        res,
      ]);
      assert.equal(await Deno.readTextFile(join(res, "per_class.csv")), csv1);
      assert.equal(
        await Deno.readTextFile(join(res, "summary.json")),
        summary1,
      );
      assert.equal(
        (await Deno.readTextFile(logPath)).split("\n").filter(Boolean).length,
        5,
      );

      for (const [i, r] of fgsmRows.entries()) {
        assert.equal(r.org_acc, rows[i]!.org_acc);
      }

      // report over all runs, rendered in Chromium
      const rep = join(root, "report");
      await buildProgram().parseAsync([
        "report",
        "--results",
        join(root, "results"),
        "--out",
        rep,
      ], {
        from: "user",
      });
      const html = await Deno.readTextFile(join(rep, "report.html"));
      assert.ok(html.includes("data:image/png;base64,"));
      if (haveChromium()) {
        const page = await checkPage(
          `file://${join(rep, "report.html")}`,
          `({ plots: document.querySelectorAll("svg.plot").length,
              imgs: [...document.images].filter((i) => i.naturalWidth === 224).length })`,
          { screenshot: !!Deno.env.get("HFSS_REPORT_SCREENSHOT") },
        );
        assert.deepEqual(page.errors, []);
        const v = page.value as { plots: number; imgs: number };
        const runs = haveFgsm() ? 2 : 1;
        assert.equal(v.plots, 2 * runs);
        assert.equal(v.imgs, 5 * runs);
        const keep = Deno.env.get("HFSS_REPORT_SCREENSHOT");
        if (keep && page.screenshot) {
          await Deno.writeFile(keep, page.screenshot);
        }
      } else {
        console.warn(
          "skipping the Chromium check: /usr/bin/chromium is absent",
        );
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("hfss eval refuses a run with neither --ood nor --attack, bad values and the old --batch flag", async () => {
  const root = await Deno.makeTempDir();
  try {
    const stage = join(root, "stage1");
    await writeTestStage(stage, { classes: [1], size: 32 });
    const required = [
      "--model",
      "m.onnx",
      "--dfm",
      stage,
      "--id",
      root,
      "--out",
      join(root, "o"),
    ];
    await assert.rejects(
      evalRun(required),
      /give an OOD set/,
    );
    await assert.rejects(
      evalRun([...required, "--attack", "pgd"]),
      / --attack: expected fgsm, got "pgd"$/,
    );
    await assert.rejects(
      evalRun([...required, "--ood", root, "--save-adversarial", root]),
      / --save-adversarial: needs an attack \(--attack fgsm\)$/,
    );
    // flags named as in search/info/filter/demo: --batch-size, not --batch
    const bad = (flag: string) => evalRun([...required, flag, "0"]);
    await assert.rejects(
      bad("--batch-size"),
      / --batch-size: expected an integer >= 1, got 0$/,
    );
    const program = buildProgram().exitOverride();
    program.commands.forEach((c) => {
      c.exitOverride();
      c.configureOutput({ writeErr: () => {} });
    });
    await assert.rejects(
      program.parseAsync(["eval", ...required, "--batch", "8"], {
        from: "user",
      }),
      /unknown option '--batch'/,
    );
    const evalCmd = buildProgram().commands.find((c) => c.name() === "eval")!;
    assert.equal(
      evalCmd.options.find((o) => o.long === "--seed")?.defaultValue,
      42,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
