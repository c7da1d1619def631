import assert from "node:assert/strict";
import { decode as decodePng } from "fast-png";
import { saveAdversarial } from "../../src/eval/adversarial.ts";
import { createFgsm, fgsmStep } from "../../src/eval/fgsm.ts";
import type { BatchLoader, EvalSample } from "../../src/eval/runner.ts";
import { decodeNpy } from "../../src/dfm/npy.ts";
import { parseCsv } from "../../src/io/csv.ts";
import { DataType, encodeModel } from "../../src/onnx/proto.ts";
import {
  floatTensor,
  graph,
  model,
  node,
  valueInfo,
} from "../../src/onnx/builder.ts";
import { Rng } from "../../src/rng.ts";

const S = 4, K = 5, D = 3 * S * S;
const mean = [0.485, 0.456, 0.406];
const std = [0.229, 0.224, 0.225];

Deno.test("saveAdversarial() writes the attacked pixels, predictions and PNGs of every readable image", async () => {
  const rng = new Rng(91);
  const W = Float64Array.from(
    { length: K * D },
    () => Math.fround(rng.normal()),
  );
  const b = Float64Array.from({ length: K }, () => Math.fround(rng.normal()));
  const m = model({
    graph: graph({
      nodes: [
        node("Flatten", ["input"], ["flat"], { axis: 1 }),
        node("Gemm", ["flat", "W", "b"], ["logits"], { transB: 1 }),
      ],
      inputs: [valueInfo("input", DataType.FLOAT, ["N", 3, S, S])],
      outputs: [valueInfo("logits", DataType.FLOAT, ["N", K])],
      initializers: [floatTensor("W", [K, D], W), floatTensor("b", [K], b)],
    }),
  });
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/linear.onnx`, encodeModel(m));
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
  // float64 logits of the linear model (independent of onnxruntime)
  const logits = (x: ArrayLike<number>) =>
    Array.from({ length: K }, (_, k) => {
      let acc = b[k]!;
      for (let j = 0; j < D; j++) acc += W[k * D + j]! * x[j]!;
      return acc;
    });
  const argmax = (z: number[]) => z.indexOf(Math.max(...z));
  const norm = (p: Float32Array) =>
    Float32Array.from(
      p,
      (v, i) =>
        (v - mean[Math.floor(i / (S * S))]!) / std[Math.floor(i / (S * S))]!,
    );
  const epsilon = 8 / 255;
  const fgsm = await createFgsm(`${dir}/linear.onnx`, { epsilon, mean, std });
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
      // analytic cross-entropy gradient: W^T (softmax(z) - onehot)
      const z = logits(x);
      const mx = Math.max(...z);
      const ez = z.map((v) => Math.exp(v - mx));
      const sum = ez.reduce((p, v) => p + v, 0);
      const grad = Float64Array.from({ length: D }, (_, j) => {
        let acc = 0;
        for (let k = 0; k < K; k++) {
          acc += (ez[k]! / sum - (k === s.label ? 1 : 0)) * W[k * D + j]!;
        }
        return acc;
      });
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
