/**
 * The gradient transform on real torchvision architectures exported by
 * `torch.onnx.export` (scripts/export_torchvision.py): the input gradient of
 * the cross-entropy loss must agree with PyTorch autograd (cosine >= 0.999
 * per image). The committed models (tests/onnx/gradient/torchvision/) are
 * reduced-width versions; set HFSS_TORCHVISION_DIR to a folder written by
 * `export_torchvision.py --set full` to check the full-size ones. Skips when
 * the folder is absent.
 */
import assert from "node:assert/strict";
import * as ort from "onnxruntime-web";
import { fileURLToPath } from "node:url";
import { decodeModel, encodeModel } from "../../../src/onnx/proto.ts";
import { buildGradientModel } from "../../../src/onnx/gradient/graph.ts";
import { decodeNpy } from "../../../src/dfm/npy.ts";
import { cosine } from "./fd_harness.ts";

ort.env.wasm.numThreads = 1;

interface Entry {
  name: string;
  model: string;
  size: number;
  num_classes: number;
  opset: number;
  mean: number[];
  std: number[];
  pixels: string;
  gradient: string;
  labels: number[];
  loss: number[];
  operators: string[];
}

const dir = Deno.env.get("HFSS_TORCHVISION_DIR") ??
  fileURLToPath(new URL("./torchvision", import.meta.url));

function readManifest(): { models: Entry[] } | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(`${dir}/manifest.json`));
  } catch {
    return undefined;
  }
}

const manifest = readManifest();
const only = Deno.env.get("HFSS_TORCHVISION_ONLY")?.split(",");

for (const m of manifest?.models ?? [{ name: "(none)" } as Entry]) {
  Deno.test({
    name:
      `gradientModel() of torchvision ${m.name} matches PyTorch autograd per image`,
    ignore: !manifest || (only !== undefined && !only.includes(m.name)),
    async fn() {
      const model = decodeModel(await Deno.readFile(`${dir}/${m.model}`));
      const px = decodeNpy(await Deno.readFile(`${dir}/${m.pixels}`));
      const want = decodeNpy(await Deno.readFile(`${dir}/${m.gradient}`));
      const [n, C, H, W] = px.shape as [number, number, number, number];
      const plane = H * W;
      const x = new Float32Array(n * C * plane);
      const p = px.data as Uint8Array;
      for (let i = 0; i < x.length; i++) {
        const c = Math.floor(i / plane) % C;
        x[i] = (p[i]! / 255 - m.mean[c]!) / m.std[c]!;
      }
      const t0 = performance.now();
      const gm = await buildGradientModel(model, {
        inputShape: [n, C, H, W],
      });
      const buildMs = performance.now() - t0;
      const session = await ort.InferenceSession.create(encodeModel(gm));
      try {
        const out = await session.run({
          input: new ort.Tensor("float32", x, [n, C, H, W]),
          label: new ort.Tensor(
            "int64",
            BigInt64Array.from(m.labels, BigInt),
            [n],
          ),
        });
        const grad = out.grad_input!.data as Float32Array;
        const loss = out.loss!.data as Float32Array;
        const g = want.data as Float32Array;
        const size = C * plane;
        const cosines = Array.from({ length: n }, (_, i) =>
          cosine(
            grad.subarray(i * size, (i + 1) * size),
            g.subarray(i * size, (i + 1) * size),
          ));
        const minCos = Math.min(...cosines);
        console.log(
          `${m.name}: ${H}px, ${m.num_classes} classes, opset ${m.opset}, ` +
            `cosine min ${minCos.toFixed(6)} over ${n} images, ` +
            `gradient model built in ${buildMs.toFixed(0)} ms; operators ${
              m.operators.join(" ")
            }`,
        );
        for (let i = 0; i < n; i++) {
          assert.ok(
            Math.abs(loss[i]! - m.loss[i]!) <= 1e-3 * Math.max(1, m.loss[i]!),
            `${m.name} image ${i}: loss ${loss[i]} vs autograd ${m.loss[i]}`,
          );
          assert.ok(
            cosines[i]! >= 0.999,
            `${m.name} image ${i}: cosine ${cosines[i]}`,
          );
        }
        // The same graph at batch 1 (the shape probe ran at batch n).
        const one = await session.run({
          input: new ort.Tensor("float32", x.subarray(0, size), [1, C, H, W]),
          label: new ort.Tensor(
            "int64",
            BigInt64Array.of(BigInt(m.labels[0]!)),
            [
              1,
            ],
          ),
        });
        const cos1 = cosine(
          one.grad_input!.data as Float32Array,
          g.subarray(0, size),
        );
        assert.ok(cos1 >= 0.999, `${m.name} at batch 1: cosine ${cos1}`);
      } finally {
        await session.release();
      }
    },
  });
}
