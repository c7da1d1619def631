/**
 * RFC 4180 CSV writing and reading.
 *
 * Conventions: records end with CRLF (RFC 4180 §2.1), including the last one;
 * a field is quoted when it contains a comma, a double quote, CR or LF, or
 * starts/ends with a space (so spreadsheet tools keep it); quotes inside are
 * doubled. Numbers are written with JavaScript's shortest round-trip form
 * (`String(x)`), so parsing a field as a double gives back the exact value;
 * `NaN`, `null` and `undefined` become an empty field.
 */

/** A value a CSV cell can hold. */
export type CsvValue = string | number | boolean | null | undefined;

/**
 * Format one field.
 *
 * @example
 * ```ts
 * csvField('say "hi", ok'); // '"say ""hi"", ok"'
 * csvField(0.1); // "0.1"
 * ```
 */
export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "";
    return String(value);
  }
  const s = typeof value === "boolean" ? String(value) : value;
  if (/[",\r\n]/.test(s) || /^\s|\s$/.test(s)) {
    return `"${s.replaceAll('"', '""')}"`;
  }
  return s;
}

/**
 * Format rows (first row usually the header) as an RFC 4180 document with
 * CRLF line ends.
 *
 * @example
 * ```ts
 * toCsv([["a", "b"], [1, "x,y"]]); // 'a,b\r\n1,"x,y"\r\n'
 * ```
 */
export function toCsv(rows: readonly (readonly CsvValue[])[]): string {
  let out = "";
  for (const row of rows) out += row.map(csvField).join(",") + "\r\n";
  return out;
}

/**
 * Format objects as CSV with the given column order (header first).
 *
 * @example
 * ```ts
 * recordsToCsv([{ a: 1, b: "x" }], ["a", "b"]); // "a,b\r\n1,x\r\n"
 * ```
 */
export function recordsToCsv(
  records: readonly Record<string, CsvValue>[],
  columns: readonly string[],
): string {
  return toCsv([columns, ...records.map((r) => columns.map((c) => r[c]))]);
}

/**
 * Parse an RFC 4180 document (CRLF or LF line ends, quoted fields with doubled
 * quotes and embedded line breaks). Returns rows of strings; a trailing line
 * end does not make an empty row.
 *
 * @example
 * ```ts
 * parseCsv('a,"b ""c"""\r\n'); // [["a", 'b "c"']]
 * ```
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let i = 0;
  let quoted = false;
  let atFieldStart = true;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && atFieldStart) {
      quoted = true;
      atFieldStart = false;
      i++;
      continue;
    }
    if (ch === ",") {
      row.push(field);
      field = "";
      atFieldStart = true;
      i++;
      continue;
    }
    if (ch === "\r" || ch === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      atFieldStart = true;
      i += ch === "\r" && text[i + 1] === "\n" ? 2 : 1;
      continue;
    }
    field += ch;
    atFieldStart = false;
    i++;
  }
  if (quoted) {
    throw new SyntaxError("Cannot parse CSV: unterminated quoted field");
  }
  if (!atFieldStart || field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
