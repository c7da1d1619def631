import assert from "node:assert/strict";
import { join } from "node:path";
import { buildProgram } from "../../main.ts";
import {
  type ClassRecord,
  classRow,
  type EvalClass,
  kClassColumns,
  summarize,
} from "../../src/eval/runner.ts";
import { parseCsv, recordsToCsv } from "../../src/io/csv.ts";
import { writeTestStage } from "../eval/stage_fixture.ts";
import { checkPage, haveChromium } from "../report/chromium.ts";

// Four classes with hand-picked counts: org_dfm_acc = 0/4, 1/4... chosen so
// the AvgTPR numbers can be worked out by hand below.
function rec(
  c: number,
  org: number,
  dfm: number,
  parts: [number, number, number][],
  group = "fog",
): ClassRecord {
  return {
    class_id: c,
    wnid: `n0000000${c}`,
    n_id: 4,
    org_correct: org,
    org_dfm_correct: dfm,
    n_ood: parts.reduce((s, p) => s + p[0], 0),
    parts: parts.map(([n, correct, dfmCorrect], i) => ({
      name: group ? `${group}/${i + 1}` : "fgsm",
      ...(group ? { group } : {}),
      n,
      correct,
      dfm_correct: dfmCorrect,
    })),
    n_neg: 10,
    org_fp: 1,
    dfm_fp: 2,
    n_errors: 0,
  };
}

async function writeRun(
  dir: string,
  records: ClassRecord[],
  config: Record<string, unknown>,
) {
  await Deno.mkdir(dir, { recursive: true });
  const classes: EvalClass[] = records.map((r) => ({
    classId: r.class_id,
    wnid: r.wnid,
    mask: new Uint8Array(),
  }));
  const rows = records.map(classRow);
  await Deno.writeTextFile(
    join(dir, "per_class.csv"),
    recordsToCsv(
      rows as unknown as Record<string, number | string>[],
      kClassColumns,
    ),
  );
  const done = new Map(records.map((r) => [r.class_id, r]));
  await Deno.writeTextFile(
    join(dir, "summary.json"),
    JSON.stringify(summarize(config, classes, done, "hfss"), null, 2),
  );
}

async function setup(): Promise<
  { root: string; results: string; stage: string }
> {
  const root = await Deno.makeTempDir({ prefix: "hfss-report-" });
  const stage = join(root, "stage1");
  await writeTestStage(stage, { classes: [1, 2, 3, 4], size: 32 });
  const results = join(root, "results");
  // run a: IN-C-like, two severities of one corruption
  await writeRun(join(results, "a_inc"), [
    rec(1, 4, 0, [[2, 1, 0], [2, 2, 1]]), // org_dfm 0
    rec(2, 3, 1, [[2, 0, 0], [2, 1, 1]]), // 0.25
    rec(3, 4, 3, [[2, 2, 2], [2, 2, 2]]), // 0.75
    rec(4, 2, 4, [[4, 1, 1], [0, 0, 0]]), // 1.0; severity 2 has no images
  ], {
    dfm: stage,
    ood: { layout: "imagenet-c", root: "/x/ImageNet-C" },
    attack: null,
  });
  // run b: FGSM-like, one part
  await writeRun(join(results, "b_fgsm"), [
    rec(1, 4, 1, [[4, 1, 0]], ""),
    rec(2, 4, 2, [[4, 0, 0]], ""),
  ], {
    dfm: stage,
    ood: null,
    attack: { name: "fgsm", epsilon_text: "8/255" },
  });
  return { root, results, stage };
}

Deno.test("hfss report writes HTML, Markdown, CSV and JSON with the hand-computed AvgTPR numbers", async () => {
  const { root, results } = await setup();
  try {
    const out = join(root, "report");
    await buildProgram().parseAsync([
      "report",
      "--results",
      results,
      "--out",
      out,
    ], { from: "user" });
    const curves = parseCsv(await Deno.readTextFile(join(out, "curves.csv")));
    const header = curves[0]!;
    const col = (name: string) => header.indexOf(name);
    const row = (run: string, panel: string, t: string) =>
      curves.find((r) => r[0] === run && r[1] === panel && r[2] === t)!;
    // run a, t = 0.1: S = {2,3,4} (org_dfm 0.25, 0.75, 1), N = {1}
    const a01 = row("a_inc", "id", "0.1");
    assert.equal(
      Number(a01[col("avg_tpr_shortcut")]),
      (3 / 4 + 4 / 4 + 2 / 4) / 3,
    );
    assert.equal(Number(a01[col("avg_tpr_non_shortcut")]), 1);
    assert.equal(
      Number(a01[col("avg_tpr_shortcut_dfm")]),
      (0.25 + 0.75 + 1) / 3,
    );
    assert.equal(Number(a01[col("size_shortcut")]), 3 / 4 * 100 * 2);
    assert.equal(Number(a01[col("n_non_shortcut")]), 1);
    // OOD panel, class 1 = mean of severities 1/2 and 2/2; class 4 has only severity 1
    const aOod = row("a_inc", "ood", "0.1");
    assert.equal(Number(aOod[col("avg_tpr_non_shortcut")]), (0.5 + 1) / 2);
    assert.equal(
      Number(aOod[col("avg_tpr_shortcut")]),
      ((0 + 0.5) / 2 + (1 + 1) / 2 + 0.25) / 3,
    );
    // t = 0.9: S = {4}; with default compat, run b at t = 0.5 has S empty → empty field
    assert.equal(
      Number(row("a_inc", "id", "0.9")[col("avg_tpr_shortcut")]),
      0.5,
    );
    const b05 = row("b_fgsm", "id", "0.5");
    assert.equal(b05[col("avg_tpr_shortcut")], "");
    assert.equal(Number(b05[col("size_shortcut")]), 0);
    // groups.csv: per-corruption mean over classes of the per-class mean over severities
    const groups = parseCsv(await Deno.readTextFile(join(out, "groups.csv")));
    const fog = groups.find((g) => g[0] === "a_inc" && g[1] === "fog")!;
    assert.equal(
      Number(fog[3]),
      ((0.5 + 1) / 2 + (0 + 0.5) / 2 + 1 + 0.25) / 4,
    );
    // report.json holds the same numbers
    const json = JSON.parse(await Deno.readTextFile(join(out, "report.json")));
    assert.equal(json.runs.length, 2);
    assert.equal(json.runs[1].curves.id.shortcut[4], null);
    assert.deepEqual(json.runs[0].curves.id.shortcut_classes[0], [2, 3, 4]);
    // Markdown has the tables
    const md = await Deno.readTextFile(join(out, "report.md"));
    assert.match(
      md,
      /\| 0\.1 \| 0\.7500 \| 1\.0000 \| 0\.6667 \| 0\.0000 \| 3 \| 1 \|/,
    );
    assert.match(md, /### Per class/);
    // HTML: self-contained, plots present, deterministic
    const html = await Deno.readTextFile(join(out, "report.html"));
    assert.ok(
      !/<script|<link|@import|url\(/i.test(html),
      "no scripts or external resources",
    );
    assert.ok(
      !/(src|href)="(https?:|\/\/)/i.test(html),
      "no remote references",
    );
    assert.equal((html.match(/<svg /g) ?? []).length, 5); // 2 + bar chart + 2
    assert.ok(
      html.includes('src="data:image/png;base64,'),
      "DFM gallery as data URIs",
    );
    const out2 = join(root, "report2");
    await buildProgram().parseAsync([
      "report",
      "--results",
      results,
      "--out",
      out2,
    ], { from: "user" });
    assert.equal(await Deno.readTextFile(join(out2, "report.html")), html);
    // --compat reference plots empty groups as 0
    const out3 = join(root, "report3");
    await buildProgram().parseAsync([
      "report",
      "--results",
      results,
      "--out",
      out3,
      "--compat",
      "reference",
    ], {
      from: "user",
    });
    const c3 = parseCsv(await Deno.readTextFile(join(out3, "curves.csv")));
    assert.equal(
      c3.find((r) => r[0] === "b_fgsm" && r[1] === "id" && r[2] === "0.5")![3],
      "0",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("hfss report reads a format-1 summary.json (camelCase curves) as a format-2 one and refuses a newer format", async () => {
  const { root, results } = await setup();
  const report = async (out: string) => {
    await buildProgram().parseAsync(
      ["report", "--results", results, "--out", out],
      { from: "user" },
    );
    return JSON.parse(await Deno.readTextFile(join(out, "report.json")));
  };
  try {
    const path = join(results, "a_inc", "summary.json");
    const current = JSON.parse(await Deno.readTextFile(path));
    assert.equal(current.format_version, 2);
    assert.deepEqual(Object.keys(current.curves.id), [
      "thresholds",
      "shortcut_indices",
      "non_shortcut_indices",
      "shortcut",
      "non_shortcut",
      "shortcut_dfm",
      "non_shortcut_dfm",
      "size_shortcut",
      "size_non_shortcut",
    ]);
    const fromCurrent = await report(join(root, "r2"));
    // the same run as format 1 wrote it: camelCase curve keys
    const camel = (o: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(o).map((
          [k, v],
        ) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]),
      );
    const old = {
      ...current,
      format_version: 1,
      curves: {
        compat: current.curves.compat,
        id: camel(current.curves.id),
        ood: camel(current.curves.ood),
      },
    };
    await Deno.writeTextFile(path, JSON.stringify(old, null, 2));
    assert.match(await Deno.readTextFile(path), /"shortcutIndices"/);
    assert.deepEqual(await report(join(root, "r1")), fromCurrent);
    await Deno.writeTextFile(
      path,
      JSON.stringify({ ...current, format_version: 3 }),
    );
    await assert.rejects(
      report(join(root, "r3")),
      /summary\.json": format_version 3 is not 1 or 2/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("hfss report rejects a folder without eval outputs", async () => {
  const root = await Deno.makeTempDir();
  try {
    await assert.rejects(
      buildProgram().parseAsync(["report", "--results", root], {
        from: "user",
      }),
      /no summary\.json/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name: "hfss report renders in headless Chromium with its plots and no errors",
  ignore: !haveChromium(),
  fn: async () => {
    const { root, results } = await setup();
    try {
      const out = join(root, "report");
      await buildProgram().parseAsync([
        "report",
        "--results",
        results,
        "--out",
        out,
      ], { from: "user" });
      const page = await checkPage(
        `file://${join(out, "report.html")}`,
        `(() => {
          const plots = [...document.querySelectorAll("svg.plot")];
          const imgs = [...document.images];
          return {
            title: document.title,
            plots: plots.length,
            plotsVisible: plots.filter((p) => p.getBoundingClientRect().width > 100).length,
            circles: document.querySelectorAll("svg.plot circle").length,
            lines: document.querySelectorAll("svg.plot polyline").length,
            bars: document.querySelectorAll("svg.plot rect title").length,
            images: imgs.length,
            imagesDecoded: imgs.filter((i) => i.complete && i.naturalWidth > 0).length,
            tables: document.querySelectorAll("table").length,
          };
        })()`,
        { screenshot: true },
      );
      assert.deepEqual(page.errors, []);
      const v = page.value as Record<string, number | string>;
      assert.equal(v.title, "HFSS evaluation report");
      assert.equal(v.plots, 5);
      assert.equal(v.plotsVisible, 5);
      assert.ok((v.circles as number) > 20, `markers: ${v.circles}`);
      assert.ok((v.lines as number) >= 8, `lines: ${v.lines}`);
      assert.equal(v.bars, 2);
      assert.equal(v.images, 6); // gallery: the evaluated classes (4 + 2)
      assert.equal(v.imagesDecoded, 6);
      assert.ok(page.screenshot && page.screenshot.length > 1000);
      const keep = Deno.env.get("HFSS_REPORT_SCREENSHOT");
      if (keep) await Deno.writeFile(keep, page.screenshot!);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
