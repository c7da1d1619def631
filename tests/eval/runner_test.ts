import assert from "node:assert/strict";
import { join } from "node:path";
import { Rng } from "../../src/rng.ts";
import { cpuFilter } from "../../src/fft/cpu_fft.ts";
import {
  type Classifier,
  type EvalClass,
  type EvalSample,
  readClassLog,
  runEval,
  type RunEvalOptions,
} from "../../src/eval/runner.ts";
import { parseCsv } from "../../src/io/csv.ts";
import { fakeWorld } from "./_fake_world.ts";

// A tiny synthetic world: S = 8, K = 6 classes, a linear classifier whose
// weights are class templates; images are their template plus noise.
const {
  S,
  K,
  D,
  pixelsOf,
  loads,
  calls,
  loader,
  logitsOne,
  classifier,
  filter,
  lowPass,
  id,
  ood,
  oodParts,
} = fakeWorld({
  classes: 6,
  rng: new Rng(7),
  idNoise: 0.35,
  idPerClass: 5,
  oodPerClass: 3,
});

const classes: EvalClass[] = [0, 2, 3, 5].map((c) => ({
  classId: c,
  wnid: `w${c}`,
  mask: lowPass(c), // symmetric about DC
}));
const mean = [0.5, 0.5, 0.5];
const std = [0.25, 0.25, 0.25];

function options(
  out: string,
  extra: Partial<RunEvalOptions> = {},
): RunEvalOptions {
  return {
    out,
    classes,
    id,
    oodParts: oodParts(),
    classifier,
    filter,
    loader,
    mean,
    std,
    maskSpace: "normalized",
    resizeId: "crop",
    resizeOod: "squash",
    fprNegatives: 12,
    seed: 3,
    batchSize: 4,
    config: { test: true },
    ...extra,
  };
}

// independent oracle: per-image predictions by direct calls
function predict(x: Float32Array): number {
  const z = logitsOne(x, 0);
  let best = 0;
  for (let k = 1; k < K; k++) if (z[k]! > z[best]!) best = k;
  return best;
}
function norm(x: Float32Array): Float32Array {
  return x.map((v, i) =>
    (v - mean[Math.floor(i / (S * S))]!) / std[Math.floor(i / (S * S))]!
  );
}

Deno.test("runEval() counts TPR and DFM TPR per class like a direct per-image oracle", async () => {
  const out = await Deno.makeTempDir();
  try {
    const summary = await runEval(options(out));
    assert.equal(summary.complete, true);
    const rows = parseCsv(await Deno.readTextFile(join(out, "per_class.csv")));
    assert.deepEqual(rows[0], [
      "class_id",
      "wnid",
      "n_id",
      "n_ood",
      "org_acc",
      "org_dfm_acc",
      "corrupt_acc",
      "corrupt_dfm_acc",
      "n_neg",
      "org_fpr",
      "dfm_fpr",
    ]);
    assert.equal(rows.length, 1 + classes.length);
    let anyDfmDiff = false;
    for (const [k, cls] of classes.entries()) {
      const row = rows[k + 1]!;
      assert.equal(Number(row[0]), cls.classId);
      const imgs = id.filter((s) => s.label === cls.classId).map((s) =>
        norm(pixelsOf(s.path, s.label))
      );
      const org = imgs.filter((x) => predict(x) === cls.classId).length /
        imgs.length;
      const dfm = imgs.filter((x) =>
        predict(cpuFilter(x, cls.mask, { size: S })) === cls.classId
      ).length / imgs.length;
      assert.equal(Number(row[2]), 5);
      assert.equal(Number(row[4]), org, `org_acc class ${cls.classId}`);
      assert.equal(Number(row[5]), dfm, `org_dfm_acc class ${cls.classId}`);
      if (org !== dfm) {
        anyDfmDiff = true;
      }
      // OOD: mean over the two parts
      const part = (
        pred: (p: EvalSample) => boolean,
        f: (x: Float32Array) => Float32Array,
      ) => {
        const ss = ood.filter((s) =>
          s.label === cls.classId && pred(s)
        );
        return ss.filter((s) =>
          predict(f(norm(pixelsOf(s.path, s.label)))) === cls.classId
        ).length / ss.length;
      };
      const p1 = (s: EvalSample) => !s.path.endsWith("/2");
      const p2 = (s: EvalSample) => s.path.endsWith("/2");
      const ident = (x: Float32Array) => x;
      const filt = (x: Float32Array) => cpuFilter(x, cls.mask, { size: S });
      assert.equal(Number(row[3]), 3);
      assert.equal(Number(row[6]), (part(p1, ident) + part(p2, ident)) / 2);
      assert.equal(Number(row[7]), (part(p1, filt) + part(p2, filt)) / 2);
      // FPR pool: 12 images, those of other classes are the negatives
      const nNeg = Number(row[8]);
      assert.ok(nNeg >= 12 - 5 && nNeg <= 12, `n_neg ${nNeg}`);
      assert.ok(Number(row[10]) >= 0 && Number(row[10]) <= 1);
    }
    assert.ok(anyDfmDiff, "the masks change some predictions");
    assert.equal(summary.groups.length, 1);
    assert.equal(summary.parts.length, 2);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("runEval() resumes: interrupted + torn record + rerun gives the same files", async () => {
  const a = await Deno.makeTempDir();
  const b = await Deno.makeTempDir();
  try {
    await runEval(options(a));
    const full = await Deno.readTextFile(join(a, "per_class.csv"));
    const fullSummary = await Deno.readTextFile(join(a, "summary.json"));
    // interrupted after 2 classes, then a torn half record as if killed mid-write
    const s1 = await runEval(options(b, { maxNewClasses: 2 }));
    assert.equal(s1.complete, false);
    assert.equal(s1.classes, 2);
    await Deno.writeTextFile(join(b, "classes.jsonl"), '{"class_id":3,"wn', {
      append: true,
    });
    loads.length = 0;
    calls.length = 0;
    const s2 = await runEval(options(b));
    assert.equal(s2.complete, true);
    // finished classes 0 and 2 were not re-measured (only the mixed FPR pool holds their images)
    const single = calls.filter((c) =>
      c.length > 0 && c.every((x) => x.label === c[0]!.label)
    );
    assert.ok(!single.some((c) => c[0]!.label === 0 || c[0]!.label === 2));
    assert.ok(loads.some((p) => p.startsWith("id/3/")));
    assert.equal(await Deno.readTextFile(join(b, "per_class.csv")), full);
    assert.equal(await Deno.readTextFile(join(b, "summary.json")), fullSummary);
    // a third run does nothing and changes nothing
    loads.length = 0;
    await runEval(options(b));
    assert.equal(loads.length, 0);
    assert.equal(await Deno.readTextFile(join(b, "per_class.csv")), full);
    const log = await readClassLog(join(b, "classes.jsonl"));
    assert.deepEqual(log.records.map((r) => r.class_id), [0, 2, 3, 5]);
    // another configuration is refused
    await assert.rejects(
      runEval(options(b, { maskSpace: "pixel", config: { test: false } })),
      /Cannot resume the evaluation in ".*": option test was true, now false/,
    );
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});

Deno.test("runEval() records which filter ran and resumes across a filter change, refusing other changes", async () => {
  const out = await Deno.makeTempDir();
  try {
    const gpu = { test: true, filter: { kind: "gpu", adapter: "x" } };
    await runEval(options(out, { maxNewClasses: 1, config: gpu }));
    const read = async (f: string) =>
      JSON.parse(await Deno.readTextFile(join(out, f)));
    assert.deepEqual((await read("config.json")).filter, gpu.filter);
    const warnings: string[] = [];
    const cpu = { test: true, filter: { kind: "cpu" } };
    const s = await runEval(
      options(out, { config: cpu, onWarning: (m) => warnings.push(m) }),
    );
    assert.equal(s.complete, true);
    assert.deepEqual(s.config.filter, { kind: "cpu" });
    assert.deepEqual((await read("config.json")).filter, { kind: "cpu" });
    assert.deepEqual((await read("summary.json")).config.filter, {
      kind: "cpu",
    });
    assert.ok(warnings.some((w) => /filter .*"gpu"/.test(w)), warnings[0]);
    // a change outside the unchecked keys is still refused
    await assert.rejects(
      runEval(
        options(out, { config: { test: false, filter: { kind: "cpu" } } }),
      ),
      /option test was true, now false/,
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("runEval() pixel mask space filters before normalising", async () => {
  const out = await Deno.makeTempDir();
  try {
    await runEval(
      options(out, { maskSpace: "pixel", oodParts: [], fprNegatives: 0 }),
    );
    const rows = parseCsv(await Deno.readTextFile(join(out, "per_class.csv")));
    for (const [k, cls] of classes.entries()) {
      const imgs = id.filter((s) => s.label === cls.classId).map((s) =>
        pixelsOf(s.path, s.label)
      );
      const dfm = imgs.filter((x) =>
        predict(norm(cpuFilter(x, cls.mask, { size: S }))) === cls.classId
      ).length / imgs.length;
      assert.equal(Number(rows[k + 1]![5]), dfm);
      assert.equal(rows[k + 1]![6], ""); // no OOD set → empty (NaN)
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("runEval() restricts OOD predictions to the subset (ImageNet-R/-A style)", async () => {
  const out = await Deno.makeTempDir();
  try {
    // a classifier that always puts the top logit on class 5, then the true class
    const biased: Classifier = {
      run(x, batch) {
        const z = new Float32Array(batch * K);
        for (let b = 0; b < batch; b++) {
          const l = logitsOne(x, b * D);
          let best = 0;
          for (let k = 1; k < K; k++) if (l[k]! > l[best]!) best = k;
          z[b * K + best] = 1;
          z[b * K + 5] = 2;
        }
        return Promise.resolve(z);
      },
    };
    const subsetClasses = classes.filter((c) => c.classId !== 5);
    const oodParts = [{ name: "r", samples: ood }];
    await runEval(
      options(out, {
        classifier: biased,
        classes: subsetClasses,
        oodParts,
        fprNegatives: 0,
      }),
    );
    const plain = parseCsv(await Deno.readTextFile(join(out, "per_class.csv")));
    for (const r of plain.slice(1)) assert.equal(Number(r[6]), 0); // class 5 always wins
    const out2 = join(out, "sub");
    await runEval(
      options(out2, {
        classifier: biased,
        classes: subsetClasses,
        oodParts,
        oodSubset: [0, 1, 2, 3, 4],
        fprNegatives: 0,
      }),
    );
    const sub = parseCsv(await Deno.readTextFile(join(out2, "per_class.csv")));
    for (const [k, r] of sub.slice(1).entries()) {
      const c = subsetClasses[k]!.classId;
      const ss = ood.filter((s) => s.label === c);
      const want = ss.filter((s) =>
        predict(norm(pixelsOf(s.path, s.label))) === c
      ).length / ss.length;
      assert.equal(Number(r[6]), want);
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
