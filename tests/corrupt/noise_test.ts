import assert from "node:assert/strict";
import {
  approxNormal,
  gaussianNoise,
  impulseNoise,
  kNormalErr,
  poissonInverse,
  shotNoise,
} from "../../src/corrupt/noise.ts";
import { kConstants, kSeverities } from "../../src/corrupt/registry.ts";
import { toUint8 } from "../../src/corrupt/filters.ts";
import { Rng } from "../../src/rng.ts";

// The corruptions as the original writes them, one draw at a time from the
// documented stream: the fast paths must give these bytes exactly.
function directGaussian(data: Uint8Array, c: number, rng: Rng): Uint8Array {
  return toUint8(Float64Array.from(data, (d) => d / 255 + rng.normal() * c));
}

function directShot(data: Uint8Array, c: number, rng: Rng): Uint8Array {
  return toUint8(
    Float64Array.from(
      data,
      (d) => poissonInverse((d / 255) * c, rng.float()) / c,
    ),
  );
}

function directImpulse(data: Uint8Array, amount: number, rng: Rng): Uint8Array {
  return toUint8(Float64Array.from(data, (d) => {
    const flipped = rng.float() < amount;
    const salt = rng.float() < 0.5;
    return flipped ? (salt ? 1 : 0) : d / 255;
  }));
}

/** Random test images: uniform bytes, smooth ramps, and saturated patches. */
function testImages(n: number): Uint8Array[] {
  const r = new Rng(99, ["noise-images"]);
  const out: Uint8Array[] = [];
  for (let k = 0; k < n; k++) {
    // Odd sizes so the last bulk chunk is partial.
    const len = 3 * (4099 + 977 * k);
    const img = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      img[i] = k % 3 === 0
        ? r.int(256)
        : k % 3 === 1
        ? (i * 7 + k) & 255
        : (i >> 9) % 2 === 0
        ? 255 * (k & 1)
        : r.int(256);
    }
    out.push(img);
  }
  return out;
}

const images = testImages(12);

function assertSameBytes(got: Uint8Array, want: Uint8Array, what: string) {
  assert.equal(got.length, want.length, what);
  const at = got.findIndex((v, i) => v !== want[i]);
  assert.equal(at, -1, `${what}: byte ${at} is ${got[at]}, not ${want[at]}`);
}

Deno.test("approxNormal() stays within kNormalErr / 2 of Rng.normal()'s expression", () => {
  const r = new Rng(7, ["approx-normal"]);
  const draws = r.fillU32(new Uint32Array(2_000_000));
  let worst = 0, declined = 0;
  for (let i = 0; i < draws.length; i += 2) {
    let a = draws[i]!;
    const b = draws[i + 1]!;
    // A quarter of the draws near u = 1 (a small) and near u = 0 (a large),
    // where the logarithm is steepest; b at every table knot too.
    if (i % 8 === 2) a = a >>> (i % 32);
    if (i % 8 === 4) a = 4294967295 - (a >>> (i % 32));
    const bb = i % 8 === 6 ? (b >>> 20) << 20 : b;
    const n = approxNormal(a, bb);
    const exact = Math.sqrt(-2 * Math.log(1 - a / 4294967296)) *
      Math.cos(2 * Math.PI * (bb / 4294967296));
    if (Number.isNaN(n)) {
      declined++;
      continue;
    }
    worst = Math.max(worst, Math.abs(n - exact));
  }
  // The ends: u = 1 (declined), the smallest u, the table's last knots.
  assert.ok(Number.isNaN(approxNormal(0, 123)));
  for (
    const [a, b] of [[4294967295, 0], [4294967295, 4294967295], [1, 2 ** 31]]
  ) {
    const exact = Math.sqrt(-2 * Math.log(1 - a! / 4294967296)) *
      Math.cos(2 * Math.PI * (b! / 4294967296));
    const n = approxNormal(a!, b!);
    if (!Number.isNaN(n)) worst = Math.max(worst, Math.abs(n - exact));
  }
  assert.ok(worst <= kNormalErr / 2, `worst error ${worst}`);
  // Declined only near u = 1, which a sixth of the test draws are.
  assert.ok(declined < draws.length / 2 / 6, `declined ${declined}`);
});

Deno.test("gaussianNoise() gives the bytes of the per-sample Box-Muller formula, severities 1-5", () => {
  for (const severity of kSeverities) {
    const c = kConstants.gaussian_noise[severity - 1]!;
    for (const [k, img] of images.entries()) {
      const key = ["gauss", severity, k];
      const got = gaussianNoise(img, severity, new Rng(5, key));
      const want = directGaussian(img, c, new Rng(5, key));
      assertSameBytes(got, want, `severity ${severity} image ${k}`);
    }
  }
});

Deno.test("gaussianNoise() consumes two draws per sample, as Rng.normal()", () => {
  const a = new Rng(3), b = new Rng(3);
  gaussianNoise(images[1]!, 2, a);
  for (let i = 0; i < images[1]!.length; i++) b.normal();
  assert.equal(a.nextU32(), b.nextU32());
});

Deno.test("shotNoise() gives the bytes of per-sample Poisson inversion, severities 1-5", () => {
  for (const severity of kSeverities) {
    const c = kConstants.shot_noise[severity - 1]!;
    for (const [k, img] of images.entries()) {
      const key = ["shot", severity, k];
      const got = shotNoise(img, severity, new Rng(5, key));
      const want = directShot(img, c, new Rng(5, key));
      assertSameBytes(got, want, `severity ${severity} image ${k}`);
    }
  }
});

Deno.test("impulseNoise() gives the bytes of per-sample salt and pepper, severities 1-5", () => {
  for (const severity of kSeverities) {
    const amount = kConstants.impulse_noise[severity - 1]!;
    for (const [k, img] of images.entries()) {
      const key = ["impulse", severity, k];
      const got = impulseNoise(img, severity, new Rng(5, key));
      const want = directImpulse(img, amount, new Rng(5, key));
      assertSameBytes(got, want, `severity ${severity} image ${k}`);
    }
  }
});

Deno.test("shotNoise() and impulseNoise() leave the stream where per-sample draws do", () => {
  const img = images[2]!;
  const a = new Rng(4), b = new Rng(4);
  shotNoise(img, 1, a);
  for (let i = 0; i < img.length; i++) b.float();
  assert.equal(a.nextU32(), b.nextU32());
  impulseNoise(img, 5, a);
  for (let i = 0; i < 2 * img.length; i++) b.float();
  assert.equal(a.nextU32(), b.nextU32());
});
