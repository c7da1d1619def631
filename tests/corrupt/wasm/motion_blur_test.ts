import assert from "node:assert/strict";
import { motionBlurKernel } from "../../../src/corrupt/wasm/motion_blur.ts";
import { motionKernel } from "../../../src/corrupt/motion.ts";
import { kConstants } from "../../../src/corrupt/registry.ts";
import { Rng } from "../../../src/rng.ts";
import { kHaveRealCrops, realCrops } from "../_real_crops.ts";

/**
 * The blur transcribed plainly, sample by sample, in float64: the taps added
 * in order, edge pixels repeated outside the image, ImageMagick's Q16
 * quantum truncated to 8 bits.
 */
function plainMotionBlur(
  data: Uint8Array,
  height: number,
  width: number,
  channels: number,
  weights: Float64Array,
  dx: Int32Array,
  dy: Int32Array,
): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let j = 0; j < weights.length; j++) {
          const sy = Math.min(height - 1, Math.max(0, y + dy[j]!));
          const sx = Math.min(width - 1, Math.max(0, x + dx[j]!));
          acc += weights[j]! * data[(sy * width + sx) * channels + c]!;
        }
        const q = Math.floor(acc * 257 + 0.5);
        out[(y * width + x) * channels + c] = Math.min(
          255,
          Math.max(0, Math.floor(q / 257)),
        );
      }
    }
  }
  return out;
}

/** Every (radius, sigma) the corruptions use: motion blur's, then snow's. */
const kSeverityKernels: [number, number][] = [
  ...kConstants.motion_blur.map(([r, s]) => [r, s] as [number, number]),
  ...kConstants.snow.map((p) => [p[4]!, p[5]!] as [number, number]),
];

function assertSame(
  data: Uint8Array,
  height: number,
  width: number,
  channels: number,
  radius: number,
  sigma: number,
  angle: number,
  what: string,
): void {
  const k = motionKernel(radius, sigma, angle);
  const got = motionBlurKernel(
    data,
    height,
    width,
    channels,
    k.weights,
    k.dx,
    k.dy,
  );
  const want = plainMotionBlur(
    data,
    height,
    width,
    channels,
    k.weights,
    k.dx,
    k.dy,
  );
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) {
      assert.fail(
        `${what} ${width}x${height}x${channels} radius ${radius} sigma ` +
          `${sigma} angle ${angle}: sample ${i} is ${got[i]}, want ${want[i]}`,
      );
    }
  }
}

/** Random blocks of flat colour, saturated 0/255 areas and sharp edges. */
function synthetic(
  height: number,
  width: number,
  channels: number,
  seed: number,
) {
  const rng = new Rng(seed);
  const d = new Uint8Array(height * width * channels);
  for (let i = 0; i < d.length; i++) d[i] = Math.floor(rng.float() * 256);
  for (let b = 0; b < 12; b++) {
    const x0 = Math.floor(rng.float() * width),
      y0 = Math.floor(rng.float() * height);
    const w = 1 + Math.floor(rng.float() * width / 2);
    const h = 1 + Math.floor(rng.float() * height / 2);
    const v = [0, 255, Math.floor(rng.float() * 256)][b % 3]!;
    for (let y = y0; y < Math.min(height, y0 + h); y++) {
      for (let x = x0; x < Math.min(width, x0 + w); x++) {
        for (let c = 0; c < channels; c++) {
          d[(y * width + x) * channels + c] = v;
        }
      }
    }
  }
  return d;
}

Deno.test({
  name:
    "motionBlurKernel() equals the plain sum on real crops at every severity",
  ignore: !kHaveRealCrops,
  fn: async () => {
    const crops = await realCrops(3);
    const rng = new Rng(7);
    for (const [i, crop] of crops.entries()) {
      const grey = new Uint8Array(224 * 224);
      for (let p = 0; p < grey.length; p++) grey[p] = crop[3 * p + i]!;
      for (const [radius, sigma] of kSeverityKernels) {
        assertSame(
          crop,
          224,
          224,
          3,
          radius,
          sigma,
          -45 + 90 * rng.float(),
          `crop ${i}`,
        );
        assertSame(
          grey,
          224,
          224,
          1,
          radius,
          sigma,
          -135 + 90 * rng.float(),
          `grey crop ${i}`,
        );
      }
    }
  },
});

Deno.test("motionBlurKernel() equals the plain sum on synthetic edges and saturated areas, other sizes", () => {
  // All-255 images: the sum of the weights may round just below 1.
  const white = new Uint8Array(37 * 29 * 3).fill(255);
  assertSame(white, 29, 37, 3, 20, 15, 12.5, "white");
  const sizes: [number, number, number][] = [
    [224, 224, 3],
    [61, 83, 3],
    [50, 47, 1],
    [5, 3, 3],
    [1, 1, 1],
    [9, 2, 1],
  ];
  let seed = 1;
  for (const [height, width, channels] of sizes) {
    const d = synthetic(height, width, channels, seed++);
    for (const [radius, sigma] of kSeverityKernels) {
      for (const angle of [0, 17.3, -44.9, 90, -101.25, 180, -135]) {
        assertSame(
          d,
          height,
          width,
          channels,
          radius,
          sigma,
          angle,
          "synthetic",
        );
      }
    }
  }
});

Deno.test("motionBlurKernel() gives the same bytes when called again after a larger image", () => {
  const small = synthetic(20, 30, 3, 99);
  const k = motionKernel(15, 5, 33);
  const a = motionBlurKernel(small, 20, 30, 3, k.weights, k.dx, k.dy);
  motionBlurKernel(
    synthetic(300, 250, 3, 5),
    300,
    250,
    3,
    k.weights,
    k.dx,
    k.dy,
  );
  const b = motionBlurKernel(small, 20, 30, 3, k.weights, k.dx, k.dy);
  assert.deepStrictEqual(b, a);
  assert.deepStrictEqual(
    a,
    plainMotionBlur(small, 20, 30, 3, k.weights, k.dx, k.dy),
  );
});

Deno.test("motionBlurKernel() adds the taps in order, each product rounded before it is added", () => {
  // Weights of 2^50 make each sum's rounding visible in the bytes: tap 0
  // and tap 1 cancel exactly only when their products are rounded on their
  // own and added in this order, leaving tap 2's sample.
  const width = 64;
  const data = synthetic(1, width, 1, 11);
  const dx = new Int32Array([0, 0, 1]), dy = new Int32Array(3);
  const at = (x: number) => data[Math.min(width - 1, x)]!;
  const quantum = (acc: number) =>
    Math.min(255, Math.max(0, Math.floor(Math.floor(acc * 257 + 0.5) / 257)));
  // In order: 0 + L·x0 − L·x0 + x1 = x1; the other way round x1 is lost
  // in the rounding of x1 − L·x0.
  const big = 2 ** 50;
  const w = new Float64Array([big, -big, 1]);
  const got = motionBlurKernel(data, 1, width, 1, w, dx, dy);
  assert.deepStrictEqual(got, plainMotionBlur(data, 1, width, 1, w, dx, dy));
  let reorderedDiffers = false;
  for (let x = 0; x < width; x++) {
    assert.equal(got[x], at(x + 1));
    const other = quantum(at(x + 1) * 1 + -big * at(x) + big * at(x));
    if (other !== got[x]) reorderedDiffers = true;
  }
  assert.ok(reorderedDiffers, "the case must tell the orders apart");
  // w·x0 needs more than 53 bits: a fused multiply-add would keep its
  // rounding error (exact in BigInt) in the sum.
  const wf = 2 ** 50 + 1;
  const wfused = new Float64Array([wf, -wf, 1]);
  const gotF = motionBlurKernel(data, 1, width, 1, wfused, dx, dy);
  let fusedDiffers = false;
  for (let x = 0; x < width; x++) {
    assert.equal(gotF[x], at(x + 1));
    const exact = BigInt(wf) * BigInt(at(x));
    const err = Number(BigInt(wf * at(x)) - exact);
    if (quantum(err + at(x + 1)) !== gotF[x]) fusedDiffers = true;
  }
  assert.ok(fusedDiffers, "the case must tell fused from separate");
});
