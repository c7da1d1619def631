import assert from "node:assert/strict";
import { classRecovery, recoverySummary } from "../../src/planted/metrics.ts";

const S = 16;
// Three classes, hand-placed bins (partners included by hand: (S-h)%S, (S-w)%S).
const bins: [number, number][][] = [
  [[3, 5], [13, 11], [6, 9], [10, 7]],
  [[2, 2], [14, 14]],
  [[8, 12], [8, 4]],
];

function maskOf(list: [number, number][]): Uint8Array {
  const m = new Uint8Array(S * S);
  for (const [h, w] of list) m[h * S + w] = 1;
  return m;
}

Deno.test("classRecovery() of an all-ones mask: recall 1, other-kept 1, kept fraction 1", () => {
  const r = classRecovery(new Uint8Array(S * S).fill(1), {
    size: S,
    label: 0,
    bins,
  });
  assert.equal(r.recall, 1);
  assert.equal(r.otherKept, 1);
  assert.equal(r.keptFraction, 1);
  assert.equal(r.otherTotal, 4);
});

Deno.test("classRecovery() of exactly the class's bins: recall 1, other-kept 0", () => {
  for (let label = 0; label < 3; label++) {
    const m = maskOf(bins[label]!);
    const r = classRecovery(m, { size: S, label, bins });
    assert.equal(r.recall, 1);
    assert.equal(r.otherKept, 0);
    assert.equal(r.keptFraction, bins[label]!.length / (S * S));
  }
});

Deno.test("classRecovery() counts partial masks bin by bin", () => {
  // Class 0: keep 1 of its 4 bins, plus 1 of class 2's bins and one unplanted bin.
  const m = maskOf([[3, 5], [8, 4], [0, 0]]);
  const r = classRecovery(m, { size: S, label: 0, bins });
  assert.equal(r.recall, 0.25);
  assert.equal(r.otherKept, 1 / 4);
  const empty = classRecovery(new Uint8Array(S * S), {
    size: S,
    label: 1,
    bins,
  });
  assert.equal(empty.recall, 0);
  assert.equal(empty.otherKept, 0);
});

Deno.test("recoverySummary() averages over classes", () => {
  const masks = [
    maskOf(bins[0]!),
    new Uint8Array(S * S).fill(1),
    new Uint8Array(S * S),
  ];
  const s = recoverySummary(masks, { size: S, bins });
  assert.equal(s.meanRecall, (1 + 1 + 0) / 3);
  assert.equal(s.meanOtherKept, (0 + 1 + 0) / 3);
  assert.throws(
    () => classRecovery(new Uint8Array(5), { size: S, label: 0, bins }),
    RangeError,
  );
});
