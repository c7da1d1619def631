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
import { UsageError } from "../../src/cli/args.ts";
import { OptionError } from "../../src/errors.ts";
import { decodeImage } from "../../src/data/decode.ts";
import { writeTestStage } from "../eval/stage_fixture.ts";
import { meanLinearModel } from "../../src/testing/tiny_models.ts";
import { kFixtureDir } from "../corrupt/_fixtures.ts";

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
        "contrast/5,gaussian_noise/3,zoom_blur/1,jpeg_compression/5";
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
      ]);
      const meta = JSON.parse(
        await Deno.readTextFile(join(inc, "hfss_corrupt.json")),
      );
      assert.deepStrictEqual(meta.subsets, [
        "gaussian_noise/3",
        "zoom_blur/1",
        "contrast/5",
        "jpeg_compression/5",
      ]);
      assert.equal(meta.seed, 3);
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
      assert.equal(sa.groups.length, 4);
      const cfg = JSON.parse(
        await Deno.readTextFile(join(dir, "gen", "config.json")),
      );
      assert.equal(cfg.ood.layout, "imagenet-c-generate");
      assert.equal(cfg.ood.generate.format, "jpeg");
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
    const [sel, why] of [["frost", /photographs of frost/], [
      "fog/6",
      /severity/,
    ], ["rain", /unknown corruption/]] as const
  ) {
    const err = await reject(["--subsets", sel]);
    assert.ok(err instanceof OptionError, `${sel}: got ${err}`);
    assert.equal(err.option, "subsets");
    assert.match(err.message, why);
  }
});
