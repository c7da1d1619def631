import assert from "node:assert/strict";
import {
  elasticSample,
  elasticWarp,
  warpedImage,
} from "../../../src/corrupt/wasm/elastic.ts";
import {
  affineFromPoints,
  elasticTransform,
} from "../../../src/corrupt/digital.ts";
import {
  correlateAxis,
  gaussianKernel1d,
  mapIndex,
} from "../../../src/corrupt/filters.ts";
import { kDirectMaxTaps } from "../../../src/corrupt/reflect_convolve.ts";
import { referenceLongRoute } from "../_reflect_dct_reference.ts";
import { kConstants, kSeverities } from "../../../src/corrupt/registry.ts";
import { roundHalfEven } from "../../../src/data/preprocess.ts";
import { Rng } from "../../../src/rng.ts";
import { loadFixtureImages } from "../_fixtures.ts";
import { realCrops } from "../_real_crops.ts";

const f = Math.fround;

/**
 * `cv2.warpAffine(data / 255, m, INTER_LINEAR, BORDER_REFLECT_101)` in
 * float32, transcribed plainly: OpenCV's fixed-point inverse map, its
 * float32 weights on the 1/32-pixel grid, the four taps summed in float64.
 */
function plainWarp(data: Uint8Array, n: number, m: number[]): Float32Array {
  let D = m[0]! * m[4]! - m[1]! * m[3]!;
  D = D !== 0 ? 1 / D : 0;
  const a0 = m[4]! * D, a1 = m[1]! * -D, a3 = m[3]! * -D, a4 = m[0]! * D;
  const a2 = -a0 * m[2]! - a1 * m[5]!;
  const a5 = -a3 * m[2]! - a4 * m[5]!;
  const out = new Float32Array(n * n * 3);
  const at = (i: number) =>
    i >= 0 && i < n - 1 ? [i, i + 1] : [
      mapIndex(i, n, "reflect101"),
      mapIndex(i + 1, n, "reflect101"),
    ];
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const X = (roundHalfEven((a1 * y + a2) * 1024) + 16 +
        roundHalfEven(a0 * x * 1024)) >> 5;
      const Y = (roundHalfEven((a4 * y + a5) * 1024) + 16 +
        roundHalfEven(a3 * x * 1024)) >> 5;
      const fx = f((X & 31) / 32), fy = f((Y & 31) / 32);
      const w = [
        f(f(1 - fy) * f(1 - fx)),
        f(f(1 - fy) * fx),
        f(fy * f(1 - fx)),
        f(fy * fx),
      ];
      const [xa, xb] = at(X >> 5), [ya, yb] = at(Y >> 5);
      for (let c = 0; c < 3; c++) {
        const s = (yy: number, xx: number) =>
          f(data[(yy * n + xx) * 3 + c]! / 255);
        out[(y * n + x) * 3 + c] = s(ya!, xa!) * w[0]! + s(ya!, xb!) * w[1]! +
          s(yb!, xa!) * w[2]! + s(yb!, xb!) * w[3]!;
      }
    }
  }
  return out;
}

/** `elasticTransform` transcribed plainly, sample by sample. */
function plainElastic(
  data: Uint8Array,
  n: number,
  severity: 1 | 2 | 3 | 4 | 5,
  rng: Rng,
): Uint8Array {
  const [alpha, sigma, jitter] = kConstants.elastic_transform[severity - 1]!;
  const c = Math.floor(n / 2), sq = Math.floor(n / 3);
  const pts1: [number, number][] = [
    [c + sq, c + sq],
    [c + sq, c - sq],
    [c - sq, c - sq],
  ];
  const pts2 = pts1.map((p) =>
    p.map((v) => f(v + f(-jitter + 2 * jitter * rng.float())))
  ) as [number, number][];
  const warped = plainWarp(data, n, affineFromPoints(pts1, pts2));
  const u = [0, 1].map(() =>
    Float64Array.from({ length: n * n }, () => -1 + 2 * rng.float())
  );
  // The fields' smoothing: scipy's sums (`correlateAxis`) for short
  // kernels, the scalar DCT route for long ones.
  const w = gaussianKernel1d(sigma, 3);
  const [sx, sy] = w.length <= kDirectMaxTaps
    ? u.map((x) =>
      correlateAxis(
        correlateAxis(x, n, n, 1, 0, w, "reflect"),
        n,
        n,
        1,
        1,
        w,
        "reflect",
      )
    )
    : referenceLongRoute(u, n, w);
  const out = new Uint8Array(n * n * 3);
  const at = (i: number) =>
    i >= 0 && i < n - 1
      ? [i, i + 1]
      : [mapIndex(i, n, "reflect"), mapIndex(i + 1, n, "reflect")];
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const p = y * n + x;
      const cy = y + f(sy![p]! * alpha), cx = x + f(sx![p]! * alpha);
      const fy = Math.floor(cy), fx = Math.floor(cx);
      const ty = cy - fy, tx = cx - fx;
      const [y0, y1] = at(fy), [x0, x1] = at(fx);
      for (let ch = 0; ch < 3; ch++) {
        const s = (yy: number, xx: number) => warped[(yy * n + xx) * 3 + ch]!;
        const v = f(
          (1 - ty) * ((1 - tx) * s(y0!, x0!) + tx * s(y0!, x1!)) +
            ty * ((1 - tx) * s(y1!, x0!) + tx * s(y1!, x1!)),
        );
        out[p * 3 + ch] = Math.trunc(f(Math.min(Math.max(v, 0), 1) * 255));
      }
    }
  }
  return out;
}

/** Images that reach every byte, flat areas and hard edges. */
function syntheticImages(n: number): Uint8Array[] {
  const rng = new Rng(11);
  return [
    Uint8Array.from({ length: n * n * 3 }, () => rng.int(256)),
    Uint8Array.from({ length: n * n * 3 }, (_, i) => {
      const p = Math.floor(i / 3), x = p % n, y = Math.floor(p / n);
      return (x >> 3) % 2 === (y >> 3) % 2 ? 255 : 0;
    }),
    new Uint8Array(n * n * 3).fill(255),
  ];
}

Deno.test("elasticTransform() gives the plain transcription's bytes on real and synthetic images, severities 1-5", async () => {
  const { images } = await loadFixtureImages();
  const inputs = [
    ...(await realCrops(3)),
    ...images.map((im) => im.data),
    ...syntheticImages(224),
  ];
  for (const [k, data] of inputs.entries()) {
    for (const severity of kSeverities) {
      const got = elasticTransform(data, 224, severity, new Rng(k));
      const want = plainElastic(data, 224, severity, new Rng(k));
      let diff = 0;
      for (let i = 0; i < got.length; i++) diff += got[i] !== want[i] ? 1 : 0;
      assert.equal(diff, 0, `image ${k} severity ${severity}: ${diff} bytes`);
    }
  }
});

Deno.test("elasticTransform() on a small image gives the plain transcription's bytes (taps reflected far out)", () => {
  // At side 32 the jitter and displacements (sized for 244) reach far past
  // the borders: both reflections fold more than once.
  for (const [k, data] of syntheticImages(32).entries()) {
    for (const severity of [3, 5] as const) {
      assert.deepStrictEqual(
        elasticTransform(data, 32, severity, new Rng(k)),
        plainElastic(data, 32, severity, new Rng(k)),
      );
    }
  }
});

Deno.test("elasticWarp() gives the plain warp's float32 image; elasticSample() with zero fields returns its bytes", () => {
  const rng = new Rng(3);
  const n = 40;
  const data = Uint8Array.from({ length: n * n * 3 }, () => rng.int(256));
  const m = [0.93, 0.21, -30, -0.17, 1.08, 25];
  const { dx, dy } = elasticWarp(data, n, m);
  const want = plainWarp(data, n, m);
  assert.deepStrictEqual(warpedImage(n), want);
  dx.fill(0);
  dy.fill(0);
  assert.deepStrictEqual(
    elasticSample(n),
    Uint8Array.from(want, (v) => Math.trunc(f(v * 255))),
  );
});
