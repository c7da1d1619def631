/**
 * PIL comparison, step 1 of 3 (see scripts/pil_resize_check/pil_resize.py):
 * decode the first N validation images of ../shared with hfss (mozjpeg) to raw RGB.
 * Run from the repository root:
 *   deno run -A scripts/pil_resize_check/decode.ts [N]
 *   python3 scripts/pil_resize_check/pil_resize.py
 *   deno run -A scripts/pil_resize_check/compare.ts [model.onnx]
 * Files go to work/pil_resize_check/.
 */
import { readImage } from "../../src/data/decode.ts";
const root = "../shared/data/images/imagenet_val_subset";
const n = Number(Deno.args[0] ?? 100);
await Deno.mkdir("work/pil_resize_check", { recursive: true });
const files = [...Deno.readDirSync(root)].map((e) => e.name).filter((f) =>
  f.endsWith(".JPEG")
).sort().slice(0, n);
const meta = [];
for (const [i, f] of files.entries()) {
  const img = await readImage(`${root}/${f}`);
  await Deno.writeFile(`work/pil_resize_check/dec_${i}.rgb`, img.data);
  meta.push({ file: f, width: img.width, height: img.height });
}
await Deno.writeTextFile(
  "work/pil_resize_check/meta.json",
  JSON.stringify(meta),
);
console.log(`decoded ${files.length}`);
