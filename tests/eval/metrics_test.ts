import assert from "node:assert/strict";
import {
  argmaxRows,
  countClass,
  falsePositiveRate,
  nanMean,
  perClassTpr,
  rate,
} from "../../src/eval/metrics.ts";

Deno.test("argmaxRows() takes the first maximum per row", () => {
  const logits = new Float32Array([
    0,
    3,
    3,
    1, // tie → lower index 1
    -5,
    -4,
    -9,
    -4.5,
    7,
    0,
    0,
    0,
  ]);
  assert.deepEqual([...argmaxRows(logits, 3)], [1, 1, 0]);
  assert.throws(() => argmaxRows(new Float32Array(5), 2), /do not split/);
});

Deno.test("argmaxRows() over a class subset returns the full class id", () => {
  // 6 classes, subset {1, 4, 5} as IN-R restricts 1000 → 200
  const logits = new Float32Array([9, 1, 0, 0, 2, 0, 9, 3, 9, 9, 1, 2]);
  assert.deepEqual([...argmaxRows(logits, 2, { subset: [1, 4, 5] })], [4, 1]);
});

Deno.test("perClassTpr() counts known labels", () => {
  // labels: class 0 ×3, class 2 ×2, class 5 ×1
  const labels = [0, 0, 0, 2, 2, 5];
  const preds = [0, 1, 0, 2, 0, 3];
  const m = perClassTpr(preds, labels);
  assert.deepEqual(m.get(0), { n: 3, correct: 2 });
  assert.deepEqual(m.get(2), { n: 2, correct: 1 });
  assert.deepEqual(m.get(5), { n: 1, correct: 0 });
  assert.equal(m.has(1), false);
  assert.equal(rate(m.get(0)!.correct, m.get(0)!.n), 2 / 3);
});

Deno.test("falsePositiveRate() is FP/N over other-class images (ICCV'23)", () => {
  // confusion by hand: class 2 predicted for one class-0 image and one class-1 image
  const labels = [0, 0, 1, 1, 2, 2];
  const preds = [2, 0, 1, 2, 2, 0];
  assert.equal(falsePositiveRate(preds, labels, 2), 2 / 4);
  assert.equal(falsePositiveRate(preds, labels, 1), 0 / 4);
  assert.ok(Number.isNaN(falsePositiveRate([1], [1], 1)));
  assert.equal(countClass(preds, 2), 3);
});

Deno.test("rate() and nanMean() treat empty as NaN", () => {
  assert.ok(Number.isNaN(rate(0, 0)));
  assert.equal(nanMean([0.5, NaN, 1]), 0.75);
  assert.ok(Number.isNaN(nanMean([NaN])));
});
