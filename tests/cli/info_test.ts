import assert from "node:assert/strict";
import { join } from "node:path";
import { encode as encodePng } from "fast-png";
import { kImagenetWnids } from "../../src/data/labels.ts";
import { meanLinearModel } from "../../src/testing/tiny_models.ts";
import { hfss } from "./_hfss.ts";

function flatPng(rgb: [number, number, number], w = 9, h = 7): Uint8Array {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.set(rgb, i * 3);
  return encodePng({ width: w, height: h, data, channels: 3, depth: 8 });
}

// 1000-class mean-linear model: logit k = sum_c mean_c * W[c][k].
// W rows: class 0 likes red, class 1 green, class 2 blue; other classes get
// small distinct weights so top-5 and CE are non-trivial.
const K = 1000;
const W = new Float32Array(3 * K);
for (let k = 0; k < K; k++) {
  for (let c = 0; c < 3; c++) {
    W[c * K + k] = ((k * 7 + c * 3) % 11) / 20 - 0.25;
  }
}
for (let c = 0; c < 3; c++) {
  for (let k = 0; k < 3; k++) {
    W[c * K + k] = c === k ? 6 : -2;
  }
}

function oracleLogits(mean: number[]): number[] {
  return Array.from(
    { length: K },
    (_, k) => mean.reduce((a, m, c) => a + m * W[c * K + k]!, 0),
  );
}

Deno.test("hfss info --model prints inputs/outputs; --json is one object", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hfss_info_" });
  try {
    const path = join(dir, "tiny.onnx");
    await Deno.writeFile(
      path,
      meanLinearModel({ size: 8, classes: K, weights: W }),
    );
    const text = await hfss("info", "--model", path);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /input: x float32 NCHW \[N,3,8,8\]\n/);
    assert.match(
      text.stdout,
      /output: logits float32 \[N,1000\] \(1000 classes\)/,
    );
    const js = await hfss("info", "--model", path, "--json");
    assert.equal(js.code, 0, js.stderr);
    const o = JSON.parse(js.stdout);
    assert.deepEqual(o.model.input.shape, ["N", 3, 8, 8]);
    assert.equal(o.model.num_classes, 1000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hfss info --data measures top-1/top-5/CE like a float64 oracle, skipping a corrupt file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hfss_info_" });
  try {
    const model = join(dir, "tiny.onnx");
    await Deno.writeFile(
      model,
      meanLinearModel({ size: 8, classes: K, weights: W }),
    );
    const data = join(dir, "val");
    const colours: [number, number, number][] = [[255, 0, 0], [0, 255, 0], [
      0,
      0,
      255,
    ], [200, 190, 30]];
    // (folder class, colour index): the last image is a yellow one filed under class 2
    const items: [number, number][] = [[0, 0], [1, 1], [2, 2], [2, 3]];
    for (const [i, [cls, col]] of items.entries()) {
      const d = join(data, kImagenetWnids[cls]!);
      await Deno.mkdir(d, { recursive: true });
      await Deno.writeFile(join(d, `im${i}.png`), flatPng(colours[col]!));
    }
    await Deno.writeTextFile(
      join(data, kImagenetWnids[1]!, "broken.jpg"),
      "not really a jpeg",
    );
    const r = await hfss(
      "info",
      "--model",
      model,
      "--data",
      data,
      "--normalize",
      "none",
      "--json",
      "--batch-size",
      "3",
    );
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    // oracle
    let top1 = 0, top5 = 0, ce = 0;
    for (const [cls, col] of items) {
      const z = oracleLogits(colours[col]!.map((v) => v / 255));
      const rank = z.filter((v, k) =>
        v > z[cls]! || (v === z[cls]! && k < cls)
      ).length;
      if (rank === 0) top1++;
      if (rank < 5) top5++;
      const max = Math.max(...z);
      ce += Math.log(z.reduce((a, v) => a + Math.exp(v - max), 0)) + max -
        z[cls]!;
    }
    assert.equal(o.images, 4);
    assert.equal(o.failed, 1);
    assert.ok(Math.abs(o.top1 - top1 / 4) < 1e-12);
    assert.ok(Math.abs(o.top5 - top5 / 4) < 1e-12);
    assert.ok(Math.abs(o.mean_ce - ce / 4) < 1e-4, `${o.mean_ce} vs ${ce / 4}`);
    assert.ok(o.images_per_s > 0);
    assert.equal(o.preprocessing.normalize, "none");
    assert.equal(o.preprocessing.resize, "crop");
    assert.equal(o.preprocessing.size, 8);
    assert.equal(o.datasets[0].layout, "imagenet");
    assert.match(
      r.stderr,
      /warning: Cannot decode image ".*broken\.jpg": not a JPEG or PNG file \(skipped\)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hfss info uses the model's declared normalisation without --normalize, and says where it came from", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hfss_info_" });
  try {
    const declared = join(dir, "declared.onnx");
    await Deno.writeFile(
      declared,
      meanLinearModel({
        size: 8,
        classes: K,
        weights: W,
        metadata: { "hfss.normalization": "inception" },
      }),
    );
    const plain = join(dir, "plain.onnx");
    await Deno.writeFile(
      plain,
      meanLinearModel({ size: 8, classes: K, weights: W }),
    );
    const data = join(dir, "val");
    const colours: [number, number, number][] = [[255, 0, 0], [0, 200, 0], [
      30,
      60,
      255,
    ]];
    for (const [cls, rgb] of colours.entries()) {
      const d = join(data, kImagenetWnids[cls]!);
      await Deno.mkdir(d, { recursive: true });
      await Deno.writeFile(join(d, "a.png"), flatPng(rgb));
    }
    // Mean CE of the three images under a per-channel normalisation.
    const oracleCe = (mean: number[], std: number[]) => {
      let ce = 0;
      colours.forEach((rgb, cls) => {
        const z = oracleLogits(
          rgb.map((v, c) => (v / 255 - mean[c]!) / std[c]!),
        );
        const max = Math.max(...z);
        ce += Math.log(z.reduce((a, v) => a + Math.exp(v - max), 0)) + max -
          z[cls]!;
      });
      return ce / colours.length;
    };
    const info = async (model: string, ...extra: string[]) => {
      const r = await hfss(
        "info",
        "--model",
        model,
        "--data",
        data,
        "--json",
        ...extra,
      );
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    const m = await info(declared);
    assert.deepEqual(m.model.metadata, { "hfss.normalization": "inception" });
    assert.deepEqual(m.normalization, {
      name: "inception",
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      source: "model",
    });
    assert.equal(m.preprocessing.normalize_source, "model");
    const inc = oracleCe([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);
    assert.ok(Math.abs(m.mean_ce - inc) < 1e-4, `${m.mean_ce} vs ${inc}`);
    // A flag wins; a model without a declaration gets the default imagenet.
    const f = await info(declared, "--normalize", "none");
    assert.deepEqual([f.normalization.name, f.normalization.source], [
      "none",
      "flag",
    ]);
    const none = oracleCe([0, 0, 0], [1, 1, 1]);
    assert.ok(Math.abs(f.mean_ce - none) < 1e-4, `${f.mean_ce} vs ${none}`);
    const p = await info(plain);
    assert.deepEqual([p.normalization.name, p.normalization.source], [
      "imagenet",
      "default",
    ]);
    const text = await hfss("info", "--model", declared);
    assert.match(
      text.stdout,
      /normalization: inception mean=\[0\.5,0\.5,0\.5\] std=\[0\.5,0\.5,0\.5\] \(source: model\)/,
    );
    assert.match(text.stdout, /metadata: hfss\.normalization = inception/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hfss info rejects a model with the wrong input size or channels in one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hfss_info_" });
  try {
    const s32 = join(dir, "s32.onnx");
    await Deno.writeFile(
      s32,
      meanLinearModel({ size: 32, classes: K, weights: W }),
    );
    const r = await hfss("info", "--model", s32, "--size", "224");
    assert.equal(r.code, 2);
    assert.match(
      r.stderr.trim(),
      /^error: --size: model ".*s32\.onnx" takes 32x32 inputs, got 224$/,
    );
    const gray = join(dir, "gray.onnx");
    await Deno.writeFile(
      gray,
      meanLinearModel({
        size: 8,
        channels: 1,
        classes: K,
        weights: W.subarray(0, K),
      }),
    );
    const data = join(dir, "d", kImagenetWnids[0]!);
    await Deno.mkdir(data, { recursive: true });
    await Deno.writeFile(join(data, "a.png"), flatPng([1, 2, 3]));
    const g = await hfss("info", "--model", gray, "--data", join(dir, "d"));
    assert.equal(g.code, 1);
    assert.match(
      g.stderr.trim(),
      /^error: Cannot run model ".*gray\.onnx" on dataset ".*d": it expects 1 input channels, got 3$/,
    );
    const small = join(dir, "k10.onnx");
    await Deno.writeFile(
      small,
      meanLinearModel({ size: 8, classes: 10, weights: new Float32Array(30) }),
    );
    const k = await hfss("info", "--model", small, "--data", join(dir, "d"));
    assert.equal(k.code, 1);
    assert.match(k.stderr.trim(), /it outputs 10 classes, the data has 1000$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Progress draws a bar with \\r on a terminal and plain lines otherwise", async () => {
  const { Progress } = await import("../../src/cli/progress.ts");
  const tty: string[] = [];
  const p = new Progress({
    label: "eval",
    total: 10,
    tty: true,
    write: (t) => tty.push(t),
  });
  p.tick(5);
  p.finish("top-1 50%");
  assert.ok(tty.every((t) => t.startsWith("\r")));
  assert.match(tty.at(-1)!, /eval \[#+-+\] 5\/10 img \(50%\).* - top-1 50%\n$/);
  const plain: string[] = [];
  const q = new Progress({
    label: "eval",
    total: 4,
    tty: false,
    intervalMs: 1e9,
    write: (t) => plain.push(t),
  });
  q.tick(1); // first tick prints (interval starts at 0)
  q.tick(1); // suppressed by the interval
  q.finish();
  assert.equal(plain.length, 2);
  assert.ok(
    plain.every((t) =>
      !t.includes("\r") && !t.includes("[") && t.endsWith("\n")
    ),
  );
  assert.match(plain[1]!, /^eval 2\/4 img \(50%\)/);
});
