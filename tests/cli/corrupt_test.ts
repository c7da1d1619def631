/**
 * `hfss corrupt` and `hfss eval --ood-layout imagenet-c-generate` end to end
 * on two generated classes and a tiny linear model: the files `corrupt`
 * writes, read back as ImageNet-C, give exactly the per-class and per-part
 * figures the on-the-fly generation gives.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { encode as encodePng } from "fast-png";
import { buildProgram } from "../../main.ts";
import { flagFor, UsageError } from "../../src/cli/args.ts";
import { ConfigMismatchError } from "../../src/io/resume_config.ts";
import { OptionError } from "../../src/errors.ts";
import { decodeImage } from "../../src/data/decode.ts";
import { writeTestStage } from "../eval/stage_fixture.ts";
import { meanLinearModel } from "../../src/testing/tiny_models.ts";
import { kFixtureDir } from "../corrupt/_fixtures.ts";
import { kFrostTextureFiles } from "../../src/corrupt/frost.ts";
import { kCorruptGeneratorVersion } from "../../src/corrupt/registry.ts";
import { sha256Hex } from "../../src/io/sha256.ts";
import { hfss } from "./_hfss.ts";
import { haveShared, shared } from "../../src/testing/shared_data.ts";

const kFrostDir = join(kFixtureDir, "frost");

async function run(args: string[]): Promise<void> {
  await buildProgram().parseAsync(args, { from: "user" });
}

/** Two classes, two pictures each (the fixtures and their mirror images). */
async function cleanSet(root: string): Promise<void> {
  const pics = [];
  for (const k of [0, 1]) {
    const p = join(kFixtureDir, `clean_${k}.png`);
    pics.push(await decodeImage(await Deno.readFile(p), p));
  }
  const mirror = (d: Uint8Array) => {
    const o = new Uint8Array(d.length);
    for (let y = 0; y < 224; y++) {
      for (let x = 0; x < 224; x++) {
        o.set(
          d.subarray((y * 224 + 223 - x) * 3, (y * 224 + 224 - x) * 3),
          (y * 224 + x) * 3,
        );
      }
    }
    return o;
  };
  const files: [string, Uint8Array][] = [
    ["n01440764/a.png", pics[0]!.data],
    ["n01440764/b.png", mirror(pics[1]!.data)],
    ["n01443537/c.png", pics[1]!.data],
    ["n01443537/d.png", mirror(pics[0]!.data)],
  ];
  for (const [f, data] of files) {
    await Deno.mkdir(join(root, f.split("/")[0]!), { recursive: true });
    await Deno.writeFile(
      join(root, f),
      encodePng({ width: 224, height: 224, data, channels: 3, depth: 8 }),
    );
  }
}

Deno.test({
  name:
    "hfss corrupt writes ImageNet-C that eval scores exactly as the on-the-fly imagenet-c-generate layout",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "hfss_cli_corrupt_" });
    try {
      const clean = join(dir, "val");
      await cleanSet(clean);
      const model = join(dir, "m.onnx");
      const weights = new Float32Array(3 * 1000);
      // class 0 likes red, class 1 likes blue: predictions move with the corruption.
      weights[0 * 1000 + 0] = 4;
      weights[2 * 1000 + 1] = 4;
      weights[1 * 1000 + 0] = -1;
      await Deno.writeFile(
        model,
        meanLinearModel({ size: 224, classes: 1000, weights }),
      );
      const stage = join(dir, "stage1");
      await writeTestStage(stage, {
        classes: [0, 1],
        size: 224,
        normalization: "imagenet",
      });
      const subsets =
        "contrast/5,gaussian_noise/3,zoom_blur/1,jpeg_compression/5,frost/2";
      const inc = join(dir, "inc");
      await run([
        "corrupt",
        "--data",
        clean,
        "--out",
        inc,
        "--subsets",
        subsets,
        "--seed",
        "3",
        "--quiet",
        "--corrupt-device",
        "cpu",
        "--frost-textures",
        kFrostDir,
      ]);
      const meta = JSON.parse(
        await Deno.readTextFile(join(inc, "hfss_corrupt.json")),
      );
      assert.deepStrictEqual(meta.subsets, [
        "gaussian_noise/3",
        "zoom_blur/1",
        "frost/2",
        "contrast/5",
        "jpeg_compression/5",
      ]);
      assert.equal(meta.seed, 3);
      assert.equal(meta.generator_version, kCorruptGeneratorVersion);
      assert.equal(meta.finished, true);
      assert.deepStrictEqual(
        meta.frost_textures.map((t: { file: string }) => t.file),
        [...kFrostTextureFiles],
      );
      const f = await Deno.readFile(
        join(inc, "zoom_blur", "1", "n01443537", "c.png"),
      );
      assert.deepStrictEqual([...f.slice(0, 2)], [0xff, 0xd8]); // JPEG under the clean name

      const common = [
        "--model",
        model,
        "--dfm",
        stage,
        "--id",
        clean,
        "--subsets",
        subsets,
        "--seed",
        "3",
        "--fpr-negatives",
        "0",
        "--filter",
        "cpu",
        "--quiet",
      ];
      await run([
        "eval",
        ...common,
        "--ood",
        clean,
        "--ood-layout",
        "imagenet-c-generate",
        "--corrupt-device",
        "cpu",
        "--frost-textures",
        kFrostDir,
        "--out",
        join(dir, "gen"),
      ]);
      await run([
        "eval",
        ...common,
        "--ood",
        inc,
        "--ood-layout",
        "imagenet-c",
        "--out",
        join(dir, "disk"),
      ]);
      for (const file of ["per_class.csv", "per_part.csv"]) {
        const a = await Deno.readTextFile(join(dir, "gen", file));
        const b = await Deno.readTextFile(join(dir, "disk", file));
        assert.equal(a, b, file);
      }
      const sa = JSON.parse(
        await Deno.readTextFile(join(dir, "gen", "summary.json")),
      );
      const sb = JSON.parse(
        await Deno.readTextFile(join(dir, "disk", "summary.json")),
      );
      assert.deepStrictEqual(sa.groups, sb.groups);
      assert.equal(sa.groups.length, 5);
      const cfg = JSON.parse(
        await Deno.readTextFile(join(dir, "gen", "config.json")),
      );
      assert.equal(cfg.ood.layout, "imagenet-c-generate");
      assert.equal(cfg.ood.generate.format, "jpeg");
      assert.equal(cfg.corrupt_generator_version, kCorruptGeneratorVersion);
      assert.deepStrictEqual(cfg.frost_textures, meta.frost_textures);

      // Resuming under other textures or another generator is refused.
      const genEval = (textures: string) =>
        run([
          "eval",
          ...common,
          "--ood",
          clean,
          "--ood-layout",
          "imagenet-c-generate",
          "--corrupt-device",
          "cpu",
          "--frost-textures",
          textures,
          "--out",
          join(dir, "gen"),
        ]);
      const other = join(dir, "frost");
      await Deno.mkdir(other);
      for (const f of kFrostTextureFiles) {
        await Deno.copyFile(join(kFrostDir, f), join(other, f));
      }
      await Deno.copyFile(
        join(kFrostDir, "frost3.png"),
        join(other, "frost1.png"),
      );
      const refused = (key: string) => (e: unknown) =>
        e instanceof ConfigMismatchError && e.key === key;
      await assert.rejects(() => genEval(other), refused("frost_textures"));
      await Deno.writeTextFile(
        join(dir, "gen", "config.json"),
        JSON.stringify({ ...cfg, corrupt_generator_version: 0 }),
      );
      await assert.rejects(
        () => genEval(kFrostDir),
        refused("corrupt_generator_version"),
      );
      assert.match(
        flagFor("corrupt_generator_version", "eval"),
        /generator version/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("hfss corrupt checks --format, --corrupt-device and --subsets before opening a file", async () => {
  const base = "corrupt --data none --out o".split(" ");
  const reject = (extra: string[]) =>
    buildProgram().parseAsync([...base, ...extra], { from: "user" }).then(
      () => null,
      (e: unknown) => e,
    );
  for (
    const [extra, flag] of [[["--format", "gif"], "--format"], [[
      "--corrupt-device",
      "tpu",
    ], "--corrupt-device"]] as const
  ) {
    const err = await reject([...extra]);
    assert.ok(err instanceof UsageError, `${extra}: got ${err}`);
    assert.equal(err.flag, flag);
    assert.equal(err.exitCode, 2);
  }
  for (
    const [sel, option, why] of [
      ["frost", "frostTextures", /photographs of frost.*imagecorruptions/],
      ["fog/6", "subsets", /severity/],
      ["rain", "subsets", /unknown corruption/],
    ] as const
  ) {
    const err = await reject(["--subsets", sel]);
    assert.ok(err instanceof OptionError, `${sel}: got ${err}`);
    assert.equal(err.option, option);
    assert.match(err.message, why);
  }
});

Deno.test("hfss eval takes --frost-textures only with --ood-layout imagenet-c-generate", async () => {
  const err = await buildProgram().parseAsync(
    [
      ..."eval --model m.onnx --dfm d --id i --out o --ood x".split(" "),
      ...["--frost-textures", kFrostDir],
    ],
    { from: "user" },
  ).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof UsageError, `got ${err}`);
  assert.equal(err.flag, "--frost-textures");
  assert.match(err.message, /imagenet-c-generate/);
});

/** A clean folder of two images, and a run of `hfss corrupt` on it. */
async function tinyRun(dir: string) {
  const clean = join(dir, "val");
  await cleanSet(clean);
  const out = join(dir, "inc");
  const corrupt = (...extra: string[]) =>
    hfss(
      "corrupt",
      "--data",
      clean,
      "--out",
      out,
      "--subsets",
      "contrast/1,frost/1",
      "--format",
      "png",
      "--corrupt-device",
      "cpu",
      "--quiet",
      ...extra,
    );
  return { clean, out, corrupt };
}

/** Every file under `dir` with its bytes. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else files.set(p, await sha256Hex(await Deno.readFile(p)));
    }
  };
  await walk(dir);
  return files;
}

Deno.test({
  name:
    "hfss corrupt refuses a rerun with another seed, generator or textures, naming the file and key, and changes nothing",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "hfss_cli_corrupt_resume_" });
    try {
      const { out, corrupt } = await tinyRun(dir);
      const first = await corrupt("--seed", "1", "--frost-textures", kFrostDir);
      assert.equal(first.code, 0, first.stderr);
      const before = await snapshot(out);
      assert.equal(before.size, 2 * 4 + 1); // 2 subsets x 4 images + record

      const again = await corrupt("--seed", "2", "--frost-textures", kFrostDir);
      assert.equal(again.code, 2);
      const record = join(out, "hfss_corrupt.json");
      assert.equal(
        again.stderr.trim(),
        `error: Cannot resume generated ImageNet-C in "${out}": "${record}" records seed 1, this run has 2 (its files would mix with this run's; choose another --out, or rerun with the recorded --seed)`,
      );
      assert.deepStrictEqual(await snapshot(out), before);

      // Other textures: refused, with the flag named.
      const other = join(dir, "frost");
      await Deno.mkdir(other);
      for (const f of kFrostTextureFiles) {
        await Deno.copyFile(join(kFrostDir, f), join(other, f));
      }
      await Deno.copyFile(
        join(kFrostDir, "frost2.png"),
        join(other, "frost1.png"),
      );
      const tex = await corrupt("--seed", "1", "--frost-textures", other);
      assert.equal(tex.code, 2);
      assert.match(
        tex.stderr,
        /records frost textures frost1\.png sha256 [0-9a-f]{12}…, this run has frost1\.png sha256 [0-9a-f]{12}… \(.*--frost-textures\)$/m,
      );
      assert.deepStrictEqual(await snapshot(out), before);

      // Same configuration: resumes, keeps every file.
      const resume = await corrupt(
        "--seed",
        "1",
        "--frost-textures",
        kFrostDir,
      );
      assert.equal(resume.code, 0, resume.stderr);
      assert.deepStrictEqual(await snapshot(out), before);
      // Without textures (frost not asked): other subsets may be added, the
      // recorded textures stay.
      const more = await hfss(
        "corrupt",
        ...["--data", join(dir, "val"), "--out", out, "--subsets", "fog/1"],
        ...["--format", "png", "--corrupt-device", "cpu", "--seed", "1"],
        "--quiet",
      );
      assert.equal(more.code, 0, more.stderr);
      const meta = JSON.parse(await Deno.readTextFile(record));
      assert.deepStrictEqual(meta.subsets, ["frost/1", "contrast/1", "fog/1"]);
      assert.equal(meta.frost_textures.length, 5);

      // A record of another generator version.
      await Deno.writeTextFile(
        record,
        JSON.stringify({ ...meta, generator_version: 99 }),
      );
      const gen = await corrupt("--seed", "1", "--frost-textures", kFrostDir);
      assert.equal(gen.code, 2);
      assert.match(
        gen.stderr,
        /records generator version 99, this run has \d+ \(another hfss version made its files; choose another --out\)/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "hfss corrupt refuses a non-empty --out without a record, and frost without --frost-textures says how to get it",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "hfss_cli_corrupt_out_" });
    try {
      const { out, corrupt } = await tinyRun(dir);
      await Deno.mkdir(join(out, "contrast"), { recursive: true });
      const r = await corrupt("--frost-textures", kFrostDir);
      assert.equal(r.code, 2);
      assert.match(
        r.stderr,
        /not empty and has no hfss_corrupt\.json.*choose another --out/,
      );
      const noTex = await corrupt();
      assert.equal(noTex.code, 2);
      assert.equal(noTex.stderr.trim().split("\n").length, 1);
      assert.match(
        noTex.stderr,
        /^error: --frost-textures: not given, and frost needs them: .*frost1\.png .*imagecorruptions\/frost\//,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "hfss eval --ood-layout imagenet-c-generate --workers 2 gives the per-class and per-part tables of --workers 0 on real images",
  ignore: !haveShared("data/images/imagenet_val_subset/labels.csv") ||
    !haveShared("data/models/mobilenet_v1_0.25_128_quant.onnx"),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "hfss_cli_gen_workers_" });
    try {
      const stage = join(dir, "stage1");
      const classes = [96, 378, 893]; // three images each in the val subset
      await writeTestStage(stage, { classes, size: 128 });
      const val = shared("data/images/imagenet_val_subset");
      const evalGen = (workers: number) =>
        hfss(
          "eval",
          "--model",
          shared("data/models/mobilenet_v1_0.25_128_quant.onnx"),
          "--dfm",
          stage,
          "--id",
          val,
          "--ood",
          val,
          "--ood-layout",
          "imagenet-c-generate",
          "--subsets",
          "gaussian_noise/3,zoom_blur/1,frost/2,jpeg_compression/5",
          "--frost-textures",
          kFrostDir,
          "--corrupt-device",
          "cpu",
          "--batch-size",
          "4",
          "--fpr-negatives",
          "0",
          "--filter",
          "cpu",
          "--seed",
          "4",
          "--workers",
          String(workers),
          "--quiet",
          "--out",
          join(dir, `w${workers}`),
        );
      for (const workers of [0, 2]) {
        const r = await evalGen(workers);
        assert.equal(r.code, 0, r.stderr);
      }
      const perClass = await Deno.readTextFile(
        join(dir, "w0", "per_class.csv"),
      );
      // every class scored on its 3 images in each of the 4 subsets
      const rows = perClass.trim().split("\n").map((l) => l.split(","));
      const nOod = rows[0]!.indexOf("n_ood");
      assert.deepStrictEqual(
        rows.slice(1).map((r) => [Number(r[0]), Number(r[nOod])]),
        classes.map((c) => [c, 12]),
      );
      for (const file of ["per_class.csv", "per_part.csv"]) {
        assert.equal(
          await Deno.readTextFile(join(dir, "w2", file)),
          await Deno.readTextFile(join(dir, "w0", file)),
          file,
        );
      }
      const summary = (w: number) =>
        Deno.readTextFile(join(dir, `w${w}`, "summary.json")).then((t) =>
          JSON.parse(t)
        );
      const [s0, s2] = [await summary(0), await summary(2)];
      assert.deepStrictEqual(s2.groups, s0.groups);
      assert.equal(s0.groups.length, 4);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
