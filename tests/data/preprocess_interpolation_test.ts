/**
 * `toTensor()`'s resampling against PIL itself: fixtures written by
 * `tests/data/pil_resize/make_fixtures.py` (PIL 9.4 `Image.resize`, then the
 * torchvision-style centre crop) on a natural ImageNet crop, a high-contrast
 * synthetic image (saturated edges, where bicubic overshoots and clamps) and
 * a tiny image (upscaling).
 */
import assert from "node:assert/strict";
import {
  describePreprocess,
  normalization,
  type ResizeMode,
  toTensor,
} from "../../src/data/preprocess.ts";
import { decodeNpy } from "../../src/dfm/npy.ts";
import { OptionError } from "../../src/errors.ts";
import type { RgbImage } from "../../src/data/exif.ts";

const kDir = new URL("./pil_resize/", import.meta.url);

interface Case {
  image: string;
  size: number;
  interpolation: "bilinear" | "bicubic";
  resize: ResizeMode;
  crop_pct: number;
  output: string;
}

const manifest = JSON.parse(
  Deno.readTextFileSync(new URL("manifest.json", kDir)),
) as { cases: Case[] };

function loadU8(name: string): { shape: number[]; data: Uint8Array } {
  const a = decodeNpy(Deno.readFileSync(new URL(name, kDir)), name);
  assert.equal(a.dtype, "uint8");
  return { shape: a.shape, data: a.data as Uint8Array };
}

function rgb(name: string): RgbImage {
  const { shape, data } = loadU8(name);
  return { width: shape[1]!, height: shape[0]!, data };
}

/** Largest |ours - PIL| in 0..255 levels, ours CHW [0,1], PIL HWC uint8. */
function maxLevelDiff(c: Case): number {
  const img = rgb(c.image);
  const x = toTensor(img, {
    size: c.size,
    resize: c.resize,
    cropPct: c.crop_pct,
    interpolation: c.interpolation,
  });
  const want = loadU8(c.output).data;
  const s = c.size;
  let worst = 0;
  for (let ch = 0; ch < 3; ch++) {
    for (let i = 0; i < s * s; i++) {
      const d = Math.abs(x[ch * s * s + i]! * 255 - want[i * 3 + ch]!);
      if (d > worst) worst = d;
    }
  }
  return worst;
}

Deno.test("toTensor() bicubic equals PIL's Image.resize(BICUBIC) bit for bit (squash, crop, down and up)", () => {
  const cases = manifest.cases.filter((c) => c.interpolation === "bicubic");
  assert.equal(cases.length, 6);
  for (const c of cases) {
    const img = rgb(c.image);
    const x = toTensor(img, {
      size: c.size,
      resize: c.resize,
      cropPct: c.crop_pct,
      interpolation: "bicubic",
    });
    const want = loadU8(c.output).data;
    const s = c.size;
    // PIL's result is uint8; ours is that byte / 255 as float32, exactly as
    // torchvision's ToTensor turns PIL's output into the model input.
    for (let ch = 0; ch < 3; ch++) {
      for (let i = 0; i < s * s; i++) {
        assert.equal(
          x[ch * s * s + i],
          Math.fround(want[i * 3 + ch]! / 255),
          `${c.output} channel ${ch} pixel ${i}`,
        );
      }
    }
  }
});

Deno.test("toTensor() bilinear stays within one 8-bit level of PIL's Image.resize(BILINEAR)", () => {
  // Ours is float all the way; PIL rounds to uint8 after the horizontal pass
  // (<= 0.5 level, carried through positive weights summing to 1) and at the
  // end (<= 0.5 level): at most 1 level apart, plus float rounding.
  const cases = manifest.cases.filter((c) => c.interpolation === "bilinear");
  assert.equal(cases.length, 6);
  for (const c of cases) {
    const d = maxLevelDiff(c);
    assert.ok(d <= 1 + 1e-3, `${c.output}: ${d} levels`);
  }
});

Deno.test("toTensor() bicubic differs from bilinear where PIL's do (the fixtures tell them apart)", () => {
  // Guards the test above: bilinear output is not within half a level of
  // PIL's bicubic on these images.
  for (const c of manifest.cases.filter((c) => c.interpolation === "bicubic")) {
    assert.ok(
      maxLevelDiff({ ...c, interpolation: "bilinear" }) > 1,
      `${c.output}`,
    );
  }
});

Deno.test("toTensor() refuses an unknown interpolation with OptionError(interpolation)", () => {
  const img = rgb("img_tiny.npy");
  assert.throws(
    () =>
      toTensor(img, {
        size: 4,
        interpolation: "nearest" as unknown as "bilinear",
      }),
    (e: unknown) =>
      e instanceof OptionError && e.option === "interpolation" &&
      e.problem === "must be bilinear or bicubic, got nearest",
  );
});

Deno.test("describePreprocess() records the interpolation, bilinear when none is given", () => {
  const norm = normalization("imagenet");
  assert.equal(
    describePreprocess({ size: 8 }, norm).interpolation,
    "bilinear-antialias",
  );
  assert.equal(
    describePreprocess({ size: 8, interpolation: "bicubic" }, norm)
      .interpolation,
    "bicubic-antialias",
  );
});
