import assert from "node:assert/strict";
import { FIXTURES, haveShared } from "../../src/testing/shared_data.ts";
import { crossEntropyRows } from "../../src/model/cross_entropy.ts";

interface Fixture {
  num_classes: number;
  batches: {
    size: number;
    logits: { shape: number[]; data: number[] };
    targets: number[];
  }[];
  per_sample_cross_entropy: number[][];
}

Deno.test("crossEntropyRows() gives ln 2 for equal logits, stays finite for large ones, and flags the first maximum", () => {
  const { ce, correct } = crossEntropyRows(
    Float32Array.from([0, 0, 1000, 0, 3, 3]),
    { rows: 3, numLogits: 2, targets: [0, 1, 1] },
  );
  assert.equal(ce[0], Math.LN2);
  // log(1 + e^-1000) - 0 + 1000 - 0 = 1000 in float64
  assert.equal(ce[1], 1000);
  assert.ok(Math.abs(ce[2]! - Math.LN2) < 1e-15);
  // ties: argmax is the first maximum, so target 1 of [3, 3] is not correct
  assert.deepEqual([...correct], [1, 0, 0]);
  assert.throws(
    () =>
      crossEntropyRows([0, 0, 0], { rows: 2, numLogits: 2, targets: [0, 0] }),
    RangeError,
  );
});

Deno.test({
  name: "crossEntropyRows() matches the fixture's per-sample cross-entropy",
  ignore: !haveShared("fixtures/reference"),
  fn() {
    const fx = JSON.parse(
      Deno.readTextFileSync(`${FIXTURES}/classwise_loss.json`),
    ) as Fixture;
    let worst = 0;
    fx.batches.forEach((b, bi) => {
      const { ce } = crossEntropyRows(b.logits.data, {
        rows: b.size,
        numLogits: fx.num_classes,
        targets: b.targets,
      });
      b.targets.forEach((_, r) => {
        worst = Math.max(
          worst,
          Math.abs(ce[r]! - fx.per_sample_cross_entropy[bi]![r]!),
        );
      });
    });
    assert.ok(worst < 1e-12, `max abs error ${worst}`);
  },
});
