import assert from "node:assert/strict";
import { decode as decodePng } from "fast-png";
import { saveAdversarial } from "../../src/eval/adversarial.ts";
import { createFgsm, fgsmStep } from "../../src/eval/fgsm.ts";
import type { BatchLoader, EvalSample } from "../../src/eval/runner.ts";
import { decodeNpy } from "../../src/dfm/npy.ts";
import { parseCsv } from "../../src/io/csv.ts";
import { Rng } from "../../src/rng.ts";
import { normalizeTensor } from "../../src/data/preprocess.ts";
import { linearModel } from "./_linear_model.ts";

const S = 4, K = 5, D = 3 * S * S; // the size of _linear_model.ts
const mean = [0.485, 0.456, 0.406];
const std = [0.229, 0.224, 0.225];

Deno.test("saveAdversarial() writes the attacked pixels, predictions and PNGs of every readable image", async () => {
  const rng = new Rng(91);
  const lin = await linearModel(rng, K);
  const { dir, logits } = lin;
  // five images, one unreadable; batches of two
  const samples: EvalSample[] = Array.from({ length: 5 }, (_, i) => ({
    path: `img/${i}.jpg`,
    label: (i * 3) % K,
  }));
  const pixels = samples.map(() =>
    Float32Array.from({ length: D }, () => rng.float())
  );
  const loader: BatchLoader = async function* (list, o) {
    for (let i = 0; i < list.length; i += o.batchSize) {
      const ok = list.slice(i, i + o.batchSize).filter((s) => {
        if (s.path !== "img/2.jpg") return true;
        o.onError(s.path, new Error("corrupt"));
        return false;
      });
      const tensor = new Float32Array(ok.length * D);
      ok.forEach((s, j) => tensor.set(pixels[samples.indexOf(s)]!, j * D));
      yield { samples: ok, tensor };
    }
  };
  const argmax = (z: number[]) => z.indexOf(Math.max(...z));
  // the evaluation's normalisation, as saveAdversarial() applies it
  const norm = (p: Float32Array) =>
    normalizeTensor(p.slice(), {
      name: "custom",
      mean: [mean[0]!, mean[1]!, mean[2]!],
      std: [std[0]!, std[1]!, std[2]!],
    }, S);
  const epsilon = 8 / 255;
  const fgsm = await createFgsm(lin.path, { epsilon, mean, std });
  const skipped: string[] = [];
  try {
    const out = `${dir}/adv`;
    const r = await saveAdversarial({
      dir: out,
      samples,
      loader,
      resize: "squash",
      batchSize: 2,
      size: S,
      attack: fgsm,
      classifier: {
        run: (x, n) =>
          Promise.resolve(Float32Array.from(
            { length: n * K },
            (_, i) => logits(x.subarray(Math.floor(i / K) * D))[i % K]!,
          )),
      },
      mean,
      std,
      onError: (p) => skipped.push(p),
    });
    assert.equal(r.count, 4);
    assert.deepEqual(skipped, ["img/2.jpg"]);
    const arr = decodeNpy(await Deno.readFile(`${out}/adversarial.npy`));
    assert.equal(arr.dtype, "float32");
    assert.deepEqual(arr.shape, [4, 3, S, S]);
    const rows = parseCsv(await Deno.readTextFile(`${out}/images.csv`));
    assert.deepEqual(rows[0], [
      "file",
      "label",
      "clean_prediction",
      "attacked_prediction",
      "png",
    ]);
    const kept = samples.filter((s) => s.path !== "img/2.jpg");
    let checked = 0;
    kept.forEach((s, i) => {
      const x = norm(pixels[samples.indexOf(s)]!);
      const z = logits(x);
      const grad = lin.gradient(x, s.label, "ce");
      const want = fgsmStep(x, grad, { epsilon, mean, std, pixelSpace: true });
      const got = (arr.data as Float32Array).subarray(i * D, (i + 1) * D);
      for (let j = 0; j < D; j++) {
        if (Math.abs(grad[j]!) < 1e-4) continue; // sign not decidable in float32
        assert.equal(got[j], Math.fround(want[j]!), `image ${i} element ${j}`);
        checked++;
      }
      const attacked = fgsmStep(x, grad, { epsilon, mean, std });
      assert.deepEqual(rows[i + 1], [
        s.path,
        String(s.label),
        String(argmax(z)),
        String(argmax(logits(attacked))),
        `png/${String(i).padStart(6, "0")}.png`,
      ]);
      const png = decodePng(Deno.readFileSync(`${out}/${rows[i + 1]![4]}`));
      assert.equal(png.width, S);
      for (let c = 0; c < 3; c++) {
        for (let p = 0; p < S * S; p++) {
          assert.equal(
            png.data[p * 3 + c],
            Math.round(got[c * S * S + p]! * 255),
          );
        }
      }
    });
    assert.ok(checked > 0.9 * 4 * D);
    // no partial file left behind
    await assert.rejects(() => Deno.stat(`${out}/adversarial.npy.part`));
  } finally {
    await fgsm.release();
    await Deno.remove(dir, { recursive: true });
  }
});
