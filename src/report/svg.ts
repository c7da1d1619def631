/**
 * Hand-written, deterministic SVG plots for the report (no scripts, no
 * external resources, no randomness, no dates): the same data always gives
 * the same bytes. Coordinates are written with two decimals.
 *
 * Missing values (`null`/NaN) break a line and draw no marker. Marker sizes
 * follow matplotlib's `scatter(s=…)`, which is an area in pt²: the circle
 * radius is `sqrt(s/π)` (s = 200 → r ≈ 8).
 */

/** Escape text for XML element content and attribute values. */
export function escapeXml(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(
    ">",
    "&gt;",
  )
    .replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

function f2(x: number): string {
  const s = x.toFixed(2);
  return s === "-0.00" ? "0.00" : s;
}

/** Opening `<svg>`, `<title>`, white background and the centred heading of a plot. */
function svgHead(
  o: { id?: string | undefined; title: string },
  width: number,
  height: number,
  titleX: number,
): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="plot"${
      o.id ? ` id="${escapeXml(o.id)}"` : ""
    } width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${
      escapeXml(o.title)
    }">`,
    `<title>${escapeXml(o.title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${
      f2(titleX)
    }" y="20" text-anchor="middle" font-family="sans-serif" font-size="14" font-weight="bold">${
      escapeXml(o.title)
    }</text>`,
  ];
}

/** Plot margins. */
interface Margins {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** Six horizontal grid lines with their y tick labels, from y0 to y1. */
function yGrid(
  m: Margins,
  pw: number,
  sy: (y: number) => number,
  y0: number,
  y1: number,
): string[] {
  const parts: string[] = [];
  for (let k = 0; k <= 5; k++) {
    const v = y0 + (y1 - y0) * k / 5;
    const y = sy(v);
    parts.push(
      `<line x1="${f2(m.left)}" y1="${f2(y)}" x2="${f2(m.left + pw)}" y2="${
        f2(y)
      }" stroke="#e0e0e0" stroke-width="1"/>`,
    );
    parts.push(
      `<text x="${f2(m.left - 6)}" y="${
        f2(y + 4)
      }" text-anchor="end" font-family="sans-serif" font-size="11">${
        f2(v)
      }</text>`,
    );
  }
  return parts;
}

/** The frame around the plot area. */
function plotFrame(m: Margins, pw: number, ph: number): string {
  return `<rect x="${f2(m.left)}" y="${f2(m.top)}" width="${f2(pw)}" height="${
    f2(ph)
  }" fill="none" stroke="#333333" stroke-width="1"/>`;
}

/** The rotated y-axis label, centred on the plot area. */
function yAxisLabel(m: Margins, ph: number, label: string): string {
  return `<text x="14" y="${
    f2(m.top + ph / 2)
  }" text-anchor="middle" font-family="sans-serif" font-size="12" transform="rotate(-90 14 ${
    f2(m.top + ph / 2)
  })">${escapeXml(label)}</text>`;
}

/** One line of a {@linkcode linePlot}. */
export interface LineSeries {
  name: string;
  color: string;
  /** SVG stroke-dasharray, e.g. "6 4". */
  dash?: string;
  /** y values, one per x; null/NaN = missing. */
  values: readonly (number | null)[];
  /** Marker areas (matplotlib `s`), one per x; default 30. */
  sizes?: readonly (number | null)[];
}

/** Options of {@linkcode linePlot}. */
export interface LinePlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  x: readonly number[];
  series: readonly LineSeries[];
  /** @default 520 */
  width?: number;
  /** @default 360 */
  height?: number;
  /** y range. @default [0, 1] */
  yDomain?: readonly [number, number];
  /** id attribute of the root element. */
  id?: string;
}

function isNum(v: number | null | undefined): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/**
 * A line plot with sized markers and a legend (the notebook's AvgTPR-t figure).
 *
 * @example
 * ```ts
 * const svg = linePlot({
 *   title: "IN-1k", xLabel: "t", yLabel: "AvgTPR", x: [0.1, 0.2],
 *   series: [{ name: "shortcut", color: "#1f77b4", values: [0.8, 0.9], sizes: [180, 150] }],
 * });
 * svg.startsWith("<svg"); // true
 * ```
 */
export function linePlot(o: LinePlotOptions): string {
  const width = o.width ?? 520;
  const height = o.height ?? 360;
  const [y0, y1] = o.yDomain ?? [0, 1];
  const m = { left: 56, right: 16, top: 34, bottom: 92 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const xs = o.x;
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const pad = xs.length > 1 ? (xMax - xMin) * 0.05 : 0.5;
  const sx = (x: number) =>
    m.left + (x - (xMin - pad)) / ((xMax + pad) - (xMin - pad)) * pw;
  const sy = (y: number) => m.top + (1 - (y - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  parts.push(...svgHead(o, width, height, m.left + pw / 2));
  parts.push(...yGrid(m, pw, sy, y0, y1));
  for (const x of xs) {
    parts.push(
      `<text x="${f2(sx(x))}" y="${
        f2(m.top + ph + 16)
      }" text-anchor="middle" font-family="sans-serif" font-size="11">${
        escapeXml(String(x))
      }</text>`,
    );
  }
  parts.push(plotFrame(m, pw, ph));
  parts.push(
    `<text x="${f2(m.left + pw / 2)}" y="${
      f2(m.top + ph + 34)
    }" text-anchor="middle" font-family="sans-serif" font-size="12">${
      escapeXml(o.xLabel)
    }</text>`,
  );
  parts.push(yAxisLabel(m, ph, o.yLabel));
  // series
  o.series.forEach((s, si) => {
    const segs: string[][] = [];
    let cur: string[] = [];
    s.values.forEach((v, i) => {
      if (isNum(v) && i < xs.length) cur.push(`${f2(sx(xs[i]!))},${f2(sy(v))}`);
      else if (cur.length) {
        segs.push(cur);
        cur = [];
      }
    });
    if (cur.length) segs.push(cur);
    const dash = s.dash ? ` stroke-dasharray="${escapeXml(s.dash)}"` : "";
    parts.push(
      `<g class="series" data-series="${si}" data-name="${escapeXml(s.name)}">`,
    );
    for (const seg of segs) {
      parts.push(
        `<polyline points="${seg.join(" ")}" fill="none" stroke="${
          escapeXml(s.color)
        }" stroke-width="2"${dash}/>`,
      );
    }
    s.values.forEach((v, i) => {
      if (!isNum(v) || i >= xs.length) return;
      const size = s.sizes?.[i];
      const area = isNum(size) ? size : 30;
      const r = Math.sqrt(Math.max(area, 0) / Math.PI);
      parts.push(
        `<circle cx="${f2(sx(xs[i]!))}" cy="${f2(sy(v))}" r="${
          f2(Math.max(r, 1.5))
        }" fill="${escapeXml(s.color)}" fill-opacity="0.55" stroke="${
          escapeXml(s.color)
        }"><title>${escapeXml(s.name)} t=${xs[i]}: ${v}${
          isNum(size) ? ` (size ${size})` : ""
        }</title></circle>`,
      );
    });
    parts.push(`</g>`);
  });
  // legend below the plot, two columns
  o.series.forEach((s, si) => {
    const col = si % 2;
    const row = Math.floor(si / 2);
    const lx = m.left + col * (pw / 2);
    const ly = m.top + ph + 52 + row * 18;
    const dash = s.dash ? ` stroke-dasharray="${escapeXml(s.dash)}"` : "";
    parts.push(
      `<line x1="${f2(lx)}" y1="${f2(ly - 4)}" x2="${f2(lx + 24)}" y2="${
        f2(ly - 4)
      }" stroke="${escapeXml(s.color)}" stroke-width="2"${dash}/>`,
    );
    parts.push(
      `<text x="${f2(lx + 30)}" y="${
        f2(ly)
      }" font-family="sans-serif" font-size="11">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push(`</svg>`);
  return parts.join("\n");
}

/** Options of {@linkcode barChart}. */
export interface BarChartOptions {
  title: string;
  yLabel: string;
  categories: readonly string[];
  series: readonly {
    name: string;
    color: string;
    values: readonly (number | null)[];
  }[];
  width?: number;
  height?: number;
  yDomain?: readonly [number, number];
  id?: string;
}

/**
 * Grouped vertical bars (e.g. OOD TPR per corruption, with and without DFM).
 *
 * @example
 * ```ts
 * barChart({ title: "IN-C", yLabel: "TPR", categories: ["fog"],
 *   series: [{ name: "no DFM", color: "#1f77b4", values: [0.4] }] });
 * ```
 */
export function barChart(o: BarChartOptions): string {
  const n = o.categories.length;
  const width = o.width ?? Math.max(360, 70 + n * 46);
  const height = o.height ?? 340;
  const [y0, y1] = o.yDomain ?? [0, 1];
  const m = { left: 56, right: 16, top: 34, bottom: 110 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const sy = (y: number) =>
    m.top + (1 - (Math.min(Math.max(y, y0), y1) - y0) / (y1 - y0)) * ph;
  const band = pw / Math.max(n, 1);
  const bw = band * 0.8 / Math.max(o.series.length, 1);
  const parts: string[] = [];
  parts.push(...svgHead(o, width, height, m.left + pw / 2));
  parts.push(...yGrid(m, pw, sy, y0, y1));
  o.categories.forEach((c, ci) => {
    const cx = m.left + band * ci + band / 2;
    o.series.forEach((s, si) => {
      const v = s.values[ci];
      if (!isNum(v)) return;
      const x = m.left + band * ci + band * 0.1 + bw * si;
      parts.push(
        `<rect x="${f2(x)}" y="${f2(sy(v))}" width="${f2(bw)}" height="${
          f2(sy(y0) - sy(v))
        }" fill="${escapeXml(s.color)}"><title>${
          escapeXml(`${c} ${s.name}: ${v}`)
        }</title></rect>`,
      );
    });
    parts.push(
      `<text x="${f2(cx)}" y="${
        f2(m.top + ph + 10)
      }" text-anchor="end" font-family="sans-serif" font-size="10" transform="rotate(-45 ${
        f2(cx)
      } ${f2(m.top + ph + 10)})">${escapeXml(c)}</text>`,
    );
  });
  parts.push(plotFrame(m, pw, ph));
  parts.push(yAxisLabel(m, ph, o.yLabel));
  o.series.forEach((s, si) => {
    const lx = m.left + si * 140;
    const ly = height - 10;
    parts.push(
      `<rect x="${f2(lx)}" y="${f2(ly - 10)}" width="12" height="12" fill="${
        escapeXml(s.color)
      }"/>`,
    );
    parts.push(
      `<text x="${f2(lx + 18)}" y="${
        f2(ly)
      }" font-family="sans-serif" font-size="11">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push(`</svg>`);
  return parts.join("\n");
}
