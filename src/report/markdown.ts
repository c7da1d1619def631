/**
 * Markdown tables of the report: AvgTPR against t per run and panel, OOD
 * means per group, per-class tables, and the run configuration. Numbers are
 * written with 4 decimals; missing values (NaN/null) as "–".
 */
import {
  classTable,
  curveTable,
  groupsTable,
  meansTable,
  type ReportRun,
  type ReportTable,
} from "./model.ts";

function escapeMd(s: string): string {
  return s.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/**
 * A Markdown table.
 *
 * @example
 * ```ts
 * mdTable(["a", "b"], [["1", "x|y"]]); // "| a | b |\n| --- | --- |\n| 1 | x\\|y |\n"
 * ```
 */
export function mdTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const line = (r: readonly string[]) => `| ${r.map(escapeMd).join(" | ")} |`;
  return [
    line(header),
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map(line),
  ].join("\n") + "\n";
}

function mdOf(t: ReportTable): string {
  return mdTable(t.header, t.rows);
}

/** The whole Markdown report. */
export function markdownReport(
  runs: readonly ReportRun[],
  options: { title?: string } = {},
): string {
  const out: string[] = [];
  out.push(`# ${options.title ?? "HFSS evaluation report"}\n`);
  out.push(
    "AvgTPR of shortcut classes (S_t: Org_DFM_acc > t) and non-shortcut classes (N_t: Org_DFM_acc ≤ t), " +
      "without and with each class's rank-0 DFM, as in the reference notebook. " +
      "An empty group is shown as – (compat hfss) or 0 (compat reference).\n",
  );
  for (const r of runs) {
    out.push(`## ${r.title}\n`);
    out.push(
      `Run folder \`${r.name}\`; ${r.rows.length} classes; empty groups: compat \`${r.compat}\`.\n`,
    );
    out.push(`### AvgTPR, in-distribution (Org columns)\n`);
    out.push(mdOf(curveTable(r.curves.id)));
    out.push(`### AvgTPR, OOD / attacked (Corrupt columns)\n`);
    out.push(mdOf(curveTable(r.curves.ood)));
    out.push(`### Means over classes\n`);
    out.push(mdOf(meansTable(r)));
    const grouped = groupsTable(r);
    if (grouped) {
      out.push(`### OOD TPR per ${grouped.by}\n`);
      out.push(mdOf(grouped.table));
    }
    out.push(`### Per class\n`);
    out.push(mdOf(classTable(r)));
    out.push(`### Configuration\n`);
    out.push("```json\n" + JSON.stringify(r.config, null, 2) + "\n```\n");
  }
  return out.join("\n");
}
