import assert from "node:assert/strict";
import { FIXTURES, haveShared } from "../../src/testing/shared_data.ts";
import {
  ClassLossAccumulator,
  referenceBatching,
} from "../../src/search/loss.ts";
import { crossEntropyRows } from "../../src/model/cross_entropy.ts";

interface Batch {
  size: number;
  logits: { shape: number[]; data: number[] };
  targets: number[];
}
interface Fixture {
  num_classes: number;
  batches: Batch[];
  per_sample_cross_entropy: number[][];
  reference_loss: number[];
  clean_mean_cross_entropy: (number | null)[];
}

const ignore = !haveShared("fixtures/reference");

function load(): Fixture {
  return JSON.parse(
    Deno.readTextFileSync(`${FIXTURES}/classwise_loss.json`),
  ) as Fixture;
}

/** Feed the fixture's batches through the accumulator in order, as one candidate. */
function accumulate(fx: Fixture, batchSize: number, permute = false) {
  const k = fx.num_classes;
  const labels = fx.batches.flatMap((b) => b.targets);
  const batching = referenceBatching(labels, {
    numClasses: k,
    batchSize,
    numLogits: k,
  });
  const acc = new ClassLossAccumulator({ numCandidates: 1, numClasses: k });
  const rows: { logits: number[]; y: number; i: number }[] = [];
  let i = 0;
  for (const b of fx.batches) {
    for (let r = 0; r < b.size; r++) {
      rows.push({
        logits: b.logits.data.slice(r * k, (r + 1) * k),
        y: b.targets[r]!,
        i: i++,
      });
    }
  }
  if (permute) rows.reverse();
  for (const row of rows) {
    const { ce, correct } = crossEntropyRows(row.logits, {
      rows: 1,
      numLogits: k,
      targets: [row.y],
    });
    acc.add(0, row.y, ce[0]!, batching.weight[row.i]!, correct[0]!);
    acc.countImage(row.y);
  }
  return { acc, batching };
}

Deno.test({
  name:
    "ClassLossAccumulator reference loss matches validate_classwise within 1e-12 (batches 7, 7, 3)",
  ignore,
  fn() {
    const fx = load();
    for (const permute of [false, true]) {
      const { acc, batching } = accumulate(fx, 7, permute);
      const loss = acc.losses("reference", batching.constant);
      fx.reference_loss.forEach((want, c) => {
        assert.ok(
          Math.abs(loss[c]! - want) < 1e-12,
          `class ${c}: ${loss[c]} vs ${want}`,
        );
      });
    }
  },
});

Deno.test({
  name:
    "ClassLossAccumulator class-ce is the mean CE of the class's images (NaN when none)",
  ignore,
  fn() {
    const fx = load();
    const { acc } = accumulate(fx, 7);
    const loss = acc.losses("class-ce");
    fx.clean_mean_cross_entropy.forEach((want, c) => {
      if (want === null) assert.ok(Number.isNaN(loss[c]!));
      else assert.ok(Math.abs(loss[c]! - want) < 1e-12, `class ${c}`);
    });
  },
});

Deno.test("ClassLossAccumulator accuracy and byte round trip", () => {
  // Two candidates, two classes; logits chosen so candidate 0 is right on both images.
  const acc = new ClassLossAccumulator({ numCandidates: 2, numClasses: 2 });
  const logits = [3, 0, 0, 3, 0, 3, 0, 3]; // rows: (m0,y0),(m0,y1),(m1,y0),(m1,y1)
  const targets = [0, 1, 0, 1];
  const { ce, correct } = crossEntropyRows(logits, {
    rows: 4,
    numLogits: 2,
    targets,
  });
  assert.deepEqual([...correct], [1, 1, 0, 1]);
  for (let r = 0; r < 4; r++) {
    acc.add(r >> 1, targets[r]!, ce[r]!, 1, correct[r]!);
  }
  acc.countImage(0);
  acc.countImage(1);
  assert.deepEqual([...acc.accuracy()], [1, 1, 0, 1]);
  const copy = new ClassLossAccumulator({ numCandidates: 2, numClasses: 2 });
  copy.loadBytes(acc.toBytes());
  assert.deepEqual(
    [...copy.losses("class-ce")],
    [...acc.losses("class-ce")],
  );
  assert.throws(() => copy.loadBytes(new Uint8Array(8)));
});
