/**
 * `hfss filter` end to end: a real ImageNet image filtered with a stage-1
 * DFM (GPU spectral engine) against a float64 CPU DFT oracle of the
 * reference filter, after the same decode/resize and 8-bit quantisation.
 */
import assert from "node:assert/strict";
import { decode, encode as encodePng } from "fast-png";
import { join } from "node:path";
import { UserError } from "../../src/errors.ts";
import { type FilterOptions, runFilter } from "../../src/cli/filter.ts";
import { readImage } from "../../src/data/decode.ts";
import { toTensor } from "../../src/data/preprocess.ts";
import { generateCandidates } from "../../src/dfm/candidates.ts";
import { encodeNpy } from "../../src/dfm/npy.ts";
import { type StageData, stageDir, writeStage } from "../../src/dfm/store.ts";
import { referenceFilter } from "../../src/fft/reference.ts";
import { testManifest } from "../dfm/_manifest.ts";
import { gpuAvailable } from "../gpu_helper.ts";
import { haveShared, shared } from "../../src/testing/shared_data.ts";
import { hfss } from "./_hfss.ts";

const S = 224;
const DC = (S / 2) * S + S / 2;
const IMAGE = "data/images/imagenet_val_subset/ILSVRC2012_val_00000347.JPEG";

/** A stage-1 DFM folder: two classes, top-1, real candidates at 224. */
function stageWith(
  masks: Uint8Array[],
  symmetry: "exact" | "reference",
): StageData {
  const all = new Uint8Array(masks.length * S * S);
  masks.forEach((m, i) => all.set(m, i * S * S));
  return {
    manifest: testManifest({
      model: { path: "models/m.onnx", sha256: null },
      image_size: S,
      seed: 11,
      N_B: 30,
      candidates: 30,
      top_n: 1,
      symmetry,
      classes: [{ index: 472, wnid: "n02951358", name: "canoe" }, {
        index: 133,
      }],
      top: masks.map((_, i) => ({
        candidates: [i],
        losses: [1],
        parents: [null],
      })),
    }),
    masks: all,
    losses: new Float64Array(masks.length).fill(1),
  };
}

/** Compare an 8-bit PNG with clip(oracle, 0, 1) quantised the same way. */
function compare(png: Uint8Array, oracle: Float64Array) {
  const img = decode(png);
  assert.equal(img.width, S);
  assert.equal(img.channels, 3);
  const plane = S * S;
  let maxDiff = 0, off = 0;
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      const want = Math.round(
        Math.min(1, Math.max(0, oracle[c * plane + i]!)) * 255,
      );
      const d = Math.abs(img.data[i * 3 + c]! - want);
      if (d > maxDiff) maxDiff = d;
      if (d > 0) off++;
    }
  }
  // float32 GPU vs float64 CPU: only values at a rounding boundary may differ, by 1
  assert.ok(maxDiff <= 1, `max 8-bit difference ${maxDiff}`);
  assert.ok(off < 0.01 * 3 * plane, `${off} values differ by 1`);
}

Deno.test({
  name:
    "hfss filter --keep/--remove matches the float64 reference filter on a real image",
  ignore: !gpuAvailable || !haveShared(IMAGE),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const exact = generateCandidates({
        size: S,
        stage: 1,
        count: 30,
        proportion: 0.8,
        seed: 11,
      });
      const ref = generateCandidates({
        size: S,
        stage: 1,
        count: 30,
        proportion: 0.8,
        seed: 11,
        symmetry: "reference",
      });
      const withDc = exact.masks.find((m) =>
        m[DC] === 1 && m.some((v) => v === 0)
      )!;
      const noDc = ref.masks.find((m) => m[DC] === 0)!;
      assert.ok(withDc && noDc);
      const stage = stageDir(dir, 1);
      await writeStage(stage, stageWith([withDc, noDc], "exact"));
      const x = toTensor(await readImage(shared(IMAGE)), {
        size: S,
        resize: "squash",
      });

      // 1. a class's rank-0 DFM from a stage folder, --keep (pixel space)
      const out = join(dir, "out");
      const r = await hfss(
        "filter",
        "--mask",
        stage,
        "--class",
        "n02951358",
        "--keep",
        "--out",
        out,
        "--json",
        "--original",
        shared(IMAGE),
      );
      assert.equal(r.code, 0, r.stderr);
      const res = JSON.parse(r.stdout);
      assert.equal(res.mask.class.index, 472);
      assert.equal(res.resize, "squash");
      assert.equal(res.masking, "pixel");
      const outPath = join(out, "ILSVRC2012_val_00000347_keep.png");
      assert.equal(res.outputs[0].output, outPath);
      compare(await Deno.readFile(outPath), referenceFilter(x, withDc, S));
      // the original is the resized input itself
      compare(
        await Deno.readFile(res.outputs[0].original),
        Float64Array.from(x),
      );

      // 2. any .npy mask (float32, reference symmetry: half-gain bins), --remove
      const npy = join(dir, "m.npy");
      await Deno.writeFile(
        npy,
        encodeNpy(Float32Array.from(noDc), "float32", [S, S]),
      );
      const r2 = await hfss(
        "filter",
        "--npy",
        npy,
        "--remove",
        "--out",
        out,
        shared(IMAGE),
      );
      assert.equal(r2.code, 0, r2.stderr);
      assert.match(r2.stdout, /ILSVRC2012_val_00000347_remove\.png/);
      const complement = Float64Array.from(noDc, (v) => 1 - v);
      compare(
        await Deno.readFile(join(out, "ILSVRC2012_val_00000347_remove.png")),
        referenceFilter(x, complement, S),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "runFilter() --mask-space normalized equals de-normalised filtering of the normalised image",
  ignore: !gpuAvailable || !haveShared(IMAGE),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const s = 64;
      const m = generateCandidates({
        size: s,
        stage: 2,
        count: 3,
        proportion: 0.6,
        seed: 3,
      })
        .masks[0]!;
      m[(s / 2) * s + s / 2] = 0; // no DC: pixel masking would give a zero-mean image
      const npy = join(dir, "m.npy");
      await Deno.writeFile(npy, encodeNpy(m, "uint8", [s, s]));
      const res = await runFilter([shared(IMAGE)], {
        npy,
        keep: true,
        out: dir,
        maskSpace: "normalized",
        normalize: "imagenet",
        resize: "crop",
      });
      assert.equal(res.cropPct, 0.875);
      const x = toTensor(await readImage(shared(IMAGE)), {
        size: s,
        resize: "crop",
      });
      const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
      const xn = Float64Array.from(x, (v, i) => {
        const c = Math.floor(i / (s * s));
        return (v - mean[c]!) / std[c]!;
      });
      const y = referenceFilter(xn, m, s).map((v, i) => {
        const c = Math.floor(i / (s * s));
        return v * std[c]! + mean[c]!;
      });
      const img = decode(await Deno.readFile(res.outputs[0]!.output));
      let maxDiff = 0;
      for (let c = 0; c < 3; c++) {
        for (let i = 0; i < s * s; i++) {
          const want = Math.round(
            Math.min(1, Math.max(0, y[c * s * s + i]!)) * 255,
          );
          maxDiff = Math.max(maxDiff, Math.abs(img.data[i * 3 + c]! - want));
        }
      }
      assert.ok(maxDiff <= 1, `max difference ${maxDiff}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "runFilter() --mask-space normalized takes --normalize, else the stage's normalisation, else imagenet, and records the source",
  ignore: !gpuAvailable,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const s = 32;
      // A low-contrast image and a mask keeping all but DC: de-normalised
      // filtering gives clip(x - mean_c(x) + m_c) for the preset's mean m.
      const rgb = new Uint8Array(s * s * 3);
      for (let i = 0; i < s * s; i++) {
        for (let c = 0; c < 3; c++) {
          rgb[i * 3 + c] = 110 + ((i * 7 + c * 13) % 37);
        }
      }
      const image = join(dir, "img.png");
      await Deno.writeFile(
        image,
        encodePng({ width: s, height: s, data: rgb, channels: 3, depth: 8 }),
      );
      const mask = new Uint8Array(s * s).fill(1);
      mask[(s / 2) * s + s / 2] = 0;
      const base = stageWith([], "exact");
      const stage = stageDir(dir, 1);
      await writeStage(stage, {
        manifest: {
          ...base.manifest,
          image_size: s,
          classes: [{ index: 3, name: "c3" }],
          top: [{ candidates: [0], losses: [1], parents: [null] }],
        },
        masks: mask,
        losses: new Float64Array([1]),
      });
      const npy = join(dir, "m.npy");
      await Deno.writeFile(npy, encodeNpy(mask, "uint8", [s, s]));
      const check = async (
        opts: Partial<FilterOptions>,
        want: { name: string; source: string; mean: number[] },
      ) => {
        const res = await runFilter([image], {
          keep: true,
          out: join(dir, want.source),
          maskSpace: "normalized",
          ...opts,
        });
        assert.deepEqual(
          [res.normalization!.name, res.normalization!.source],
          [want.name, want.source],
        );
        assert.deepEqual(res.normalization!.mean, want.mean);
        const out = decode(await Deno.readFile(res.outputs[0]!.output));
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          for (let i = 0; i < s * s; i++) sum += rgb[i * 3 + c]! / 255;
          const avg = sum / (s * s);
          for (let i = 0; i < s * s; i++) {
            const y = Math.min(
              1,
              Math.max(0, rgb[i * 3 + c]! / 255 - avg + want.mean[c]!),
            );
            const d = Math.abs(out.data[i * 3 + c]! - Math.round(y * 255));
            assert.ok(d <= 1, `${want.source} channel ${c} pixel ${i}: ${d}`);
          }
        }
      };
      await check({ mask: stage, class: "3" }, {
        name: "inception",
        source: "stage",
        mean: [0.5, 0.5, 0.5],
      });
      await check({ mask: stage, class: "3", normalize: "none" }, {
        name: "none",
        source: "flag",
        mean: [0, 0, 0],
      });
      await check({ npy }, {
        name: "imagenet",
        source: "default",
        mean: [0.485, 0.456, 0.406],
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("runFilter() rejects misuse before touching the GPU", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const misuse = async (
      opts: Parameters<typeof runFilter>[1],
      re: RegExp,
      images = ["a.png"],
    ) => {
      await assert.rejects(runFilter(images, opts), (e: unknown) => {
        assert.ok(e instanceof UserError, String(e));
        assert.match(e.message, re);
        assert.equal(e.exitCode, 2);
        return true;
      });
    };
    await misuse(
      { out: dir, keep: true },
      /exactly one of --mask <stage dir> and --npy/,
    );
    await misuse(
      { out: dir, npy: "m.npy", mask: "d", keep: true },
      /exactly one of --mask/,
    );
    await misuse(
      { out: dir, npy: "m.npy", keep: true, remove: true },
      /exactly one of --keep and --remove/,
    );
    await misuse({ out: dir, npy: "m.npy", keep: true }, /no image files/, []);
    await misuse(
      { out: dir, mask: dir, keep: true },
      /^--class: required with --mask$/,
    );
    const npy = join(dir, "m.npy");
    await Deno.writeFile(npy, encodeNpy(new Uint8Array(64), "uint8", [8, 8]));
    await misuse(
      { out: dir, npy, keep: true, size: 224 },
      /the mask ".*m\.npy" is 8×8, not 224×224/,
    );
    await Deno.writeFile(npy, encodeNpy(new Uint8Array(24), "uint8", [4, 6]));
    await assert.rejects(
      runFilter(["a.png"], { out: dir, npy, keep: true }),
      /shape \[4, 6\] is not \[S, S\]/,
    );
    await assert.rejects(
      runFilter(["a.png"], {
        out: dir,
        mask: join(dir, "nope"),
        class: "1",
        keep: true,
      }),
      /manifest\.json": file not found/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
