import assert from "node:assert/strict";
import { join } from "node:path";
import { decode } from "fast-png";
import * as ort from "onnxruntime-web";
import { decodeModel } from "../../src/onnx/proto.ts";
import {
  defaultParams,
  generateImages,
  imagesToTensor,
  plantedTruth,
} from "../../src/planted/dataset.ts";
import {
  encodePlantedModel,
  evaluateModel,
  logitsFromEnergies,
  maskPairGains,
  normalizeInput,
  pairEnergies,
  specFromTruth,
} from "../../src/planted/model.ts";
import { preparePlanted } from "../../src/planted/prepare.ts";

async function runOnnx(
  bytes: Uint8Array,
  x01: Float32Array,
  n: number,
  s: number,
) {
  const sess = await ort.InferenceSession.create(bytes);
  try {
    const out = await sess.run({
      x: new ort.Tensor("float32", normalizeInput(x01), [n, 3, s, s]),
    });
    return { data: out.logits!.data as Float32Array, dims: out.logits!.dims };
  } finally {
    await sess.release();
  }
}

Deno.test("encodePlantedModel() logits from onnxruntime-web match the float64 evaluation", async () => {
  for (const size of [32, 64]) {
    const params = defaultParams({ size, classes: 5 });
    const images = generateImages(params, { split: "train", perClass: 2 });
    const base = specFromTruth(plantedTruth(params));
    // Non-trivial weights (of the order of the whitening weights), temperature and bias.
    const x = imagesToTensor(images, size);
    const e = pairEnergies(x, base);
    const p = base.pairs.length;
    const spec = {
      ...base,
      weights: base.weights.map((_, j) => {
        let m = 0;
        for (let i = 0; i < images.length; i++) {
          m += e[i * p + j]! / images.length;
        }
        return (1 + 0.2 * j) / m;
      }),
      temperature: 0.7,
      bias: base.bias.map((_, k) => 0.1 * k - 0.2),
    };
    const want = evaluateModel(x, spec);
    const got = await runOnnx(encodePlantedModel(spec), x, images.length, size);
    assert.deepEqual(got.dims, [images.length, 5]);
    let maxDiff = 0, maxAbs = 0;
    for (let i = 0; i < want.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(got.data[i]! - want[i]!));
      maxAbs = Math.max(maxAbs, Math.abs(want[i]!));
    }
    assert.ok(maxAbs > 1, `logits too small to be meaningful: ${maxAbs}`);
    assert.ok(
      maxDiff < 1e-4 * maxAbs,
      `size ${size}: max diff ${maxDiff} of ${maxAbs}`,
    );
  }
});

Deno.test("encodePlantedModel() declares its normalisation and shapes", () => {
  const spec = specFromTruth(plantedTruth(defaultParams({ classes: 3 })));
  const m = decodeModel(encodePlantedModel(spec));
  const meta = Object.fromEntries(m.metadataProps.map((e) => [e.key, e.value]));
  assert.equal(meta["hfss.normalization"], "inception");
  assert.equal(m.graph!.input[0]!.name, "x");
  assert.equal(m.graph!.output[0]!.name, "logits");
});

/** Filter a [3,S,S] image with a mask (shifted layout) by a direct float64 DFT: Re(IDFT(ishift(shift(X)·M))). */
function dftFilter(x: Float32Array, s: number, mask: Uint8Array): Float32Array {
  const out = new Float32Array(x.length);
  const cos = (t: number) => Math.cos(2 * Math.PI * t / s),
    sin = (t: number) => Math.sin(2 * Math.PI * t / s);
  for (let c = 0; c < 3; c++) {
    const re = new Float64Array(s * s), im = new Float64Array(s * s);
    for (let u = 0; u < s; u++) {
      for (let v = 0; v < s; v++) {
        let a = 0, b = 0;
        for (let y = 0; y < s; y++) {
          for (let xx = 0; xx < s; xx++) {
            const t = (u * y + v * xx) % s;
            const val = x[c * s * s + y * s + xx]!;
            a += val * cos(t);
            b -= val * sin(t);
          }
        }
        const m = mask[((u + s / 2) % s) * s + (v + s / 2) % s]!;
        re[u * s + v] = a * m;
        im[u * s + v] = b * m;
      }
    }
    for (let y = 0; y < s; y++) {
      for (let xx = 0; xx < s; xx++) {
        let a = 0;
        for (let u = 0; u < s; u++) {
          for (let v = 0; v < s; v++) {
            const t = (u * y + v * xx) % s;
            a += re[u * s + v]! * cos(t) - im[u * s + v]! * sin(t);
          }
        }
        out[c * s * s + y * s + xx] = a / (s * s);
      }
    }
  }
  return out;
}

Deno.test("logitsFromEnergies() with mask gains equals the model on DFT-filtered images", () => {
  const s = 16;
  const params = defaultParams({ size: s, classes: 3, pairsPerClass: 1 });
  const images = generateImages(params, { split: "train", perClass: 1 });
  const base = specFromTruth(plantedTruth(params));
  const spec = {
    ...base,
    weights: base.weights.map(() => 30),
    temperature: 1.1,
  };
  // A non-Hermitian mask: keeps class 0's bin but not its partner (gain 1/2),
  // both bins of class 1, nothing of class 2, plus random other bins.
  const mask = new Uint8Array(s * s);
  for (let i = 0; i < mask.length; i++) mask[i] = (i * 7919) % 3 === 0 ? 1 : 0;
  const [p0, p1, p2] = spec.pairs;
  const set = (b: [number, number], v: number) => (mask[b[0] * s + b[1]] = v);
  set(p0!.bin, 1);
  set(p0!.partner, 0);
  set(p1!.bin, 1);
  set(p1!.partner, 1);
  set(p2!.bin, 0);
  set(p2!.partner, 0);
  const gains = maskPairGains(mask, spec);
  assert.deepEqual([...gains], [0.5, 1, 0]);
  const x = imagesToTensor(images, s);
  const per = 3 * s * s;
  const filtered = new Float32Array(x.length);
  for (let i = 0; i < images.length; i++) {
    filtered.set(
      dftFilter(x.subarray(i * per, (i + 1) * per), s, mask),
      i * per,
    );
  }
  // The model's normalisation z = 2x − 1 is applied to the filtered pixel image.
  const want = evaluateModel(filtered, spec);
  const got = logitsFromEnergies(pairEnergies(x, spec), spec, { gains });
  for (let i = 0; i < want.length; i++) {
    assert.ok(
      Math.abs(want[i]! - got[i]!) < 1e-4,
      `${i}: ${want[i]} vs ${got[i]}`,
    );
  }
});

Deno.test("preparePlanted() model: clean accuracy >= 0.95 and calibrated CE in [0.05, 1.5] on the PNGs (onnxruntime-web)", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    for (const layout of ["default", "lowhigh"] as const) {
      const root = join(tmp, layout);
      const params = defaultParams({ layout, perClass: 20, calibPerClass: 30 });
      const prep = await preparePlanted(root, params);
      assert.equal(prep.reused, false);
      const lines = (await Deno.readTextFile(join(root, "labels.csv"))).trim()
        .split("\n").slice(1);
      const n = lines.length, s = 32, per = 3 * s * s;
      const x = new Float32Array(n * per);
      const labels: number[] = [];
      for (let i = 0; i < n; i++) {
        const [file, label] = lines[i]!.split(",");
        const png = decode(await Deno.readFile(join(root, file!)));
        for (let k = 0; k < s * s; k++) {
          for (let c = 0; c < 3; c++) {
            x[i * per + c * s * s + k] = png.data[3 * k + c]! / 255;
          }
        }
        labels.push(Number(label));
      }
      const { data } = await runOnnx(
        await Deno.readFile(prep.modelPath),
        x,
        n,
        s,
      );
      let ce = 0, correct = 0;
      for (let i = 0; i < n; i++) {
        const row = Array.from(data.subarray(i * 10, (i + 1) * 10));
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
        ce += lse - row[labels[i]!]!;
        if (row.indexOf(m) === labels[i]) correct++;
      }
      ce /= n;
      assert.ok(correct / n >= 0.95, `${layout}: accuracy ${correct / n}`);
      assert.ok(ce >= 0.05 && ce <= 1.5, `${layout}: CE ${ce}`);
      // Same parameters again: reused, not regenerated.
      const again = await preparePlanted(root, params);
      assert.equal(again.reused, true);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
