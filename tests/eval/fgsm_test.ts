import assert from "node:assert/strict";
import { createFgsm, fgsmStep } from "../../src/eval/fgsm.ts";
import { linearModel } from "./_linear_model.ts";
import { Rng } from "../../src/rng.ts";
import { FIXTURES, haveShared, shared } from "../../src/testing/shared_data.ts";

interface FixArray {
  dtype: string;
  shape: number[];
  data?: number[];
  file?: string;
}

function readArray(a: FixArray): Float64Array {
  if (a.data) return Float64Array.from(a.data);
  const bytes = Deno.readFileSync(`${FIXTURES}/${a.file}`);
  assert.equal(a.dtype, "float64");
  return new Float64Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
}

Deno.test({
  name: "fgsmStep() is bit-exact with every fgsm.json fixture case",
  ignore: !haveShared("fixtures/reference/fgsm.json"),
  fn() {
    const fx = JSON.parse(Deno.readTextFileSync(`${FIXTURES}/fgsm.json`));
    assert.ok(fx.cases.length >= 2);
    for (const c of fx.cases) {
      const x = readArray(c.x_input);
      const g = readArray(c.gradient);
      const opts = {
        epsilon: fx.epsilon,
        mean: fx.mean,
        std: fx.std,
        batch: c.shape[0],
      };
      const p01 = fgsmStep(x, g, { ...opts, pixelSpace: true });
      const pn = fgsmStep(x, g, opts);
      const want01 = readArray(c.perturbed_01);
      const wantN = readArray(c.perturbed_normalised);
      assert.equal(pn.length, wantN.length);
      for (let i = 0; i < pn.length; i++) {
        assert.ok(
          Object.is(p01[i], want01[i]),
          `${c.id} perturbed_01[${i}]: ${p01[i]} vs ${want01[i]}`,
        );
        assert.ok(
          Object.is(pn[i], wantN[i]),
          `${c.id} perturbed_normalised[${i}]: ${pn[i]} vs ${wantN[i]}`,
        );
      }
    }
  },
});

Deno.test("fgsmStep() uses sign(0) = 0, clamps to [0,1] and maps channels in NCHW batches", () => {
  // batch 2, C 2, plane 2: channel of element i is floor(i / 2) % 2
  const mean = [0.5, 0.25];
  const std = [0.5, 0.25];
  const x = [0, 1, 0, 1, 0.9, -1, 2, -1];
  const g = [1, 0, -1, 1, 1, -3, 0.5, -0.5];
  const eps = 0.25;
  const out = fgsmStep(x, g, {
    epsilon: eps,
    mean,
    std,
    batch: 2,
    pixelSpace: true,
  });
  const expect = x.map((v, i) => {
    const c = Math.floor(i / 2) % 2;
    const s = g[i]! > 0 ? 1 : g[i]! < 0 ? -1 : 0;
    return Math.min(1, Math.max(0, v * std[c]! + mean[c]! + eps * s));
  });
  assert.deepEqual(Array.from(out), expect);
  assert.equal(out[1], 1); // gradient 0: unchanged (x_denorm = 1)
  assert.equal(out[5], 0); // x_denorm 0, step −eps: clamped at 0
  assert.equal(out[2], 0); // channel 1: 0*0.25 + 0.25 − 0.25
});

Deno.test("createFgsm() attacks a linear classifier as the analytic gradient says (ce and reference)", async () => {
  const rng = new Rng(21);
  const K = 5;
  const lin = await linearModel(rng, K);
  const { path, dir, D } = lin;
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const epsilon = 8 / 255;
  const batch = 3;
  const x = Float32Array.from({ length: batch * D }, () => rng.normal());
  const labels = Int32Array.from([0, 4, 2]);
  try {
    for (const loss of ["ce", "reference"] as const) {
      const fgsm = await createFgsm(path, { loss, epsilon, mean, std });
      try {
        const adv = await fgsm.attack(x, labels, batch);
        // perturb() is the same attack, with pixels before normalisation
        const both = await fgsm.perturb(x, labels, batch);
        assert.deepEqual(both.normalized, adv);
        // Analytic input gradient in float64.
        const grad = new Float64Array(batch * D);
        for (let n = 0; n < batch; n++) {
          grad.set(
            lin.gradient(x.subarray(n * D, (n + 1) * D), labels[n]!, loss),
            n * D,
          );
        }
        const want = fgsmStep(x, grad, { epsilon, mean, std, batch });
        let checked = 0;
        for (let i = 0; i < want.length; i++) {
          if (Math.abs(grad[i]!) < 1e-4) continue; // sign not decidable in float32
          assert.equal(adv[i], Math.fround(want[i]!), `${loss}: element ${i}`);
          checked++;
        }
        assert.ok(checked > 0.9 * want.length);
      } finally {
        await fgsm.release();
      }
    }
    // Bad labels are refused with a clear message.
    const fgsm = await createFgsm(path, { epsilon, mean, std });
    await assert.rejects(
      () => fgsm.attack(x, [0, 5, 1], batch),
      /label 5 of sample 1/,
    );
    await fgsm.release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "createFgsm() on MobileNetV1-0.25 raises the loss within an epsilon ball",
  ignore: !haveShared("data/models/mobilenet_v1_0.25_128_quant.onnx") ||
    !haveShared("data/images/imagenet_val_subset"),
  async fn() {
    const S = 128;
    const dir = shared("data/images/imagenet_val_subset");
    const lines = Deno.readTextFileSync(`${dir}/labels.csv`).trim().split("\n")
      .slice(1, 3);
    const x = new Float32Array(2 * 3 * S * S);
    const labels = new Int32Array(2);
    const { default: jpeg } = await import("jpeg-js");
    lines.forEach((line, n) => {
      const [file, label] = line.split(",");
      labels[n] = Number(label);
      const img = jpeg.decode(Deno.readFileSync(`${dir}/${file}`), {
        useTArray: true,
      });
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < S; y++) {
          for (let xx = 0; xx < S; xx++) {
            const p = img
              .data[
                (Math.floor((y * img.height) / S) * img.width +
                    Math.floor((xx * img.width) / S)) * 4 + c
              ]!;
            x[((n * 3 + c) * S + y) * S + xx] = p / 127.5 - 1;
          }
        }
      }
    });
    const epsilon = 2 / 255;
    const fgsm = await createFgsm(
      shared("data/models/mobilenet_v1_0.25_128_quant.onnx"),
      {
        loss: "ce",
        epsilon,
        mean: [0.5],
        std: [0.5],
      },
    );
    try {
      const before = await fgsm.gradient(x, labels, 2);
      const adv = await fgsm.attack(x, labels, 2);
      const after = await fgsm.gradient(adv, labels, 2);
      for (let n = 0; n < 2; n++) {
        assert.ok(
          after.loss[n]! > before.loss[n]! + 0.1,
          `sample ${n}: ${before.loss[n]} → ${after.loss[n]}`,
        );
      }
      let maxStep = 0;
      for (let i = 0; i < x.length; i++) {
        maxStep = Math.max(maxStep, Math.abs(adv[i]! - x[i]!) * 0.5);
      }
      assert.ok(
        maxStep <= epsilon + 1e-6 && maxStep > epsilon * 0.99,
        `max step ${maxStep}`,
      );
    } finally {
      await fgsm.release();
    }
  },
});

Deno.test({
  name:
    "createFgsm() after a ModelSession, both with threads: 1, builds and runs the gradient model (no hang, any order)",
  ignore: !haveShared("data/models/mobilenet_v1_0.25_128_quant.onnx"),
  async fn() {
    const path = shared("data/models/mobilenet_v1_0.25_128_quant.onnx");
    const src = (f: string) => new URL(`../../src/${f}`, import.meta.url).href;
    // a fresh process: onnxruntime-web's thread count is fixed per process
    // by its first session; a hang must fail the test, not block it
    const code = `
      import * as ort from "onnxruntime-web";
      import { ModelSession } from "${src("model/session.ts")}";
      import { createFgsm } from "${src("eval/fgsm.ts")}";
      const path = ${JSON.stringify(path)};
      const order = Deno.args[0];
      // as onnxruntime-web's own default on a machine with 8+ cores
      ort.env.wasm.numThreads = 4;
      const m = async () => await ModelSession.open(path, { threads: 1 });
      const f = async () =>
        await createFgsm(path, { epsilon: 0.01, mean: [0.5], std: [0.5], threads: 1 });
      let s, a, threads;
      if (order === "model-first") {
        s = await m();
        threads = ort.env.wasm.numThreads;
        a = await f();
      } else {
        a = await f();
        threads = ort.env.wasm.numThreads;
        s = await m();
      }
      const x = new Float32Array(3 * 128 * 128).fill(0.1);
      const z = await s.run(x, 1);
      const g = await a.gradient(x, [1], 1);
      console.log(JSON.stringify({
        k: z.length === s.info.numClasses && a.numClasses === s.info.numClasses,
        grad: g.grad.length,
        threads, // when onnxruntime-web started
        finite: Number.isFinite(g.loss[0]) && g.grad.some((v) => v !== 0),
      }));
      await a.release();
      await s.release();
    `;
    for (const order of ["model-first", "attack-first"]) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["eval", "--ext=ts", code, order],
        cwd: new URL("../..", import.meta.url).pathname,
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      const err = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `${order}: exit ${out.code} ${err}`);
      assert.deepEqual(
        JSON.parse(new TextDecoder().decode(out.stdout)),
        { k: true, grad: 3 * 128 * 128, threads: 1, finite: true },
        order,
      );
    }
  },
});
