import assert from "node:assert/strict";
import { halfBins, planFft } from "../../src/fft/plan.ts";
import { UserError } from "../../src/errors.ts";

const kSmooth = [
  1,
  2,
  3,
  4,
  5,
  7,
  8,
  32,
  63,
  64,
  105,
  128,
  192,
  224,
  256,
  360,
  1000,
];

Deno.test("planFft() factors 2,3,5,7-smooth lengths into supported radices", () => {
  for (const n of kSmooth) {
    const plan = planFft(n);
    assert.equal(plan.n, n);
    assert.equal(
      plan.radices.reduce((a, b) => a * b, 1),
      n,
      `product for ${n}`,
    );
    for (const r of plan.radices) {
      assert.ok([1, 2, 3, 4, 5, 7, 8].includes(r), `radix ${r}`);
    }
    let ns = 1;
    for (const s of plan.stages) {
      assert.equal(s.ns, ns);
      ns *= s.radix;
    }
  }
});

Deno.test("planFft() plans 224 = 2^5 * 7 with a radix-7 stage", () => {
  const plan = planFft(224);
  assert.deepEqual([...plan.radices].sort((a, b) => a - b), [4, 7, 8]);
  assert.deepEqual(planFft(224, { maxPow2Radix: 4 }).radices, [4, 4, 2, 7]);
  assert.deepEqual(planFft(32).radices, [8, 4]);
});

Deno.test("planFft() rejects lengths with other prime factors with a UserError", () => {
  for (const n of [11, 26, 13 * 16, 221]) {
    assert.throws(() => planFft(n), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(
        e.message,
        /^Cannot plan an FFT of length \d+: it has the prime factor (11|13|17)/,
      );
      return true;
    });
  }
  for (const n of [0, -4, 2.5, NaN]) {
    assert.throws(() => planFft(n), UserError);
  }
});

Deno.test("halfBins() keeps floor(n/2)+1 bins", () => {
  assert.equal(halfBins(224), 113);
  assert.equal(halfBins(105), 53);
  assert.equal(halfBins(1), 1);
});
