import assert from "node:assert/strict";
import {
  type BorderMode,
  correlateAxis,
  filter2d,
  gaussianFilter,
  gaussianKernel1d,
  mapIndex,
  toFloat,
  toUint8,
} from "../../src/corrupt/filters.ts";
import { Rng } from "../../src/rng.ts";

// One output at a time, as the definitions read: taps folded onto the image
// in order of first appearance (weights on the same input summed in kernel
// order), then the sum over the taps in that order. The fast paths must give
// these bits exactly.
function referenceCorrelate(
  src: Float64Array,
  h: number,
  w: number,
  ch: number,
  axis: 0 | 1,
  weights: Float64Array,
  mode: BorderMode,
): Float64Array {
  const r = (weights.length - 1) >> 1;
  const n = axis === 0 ? h : w;
  const tapsOf = Array.from({ length: n }, (_, i) => {
    const taps = new Map<number, number>();
    for (let k = -r; k <= r; k++) {
      const j = mapIndex(i + k, n, mode);
      taps.set(j, (taps.get(j) ?? 0) + weights[k + r]!);
    }
    return [...taps];
  });
  const out = new Float64Array(src.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const taps = tapsOf[axis === 0 ? y : x]!;
      for (let c = 0; c < ch; c++) {
        let acc = 0;
        for (const [j, wt] of taps) {
          const at = axis === 0 ? (j * w + x) * ch + c : (y * w + j) * ch + c;
          acc += wt * src[at]!;
        }
        out[(y * w + x) * ch + c] = acc;
      }
    }
  }
  return out;
}

function referenceFilter2d(
  src: Float64Array,
  h: number,
  w: number,
  ch: number,
  kernel: Float64Array,
  k: number,
): Float64Array {
  const r = (k - 1) >> 1;
  const out = new Float64Array(src.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < ch; c++) {
        let acc = 0;
        for (let j = 0; j < k; j++) {
          for (let i = 0; i < k; i++) {
            const wt = kernel[j * k + i]!;
            if (wt === 0) continue;
            const sy = mapIndex(y + j - r, h, "reflect101");
            const sx = mapIndex(x + i - r, w, "reflect101");
            acc += wt * src[(sy * w + sx) * ch + c]!;
          }
        }
        out[(y * w + x) * ch + c] = acc;
      }
    }
  }
  return out;
}

function assertSameBits(got: Float64Array, want: Float64Array, what: string) {
  assert.equal(got.length, want.length, what);
  const at = got.findIndex((v, i) => !Object.is(v, want[i]));
  assert.equal(at, -1, `${what}: element ${at} is ${got[at]}, not ${want[at]}`);
}

const rng = new Rng(11, ["filters"]);
const randomImage = (n: number) => {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.float();
  return a;
};
const modes: BorderMode[] = ["nearest", "reflect", "reflect101"];
// (height, width, kernel widths): 224 x 224 for the real size (kernels
// narrower and wider than a quarter of it take different paths), small and
// odd sizes for the folding and the loop remainders.
const cases: [number, number, number[]][] = [
  [224, 224, [3, 13, 121]],
  [48, 40, [5, 61, 201]],
  [9, 23, [1, 3, 7, 13, 25, 61]],
  [23, 9, [1, 3, 7, 13, 25, 61]],
  [1, 12, [1, 3, 7]],
  [12, 1, [1, 3, 7]],
];

Deno.test("correlateAxis() gives the bits of a one-output-at-a-time sum", () => {
  for (const [h, w, widths] of cases) {
    for (const ch of [1, 3]) {
      const src = randomImage(h * w * ch);
      for (const nw of widths) {
        // Gaussian weights and signed random ones (with exact zeros).
        const kernels = [
          gaussianKernel1d((nw - 1) / 8 || 0.1, 4).slice(0, nw),
          Float64Array.from(
            { length: nw },
            (_, i) => i % 5 === 2 ? 0 : rng.float() - 0.5,
          ),
        ];
        for (const weights of kernels) {
          for (const mode of modes) {
            for (const axis of [0, 1] as const) {
              assertSameBits(
                correlateAxis(src, h, w, ch, axis, weights, mode),
                referenceCorrelate(src, h, w, ch, axis, weights, mode),
                `${h}x${w}x${ch} axis ${axis} ${mode} ${nw} taps`,
              );
            }
          }
        }
      }
    }
  }
});

Deno.test("gaussianFilter() is rows then columns, bit for bit", () => {
  const src = randomImage(224 * 224 * 3);
  for (const sigma of [0.7, 1.5, 3]) {
    const w = gaussianKernel1d(sigma);
    const a = referenceCorrelate(src, 224, 224, 3, 0, w, "nearest");
    const want = referenceCorrelate(a, 224, 224, 3, 1, w, "nearest");
    assertSameBits(
      gaussianFilter(src, 224, 224, 3, sigma),
      want,
      `sigma ${sigma}`,
    );
    // Scratch reuse does not leak between calls: the same call again.
    assertSameBits(gaussianFilter(src, 224, 224, 3, sigma), want, "again");
  }
});

Deno.test("filter2d() gives the bits of a one-output-at-a-time sum", () => {
  for (const [h, w] of [[40, 33], [5, 7]] as [number, number][]) {
    for (const ch of [1, 3]) {
      const src = randomImage(h * w * ch);
      for (const k of [1, 3, 5, 9]) {
        const kernel = Float64Array.from(
          { length: k * k },
          (_, i) => i % 4 === 1 ? 0 : rng.float(),
        );
        assertSameBits(
          filter2d(src, h, w, ch, kernel, k),
          referenceFilter2d(src, h, w, ch, kernel, k),
          `${h}x${w}x${ch} k=${k}`,
        );
      }
    }
  }
});

Deno.test("toFloat() divides by 255; toUint8() clips, scales and truncates", () => {
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  assertSameBits(toFloat(bytes), Float64Array.from(bytes, (d) => d / 255), "");
  const xs = Float64Array.from([
    NaN,
    -Infinity,
    -1,
    -1e-300,
    -0,
    0,
    1e-300,
    0.5,
    1 - 2 ** -53,
    1,
    1 + 2 ** -52,
    2,
    Infinity,
    ...Array.from({ length: 1000 }, (_, i) => i / 999 + (i % 3 - 1) * 1e-12),
  ]);
  const want = Uint8Array.from(
    xs,
    (v) => Math.trunc((v < 0 ? 0 : v > 1 ? 1 : v) * 255),
  );
  assert.deepEqual(toUint8(xs), want);
});

Deno.test("gaussianFilter(), filter2d() and toFloat() write into a given out, src included", () => {
  const bytes = Uint8Array.from({ length: 30 * 20 * 3 }, (_, i) => i * 31);
  const src = toFloat(bytes);
  const into = new Float64Array(src.length);
  assert.equal(toFloat(bytes, into), into);
  assertSameBits(into, src, "toFloat");
  const want = gaussianFilter(src, 30, 20, 3, 1.2, "reflect");
  assert.equal(gaussianFilter(into, 30, 20, 3, 1.2, "reflect", 4, into), into);
  assertSameBits(into, want, "gaussianFilter in place");
  const kernel = Float64Array.from({ length: 9 }, (_, i) => (i + 1) / 45);
  const want2 = filter2d(src, 30, 20, 3, kernel, 3);
  const again = src.slice();
  assert.equal(filter2d(again, 30, 20, 3, kernel, 3, again), again);
  assertSameBits(again, want2, "filter2d in place");
  const w = gaussianKernel1d(1);
  assert.throws(
    () => correlateAxis(src, 30, 20, 3, 1, w, "nearest", src),
    /in place/,
  );
});
