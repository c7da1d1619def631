import assert from "node:assert/strict";
import { glassBlur } from "../../src/corrupt/glass.ts";
import { gaussianKernel1d } from "../../src/corrupt/filters.ts";
import { kConstants, type Severity } from "../../src/corrupt/registry.ts";
import { Rng } from "../../src/rng.ts";
import { kHaveRealCrops, realCrops } from "./_real_crops.ts";

/**
 * Glass blur transcribed plainly: scipy's `gaussian_filter` (mode nearest,
 * truncate 4) one tap at a time with clamped indices, rows then columns,
 * taps landing on the same sample folded in kernel order as `filters.ts`
 * folds them, `trunc(· 255)`, the swaps in place with `Rng.int` draws, the
 * second filter, and `trunc(· 255)` again.
 */
function plainGlass(
  data: Uint8Array,
  size: number,
  severity: Severity,
  rng: Rng,
): Uint8Array {
  const [sigma, delta, iterations] = kConstants.glass_blur[severity - 1]!;
  const k = gaussianKernel1d(sigma, 4);
  const r = (k.length - 1) >> 1;
  // Per index: the distinct clamped inputs in first-seen order, weights summed.
  const taps: { j: number[]; w: number[] }[] = [];
  for (let i = 0; i < size; i++) {
    const j: number[] = [], w: number[] = [];
    for (let t = -r; t <= r; t++) {
      const c = Math.min(size - 1, Math.max(0, i + t));
      const at = j.indexOf(c);
      if (at < 0) {
        j.push(c);
        w.push(0 + k[t + r]!);
      } else w[at]! += k[t + r]!;
    }
    taps.push({ j, w });
  }
  const blur = (src: Uint8Array): Uint8Array => {
    const f = new Float64Array(src.length), g = new Float64Array(src.length);
    for (let i = 0; i < src.length; i++) f[i] = src[i]! / 255;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size * 3; x++) {
        let a = 0;
        const { j, w } = taps[y]!;
        for (let t = 0; t < j.length; t++) {
          a += w[t]! * f[j[t]! * size * 3 + x]!;
        }
        g[y * size * 3 + x] = a;
      }
    }
    const out = new Uint8Array(src.length);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        for (let c = 0; c < 3; c++) {
          let a = 0;
          const { j, w } = taps[x]!;
          for (let t = 0; t < j.length; t++) {
            a += w[t]! * g[(y * size + j[t]!) * 3 + c]!;
          }
          out[(y * size + x) * 3 + c] = Math.trunc(a * 255);
        }
      }
    }
    return out;
  };
  const x = blur(data);
  for (let it = 0; it < iterations; it++) {
    for (let h = size - delta; h > delta; h--) {
      for (let w = size - delta; w > delta; w--) {
        const dx = rng.int(2 * delta) - delta;
        const dy = rng.int(2 * delta) - delta;
        for (let c = 0; c < 3; c++) {
          x[(h * size + w) * 3 + c] = x[((h + dy) * size + w + dx) * 3 + c]!;
        }
      }
    }
  }
  return blur(x);
}

function firstDiff(got: Uint8Array, want: Uint8Array): string {
  assert.equal(got.length, want.length);
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== want[i]) return `sample ${i}: ${got[i]} != ${want[i]}`;
  }
  return "";
}

function check(images: Uint8Array[], size: number, label: string): void {
  for (const severity of [1, 2, 3, 4, 5] as Severity[]) {
    for (const [k, data] of images.entries()) {
      const rng = new Rng(13, ["glass-plain", size, k, severity]);
      const got = glassBlur(data, size, severity, rng.fork("x"));
      const want = plainGlass(data, size, severity, rng.fork("x"));
      assert.equal(
        firstDiff(got, want),
        "",
        `${label} ${k}, size ${size}, severity ${severity}`,
      );
    }
  }
}

Deno.test({
  name: "glassBlur() equals the plain transcription on real crops",
  ignore: !kHaveRealCrops,
  fn: async () => check(await realCrops(3), 224, "crop"),
});

Deno.test("glassBlur() equals the plain transcription on synthetic images", () => {
  for (const size of [224, 61]) {
    const noise = new Uint8Array(size * size * 3);
    const fill = new Rng(4, ["glass-plain-fill", size]);
    for (let i = 0; i < noise.length; i++) noise[i] = fill.int(256);
    // Saturated and flat areas with hard edges: sums at 0 and 1.
    const edges = new Uint8Array(size * size * 3);
    for (let i = 0; i < edges.length; i++) {
      const p = Math.floor(i / 3), y = Math.floor(p / size), x = p % size;
      edges[i] = (x * 7 + y * 3) % 50 < 25 ? 255 : (i % 3) * 60;
    }
    check(
      [noise, edges, new Uint8Array(size * size * 3).fill(255)],
      size,
      "synthetic",
    );
  }
});
