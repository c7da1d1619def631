import assert from "node:assert/strict";
import {
  describePreprocess,
  normalization,
  normalizeTensor,
  parseNormalizeFlags,
  planResize,
  resolveNormalization,
  toTensor,
} from "../../src/data/preprocess.ts";
import { UserError } from "../../src/errors.ts";
import type { RgbImage } from "../../src/data/exif.ts";

function image(
  w: number,
  h: number,
  f: (x: number, y: number, c: number) => number,
): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = f(x, y, c);
    }
  }
  return { width: w, height: h, data };
}

/**
 * Float64 oracle written independently: PIL's antialiased bilinear as a direct
 * 2D sum per output pixel (support = max(1, scale), weights 1 - |d|/support,
 * normalised per axis), then the crop window.
 */
function oracle(
  img: RgbImage,
  rw: number,
  rh: number,
  left: number,
  top: number,
  s: number,
): Float64Array {
  const axis = (inSize: number, outSize: number, o: number) => {
    const scale = inSize / outSize;
    const support = Math.max(1, scale);
    const center = (o + 0.5) * scale;
    const ws: [number, number][] = [];
    for (let j = 0; j < inSize; j++) {
      const d = Math.abs(j + 0.5 - center) / support;
      if (d < 1) ws.push([j, 1 - d]);
    }
    const sum = ws.reduce((a, [, w]) => a + w, 0);
    return ws.map(([j, w]) => [j, w / sum] as [number, number]);
  };
  const out = new Float64Array(3 * s * s);
  for (let y = 0; y < s; y++) {
    const wy = axis(img.height, rh, top + y);
    for (let x = 0; x < s; x++) {
      const wx = axis(img.width, rw, left + x);
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (const [i, a] of wy) {
          for (const [j, b] of wx) {
            acc += a * b * img.data[(i * img.width + j) * 3 + c]!;
          }
        }
        out[c * s * s + y * s + x] = acc / 255;
      }
    }
  }
  return out;
}

function maxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

Deno.test("planResize() follows torchvision Resize(256)+CenterCrop(224), ties to even", () => {
  assert.deepEqual(planResize(500, 375, { size: 224 }), {
    resizedWidth: 341,
    resizedHeight: 256,
    left: 58,
    top: 16,
  });
  assert.deepEqual(planResize(375, 500, { size: 224 }), {
    resizedWidth: 256,
    resizedHeight: 341,
    left: 16,
    top: 58,
  });
  assert.deepEqual(planResize(227, 227, { size: 224, resize: "crop" }), {
    resizedWidth: 256,
    resizedHeight: 256,
    left: 16,
    top: 16,
  });
  assert.deepEqual(planResize(500, 375, { size: 224, resize: "squash" }), {
    resizedWidth: 224,
    resizedHeight: 224,
    left: 0,
    top: 0,
  });
  assert.deepEqual(planResize(300, 200, { size: 128, cropPct: 1 }), {
    resizedWidth: 192,
    resizedHeight: 128,
    left: 32,
    top: 0,
  });
  // 192 / 0.875 = 219.43 -> 219 (timm floor)
  assert.equal(planResize(400, 300, { size: 192 }).resizedHeight, 219);
});

Deno.test("toTensor() matches a float64 2D antialiased-bilinear oracle (down, up, crop, squash)", () => {
  const img = image(
    37,
    23,
    (x, y, c) => (x * 7 + y * 13 + c * 50 + ((x * y) % 11) * 9) % 256,
  );
  for (
    const [s, resize] of [[8, "squash"], [16, "crop"], [12, "crop"], [
      48,
      "squash",
    ], [30, "crop"]] as const
  ) {
    const plan = planResize(img.width, img.height, { size: s, resize });
    const got = toTensor(img, { size: s, resize });
    const want = oracle(
      img,
      plan.resizedWidth,
      plan.resizedHeight,
      plan.left,
      plan.top,
      s,
    );
    assert.ok(
      maxErr(got, want) < 2e-5,
      `S=${s} ${resize}: ${maxErr(got, want)}`,
    );
  }
});

Deno.test("toTensor() reproduces a linear ramp exactly away from the borders (symmetric filter)", () => {
  // f(x) = x + 5 on a 200-wide image, downscaled 5x: value at centre (ox+0.5)*5 - 0.5.
  const ramp = image(200, 20, (x) => x + 5);
  const out = toTensor(ramp, { size: 40, resize: "squash" });
  // rows are identical; check interior columns of channel 0, row 20
  for (let ox = 2; ox < 38; ox++) {
    const centre = (ox + 0.5) * 5 - 0.5;
    assert.ok(
      Math.abs(out[20 * 40 + ox]! * 255 - (centre + 5)) < 1e-3,
      `ox=${ox}`,
    );
  }
});

Deno.test("toTensor() keeps a constant image constant and writes CHW into a caller buffer", () => {
  const img = image(50, 31, (_x, _y, c) => [255, 128, 0][c]!);
  const out = new Float32Array(2 + 3 * 16 * 16);
  toTensor(img, { size: 16, resize: "crop", out, offset: 2 });
  assert.equal(out[0], 0);
  for (let i = 0; i < 256; i++) {
    assert.ok(Math.abs(out[2 + i]! - 1) < 1e-6);
    assert.ok(Math.abs(out[2 + 256 + i]! - 128 / 255) < 1e-6);
    assert.ok(Math.abs(out[2 + 512 + i]!) < 1e-6);
  }
});

Deno.test("normalization() presets, explicit mean/std, and normalizeTensor()", () => {
  assert.deepEqual(normalization("imagenet").mean, [0.485, 0.456, 0.406]);
  assert.deepEqual(normalization("inception"), {
    name: "inception",
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
  });
  assert.deepEqual(normalization({ mean: [0.1], std: [0.2] }).std, [
    0.2,
    0.2,
    0.2,
  ]);
  assert.throws(() => normalization("bogus"), UserError);
  assert.throws(() => normalization({ mean: [0, 0], std: [1] }), UserError);
  assert.throws(() => normalization({ mean: [0], std: [0] }), UserError);
  assert.equal(parseNormalizeFlags({}).name, "imagenet");
  assert.deepEqual(
    parseNormalizeFlags({ mean: "0.5,0.4,0.3", std: "0.2" }).mean,
    [0.5, 0.4, 0.3],
  );
  // inception: x/127.5 - 1 on 0..255 pixels
  const s = 2;
  const x = new Float32Array(2 * 3 * s * s).map((_, i) => (i % 7) / 6);
  const pix = Array.from(x, (v) => v * 255);
  normalizeTensor(x, normalization("inception"), s);
  pix.forEach((p, i) => assert.ok(Math.abs(x[i]! - (p / 127.5 - 1)) < 1e-6));
  // imagenet: channel of element i is floor(i / 4) % 3
  const y = new Float32Array(3 * s * s).fill(0.5);
  normalizeTensor(y, normalization("imagenet"), s);
  const m = [0.485, 0.456, 0.406], sd = [0.229, 0.224, 0.225];
  y.forEach((v, i) => {
    const c = Math.floor(i / 4) % 3;
    assert.ok(Math.abs(v - (0.5 - m[c]!) / sd[c]!) < 1e-6);
  });
});

Deno.test("describePreprocess() records size, resize, crop and normalisation", () => {
  const r = describePreprocess(
    { size: 224, resize: "crop" },
    normalization("inception"),
  );
  assert.equal(r.resize_shorter, 256);
  assert.equal(r.crop_pct, 0.875);
  assert.equal(r.normalize, "inception");
  assert.equal(
    describePreprocess({ size: 224, resize: "squash" }, normalization("none"))
      .crop_pct,
    null,
  );
});

Deno.test("resolveNormalization() takes the flags, else the model's declared preset, else imagenet, and says which", () => {
  const planted = { metadata: { "hfss.normalization": "inception" } };
  const r0 = resolveNormalization({}, planted);
  assert.equal(r0.source, "model");
  assert.deepEqual([r0.name, r0.mean, r0.std], [
    "inception",
    [0.5, 0.5, 0.5],
    [0.5, 0.5, 0.5],
  ]);
  // Case and spaces of the declared value do not matter.
  assert.equal(
    resolveNormalization({}, { metadata: { "hfss.normalization": " None " } })
      .name,
    "none",
  );
  // Any flag wins over the model; --mean alone keeps std 1.
  const r1 = resolveNormalization({ normalize: "imagenet" }, planted);
  assert.deepEqual([r1.name, r1.source, r1.std], [
    "imagenet",
    "flag",
    [0.229, 0.224, 0.225],
  ]);
  const r2 = resolveNormalization({ mean: "0.25" }, planted);
  assert.deepEqual([r2.name, r2.source, r2.mean, r2.std], [
    "custom",
    "flag",
    [0.25, 0.25, 0.25],
    [1, 1, 1],
  ]);
  // No flag, no declaration (or no model): the documented default.
  const none: ({ metadata: Record<string, string> } | null | undefined)[] = [
    undefined,
    null,
    { metadata: {} },
    { metadata: { a: "b" } },
  ];
  for (const m of none) {
    const r = resolveNormalization({}, m);
    assert.deepEqual([r.name, r.source, r.mean], [
      "imagenet",
      "default",
      [0.485, 0.456, 0.406],
    ]);
  }
  // A plain free-text `normalization` entry (as the ../shared models carry)
  // counts only when it names a preset or inception's formula.
  const text = (t: string) =>
    resolveNormalization({}, { metadata: { normalization: t } });
  assert.deepEqual(
    [
      text("x = pixel/127.5 - 1 (range [-1,1]); NOT torchvision mean/std"),
      text("inception"),
    ].map((r) => [r.name, r.source]),
    [["inception", "model"], ["inception", "model"]],
  );
  for (const t of ["x = pixel/127.5 - 1.5", "caffe BGR", "pixel/255"]) {
    assert.equal(text(t).source, "default", t);
  }
  // An unknown declared preset is an error naming the model, unless a flag overrides it.
  assert.throws(
    () =>
      resolveNormalization(
        {},
        { metadata: { "hfss.normalization": "caffe" } },
        "m.onnx",
      ),
    (e: unknown) =>
      e instanceof UserError &&
      /Cannot use the normalisation "caffe" declared by model "m\.onnx"/.test(
        e.message,
      ),
  );
  assert.equal(
    resolveNormalization({ normalize: "none" }, {
      metadata: { "hfss.normalization": "caffe" },
    }).source,
    "flag",
  );
  // describePreprocess() records the source of a resolved normalisation.
  assert.equal(
    describePreprocess({ size: 32 }, r0).normalize_source,
    "model",
  );
  assert.equal(
    describePreprocess({ size: 32 }, normalization("none")).normalize_source,
    undefined,
  );
});
