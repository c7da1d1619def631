/**
 * The self-contained HTML report: one file, inline CSS and SVG, pictures as
 * data URIs, no scripts and no external resources, so it opens offline and
 * renders the same everywhere. Output is deterministic (no dates).
 */
import type { TprCurve } from "../eval/tpr_curves.ts";
import {
  classTable,
  curveTable,
  groupsTable,
  meansTable,
  type ReportRun,
  type ReportTable,
} from "./model.ts";
import { barChart, escapeXml, linePlot } from "./svg.ts";

const kShortcut = "#1f77b4";
const kNonShortcut = "#ff7f0e";

/** The notebook's AvgTPR-t figure for one panel (marker size = group size). */
export function curvePlot(c: TprCurve, title: string, id: string): string {
  return linePlot({
    id,
    title,
    xLabel: "threshold t (shortcut class: Org_DFM_acc > t)",
    yLabel: "AvgTPR",
    x: c.thresholds,
    series: [
      {
        name: "shortcut classes",
        color: kShortcut,
        values: c.shortcut,
        sizes: c.sizeShortcut,
      },
      {
        name: "non-shortcut classes",
        color: kNonShortcut,
        values: c.nonShortcut,
        sizes: c.sizeNonShortcut,
      },
      {
        name: "shortcut classes + DFM",
        color: kShortcut,
        dash: "6 4",
        values: c.shortcutDfm,
        sizes: c.sizeShortcut,
      },
      {
        name: "non-shortcut classes + DFM",
        color: kNonShortcut,
        dash: "6 4",
        values: c.nonShortcutDfm,
        sizes: c.sizeNonShortcut,
      },
    ],
  });
}

function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  cls = "",
): string {
  const th = header.map((h) => `<th>${escapeXml(h)}</th>`).join("");
  const tr = rows.map((r) =>
    `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join("")}</tr>`
  ).join("\n");
  return `<table${
    cls ? ` class="${cls}"` : ""
  }><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

function tableHtml(t: ReportTable): string {
  return table(t.header, t.rows, "num");
}

const kCss = `
body{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:36px}
h3{font-size:15px}
.plots{display:flex;flex-wrap:wrap;gap:16px}
table{border-collapse:collapse;font-size:12px;margin:8px 0}
th,td{border:1px solid #ccc;padding:3px 6px}
table.num td{text-align:right}
th{background:#f3f3f3}
.gallery{display:flex;flex-wrap:wrap;gap:10px}
figure{margin:0;text-align:center;font-size:11px;width:120px}
figure img{width:112px;height:112px;image-rendering:pixelated;border:1px solid #999;background:#000}
pre{background:#f7f7f7;padding:8px;font-size:11px;overflow:auto}
details{margin:8px 0}
.note{color:#555;font-size:13px}
`;

/**
 * Render the HTML report.
 *
 * @example
 * ```ts ignore
 * await Deno.writeTextFile("report.html", htmlReport(await loadRuns("results/")));
 * ```
 */
export function htmlReport(
  runs: readonly ReportRun[],
  options: { title?: string } = {},
): string {
  const title = options.title ?? "HFSS evaluation report";
  const body: string[] = [];
  body.push(`<h1>${escapeXml(title)}</h1>`);
  body.push(
    `<p class="note">AvgTPR of shortcut classes (S<sub>t</sub>: Org_DFM_acc &gt; t) and non-shortcut classes (N<sub>t</sub>: Org_DFM_acc ≤ t), without (solid) and with (dashed) each class's rank-0 DFM, against t, as in the reference notebook; marker area = 200·|group|/(|S<sub>t</sub>|+|N<sub>t</sub>|). Empty groups are not drawn (compat hfss) or drawn as 0 (compat reference). Every plotted number is in curves.csv / report.json beside this file.</p>`,
  );
  body.push(
    `<ul>${
      runs.map((r, i) =>
        `<li><a href="#run-${i}">${escapeXml(r.title)}</a></li>`
      ).join("")
    }</ul>`,
  );
  runs.forEach((r, i) => {
    body.push(`<section id="run-${i}" class="run">`);
    body.push(`<h2>${escapeXml(r.title)}</h2>`);
    body.push(
      `<p class="note">Run folder <code>${
        escapeXml(r.name)
      }</code>; ${r.rows.length} classes${
        r.summary.complete === false ? " (incomplete run)" : ""
      }; empty groups: compat <code>${r.compat}</code>.</p>`,
    );
    body.push(`<div class="plots">`);
    body.push(
      curvePlot(r.curves.id, `${r.title}: in-distribution`, `plot-${i}-id`),
    );
    body.push(curvePlot(r.curves.ood, `${r.title}: OOD`, `plot-${i}-ood`));
    const grouped = groupsTable(r);
    if (grouped) {
      const { groups } = grouped;
      body.push(barChart({
        id: `plot-${i}-groups`,
        title: `${r.title}: TPR per ${grouped.by}`,
        yLabel: "mean TPR over classes",
        categories: groups.map((g) => g.name),
        series: [
          {
            name: "without DFM",
            color: kShortcut,
            values: groups.map((g) => g.acc),
          },
          {
            name: "with DFM",
            color: kNonShortcut,
            values: groups.map((g) => g.dfm_acc),
          },
        ],
      }));
    }
    body.push(`</div>`);
    body.push(
      `<h3>AvgTPR, in-distribution</h3>${tableHtml(curveTable(r.curves.id))}`,
    );
    body.push(`<h3>AvgTPR, OOD</h3>${tableHtml(curveTable(r.curves.ood))}`);
    body.push(`<h3>Means over classes</h3>${tableHtml(meansTable(r))}`);
    if (grouped) body.push(tableHtml(grouped.table));
    if (r.gallery.length) {
      body.push(`<h3>DFM gallery</h3><div class="gallery">`);
      for (const g of r.gallery) {
        body.push(
          `<figure><img src="${g.dataUri}" alt="${
            escapeXml(g.label)
          }"><figcaption>${escapeXml(g.label)}</figcaption></figure>`,
        );
      }
      body.push(`</div>`);
    }
    body.push(`<h3>Per class</h3>${tableHtml(classTable(r))}`);
    body.push(
      `<details><summary>Configuration</summary><pre>${
        escapeXml(JSON.stringify(r.config, null, 2))
      }</pre></details>`,
    );
    body.push(`</section>`);
  });
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title>
<style>${kCss}</style>
</head>
<body>
${body.join("\n")}
</body>
</html>
`;
}
