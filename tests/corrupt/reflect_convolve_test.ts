import assert from "node:assert/strict";
import { correlateAxis, gaussianKernel1d } from "../../src/corrupt/filters.ts";
import {
  kDirectMaxTaps,
  reflectCorrelate2d,
  reflectCorrelate2dRows,
} from "../../src/corrupt/reflect_convolve.ts";
import { Fft, referenceLongRoute } from "./_reflect_dct_reference.ts";
import { Rng } from "../../src/rng.ts";

function uniformField(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n * n }, () => -1 + 2 * rng.float());
}

/**
 * Asserts the same doubles, element by element (a short message where they
 * differ: a diff of whole images would be unreadable).
 */
function assertSameDoubles(
  got: readonly Float64Array[],
  want: readonly Float64Array[],
  what = "",
): void {
  assert.equal(got.length, want.length);
  got.forEach((g, i) => {
    const w = want[i]!;
    assert.equal(g.length, w.length);
    let diff = 0, first = -1;
    for (let k = 0; k < g.length; k++) {
      if (!Object.is(g[k], w[k])) {
        diff++;
        if (first < 0) first = k;
      }
    }
    assert.equal(
      diff,
      0,
      `${what} image ${i}: ${diff} samples differ, first at ${first}`,
    );
  });
}

/** scipy's gaussian_filter(mode="reflect") as `correlateAxis` computes it. */
function reference(u: Float64Array, n: number, w: Float64Array): Float64Array {
  const a = correlateAxis(u, n, n, 1, 0, w, "reflect");
  return correlateAxis(a, n, n, 1, 1, w, "reflect");
}

Deno.test("reflectCorrelate2d() gives correlateAxis' doubles bit for bit for short kernels", () => {
  // Elastic's severities 3-5 (15 taps), the longest direct kernel, and an
  // axis shorter than the kernel (taps folded more than once).
  const cases: [number, number][] = [[224, 2.44], [224, 5], [12, 2.44]];
  for (const [n, sigma] of cases) {
    const w = gaussianKernel1d(sigma, 3);
    assert.ok(w.length <= kDirectMaxTaps);
    const u = [uniformField(n, 1), uniformField(n, 2)];
    const want = u.map((x) => reference(x, n, w));
    const got = reflectCorrelate2d(u, n, w);
    assertSameDoubles(got, want, `n ${n}`);
    // An image on its own, in place, and from row sources drawing one stream.
    assertSameDoubles(reflectCorrelate2d([u[1]!], n, w), [want[1]!]);
    assertSameDoubles(reflectCorrelate2d(u, n, w, u), want);
    const rng = new Rng(1);
    const rows = (row: Float64Array) => {
      for (let k = 0; k < n; k++) row[k] = -1 + 2 * rng.float();
    };
    const fromRows = reflectCorrelate2d([rows, rows], n, w);
    assertSameDoubles([fromRows[0]!], [reference(uniformField(n, 1), n, w)]);
  }
});

Deno.test("reflectCorrelate2d() matches the folded sums within float64 rounding for long kernels", () => {
  // Elastic's severities 1 and 2 (1025 and 119 taps), an odd image count,
  // and in place.
  for (const sigma of [244 * 0.7, 244 * 0.08]) {
    const n = 224;
    const w = gaussianKernel1d(sigma, 3);
    assert.ok(w.length > kDirectMaxTaps);
    const u = [uniformField(n, 3), uniformField(n, 4), uniformField(n, 5)];
    const want = u.map((x) => reference(x, n, w));
    const got = reflectCorrelate2d(u, n, w, u);
    for (let i = 0; i < 3; i++) {
      let scale = 0, err = 0;
      for (let k = 0; k < n * n; k++) {
        scale = Math.max(scale, Math.abs(want[i]![k]!));
        err = Math.max(err, Math.abs(got[i]![k]! - want[i]![k]!));
      }
      assert.ok(err <= 1e-13 * scale, `sigma ${sigma}: ${err} vs ${scale}`);
      assert.ok(got[i] === u[i]);
    }
  }
});

Deno.test("reflectCorrelate2d() gives the scalar DCT route's doubles bit for bit for long kernels", () => {
  // The WebAssembly kernel against its plain transcription: elastic's
  // severities 1 and 2 at 224 (radix 7), and axes with odd factors 1, 3, 5
  // and 7 (the generic radix-q step), an odd image out.
  const cases: [number, number, number][] = [
    [224, 244 * 0.7, 2],
    [224, 244 * 0.08, 3],
    [32, 19.52, 2],
    [12, 6, 3],
    [20, 40, 2],
    [28, 8, 2],
    [2, 20, 1],
  ];
  for (const [n, sigma, count] of cases) {
    const w = gaussianKernel1d(sigma, 3);
    assert.ok(w.length > kDirectMaxTaps);
    const u = Array.from({ length: count }, (_, i) => uniformField(n, 7 + i));
    const want = referenceLongRoute(u, n, w);
    const got = reflectCorrelate2d(u, n, w);
    assertSameDoubles(got, want, `n ${n} sigma ${sigma}`);
  }
  // Row sources draw in order: image 0's rows, then image 1's.
  const rng = new Rng(1), n = 224, w = gaussianKernel1d(244 * 0.7, 3);
  const rows = (row: Float64Array) => {
    for (let k = 0; k < n; k++) row[k] = -1 + 2 * rng.float();
  };
  const got = [new Float64Array(n * n), new Float64Array(n * n)];
  reflectCorrelate2dRows([rows, rows], n, w, (row, j, i) => {
    got[i]!.set(row, j * n);
  });
  const draws = new Rng(1);
  const u = [0, 1].map(() =>
    Float64Array.from({ length: n * n }, () => -1 + 2 * draws.float())
  );
  assertSameDoubles(got, referenceLongRoute(u, n, w), "row sources");
  assert.throws(() => reflectCorrelate2d([new Float64Array(9)], 3, w), /even/);
});

Deno.test("Fft.transform() (the scalar reference) is the DFT (forward) and its inverse with 1/n", () => {
  for (const n of [224, 28, 12, 32, 5]) {
    const rng = new Rng(n);
    const re = Float64Array.from({ length: n }, () => rng.float() - 0.5);
    const im = Float64Array.from({ length: n }, () => rng.float() - 0.5);
    const fr = re.slice(), fi = im.slice();
    const fft = new Fft(n);
    fft.transform(fr, fi, false);
    for (let k = 0; k < n; k++) {
      let sr = 0, si = 0;
      for (let t = 0; t < n; t++) {
        const a = (-2 * Math.PI * ((k * t) % n)) / n;
        sr += re[t]! * Math.cos(a) - im[t]! * Math.sin(a);
        si += re[t]! * Math.sin(a) + im[t]! * Math.cos(a);
      }
      assert.ok(Math.abs(fr[k]! - sr) < 1e-12, `n ${n} k ${k}`);
      assert.ok(Math.abs(fi[k]! - si) < 1e-12, `n ${n} k ${k}`);
    }
    fft.transform(fr, fi, true);
    for (let t = 0; t < n; t++) {
      assert.ok(Math.abs(fr[t]! - re[t]!) < 1e-14);
      assert.ok(Math.abs(fi[t]! - im[t]!) < 1e-14);
    }
  }
  assert.throws(() => new Fft(34), /odd factor 17/);
});
