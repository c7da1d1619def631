import assert from "node:assert/strict";
import {
  clippedZoom,
  defocusBlur,
  diskFilter,
  diskFilterBytes,
  diskKernel,
  glassBlur,
  zoomBlur,
  zoomEstimateBound,
} from "../../src/corrupt/blur.ts";
import {
  filter2d,
  gaussianFilter,
  toFloat,
  toUint8,
} from "../../src/corrupt/filters.ts";
import { kConstants, type Severity } from "../../src/corrupt/registry.ts";
import { Rng } from "../../src/rng.ts";
import { loadFixtureImages } from "./_fixtures.ts";

// The blurs are computed row by row, several samples at a time, with parts
// read through tables; each test below checks them byte for byte against a
// plain transcription of the same arithmetic, on the two fixture pictures
// and on synthetic images that hit the edge cases (flat areas, where a
// bracketed value sits exactly on a byte boundary, and saturated ones).

const kSize = 224;
const fx = await loadFixtureImages();

function synthetic(): Uint8Array[] {
  const flat = (v: number) => new Uint8Array(kSize * kSize * 3).fill(v);
  // Flat halves and a bright disc: flat areas next to edges.
  const mixed = new Uint8Array(kSize * kSize * 3);
  for (let y = 0; y < kSize; y++) {
    for (let x = 0; x < kSize; x++) {
      const o = (y * kSize + x) * 3;
      const inDisc = (x - 150) ** 2 + (y - 70) ** 2 < 40 ** 2;
      mixed[o] = inDisc ? 255 : x < 112 ? 37 : 200;
      mixed[o + 1] = inDisc ? 255 : y < 112 ? 128 : 3;
      mixed[o + 2] = (x * 7 + y * 13) & 255;
    }
  }
  return [flat(255), flat(128), flat(1), mixed];
}

const kImages = [...fx.images.map((im) => im.data), ...synthetic()];

function firstDiff(a: Uint8Array, b: Uint8Array): string {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return `sample ${i}: ${a[i]} vs ${b[i]}`;
  }
  return a.length === b.length ? "" : "lengths differ";
}

Deno.test("defocusBlur() equals the bytes of diskFilter()'s exact sums at every severity", () => {
  // Severities 4 and 5 bracket the fold correction and sum its taps only
  // where a byte could differ; diskFilter() sums every tap everywhere.
  for (const severity of [1, 2, 3, 4, 5] as Severity[]) {
    const [radius, alias] = kConstants.defocus_blur[severity - 1]!;
    for (const [k, data] of kImages.entries()) {
      const got = defocusBlur(data, kSize, severity);
      const want = toUint8(diskFilter(data, kSize, 3, radius, alias));
      assert.equal(
        firstDiff(got, want),
        "",
        `severity ${severity}, image ${k}`,
      );
    }
  }
});

Deno.test("defocusBlur() matches a direct 2-D correlation with diskKernel() to float rounding", () => {
  // filter2d() sums every tap of the kernel; defocusBlur() sums the disk
  // from prefix sums and the alias Gaussian separably, so the float sums
  // round differently: a byte may move by one where a value sits on a
  // boundary (flat areas, ~6 % of this picture at severity 1, where the
  // exact integer disk sum lands on the level and 29 float taps fall just
  // below it), never more.
  for (const severity of [1, 4, 5] as Severity[]) {
    const [radius, alias] = kConstants.defocus_blur[severity - 1]!;
    const { kernel, k } = diskKernel(radius, alias);
    const data = fx.images[0]!.data;
    const got = defocusBlur(data, kSize, severity);
    const want = toUint8(filter2d(toFloat(data), kSize, kSize, 3, kernel, k));
    let moved = 0;
    for (let i = 0; i < got.length; i++) {
      const d = Math.abs(got[i]! - want[i]!);
      assert.ok(d <= 1, `severity ${severity}: sample ${i} differs by ${d}`);
      moved += d;
    }
    assert.ok(
      moved < got.length * 0.1,
      `severity ${severity}: ${moved} samples moved`,
    );
  }
});

Deno.test("zoomBlur() equals the float32 mean of clippedZoom() images", () => {
  const f = Math.fround;
  for (const severity of [1, 2, 3, 4, 5] as Severity[]) {
    const zooms = kConstants.zoom_blur[severity - 1]!;
    for (const [k, data] of kImages.entries()) {
      const x = new Float32Array(data.length);
      for (let i = 0; i < x.length; i++) x[i] = data[i]! / 255;
      const x64 = Float64Array.from(x);
      const acc = new Float32Array(x.length);
      for (const z of zooms) {
        const zoomed = clippedZoom(x64, kSize, 3, z);
        for (let i = 0; i < acc.length; i++) acc[i]! += f(zoomed[i]!);
      }
      const want = new Uint8Array(x.length);
      for (let i = 0; i < want.length; i++) {
        const v = f(f(x[i]! + acc[i]!) / (zooms.length + 1));
        want[i] = Math.trunc(f((v < 0 ? 0 : v > 1 ? 1 : v) * 255));
      }
      const got = zoomBlur(data, kSize, severity);
      assert.equal(
        firstDiff(got, want),
        "",
        `severity ${severity}, image ${k}`,
      );
    }
  }
});

/**
 * The original glass blur, transcribed plainly: `gaussianFilter`, truncation
 * to bytes, the swaps in place with `Rng.int` draws, `gaussianFilter`,
 * `toUint8`.
 */
function glassReference(
  data: Uint8Array,
  size: number,
  severity: Severity,
  draws: Rng,
): Uint8Array {
  const [sigma, delta, iterations] = kConstants.glass_blur[severity - 1]!;
  const blurred = gaussianFilter(toFloat(data), size, size, 3, sigma);
  const x = new Uint8Array(blurred.length);
  for (let i = 0; i < x.length; i++) x[i] = Math.trunc(blurred[i]! * 255);
  for (let it = 0; it < iterations; it++) {
    for (let h = size - delta; h > delta; h--) {
      for (let w = size - delta; w > delta; w--) {
        const dx = draws.int(2 * delta) - delta;
        const dy = draws.int(2 * delta) - delta;
        const hp = h + dy, wp = w + dx;
        for (let c = 0; c < 3; c++) {
          x[(h * size + w) * 3 + c] = x[(hp * size + wp) * 3 + c]!;
        }
      }
    }
  }
  return toUint8(gaussianFilter(toFloat(x), size, size, 3, sigma));
}

Deno.test("glassBlur() equals gaussianFilter(), the swaps drawn with Rng.int(), and gaussianFilter()", () => {
  for (const severity of [1, 2, 3, 4, 5] as Severity[]) {
    for (const [k, data] of kImages.entries()) {
      const rng = new Rng(7, ["glass", k, severity]);
      const got = glassBlur(data, kSize, severity, rng.fork("x"));
      const want = glassReference(data, kSize, severity, rng.fork("x"));
      assert.equal(
        firstDiff(got, want),
        "",
        `severity ${severity}, image ${k}`,
      );
    }
  }
});

Deno.test("diskFilterBytes() with widened brackets still equals the bytes of diskFilter()'s exact sums", () => {
  // On real pictures the second stage of the fold bracket settles every
  // sample, so the last resort (all taps in order) never runs; widening
  // the brackets sends samples down each slower path: ×1e4 makes the
  // first stage undecided everywhere, ×1e9 the second too. A byte that
  // differs here means that path computes something else than the taps.
  for (const severity of [4, 5] as Severity[]) {
    const [radius, alias] = kConstants.defocus_blur[severity - 1]!;
    for (const [k, data] of kImages.entries()) {
      if (k > 0 && k < fx.images.length) continue; // one picture is enough
      const want = toUint8(diskFilter(data, kSize, 3, radius, alias));
      for (const widen of [1e4, 1e9]) {
        const got = diskFilterBytes(data, kSize, radius, alias, widen);
        assert.equal(
          firstDiff(got, want),
          "",
          `severity ${severity}, image ${k}, brackets ×${widen}`,
        );
      }
    }
  }
});

Deno.test("diskFilter() equals a direct 2-D correlation with diskKernel() for 1, 2 and 3 channels", () => {
  // Three channels are summed packed in one float64, other counts one a
  // word; both must give the kernel's values to float rounding.
  const n = 40;
  for (const C of [1, 2, 3]) {
    const data = new Uint8Array(n * n * C).map((_, i) =>
      (i * 2654435761) >>> 24
    );
    for (const severity of [1, 4, 5] as Severity[]) {
      const [radius, alias] = kConstants.defocus_blur[severity - 1]!;
      const { kernel, k } = diskKernel(radius, alias);
      const want = filter2d(toFloat(data), n, n, C, kernel, k);
      const got = diskFilter(data, n, C, radius, alias);
      let worst = 0;
      for (let i = 0; i < got.length; i++) {
        worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      }
      assert.ok(worst < 1e-12, `${C} channels, severity ${severity}: ${worst}`);
    }
  }
});

Deno.test("glassBlur() equals the plain transcription on other image sizes", () => {
  // Odd sizes: an odd number of interior rows and columns, a last block of
  // fewer rows, images barely wider than the 13-tap kernel (14) and images
  // narrower than the kernels, all border (3, 5, 9, 12).
  for (const size of [3, 5, 9, 12, 14, 37, 50]) {
    const data = new Uint8Array(size * size * 3);
    const fill = new Rng(3, ["glass-size", size]);
    for (let i = 0; i < data.length; i++) data[i] = fill.int(256);
    for (const severity of [1, 2, 3, 4, 5] as Severity[]) {
      const rng = new Rng(11, ["glass", size, severity]);
      const got = glassBlur(data, size, severity, rng.fork("x"));
      const want = glassReference(data, size, severity, rng.fork("x"));
      assert.equal(
        firstDiff(got, want),
        "",
        `size ${size}, severity ${severity}`,
      );
    }
  }
});

Deno.test("glassBlur() draws as Rng.int() does where a draw is rejected", () => {
  // xoshiro128**'s first output is rotl(s1 · 5, 7) · 9: pick s1 so that it
  // is 2^32 − 2, which Rng.int(6) (severity 4, δ = 3) rejects. The first row
  // then needs one draw more than its batch.
  const first = 4294967294;
  const t = Math.imul(first, 0x38e38e39) >>> 0; // · 9⁻¹ mod 2^32
  const s1 = Math.imul((t >>> 7) | (t << 25), 0xcccccccd) >>> 0; // rotr 7, · 5⁻¹
  const state: [number, number, number, number] = [
    0x12345678,
    s1,
    0x9abcdef0,
    0x0fedcba9,
  ];
  assert.equal(Rng.fromState(state).nextU32(), first);
  assert.ok(first >= 4294967296 - (4294967296 % 6));
  const severity: Severity = 4;
  assert.equal(kConstants.glass_blur[severity - 1]![1], 3);
  for (const [k, data] of kImages.entries()) {
    if (k > 1) continue; // the two pictures
    const got = glassBlur(data, kSize, severity, Rng.fromState(state));
    const want = glassReference(data, kSize, severity, Rng.fromState(state));
    assert.equal(firstDiff(got, want), "", `image ${k}`);
  }
});

/**
 * The original's zoom blur per sample, both ways: `f` the float32 value
 * `fround(clip(v) · 255)` whose truncation is the byte (each zoom rounded to
 * float32 and added in order), and `w` the float64 mean in byte units with
 * no rounding to float32 anywhere.
 */
function zoomReference(
  data: Uint8Array,
  severity: Severity,
): { f: Float32Array; w: Float64Array } {
  const r = Math.fround;
  const zooms = kConstants.zoom_blur[severity - 1]!;
  const n = zooms.length + 1;
  const x = new Float32Array(data.length);
  for (let i = 0; i < x.length; i++) x[i] = data[i]! / 255;
  const x64 = Float64Array.from(x), b64 = Float64Array.from(data);
  const acc = new Float32Array(x.length), sum = Float64Array.from(b64);
  for (const z of zooms) {
    const zx = clippedZoom(x64, kSize, 3, z),
      zb = clippedZoom(b64, kSize, 3, z);
    for (let i = 0; i < acc.length; i++) {
      acc[i]! += r(zx[i]!);
      sum[i]! += zb[i]!;
    }
  }
  const f = new Float32Array(x.length), w = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = r(r(x[i]! + acc[i]!) / n);
    f[i] = (v < 0 ? 0 : v > 1 ? 1 : v) * 255;
    w[i] = sum[i]! / n;
  }
  return { f, w };
}

/** Images whose zoom means sit on or next to byte boundaries. */
function zoomEdgeImages(): Uint8Array[] {
  const len = kSize * kSize * 3;
  const rng = new Rng(3, ["zoom"]);
  const noise = Uint8Array.from({ length: len }, () => rng.int(256));
  // Mostly 255 with scattered 254s, and mostly 0 with scattered 1s: means
  // a hair below 255 or above 0.
  const nearWhite = Uint8Array.from(
    { length: len },
    (_, i) => (i * 7919) % 97 === 0 ? 254 : 255,
  );
  const nearBlack = Uint8Array.from(
    { length: len },
    (_, i) => (i * 7919) % 89 === 0 ? 1 : 0,
  );
  const flat = (v: number) => new Uint8Array(len).fill(v);
  return [noise, nearWhite, nearBlack, flat(0), flat(254), flat(37)];
}

Deno.test("zoomBlur() equals the original's float32 sequence next to byte boundaries", () => {
  for (const severity of [1, 2, 3, 4, 5] as Severity[]) {
    for (const [k, data] of zoomEdgeImages().entries()) {
      const { f } = zoomReference(data, severity);
      const want = Uint8Array.from(f, Math.trunc);
      assert.equal(
        firstDiff(zoomBlur(data, kSize, severity), want),
        "",
        `severity ${severity}, image ${k}`,
      );
    }
  }
});

Deno.test("zoomEstimateBound() covers the float64 mean's distance from the original's float32 value", () => {
  // zoomBlur() takes the byte from the float64 mean w wherever w ± bound
  // stays within one byte; the float32 value must then lie in that range.
  // Samples where the truncations of f and w differ show that the exact
  // fallback is needed: the equality tests above fail without it.
  let worst = 0, undecidedByW = 0;
  const images = [...kImages, ...zoomEdgeImages()];
  for (const severity of [1, 2, 3, 4, 5] as Severity[]) {
    const zooms = kConstants.zoom_blur[severity - 1]!;
    const bound = zoomEstimateBound(zooms.length - 1, zooms.length + 1);
    for (const [k, data] of images.entries()) {
      const { f, w } = zoomReference(data, severity);
      for (let i = 0; i < f.length; i++) {
        const e = Math.abs(f[i]! - w[i]!);
        assert.ok(
          e <= bound,
          `severity ${severity}, image ${k}, sample ${i}: ${e} > ${bound}`,
        );
        worst = Math.max(worst, e / bound);
        if (Math.trunc(f[i]!) !== Math.floor(w[i]!)) undecidedByW++;
      }
    }
  }
  // The bound is a worst case, but not a loose one: the largest distance
  // seen is over a third of it.
  assert.ok(worst > 0.3, `largest distance ${worst} of the bound`);
  assert.ok(undecidedByW > 1000, `${undecidedByW} samples`);
});

Deno.test("diskFilter() on three channels equals, bit for bit, diskFilter() on each channel alone", () => {
  // Three channels take the packed path (one float64 for three disk sums,
  // unpacked straight into the g pass along x); one channel takes the plain
  // one (a sum a word, an unpacked row, then the g pass). Both add the same
  // products in the same order, so every value must be the same double.
  for (const [k, data] of kImages.entries()) {
    if (k > 1 && k < fx.images.length) continue;
    const n = kSize * kSize;
    for (const severity of [1, 3, 4, 5] as Severity[]) {
      const [radius, alias] = kConstants.defocus_blur[severity - 1]!;
      const rgb = diskFilter(data, kSize, 3, radius, alias);
      for (let c = 0; c < 3; c++) {
        const one = new Uint8Array(n);
        for (let p = 0; p < n; p++) one[p] = data[p * 3 + c]!;
        const got = diskFilter(one, kSize, 1, radius, alias);
        let bad = -1;
        for (let p = 0; p < n && bad < 0; p++) {
          if (!Object.is(got[p], rgb[p * 3 + c])) bad = p;
        }
        assert.equal(bad, -1, `severity ${severity}, image ${k}, channel ${c}`);
      }
    }
  }
});
