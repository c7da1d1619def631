import assert from "node:assert/strict";
import { defocusBlur, diskKernel } from "../../src/corrupt/defocus.ts";
import { mapIndex } from "../../src/corrupt/filters.ts";
import { kConstants, type Severity } from "../../src/corrupt/registry.ts";
import { kByteToUnit, toByte } from "../../src/corrupt/scratch.ts";
import { kHaveRealCrops, realCrops } from "./_real_crops.ts";

// defocusBlur() sums the disk from packed prefix sums, runs the alias
// Gaussian and the fold's bracket in a WebAssembly SIMD kernel, and sums
// the fold's taps only where the bracket cannot decide a byte. Below, the
// same arithmetic written out plainly, sample by sample: the disk's
// integer sum over its pixels, divided by 255·area; the Gaussian g along x
// then along y, products added in tap order; where the kernel folds at its
// box, the taps of (kernel − unfolded kernel) summed from 0 in order and
// added; then the byte.

/** The taps where `diskKernel()` differs from g ⊗ g ⊗ disk, unfolded. */
function foldTaps(radius: number, alias: number) {
  const { kernel, k } = diskKernel(radius, alias);
  const half = (k - 1) / 2, ks = radius <= 8 ? 3 : 5, rg = (ks - 1) / 2;
  const g: number[] = [];
  let gs = 0;
  for (let i = 0; i < ks; i++) {
    g.push(Math.exp((-0.5 / (alias * alias)) * (i - rg) * (i - rg)));
    gs += g[i]!;
  }
  for (let i = 0; i < ks; i++) g[i]! /= gs;
  let area = 0;
  for (let y = -half; y <= half; y++) {
    for (let x = -half; x <= half; x++) {
      if (x * x + y * y <= radius * radius) area++;
    }
  }
  const k2 = k + 2 * rg;
  const at = (a: number[], y: number, x: number) =>
    y >= 0 && y < k2 && x >= 0 && x < k2 ? a[y * k2 + x]! : 0;
  const disk: number[] = [];
  for (let y = 0; y < k2; y++) {
    for (let x = 0; x < k2; x++) {
      const dy = y - rg - half, dx = x - rg - half;
      const inBox = Math.abs(dy) <= half && Math.abs(dx) <= half;
      disk.push(inBox && dx * dx + dy * dy <= radius * radius ? 1 / area : 0);
    }
  }
  const gx: number[] = [];
  for (let y = 0; y < k2; y++) {
    for (let x = 0; x < k2; x++) {
      let a = 0;
      for (let i = 0; i < ks; i++) {
        if (x + i - rg >= 0 && x + i - rg < k2) {
          a += g[i]! * at(disk, y, x + i - rg);
        }
      }
      gx.push(a);
    }
  }
  const taps: { y: number; x: number; w: number }[] = [];
  for (let y = 0; y < k2; y++) {
    for (let x = 0; x < k2; x++) {
      let full = 0;
      for (let i = 0; i < ks; i++) {
        if (y + i - rg >= 0 && y + i - rg < k2) {
          full += g[i]! * at(gx, y + i - rg, x);
        }
      }
      const ky = y - rg, kx = x - rg;
      const kv = ky >= 0 && ky < k && kx >= 0 && kx < k
        ? kernel[ky * k + kx]!
        : 0;
      if (Math.abs(kv - full) > 1e-13) taps.push({ y, x, w: kv - full });
    }
  }
  return { g, area, half, rg, taps };
}

/** Defocus blur of an RGB `size` x `size` image, plainly. */
function plainDefocus(
  data: Uint8Array,
  size: number,
  severity: Severity,
): Uint8Array {
  const [radius, alias] = kConstants.defocus_blur[severity - 1]!;
  const { g, area, half, rg, taps } = foldTaps(radius, alias);
  const ks = g.length, pr = half + rg, pw = size + 2 * pr;
  // The image padded by pr, reflect-101.
  const P = new Uint8Array(pw * pw * 3);
  for (let y = 0; y < pw; y++) {
    for (let x = 0; x < pw; x++) {
      const s = (mapIndex(y - pr, size, "reflect101") * size +
        mapIndex(x - pr, size, "reflect101")) * 3;
      for (let c = 0; c < 3; c++) P[(y * pw + x) * 3 + c] = data[s + c]!;
    }
  }
  const px = (y: number, x: number, c: number) =>
    P[((y + pr) * pw + x + pr) * 3 + c]!;
  // D[Y][X] for Y, X in [−rg, size + rg): the disk's sum / (255·area).
  const m = size + 2 * rg;
  const D = new Float64Array(m * m * 3);
  for (let Y = 0; Y < m; Y++) {
    for (let X = 0; X < m; X++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let dy = -half; dy <= half; dy++) {
          for (let dx = -half; dx <= half; dx++) {
            if (dx * dx + dy * dy <= radius * radius) {
              s += px(Y - rg + dy, X - rg + dx, c);
            }
          }
        }
        D[(Y * m + X) * 3 + c] = s / (area * 255);
      }
    }
  }
  // g along x: H[Y][x] for x in [0, size).
  const H = new Float64Array(m * size * 3);
  for (let Y = 0; Y < m; Y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        let a = 0;
        for (let i = 0; i < ks; i++) a += g[i]! * D[(Y * m + x + i) * 3 + c]!;
        H[(Y * size + x) * 3 + c] = a;
      }
    }
  }
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        let r = 0;
        for (let i = 0; i < ks; i++) {
          r += g[i]! * H[((y + i) * size + x) * 3 + c]!;
        }
        if (taps.length === 0) {
          out[(y * size + x) * 3 + c] = toByte(r);
          continue;
        }
        // The taps' grid starts pr above and left of the sample.
        let a = 0;
        for (const t of taps) {
          a += t.w * kByteToUnit[px(y - pr + t.y, x - pr + t.x, c)]!;
        }
        out[(y * size + x) * 3 + c] = toByte(r + a);
      }
    }
  }
  return out;
}

/**
 * Flat areas at levels whose disk sums land on byte boundaries, their
 * edges, saturated areas, a disc and a band of hashed noise.
 */
function synthetic(size: number): Uint8Array {
  const d = new Uint8Array(size * size * 3);
  const levels = [0, 1, 51, 128, 204, 255];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 3;
      const q = levels[(((3 * y) / size) | 0) * 2 + ((2 * x / size) | 0)]!;
      const disc = (x - size / 3) ** 2 + (y - size / 2) ** 2 < (size / 5) ** 2;
      const band = y > size * 0.8 && y < size * 0.9;
      const hash = (Math.imul(x * 374761393 + y * 668265263, 2654435761) >>>
        24) & 255;
      d[o] = band ? hash : disc ? 255 : q;
      d[o + 1] = band ? 255 - hash : q;
      d[o + 2] = disc ? 0 : levels[(x + y) % 6 === 0 ? 3 : 1]!;
    }
  }
  return d;
}

function firstDiff(a: Uint8Array, b: Uint8Array): string {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return `sample ${i}: ${a[i]} vs ${b[i]}`;
  }
  return a.length === b.length ? "" : "lengths differ";
}

const kSeverities: Severity[] = [1, 2, 3, 4, 5];

Deno.test("defocusBlur() equals the plain arithmetic on synthetic images of two sizes", () => {
  // 57: odd rows (171 samples), odd padded rows, the kernel's odd tails.
  for (const size of [224, 57]) {
    const data = synthetic(size);
    for (const severity of kSeverities) {
      assert.equal(
        firstDiff(
          defocusBlur(data, size, severity),
          plainDefocus(data, size, severity),
        ),
        "",
        `size ${size}, severity ${severity}`,
      );
    }
  }
});

Deno.test({
  name: "defocusBlur() equals the plain arithmetic on real crops",
  ignore: !kHaveRealCrops,
  fn: async () => {
    const crops = await realCrops(2);
    for (const [k, data] of crops.entries()) {
      for (const severity of kSeverities) {
        assert.equal(
          firstDiff(
            defocusBlur(data, 224, severity),
            plainDefocus(data, 224, severity),
          ),
          "",
          `crop ${k}, severity ${severity}`,
        );
      }
    }
    // A crop cut to an odd size, from its middle.
    const n = 95, src = crops[0]!, cut = new Uint8Array(n * n * 3);
    for (let y = 0; y < n; y++) {
      cut.set(
        src.subarray((y + 60) * 672 + 180, (y + 60) * 672 + 180 + n * 3),
        y * n * 3,
      );
    }
    for (const severity of kSeverities) {
      assert.equal(
        firstDiff(
          defocusBlur(cut, n, severity),
          plainDefocus(cut, n, severity),
        ),
        "",
        `cut crop, severity ${severity}`,
      );
    }
  },
});
