/**
 * The report's data: eval runs found under a results folder, their per-class
 * tables, the AvgTPR curves recomputed from `per_class.csv` (so every plotted
 * number is reproducible from the CSV), per-group means, and the DFM gallery.
 *
 * A results folder is either one eval output (`summary.json` at its top) or a
 * folder of eval outputs (one per OOD set / attack, in sorted order).
 */
import { basename, join, relative } from "node:path";
import { encodeMaskPng } from "../dfm/render.ts";
import { UserError } from "../errors.ts";
import { readStage, stageMask } from "../dfm/store.ts";
import {
  type ClassRow,
  type EvalSummary,
  kClassColumns,
} from "../eval/runner.ts";
import {
  type CompatMode,
  type TprCurve,
  tprPanels,
} from "../eval/tpr_curves.ts";
import { parseCsv } from "../io/csv.ts";
import { pathExists, readFailure } from "../io/read.ts";
import { snakeKeys } from "../json_keys.ts";

/** One picture of the DFM gallery. */
export interface GalleryItem {
  label: string;
  /** `data:image/png;base64,…` */
  dataUri: string;
}

/** One eval run as shown in the report. */
export interface ReportRun {
  /** Folder name relative to the results folder ("." for a single run). */
  name: string;
  dir: string;
  /** Display title, e.g. "ImageNet-C (imagenet-c)" or "FGSM ε=8/255". */
  title: string;
  config: Record<string, unknown>;
  summary: EvalSummary;
  rows: ClassRow[];
  compat: CompatMode;
  curves: { id: TprCurve; ood: TprCurve };
  gallery: GalleryItem[];
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Parse `per_class.csv` into rows (empty field → NaN). */
export function parseClassCsv(text: string, source: string): ClassRow[] {
  const rows = parseCsv(text);
  const header = rows[0];
  if (!header) throw new UserError(`Cannot read "${source}": file is empty`);
  const idx = kClassColumns.map((c) => header.indexOf(c));
  const missing = kClassColumns.filter((_, i) => idx[i]! < 0);
  if (missing.length) {
    throw new UserError(
      `Cannot read "${source}": missing columns ${missing.join(", ")}`,
    );
  }
  return rows.slice(1).map((r) => {
    const o: Record<string, number | string> = {};
    kClassColumns.forEach((c, i) => {
      const v = r[idx[i]!] ?? "";
      o[c] = c === "wnid" ? v : v === "" ? NaN : Number(v);
    });
    return o as unknown as ClassRow;
  });
}

/** A display title for a run from its configuration. */
export function runTitle(
  config: Record<string, unknown>,
  fallback: string,
): string {
  const attack = config.attack as
    | { name?: string; epsilon_text?: string }
    | null
    | undefined;
  const ood = config.ood as
    | { layout?: string; root?: string }
    | null
    | undefined;
  const label = typeof config.label === "string" ? config.label : undefined;
  if (label) return label;
  const names: Record<string, string> = {
    "imagenet-c": "ImageNet-C",
    "imagenet-v2": "ImageNet-v2",
    "imagenet-r": "ImageNet-R",
    "imagenet-a": "ImageNet-A",
    sketch: "ImageNet-Sketch",
  };
  const parts: string[] = [];
  if (ood?.layout) {
    const known = names[ood.layout];
    parts.push(
      known ??
        (ood.root ? `${basename(ood.root)} (${ood.layout})` : ood.layout),
    );
  }
  if (attack?.name) {
    parts.push(`${attack.name.toUpperCase()} ε=${attack.epsilon_text ?? "?"}`);
  }
  return parts.length ? parts.join(" + ") : fallback;
}

/**
 * Gallery pictures: the PNG files of `<dfm>/png/` (sorted), or, when there
 * are none, the rank-0 masks of the evaluated classes drawn from `masks.npy`
 * (white = kept frequency, DC at the centre). At most `limit` pictures.
 */
export async function loadGallery(
  dfmDir: string | undefined,
  classIds: readonly number[],
  limit = 48,
): Promise<GalleryItem[]> {
  if (!dfmDir || !(await pathExists(dfmDir))) return [];
  const pngDir = join(dfmDir, "png");
  const items: GalleryItem[] = [];
  if (await pathExists(pngDir)) {
    const names: string[] = [];
    for await (const e of Deno.readDir(pngDir)) {
      if (e.isFile && e.name.toLowerCase().endsWith(".png")) names.push(e.name);
    }
    names.sort();
    for (const n of names.slice(0, limit)) {
      const bytes = await Deno.readFile(join(pngDir, n));
      items.push({
        label: n.replace(/\.png$/i, ""),
        dataUri: `data:image/png;base64,${base64(bytes)}`,
      });
    }
    if (items.length) return items;
  }
  try {
    const stage = await readStage(dfmDir);
    const s = stage.manifest.image_size;
    const wanted = new Set(classIds);
    stage.manifest.classes.forEach((c, pos) => {
      if (items.length >= limit || (wanted.size && !wanted.has(c.index))) {
        return;
      }
      const png = encodeMaskPng(stageMask(stage, pos, 0), s);
      items.push({
        label: `${c.index}${c.wnid ? ` ${c.wnid}` : ""}${
          c.name ? ` ${c.name}` : ""
        }`,
        dataUri: `data:image/png;base64,${base64(png)}`,
      });
    });
  } catch {
    // no readable stage: no gallery
  }
  return items;
}

/**
 * An eval `summary.json` of any format this reader knows, as the current
 * format: format 1 wrote the AvgTPR curves with camelCase keys, format 2 with
 * snake_case keys.
 *
 * @throws UserError naming the file when it is not JSON or of a newer format
 */
export function parseEvalSummary(text: string, path: string): EvalSummary {
  let s: Record<string, unknown>;
  try {
    s = JSON.parse(text);
  } catch (err) {
    throw new UserError(
      `Cannot read eval summary "${path}": ${readFailure(err)}`,
    );
  }
  if (s === null || typeof s !== "object" || Array.isArray(s)) {
    throw new UserError(
      `Cannot read eval summary "${path}": not a JSON object`,
    );
  }
  const version = s.format_version ?? 1;
  if (version === 1) {
    const curves = s.curves as Record<string, unknown> | undefined;
    return {
      ...s,
      format_version: 2,
      ...(curves ? { curves: snakeKeys(curves) } : {}),
    } as unknown as EvalSummary;
  }
  if (version !== 2) {
    throw new UserError(
      `Cannot read eval summary "${path}": format_version ${
        JSON.stringify(version)
      } is not 1 or 2 (written by a newer hfss?)`,
    );
  }
  return s as unknown as EvalSummary;
}

async function loadRun(
  dir: string,
  root: string,
  compat?: CompatMode,
): Promise<ReportRun> {
  const summaryPath = join(dir, "summary.json");
  let text: string;
  try {
    text = await Deno.readTextFile(summaryPath);
  } catch (err) {
    throw new UserError(
      `Cannot read eval summary "${summaryPath}": ${readFailure(err)}`,
    );
  }
  const summary = parseEvalSummary(text, summaryPath);
  const csvPath = join(dir, "per_class.csv");
  let csvText: string;
  try {
    csvText = await Deno.readTextFile(csvPath);
  } catch {
    throw new UserError(
      `Cannot read per-class table "${csvPath}": file not found`,
    );
  }
  const rows = parseClassCsv(csvText, csvPath);
  const mode = compat ?? summary.curves?.compat ?? "hfss";
  const curves = tprPanels({
    org_acc: rows.map((r) => r.org_acc),
    org_dfm_acc: rows.map((r) => r.org_dfm_acc),
    corrupt_acc: rows.map((r) => r.corrupt_acc),
    corrupt_dfm_acc: rows.map((r) => r.corrupt_dfm_acc),
  }, { compat: mode });
  const name = relative(root, dir) || ".";
  const config = summary.config ?? {};
  const dfm = typeof config.dfm === "string" ? config.dfm : undefined;
  return {
    name,
    dir,
    title: runTitle(config, name),
    config,
    summary,
    rows,
    compat: mode,
    curves,
    gallery: await loadGallery(dfm, rows.map((r) => r.class_id)),
  };
}

/**
 * Find and load the eval runs under `results`.
 *
 * @example
 * ```ts ignore
 * const runs = await loadRuns("results/");
 * ```
 */
export async function loadRuns(
  results: string,
  options: { compat?: CompatMode } = {},
): Promise<ReportRun[]> {
  if (!(await pathExists(results))) {
    throw new UserError(`Cannot read results "${results}": folder not found`);
  }
  if (await pathExists(join(results, "summary.json"))) {
    return [await loadRun(results, results, options.compat)];
  }
  const dirs: string[] = [];
  for await (const e of Deno.readDir(results)) {
    if (
      e.isDirectory && await pathExists(join(results, e.name, "summary.json"))
    ) {
      dirs.push(e.name);
    }
  }
  dirs.sort();
  if (!dirs.length) {
    throw new UserError(
      `Cannot build report from "${results}": no summary.json in it or its subfolders`,
    );
  }
  const runs: ReportRun[] = [];
  for (const d of dirs) {
    runs.push(await loadRun(join(results, d), results, options.compat));
  }
  return runs;
}

/** Rows of `curves.csv`: every plotted AvgTPR number. */
export function curveRows(
  runs: readonly ReportRun[],
): Record<string, string | number>[] {
  const out: Record<string, string | number>[] = [];
  for (const r of runs) {
    for (
      const [panel, c] of [["id", r.curves.id], ["ood", r.curves.ood]] as const
    ) {
      c.thresholds.forEach((t, k) => {
        out.push({
          run: r.name,
          panel,
          t,
          avg_tpr_shortcut: c.shortcut[k]!,
          avg_tpr_non_shortcut: c.nonShortcut[k]!,
          avg_tpr_shortcut_dfm: c.shortcutDfm[k]!,
          avg_tpr_non_shortcut_dfm: c.nonShortcutDfm[k]!,
          size_shortcut: c.sizeShortcut[k]!,
          size_non_shortcut: c.sizeNonShortcut[k]!,
          n_shortcut: c.shortcutIndices[k]!.length,
          n_non_shortcut: c.nonShortcutIndices[k]!.length,
        });
      });
    }
  }
  return out;
}

/** Columns of `curves.csv`. */
export const kCurveColumns: readonly string[] = [
  "run",
  "panel",
  "t",
  "avg_tpr_shortcut",
  "avg_tpr_non_shortcut",
  "avg_tpr_shortcut_dfm",
  "avg_tpr_non_shortcut_dfm",
  "size_shortcut",
  "size_non_shortcut",
  "n_shortcut",
  "n_non_shortcut",
];

/** Rows of `groups.csv`: OOD TPR per part/group (IN-C corruption, IN-v2 subset), as plotted. */
export function groupRows(
  runs: readonly ReportRun[],
): Record<string, string | number | null>[] {
  const out: Record<string, string | number | null>[] = [];
  for (const r of runs) {
    const list = r.summary.groups?.length
      ? r.summary.groups
      : r.summary.parts ?? [];
    for (const g of list) {
      out.push({
        run: r.name,
        name: g.name,
        classes: g.classes,
        acc: g.acc,
        dfm_acc: g.dfm_acc,
      });
    }
  }
  return out;
}

/** Format a number for a table cell (4 decimals, "–" when missing). */
export function cell(v: number | null | undefined, digits = 4): string {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "–";
}

/** A table of formatted cells; the HTML and Markdown reports render the same ones. */
export interface ReportTable {
  header: string[];
  rows: string[][];
}

/** The AvgTPR-t table of one panel. */
export function curveTable(c: TprCurve): ReportTable {
  return {
    header: [
      "t",
      "shortcut",
      "non-shortcut",
      "shortcut + DFM",
      "non-shortcut + DFM",
      "|S_t|",
      "|N_t|",
    ],
    rows: c.thresholds.map((t, k) => [
      String(t),
      cell(c.shortcut[k]),
      cell(c.nonShortcut[k]),
      cell(c.shortcutDfm[k]),
      cell(c.nonShortcutDfm[k]),
      String(c.shortcutIndices[k]!.length),
      String(c.nonShortcutIndices[k]!.length),
    ]),
  };
}

/** The class means of a run (one row). */
export function meansTable(r: ReportRun): ReportTable {
  const m = r.summary.mean ?? {};
  const keys = [
    "org_acc",
    "org_dfm_acc",
    "corrupt_acc",
    "corrupt_dfm_acc",
    "org_fpr",
    "dfm_fpr",
  ];
  return { header: keys, rows: [keys.map((k) => cell(m[k]))] };
}

/**
 * OOD TPR per group (ImageNet-C corruption) or per part (ImageNet-v2
 * subset), when the run has more than one part or any group; else undefined.
 * `groups` are the summary entries the table shows, in its row order.
 */
export function groupsTable(
  r: ReportRun,
): {
  by: "corruption" | "part";
  groups: readonly {
    name: string;
    classes: number;
    acc: number | null;
    dfm_acc: number | null;
  }[];
  table: ReportTable;
} | undefined {
  const groups = r.summary.groups?.length
    ? r.summary.groups
    : r.summary.parts ?? [];
  if (!(groups.length > 1 || (r.summary.groups?.length ?? 0) > 0)) {
    return undefined;
  }
  return {
    by: r.summary.groups?.length ? "corruption" : "part",
    groups,
    table: {
      header: ["name", "classes", "TPR", "TPR + DFM"],
      rows: groups.map((g) => [
        g.name,
        String(g.classes),
        cell(g.acc),
        cell(g.dfm_acc),
      ]),
    },
  };
}

/** The per-class table of a run: the columns of `per_class.csv`. */
export function classTable(r: ReportRun): ReportTable {
  const counts = new Set(["class_id", "n_id", "n_ood", "n_neg"]);
  return {
    header: [...kClassColumns],
    rows: r.rows.map((x) =>
      kClassColumns.map((k) =>
        k === "wnid"
          ? x.wnid
          : counts.has(k)
          ? String(x[k])
          : cell(x[k] as number)
      )
    ),
  };
}
