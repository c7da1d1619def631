import assert from "node:assert/strict";
import { Rng } from "../src/rng.ts";

Deno.test("Rng.nextU32() matches the published xoshiro128** vectors for state 1,2,3,4", () => {
  const r = Rng.fromState([1, 2, 3, 4]);
  const got = Array.from({ length: 6 }, () => r.nextU32());
  assert.deepEqual(got, [11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
});

Deno.test("Rng with the same seed and path gives the same stream; forks are independent", () => {
  const a = new Rng(42).fork("stage", 1);
  const b = new Rng(42).fork("stage", 1);
  const c = new Rng(42).fork("stage", 2);
  const d = new Rng(43).fork("stage", 1);
  const xs = Array.from({ length: 64 }, () => a.nextU32());
  assert.deepEqual(Array.from({ length: 64 }, () => b.nextU32()), xs);
  assert.notDeepEqual(Array.from({ length: 64 }, () => c.nextU32()), xs);
  assert.notDeepEqual(Array.from({ length: 64 }, () => d.nextU32()), xs);
  // "1" as a string key and 1 as a number key are different paths.
  assert.notEqual(new Rng(1).fork("1").nextU32(), new Rng(1).fork(1).nextU32());
});

Deno.test("Rng.int() is unbiased over a small range (chi-square)", () => {
  const r = new Rng(7);
  const n = 6, draws = 60000;
  const counts = new Array(n).fill(0);
  for (let i = 0; i < draws; i++) counts[r.int(n)]++;
  const e = draws / n;
  const chi2 = counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
  assert.ok(chi2 < 20.5, `chi2 ${chi2} (5 dof, p=0.001 bound 20.5)`);
  assert.throws(() => r.int(0), /Cannot draw/);
});

Deno.test("Rng.sample() draws distinct indices; shuffle() is a permutation", () => {
  const r = new Rng(3);
  const s = r.sample(100, 40);
  assert.equal(new Set(s).size, 40);
  assert.ok(s.every((x) => x >= 0 && x < 100));
  const p = r.shuffle(Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(
    [...p].sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i),
  );
});

Deno.test("Rng.fillU32() gives the nextU32() stream and leaves the same state", () => {
  for (const n of [0, 1, 7, 1000]) {
    const a = new Rng(123, ["fill", n]);
    const b = new Rng(123, ["fill", n]);
    const bulk = a.fillU32(new Uint32Array(n));
    const one = Array.from({ length: n }, () => b.nextU32());
    assert.deepEqual(Array.from(bulk), one);
    // The state carries on: the next draws agree, bulk or one at a time.
    assert.deepEqual(
      Array.from(a.fillU32(new Uint32Array(5))),
      Array.from({ length: 5 }, () => b.nextU32()),
    );
    assert.equal(a.nextU32(), b.nextU32());
  }
  // The published xoshiro128** vectors, drawn in bulk.
  const r = Rng.fromState([1, 2, 3, 4]);
  assert.deepEqual(
    Array.from(r.fillU32(new Uint32Array(6))),
    [11520, 0, 5927040, 70819200, 2031721883, 1637235492],
  );
});
