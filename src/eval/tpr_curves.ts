/**
 * AvgTPR of shortcut vs non-shortcut classes against a threshold t, exactly as
 * the reference notebook (`result_visual.ipynb` cells 5–6, reference-hfss.md
 * §3.5) computes it.
 *
 * For each t in 0.1, 0.2, …, 0.9 (the literal doubles, not k·0.1):
 * - S_t = classes with `split > t` (shortcut), N_t = classes with `split ≤ t`
 *   (non-shortcut), where `split` is the Org_DFM_acc column of the table being
 *   plotted; a class whose split value is NaN is in neither group (pandas
 *   boolean indexing);
 * - each AvgTPR is the sum over the group in ascending class order divided by
 *   the number of summed values (values that are NaN are skipped, as pandas
 *   `mean()` does);
 * - marker size = `n_s / (n_s + n_n) * 100 * 2` (and likewise for N_t),
 *   evaluated in that order, so 7/50 gives 28.000000000000004 as the notebook.
 *
 * Empty group: the notebook's `try/except` plots 0. That is `compat:
 * "reference"`; the default (`compat: "hfss"`) gives NaN (serialised as null),
 * because 0 is a real TPR and an empty group has none.
 */

import { finiteOrNull } from "../io/json.ts";

/** The notebook's thresholds, literal doubles. */
export const kThresholds: readonly number[] = Object.freeze([
  0.1,
  0.2,
  0.3,
  0.4,
  0.5,
  0.6,
  0.7,
  0.8,
  0.9,
]);

/** Empty-group convention: `reference` → 0, `hfss` → NaN. */
export type CompatMode = "hfss" | "reference";

/** Options of {@linkcode tprCurves}. */
export interface TprCurveOptions {
  /** Thresholds t. @default kThresholds */
  thresholds?: readonly number[];
  /** Empty-group convention. @default "hfss" */
  compat?: CompatMode;
}

/** One panel of the notebook's figure: four AvgTPR series and two size series. */
export interface TprCurve {
  thresholds: number[];
  /** S_t per threshold (ascending class positions). */
  shortcutIndices: number[][];
  /** N_t per threshold (ascending class positions). */
  nonShortcutIndices: number[][];
  /** AvgTPR of S_t without DFM (notebook `S_de`). */
  shortcut: number[];
  /** AvgTPR of N_t without DFM (`N_de`). */
  nonShortcut: number[];
  /** AvgTPR of S_t with DFM (`S_DFM_de`). */
  shortcutDfm: number[];
  /** AvgTPR of N_t with DFM (`N_DFM_de`). */
  nonShortcutDfm: number[];
  /** Marker size of S_t (`sizes_shortcut`). */
  sizeShortcut: number[];
  /** Marker size of N_t (`sizes_normal`). */
  sizeNonShortcut: number[];
}

function groupMean(
  values: ArrayLike<number>,
  idx: readonly number[],
  empty: number,
): number {
  let s = 0;
  let n = 0;
  for (const i of idx) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    s += v;
    n++;
  }
  return n > 0 ? s / n : empty;
}

/**
 * Compute one panel of AvgTPR curves.
 *
 * @param split the Org_DFM_acc column (defines S_t and N_t)
 * @param columns `acc` (A_c) and `dfmAcc` (A^DFM_c): (Org_acc, Org_DFM_acc)
 *   for the in-distribution panel, (Corrupt_acc, Corrupt_DFM_acc) for the OOD panel
 * @returns the series of the notebook figure
 *
 * @example
 * ```ts
 * const c = tprCurves([0.05, 0.95], { acc: [0.5, 1], dfmAcc: [0.05, 0.95] });
 * c.shortcut[0]; // 1 (t = 0.1: only class 1 is a shortcut class)
 * c.sizeShortcut[0]; // 100
 * ```
 */
export function tprCurves(
  split: ArrayLike<number>,
  columns: { acc: ArrayLike<number>; dfmAcc: ArrayLike<number> },
  options: TprCurveOptions = {},
): TprCurve {
  const thresholds = [...(options.thresholds ?? kThresholds)];
  const empty = (options.compat ?? "hfss") === "reference" ? 0 : NaN;
  if (
    columns.acc.length !== split.length ||
    columns.dfmAcc.length !== split.length
  ) {
    throw new RangeError(
      `Cannot compute AvgTPR curves: columns have ${columns.acc.length} and ${columns.dfmAcc.length} rows, split has ${split.length}`,
    );
  }
  const out: TprCurve = {
    thresholds,
    shortcutIndices: [],
    nonShortcutIndices: [],
    shortcut: [],
    nonShortcut: [],
    shortcutDfm: [],
    nonShortcutDfm: [],
    sizeShortcut: [],
    sizeNonShortcut: [],
  };
  for (const t of thresholds) {
    const s: number[] = [];
    const n: number[] = [];
    for (let i = 0; i < split.length; i++) {
      const v = split[i]!;
      if (v > t) s.push(i);
      else if (v <= t) n.push(i);
    }
    out.shortcutIndices.push(s);
    out.nonShortcutIndices.push(n);
    out.shortcut.push(groupMean(columns.acc, s, empty));
    out.nonShortcut.push(groupMean(columns.acc, n, empty));
    out.shortcutDfm.push(groupMean(columns.dfmAcc, s, empty));
    out.nonShortcutDfm.push(groupMean(columns.dfmAcc, n, empty));
    const total = s.length + n.length;
    out.sizeShortcut.push(total > 0 ? s.length / total * 100 * 2 : empty);
    out.sizeNonShortcut.push(total > 0 ? n.length / total * 100 * 2 : empty);
  }
  return out;
}

/**
 * A {@linkcode TprCurve} as hfss writes it to JSON (`summary.json` format 2,
 * `report.json`): snake_case keys, NaN as null.
 */
export interface TprCurveJson {
  thresholds: number[];
  shortcut_indices: number[][];
  non_shortcut_indices: number[][];
  shortcut: (number | null)[];
  non_shortcut: (number | null)[];
  shortcut_dfm: (number | null)[];
  non_shortcut_dfm: (number | null)[];
  size_shortcut: (number | null)[];
  size_non_shortcut: (number | null)[];
}

/**
 * A curve as JSON: snake_case keys, NaN as null.
 *
 * @example
 * ```ts
 * tprCurveToJson(tprCurves([0.05], { acc: [1], dfmAcc: [0.05] })).shortcut[0]; // null
 * ```
 */
export function tprCurveToJson(c: TprCurve): TprCurveJson {
  const f = (a: number[]) => a.map(finiteOrNull);
  return {
    thresholds: c.thresholds,
    shortcut_indices: c.shortcutIndices,
    non_shortcut_indices: c.nonShortcutIndices,
    shortcut: f(c.shortcut),
    non_shortcut: f(c.nonShortcut),
    shortcut_dfm: f(c.shortcutDfm),
    non_shortcut_dfm: f(c.nonShortcutDfm),
    size_shortcut: f(c.sizeShortcut),
    size_non_shortcut: f(c.sizeNonShortcut),
  };
}

/** A per-class table with the four reference columns. */
export interface TprTable {
  org_acc: ArrayLike<number>;
  org_dfm_acc: ArrayLike<number>;
  corrupt_acc: ArrayLike<number>;
  corrupt_dfm_acc: ArrayLike<number>;
}

/**
 * Both panels of the notebook figure: in-distribution (Org columns) and OOD
 * (Corrupt columns), both split on Org_DFM_acc.
 *
 * @example
 * ```ts
 * const { id, ood } = tprPanels({
 *   org_acc: [1], org_dfm_acc: [1], corrupt_acc: [0.5], corrupt_dfm_acc: [0],
 * });
 * ood.shortcut[0]; // 0.5
 * ```
 */
export function tprPanels(
  table: TprTable,
  options: TprCurveOptions = {},
): { id: TprCurve; ood: TprCurve } {
  return {
    id: tprCurves(table.org_dfm_acc, {
      acc: table.org_acc,
      dfmAcc: table.org_dfm_acc,
    }, options),
    ood: tprCurves(table.org_dfm_acc, {
      acc: table.corrupt_acc,
      dfmAcc: table.corrupt_dfm_acc,
    }, options),
  };
}
