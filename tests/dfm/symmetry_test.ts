import assert from "node:assert/strict";
import {
  applySymmetry,
  conjugatePartner,
  countAsymmetricBins,
  effectiveGain,
  exactFromReference,
  inCanonicalHalf,
  isConjugateSymmetric,
  referenceFill,
} from "../../src/dfm/symmetry.ts";
import { Rng } from "../../src/rng.ts";

function random(size: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  return Uint8Array.from({ length: size * size }, () => rng.int(2));
}

Deno.test("referenceFill() rotates the top half by 180° into the bottom half", () => {
  for (const s of [2, 8, 32]) {
    const pre = random(s, s);
    const r = referenceFill(pre, s);
    for (let h = 0; h < s; h++) {
      for (let w = 0; w < s; w++) {
        const want = h < s / 2
          ? pre[h * s + w]
          : pre[(s - 1 - h) * s + (s - 1 - w)];
        assert.equal(r[h * s + w], want);
      }
    }
    // M == M[::-1, ::-1]
    for (let i = 0; i < s * s; i++) assert.equal(r[i], r[s * s - 1 - i]);
  }
});

Deno.test("applySymmetry() exact gives conjugate pairs and keeps the canonical half", () => {
  for (const s of [4, 16, 32]) {
    const pre = random(s, 100 + s);
    const r = applySymmetry(pre, s, "reference");
    const e = applySymmetry(pre, s, "exact");
    assert.deepEqual(e, exactFromReference(r, s));
    assert.ok(isConjugateSymmetric(e, s));
    let halfCount = 0;
    for (let h = 0; h < s; h++) {
      for (let w = 0; w < s; w++) {
        const [ph, pw] = conjugatePartner(h, w, s);
        assert.equal(e[h * s + w], e[ph * s + pw]);
        if (inCanonicalHalf(h, w, s)) {
          halfCount++;
          assert.equal(e[h * s + w], r[h * s + w]);
        } else assert.ok(inCanonicalHalf(ph, pw, s), "partner lies in H");
      }
    }
    // H has (S²)/2 + 2 bins: half the non-self-paired bins plus the 4 self-paired ones
    assert.equal(halfCount, (s * s - 4) / 2 + 4);
    // exact differs from reference in exactly half of reference's asymmetric bins
    let diff = 0;
    for (let i = 0; i < s * s; i++) if (e[i] !== r[i]) diff++;
    assert.equal(diff * 2, countAsymmetricBins(r, s));
  }
});

Deno.test("effectiveGain() is ½ exactly on asymmetric bins", () => {
  const s = 16;
  const r = applySymmetry(random(s, 3), s, "reference");
  const g = effectiveGain(r, s);
  let halves = 0;
  for (const v of g) if (v === 0.5) halves++;
  assert.equal(halves, countAsymmetricBins(r, s));
  assert.throws(() => referenceFill(new Uint8Array(10), 4), RangeError);
});
