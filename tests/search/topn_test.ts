import assert from "node:assert/strict";
import { FIXTURES, haveShared } from "../../src/testing/shared_data.ts";
import { runningMin, topN } from "../../src/search/topn.ts";

interface Case {
  id: string;
  N: number;
  num_candidates: number;
  num_classes: number;
  losses: { data: number[] };
  topn_indices: number[][];
  topn_losses: number[][];
  running_min: { data: number[] };
}

const ignore = !haveShared("fixtures/reference");

Deno.test({
  name: "topN() and runningMin() match the reference exactly, ties included",
  ignore,
  fn() {
    const fx = JSON.parse(
      Deno.readTextFileSync(`${FIXTURES}/topn.json`),
    ) as { cases: Case[] };
    assert.ok(fx.cases.length >= 2);
    for (const cs of fx.cases) {
      const dims = {
        numCandidates: cs.num_candidates,
        numClasses: cs.num_classes,
      };
      const t = topN(cs.losses.data, { ...dims, n: cs.N });
      assert.deepEqual(t.indices, cs.topn_indices, cs.id);
      assert.deepEqual(t.losses, cs.topn_losses, cs.id);
      assert.deepEqual(
        [...runningMin(cs.losses.data, dims)],
        cs.running_min.data,
        cs.id,
      );
    }
  },
});

Deno.test("topN() puts NaN losses last and keeps candidate order among them", () => {
  const t = topN([NaN, 1, NaN, 2, 0, NaN], {
    numCandidates: 3,
    numClasses: 2,
    n: 3,
  });
  assert.deepEqual(t.indices[0], [2, 0, 1]);
  assert.deepEqual(t.indices[1], [0, 1, 2]);
});
