/**
 * PIL comparison, step 3 of 3 (see scripts/pil_resize_check/pil_resize.py):
 * hfss's squash resize against the PIL emulation, and the effect on the model's
 * per-image cross-entropy and top-1 (MobileNetV2, inception normalisation).
 * Run from the repository root:
 *   deno run -A scripts/pil_resize_check/decode.ts [N]
 *   python3 scripts/pil_resize_check/pil_resize.py
 *   deno run -A scripts/pil_resize_check/compare.ts [model.onnx]
 * Files go to work/pil_resize_check/.
 */
import { decodeNpy } from "../../src/dfm/npy.ts";
import {
  normalization,
  normalizeTensor,
  toTensor,
} from "../../src/data/preprocess.ts";
import { ModelSession } from "../../src/model/session.ts";
import { openDataset } from "../../src/data/dataset.ts";
import { crossEntropyRows } from "../../src/search/loss.ts";
const root = "../shared/data/images/imagenet_val_subset";
const meta = JSON.parse(
  Deno.readTextFileSync("work/pil_resize_check/meta.json"),
) as { file: string; width: number; height: number }[];
const pil = decodeNpy(Deno.readFileSync("work/pil_resize_check/pil.npy"))
  .data as Float32Array;
const ds = await openDataset(root);
const label = new Map(
  ds.samples.map((s) => [s.path.split("/").at(-1)!, s.label]),
);
const S = 224, per = 3 * S * S, n = meta.length;
const ours = new Float32Array(n * per);
meta.forEach((m, i) => {
  const data = Deno.readFileSync(`work/pil_resize_check/dec_${i}.rgb`);
  toTensor({ width: m.width, height: m.height, data }, {
    size: S,
    resize: "squash",
    out: ours,
    offset: i * per,
  });
});
let maxd = 0, sum = 0, diffCount = 0;
for (let i = 0; i < ours.length; i++) {
  const d = Math.abs(ours[i]! - pil[i]!);
  maxd = Math.max(maxd, d);
  sum += d;
  if (d > 0.5 / 255) diffCount++;
}
const model = Deno.args[0] ??
  "../shared/data/models/mobilenet_v2_1.0_224_quant.onnx";
const session = await ModelSession.open(model, { backend: "wasm" });
const norm = normalization("inception");
const targets = meta.map((m) => label.get(m.file)!);
const run = async (x: Float32Array) => {
  const t = normalizeTensor(x.slice(), norm, S);
  const ce: number[] = [], correct: number[] = [];
  for (let b = 0; b < n; b += 25) {
    const rows = Math.min(25, n - b);
    const z = await session.run(t.subarray(b * per, (b + rows) * per), rows);
    const r = crossEntropyRows(z, {
      rows,
      numLogits: session.info.numClasses,
      targets: targets.slice(b, b + rows),
    });
    ce.push(...r.ce);
    correct.push(...r.correct);
  }
  return { ce, correct };
};
const a = await run(ours), b = await run(pil);
await session.release();
const dce = a.ce.map((v, i) => v - b.ce[i]!);
const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
console.log(JSON.stringify(
  {
    images: n,
    pixel_max_abs: maxd * 255,
    pixel_mean_abs: (sum / ours.length) * 255,
    values_off_by_more_than_half_level: diffCount / ours.length,
    ce_hfss: mean(a.ce),
    ce_pil: mean(b.ce),
    ce_mean_diff: mean(dce),
    ce_mean_abs_diff: mean(dce.map(Math.abs)),
    ce_max_abs_diff: Math.max(...dce.map(Math.abs)),
    top1_hfss: mean(a.correct),
    top1_pil: mean(b.correct),
    top1_disagree: mean(a.correct.map((c, i) => c !== b.correct[i] ? 1 : 0)),
  },
  null,
  1,
));
