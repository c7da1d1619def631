import assert from "node:assert/strict";
import { type CleanAccuracy, poolAccuracy } from "../../src/model/accuracy.ts";
import { limitSamples } from "../../src/model/dataset_accuracy.ts";

function acc(images: number, top1: number, seconds: number): CleanAccuracy {
  return {
    images,
    failed: 1,
    top1,
    top5: 1,
    mean_ce: top1 * 2,
    seconds,
    images_per_s: images / seconds,
    decode_wait_s: 0.5,
    inference_s: 1,
  };
}

Deno.test("poolAccuracy() weights by image counts and sums counts and times", () => {
  const p = poolAccuracy([acc(10, 0.5, 2), acc(30, 0.9, 6)]);
  assert.equal(p.images, 40);
  assert.equal(p.failed, 2);
  assert.ok(Math.abs(p.top1 - (10 * 0.5 + 30 * 0.9) / 40) < 1e-12);
  assert.ok(Math.abs(p.mean_ce - (10 * 1 + 30 * 1.8) / 40) < 1e-12);
  assert.equal(p.seconds, 8);
  assert.equal(p.images_per_s, 5);
  assert.equal(p.decode_wait_s, 1);
  assert.ok(Number.isNaN(poolAccuracy([]).top1));
});

Deno.test("limitSamples() keeps a seeded subset in order, the same for the same seed and key", () => {
  const s = Array.from({ length: 20 }, (_, i) => ({ path: `${i}`, label: 0 }));
  const a = limitSamples(s, 5, 42, "root");
  assert.equal(a.length, 5);
  assert.deepEqual(a, limitSamples(s, 5, 42, "root"));
  assert.notDeepEqual(a, limitSamples(s, 5, 43, "root"));
  const idx = a.map((x) => Number(x.path));
  assert.deepEqual(idx, [...idx].sort((x, y) => x - y));
  assert.equal(limitSamples(s, undefined, 42, "root").length, 20);
  assert.equal(limitSamples(s, 50, 42, "root").length, 20);
});
