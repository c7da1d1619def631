/**
 * Markdown tables of the report: AvgTPR against t per run and panel, OOD
 * means per group, per-class tables, and the run configuration. Numbers are
 * written with 4 decimals; missing values (NaN/null) as "–".
 */
import type { TprCurve } from "../eval/tpr_curves.ts";
import type { ReportRun } from "./model.ts";

/** Format a number for a table cell (4 decimals, "–" when missing). */
export function cell(v: number | null | undefined, digits = 4): string {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "–";
}

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

/** The AvgTPR-t table of one panel. */
export function curveTable(c: TprCurve): string {
  return mdTable(
    [
      "t",
      "shortcut",
      "non-shortcut",
      "shortcut + DFM",
      "non-shortcut + DFM",
      "|S_t|",
      "|N_t|",
    ],
    c.thresholds.map((t, k) => [
      String(t),
      cell(c.shortcut[k]),
      cell(c.nonShortcut[k]),
      cell(c.shortcutDfm[k]),
      cell(c.nonShortcutDfm[k]),
      String(c.shortcutIndices[k]!.length),
      String(c.nonShortcutIndices[k]!.length),
    ]),
  );
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
    out.push(curveTable(r.curves.id));
    out.push(`### AvgTPR, OOD / attacked (Corrupt columns)\n`);
    out.push(curveTable(r.curves.ood));
    const m = r.summary.mean ?? {};
    out.push(`### Means over classes\n`);
    out.push(mdTable(
      [
        "org_acc",
        "org_dfm_acc",
        "corrupt_acc",
        "corrupt_dfm_acc",
        "org_fpr",
        "dfm_fpr",
      ],
      [[
        cell(m.org_acc),
        cell(m.org_dfm_acc),
        cell(m.corrupt_acc),
        cell(m.corrupt_dfm_acc),
        cell(m.org_fpr),
        cell(m.dfm_fpr),
      ]],
    ));
    const groups = r.summary.groups?.length
      ? r.summary.groups
      : r.summary.parts ?? [];
    if (groups.length > 1 || (r.summary.groups?.length ?? 0) > 0) {
      out.push(
        `### OOD TPR per ${r.summary.groups?.length ? "corruption" : "part"}\n`,
      );
      out.push(mdTable(
        ["name", "classes", "TPR", "TPR + DFM"],
        groups.map((
          g,
        ) => [g.name, String(g.classes), cell(g.acc), cell(g.dfm_acc)]),
      ));
    }
    out.push(`### Per class\n`);
    out.push(mdTable(
      [
        "class_id",
        "wnid",
        "n_id",
        "n_ood",
        "org_acc",
        "org_dfm_acc",
        "corrupt_acc",
        "corrupt_dfm_acc",
        "org_fpr",
        "dfm_fpr",
      ],
      r.rows.map((x) => [
        String(x.class_id),
        x.wnid,
        String(x.n_id),
        String(x.n_ood),
        cell(x.org_acc),
        cell(x.org_dfm_acc),
        cell(x.corrupt_acc),
        cell(x.corrupt_dfm_acc),
        cell(x.org_fpr),
        cell(x.dfm_fpr),
      ]),
    ));
    out.push(`### Configuration\n`);
    out.push("```json\n" + JSON.stringify(r.config, null, 2) + "\n```\n");
  }
  return out.join("\n");
}
