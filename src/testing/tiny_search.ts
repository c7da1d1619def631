/**
 * Tiny search fixtures: a linear ONNX classifier (Flatten -> MatMul -> Add)
 * built with src/onnx/builder.ts, and a "folders" dataset of generated PNGs
 * whose classes differ in their dominant spatial frequency.
 */
import { join } from "node:path";
import { encode as encodePng } from "fast-png";
import { DataType, encodeModel } from "../onnx/proto.ts";
import { floatTensor, graph, model, node, valueInfo } from "../onnx/builder.ts";
import { Rng } from "../rng.ts";

/** Write a linear classifier `[N,3,S,S] -> [N,K]` with seeded weights. */
export async function writeTinyModel(
  path: string,
  opts: {
    size: number;
    classes: number;
    seed?: number;
    /** ONNX metadata_props to write (key → value). */
    metadata?: Record<string, string>;
  },
): Promise<void> {
  const { size: s, classes: k } = opts;
  const rng = new Rng(opts.seed ?? 1, ["tiny-model"]);
  const d = 3 * s * s;
  // Class j responds to a grating of frequency (j+1, 0) plus noise.
  const w = new Float32Array(d * k);
  for (let i = 0; i < d; i++) {
    const y = Math.floor((i % (s * s)) / s);
    for (let j = 0; j < k; j++) {
      w[i * k + j] =
        (Math.cos((2 * Math.PI * (j + 1) * y) / s) * 4 + rng.normal() * 0.5) /
        (s * s);
    }
  }
  const m = model({
    graph: graph({
      nodes: [
        node("Flatten", ["input"], ["flat"], { axis: 1 }),
        node("MatMul", ["flat", "W"], ["mm"]),
        node("Add", ["mm", "b"], ["logits"]),
      ],
      inputs: [valueInfo("input", DataType.FLOAT, ["N", 3, s, s])],
      outputs: [valueInfo("logits", DataType.FLOAT, ["N", k])],
      initializers: [
        floatTensor("W", [d, k], w),
        floatTensor("b", [k], new Float32Array(k)),
      ],
    }),
  });
  m.metadataProps = Object.entries(opts.metadata ?? {}).map((
    [key, value],
  ) => ({ key, value }));
  await Deno.writeFile(path, encodeModel(m));
}

/** Write `<root>/c<j>/img<i>.png` images: a class grating plus seeded noise. */
export async function writeTinyDataset(
  root: string,
  opts: { size: number; classes: number; perClass: number; seed?: number },
): Promise<void> {
  const { size: s } = opts;
  const rng = new Rng(opts.seed ?? 2, ["tiny-data"]);
  for (let j = 0; j < opts.classes; j++) {
    const dir = join(root, `c${j}`);
    await Deno.mkdir(dir, { recursive: true });
    for (let i = 0; i < opts.perClass; i++) {
      const data = new Uint8Array(s * s * 3);
      for (let y = 0; y < s; y++) {
        for (let x = 0; x < s; x++) {
          const g = Math.cos((2 * Math.PI * (j + 1) * y) / s);
          for (let c = 0; c < 3; c++) {
            const v = 128 + 60 * g + 40 * rng.normal();
            data[(y * s + x) * 3 + c] = Math.max(
              0,
              Math.min(255, Math.round(v)),
            );
          }
        }
      }
      await Deno.writeFile(
        join(dir, `img${i}.png`),
        encodePng({ width: s, height: s, data, channels: 3, depth: 8 }),
      );
    }
  }
}
