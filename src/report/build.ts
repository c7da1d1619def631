/**
 * The report files of `hfss eval` outputs: `report.html` (inline SVG plots),
 * `report.md`, `curves.csv` (AvgTPR per run, panel and t, with marker sizes
 * and group sizes), `groups.csv` (OOD TPR per corruption / part) and
 * `report.json` (the same numbers and each run's configuration).
 */
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic.ts";
import { type CompatMode, tprCurveToJson } from "../eval/tpr_curves.ts";
import { recordsToCsv } from "../io/csv.ts";
import { htmlReport } from "./html.ts";
import { markdownReport } from "./markdown.ts";
import { curveRows, groupRows, kCurveColumns, loadRuns } from "./model.ts";

/** Options of {@linkcode buildReport}. */
export interface ReportOptions {
  results: string;
  out?: string;
  compat?: CompatMode;
  title?: string;
}

/** What {@linkcode buildReport} wrote. */
export interface ReportResult {
  out: string;
  runs: number;
  files: string[];
}

/**
 * Build the report files.
 *
 * @example
 * ```ts ignore
 * await buildReport({ results: "results/", out: "report/" });
 * ```
 */
export async function buildReport(o: ReportOptions): Promise<ReportResult> {
  const runs = await loadRuns(o.results, o.compat ? { compat: o.compat } : {});
  const out = o.out ?? join(o.results, "report");
  await Deno.mkdir(out, { recursive: true });
  const title = o.title ?? "HFSS evaluation report";
  const files = [
    "report.html",
    "report.md",
    "curves.csv",
    "groups.csv",
    "report.json",
  ];
  await writeFileAtomic(join(out, "report.html"), htmlReport(runs, { title }));
  await writeFileAtomic(
    join(out, "report.md"),
    markdownReport(runs, { title }),
  );
  await writeFileAtomic(
    join(out, "curves.csv"),
    recordsToCsv(curveRows(runs), kCurveColumns),
  );
  await writeFileAtomic(
    join(out, "groups.csv"),
    recordsToCsv(groupRows(runs), ["run", "name", "classes", "acc", "dfm_acc"]),
  );
  await writeJsonAtomic(join(out, "report.json"), {
    format_version: 1,
    title,
    runs: runs.map((r) => ({
      name: r.name,
      title: r.title,
      compat: r.compat,
      classes: r.rows.length,
      config: r.config,
      mean: r.summary.mean,
      groups: r.summary.groups ?? [],
      parts: r.summary.parts ?? [],
      curves: Object.fromEntries(
        (["id", "ood"] as const).map((p) => {
          // class ids instead of the summary's class positions
          const {
            shortcut_indices: s,
            non_shortcut_indices: n,
            ...series
          } = tprCurveToJson(r.curves[p]);
          const ids = (ix: number[][]) =>
            ix.map((is) => is.map((i) => r.rows[i]!.class_id));
          return [p, {
            ...series,
            shortcut_classes: ids(s),
            non_shortcut_classes: ids(n),
          }];
        }),
      ),
      gallery: r.gallery.map((g) => g.label),
    })),
  });
  return { out, runs: runs.length, files: files.map((n) => join(out, n)) };
}
