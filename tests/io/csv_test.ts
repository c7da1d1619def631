import assert from "node:assert/strict";
import { csvField, parseCsv, recordsToCsv, toCsv } from "../../src/io/csv.ts";

Deno.test("csvField() quotes commas, quotes, line breaks and edge spaces (RFC 4180)", () => {
  assert.equal(csvField("plain"), "plain");
  assert.equal(csvField("a,b"), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField("two\nlines"), '"two\nlines"');
  assert.equal(csvField("cr\rx"), '"cr\rx"');
  assert.equal(csvField(" lead"), '" lead"');
  assert.equal(csvField(""), "");
  assert.equal(csvField(null), "");
  assert.equal(csvField(undefined), "");
  assert.equal(csvField(NaN), "");
  assert.equal(csvField(true), "true");
});

Deno.test("csvField() writes numbers in shortest round-trip form", () => {
  for (const x of [0.1, 1 / 3, 28.000000000000004, 1e-300, 5]) {
    const s = csvField(x);
    assert.equal(Number(s), x);
  }
  assert.equal(csvField(0.30000000000000004), "0.30000000000000004");
});

Deno.test("toCsv() ends every record with CRLF", () => {
  assert.equal(toCsv([["a", "b"], [1, 2]]), "a,b\r\n1,2\r\n");
  assert.equal(
    recordsToCsv([{ x: "u,v", y: 2 }, { x: "w" }], ["x", "y"]),
    'x,y\r\n"u,v",2\r\nw,\r\n',
  );
});

Deno.test("parseCsv() inverts toCsv() on awkward fields", () => {
  const rows = [
    ["id", "name", "note"],
    ["1", 'He said "no", twice', "multi\r\nline"],
    ["2", "", " spaced "],
    ["3", ",", '"'],
  ];
  assert.deepEqual(parseCsv(toCsv(rows)), rows);
  // LF-only input also parses
  assert.deepEqual(parseCsv("a,b\n1,2\n"), [["a", "b"], ["1", "2"]]);
  assert.deepEqual(parseCsv("a,b"), [["a", "b"]]);
  assert.throws(() => parseCsv('"open'), /unterminated/);
});
