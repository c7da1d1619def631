import assert from "node:assert/strict";
import {
  centreCrop,
  corruptCrop,
  corruptionRng,
  storedImage,
} from "../../src/corrupt/corrupt.ts";
import {
  type CorruptionName,
  kGeneratedCorruptions,
  kSeverities,
  type Severity,
} from "../../src/corrupt/registry.ts";
import { imageStats, loadOracleFixtures } from "./_fixtures.ts";

const fx = await loadOracleFixtures();
// Corruptions whose noise comes from samplers other than a plain uniform
// (normal, Poisson, Bernoulli, integers): their outputs must have the
// statistics numpy's own samplers give. Motion blur, fog and elastic draw only
// uniforms (a few per image for motion blur), for which the fed-in comparison
// above is the whole story; their per-image statistics vary too much between
// draws for a 6-draw mean to pin them to 5 %.
const kRandom = new Set<CorruptionName>([
  "gaussian_noise",
  "shot_noise",
  "impulse_noise",
  "glass_blur",
  "snow",
]);

for (const [ci, name] of fx.corruptions.entries()) {
  Deno.test(`corruptCrop() matches the numpy oracle on ${name}, severities 1-5 (fed the same draws)`, () => {
    const w = 224 * 3;
    const nr = fx.rows.length;
    for (const [k, img] of fx.images.entries()) {
      for (const severity of kSeverities) {
        const subset = { corruption: name as CorruptionName, severity };
        const out = corruptCrop(
          img,
          subset,
          corruptionRng(fx.seed, fx.keys[k]!, subset),
        );
        const base = ((k * fx.corruptions.length + ci) * 5 + severity - 1) *
          nr * w;
        let sad = 0;
        for (const [r, row] of fx.rows.entries()) {
          for (let i = 0; i < w; i++) {
            sad += Math.abs(
              out.data[row * w + i]! - fx.expected[base + r * w + i]!,
            );
          }
        }
        const mad = sad / (nr * w);
        assert.ok(
          mad <= 1,
          `${name}/${severity} image ${k}: mean absolute difference ${
            mad.toFixed(3)
          } > 1/255`,
        );
      }
    }
  });
}

for (const name of kGeneratedCorruptions.filter((n) => kRandom.has(n))) {
  Deno.test(`corruptCrop() ${name} with hfss's samplers has the statistics of numpy's (within 5 %)`, () => {
    for (const [k, img] of fx.images.entries()) {
      for (const severity of kSeverities) {
        const subset = { corruption: name, severity };
        const acc = [0, 0, 0];
        for (let d = 0; d < fx.statDraws; d++) {
          const out = corruptCrop(
            img,
            subset,
            corruptionRng(1000 * severity + d, fx.keys[k]!, subset),
          );
          imageStats(out.data, img.data).forEach((v, i) =>
            acc[i]! += v / fx.statDraws
          );
        }
        const ref = fx.stats[`${k}/${name}/${severity}`]!;
        for (const [i, what] of ["mean", "std", "PSNR"].entries()) {
          const rel = Math.abs(acc[i]! - ref[i]!) / Math.abs(ref[i]!);
          assert.ok(
            rel <= 0.05,
            `${name}/${severity} image ${k}: ${what} ${
              acc[i]!.toFixed(3)
            } vs numpy ${ref[i]!.toFixed(3)} (${(100 * rel).toFixed(1)} %)`,
          );
        }
      }
    }
  });
}

Deno.test("corruptCrop() is a function of (seed, image key, corruption, severity) only", () => {
  const img = fx.images[0]!;
  const s = { corruption: "gaussian_noise" as const, severity: 3 as Severity };
  const a = corruptCrop(img, s, corruptionRng(1, "a/x.JPEG", s));
  const b = corruptCrop(img, s, corruptionRng(1, "a/x.JPEG", s));
  const c = corruptCrop(img, s, corruptionRng(1, "a/y.JPEG", s));
  const d = corruptCrop(img, s, corruptionRng(2, "a/x.JPEG", s));
  assert.deepStrictEqual(a.data, b.data);
  assert.ok(a.data.some((v, i) => v !== c.data[i]));
  assert.ok(a.data.some((v, i) => v !== d.data[i]));
});

Deno.test("corruptCrop() refuses frost with the reason and other sizes", () => {
  const img = fx.images[0]!;
  const s = { corruption: "frost" as const, severity: 1 as Severity };
  assert.throws(
    () => corruptCrop(img, s, corruptionRng(0, "k", s)),
    /photographs of frost/,
  );
  const small = { width: 8, height: 8, data: new Uint8Array(192) };
  const g = { corruption: "contrast" as const, severity: 1 as Severity };
  assert.throws(
    () => corruptCrop(small, g, corruptionRng(0, "k", g)),
    /224x224/,
  );
});

Deno.test("centreCrop() resizes the shorter side to 256 and keeps the centre 224", () => {
  // A 512 x 300 picture whose colour encodes the column: the crop's middle
  // column must come from the middle of the source.
  const w = 512, h = 300;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      data.set([x >> 1, y >> 1, 128], (y * w + x) * 3);
    }
  }
  const c = centreCrop({ width: w, height: h, data });
  assert.deepStrictEqual([c.width, c.height], [224, 224]);
  // Resized width 436 (= floor(256 * 512 / 300)), crop starts at 106.
  const at = (x: number, y: number, ch: number) =>
    c.data[(y * 224 + x) * 3 + ch]!;
  const srcX = (x: number) => ((x + 106 + 0.5) * (512 / 436) - 0.5) / 2;
  assert.ok(Math.abs(at(112, 112, 0) - srcX(112)) <= 1);
  assert.ok(Math.abs(at(0, 112, 0) - srcX(0)) <= 1);
  assert.deepStrictEqual(at(50, 50, 2), 128);
});

Deno.test("storedImage() jpeg is libjpeg's quality-85 round trip; png is the image", () => {
  const img = fx.images[1]!;
  assert.deepStrictEqual(storedImage(img, "png").data, img.data);
  const j = storedImage(img, "jpeg").data;
  const [, , psnr] = imageStats(j, img.data);
  assert.ok(psnr > 30 && psnr < 60, `PSNR ${psnr}`);
});
