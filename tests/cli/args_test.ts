import assert from "node:assert/strict";
import {
  flagFor,
  optionErrorLine,
  parseChoice,
  parseFraction,
  parseInteger,
  parseLayout,
  parseNumber,
  parseRange,
  parseSeed,
  UsageError,
} from "../../src/cli/args.ts";
import { OptionError } from "../../src/errors.ts";
import { kSearchOptionKeys } from "../../src/search/options.ts";
import { buildProgram } from "../../main.ts";

function refuses(fn: () => unknown, line: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UsageError, String(e));
    assert.equal(e.exitCode, 2);
    assert.match(e.message, line);
    return true;
  });
}

Deno.test("parseInteger() takes exact integers within bounds and names the flag otherwise", () => {
  assert.equal(parseInteger("--top", "10"), 10);
  assert.equal(parseInteger("--top", " 7 ", { min: 1 }), 7);
  refuses(
    () => parseInteger("--top", "1.5"),
    /^--top: expected an integer >= 0, got "1\.5"$/,
  );
  refuses(
    () => parseInteger("--top", "0", { min: 1 }),
    /^--top: expected an integer >= 1, got 0$/,
  );
  refuses(() => parseInteger("--top", "1e3"), /^--top: /);
  refuses(() => parseInteger("--top", ""), /^--top: /);
});

Deno.test("parseSeed() refuses seeds above 2^53 - 1 instead of rounding them", () => {
  assert.equal(parseSeed("--seed", "9007199254740991"), 2 ** 53 - 1);
  // 2^53 + 1 would round to 2^53 as a double: two seeds would collide.
  refuses(
    () => parseSeed("--seed", "9007199254740993"),
    /^--seed: 9007199254740993 is beyond 2\^53 - 1/,
  );
  refuses(() => parseSeed("--seed", "18446744073709551615"), /^--seed: /);
  refuses(() => parseSeed("--seed", "-1"), /^--seed: expected an integer >= 0/);
});

Deno.test("parseNumber() and parseFraction() read decimals and fractions like 8/255", () => {
  assert.equal(parseNumber("--crop-pct", "0.875", { min: 0, max: 1 }), 0.875);
  refuses(
    () =>
      parseNumber("--crop-pct", "1.5", { min: 0, minExclusive: true, max: 1 }),
    /^--crop-pct: expected a number > 0 and <= 1, got 1\.5$/,
  );
  refuses(() => parseNumber("--crop-pct", "abc"), /^--crop-pct: /);
  assert.equal(parseFraction("--epsilon", "8/255"), 8 / 255);
  assert.equal(parseFraction("--epsilon", "0.03"), 0.03);
  assert.equal(parseFraction("--epsilon", " 4 / 255 "), 4 / 255);
  refuses(
    () => parseFraction("--epsilon", "8/0"),
    /^--epsilon: expected a number or a fraction like 8\/255/,
  );
  refuses(() => parseFraction("--epsilon", "-1"), /^--epsilon: /);
  refuses(() => parseFraction("--epsilon", "1/2/3"), /^--epsilon: /);
});

Deno.test("parseRange() reads stages as a number, a range or a list, ascending", () => {
  assert.deepEqual(parseRange("--stages", "3"), [3]);
  assert.deepEqual(parseRange("--stages", "1-4"), [1, 2, 3, 4]);
  assert.deepEqual(parseRange("--stages", "3,9,96"), [3, 9, 96]);
  assert.deepEqual(parseRange("--stages", "1-2,5"), [1, 2, 5]);
  refuses(
    () => parseRange("--stages", "4-1"),
    /^--stages: range "4-1" must ascend$/,
  );
  refuses(
    () => parseRange("--stages", "0-2"),
    /^--stages: expected an integer >= 1/,
  );
  refuses(
    () => parseRange("--stages", "2,2"),
    /^--stages: "2,2" must ascend without repeats$/,
  );
  refuses(
    () => parseRange("--stages", "1-9", 6),
    /^--stages: expected an integer >= 1 and <= 6, got 9$/,
  );
  refuses(() => parseRange("--stages", "a"), /^--stages: expected a number/);
});

Deno.test("parseChoice() and parseLayout() accept the canonical names and the old spellings", () => {
  assert.equal(parseChoice("--loss", "ce", ["ce", "reference"] as const), "ce");
  refuses(
    () => parseChoice("--attack", "pgd", ["fgsm"] as const),
    /^--attack: expected fgsm, got "pgd"$/,
  );
  assert.equal(
    parseLayout("--ood-layout", "imagenet-sketch"),
    "imagenet-sketch",
  );
  assert.equal(parseLayout("--ood-layout", "sketch"), "imagenet-sketch");
  assert.equal(parseLayout("--layout", "folder"), "folders");
  assert.equal(parseLayout("--layout", "folders"), "folders");
  refuses(
    () => parseLayout("--layout", "coco"),
    /^--layout: expected auto, imagenet, /,
  );
});

Deno.test("flagFor() names library option keys as flags, per command", () => {
  assert.equal(flagFor("batchSize"), "--batch-size");
  assert.equal(flagFor("candidates"), "--candidates");
  assert.equal(flagFor("classes"), "--classes");
  assert.equal(flagFor("classes", "demo"), "--num-classes");
  assert.equal(
    optionErrorLine(
      new OptionError("checkpointSeconds", "expected a number >= 0, got -1"),
    ),
    "--checkpoint-seconds: expected a number >= 0, got -1",
  );
});

Deno.test("flagFor() names every option key a command's library reports by flags that command has", () => {
  const program = buildProgram();
  const flagsOf = (name: string) =>
    new Set(
      program.commands.find((c) => c.name() === name)!.options.map((o) =>
        o.long
      ),
    );
  // Keys in OptionError and ConfigMismatchError of each command's library calls.
  const evalConfig = [
    "format_version",
    "label",
    "model",
    "dfm",
    "dfm_stage",
    "dfm_rank",
    "dfm_symmetry",
    "dfm_search_masking",
    "id",
    "ood",
    "attack",
    "mask_space",
    "resize_id",
    "resize_ood",
    "crop_pct",
    "interpolation",
    "normalization",
    "classes",
    "max_images",
    "fpr_negatives",
    "fpr_pool",
    "seed",
    "compat",
  ];
  const keys: Record<string, readonly string[]> = {
    search: [...kSearchOptionKeys, "stage"],
    demo: [
      "size",
      "layout",
      "classes",
      "stage",
      "stages",
      "candidates",
      "proportion",
      "top",
      "perClass",
      "blockImages",
    ],
    eval: [
      ...evalConfig,
      "loss",
      "backend",
      "normalize",
      "mean",
      "std",
    ],
    filter: ["size", "normalize"],
  };
  for (const [command, list] of Object.entries(keys)) {
    const flags = flagsOf(command);
    for (const key of list) {
      const named = flagFor(key, command);
      const used = named.match(/--[a-z][a-z-]*/g) ?? [];
      assert.ok(
        used.length > 0 || !named.startsWith("--"),
        `${command} ${key}: ${named}`,
      );
      for (const f of used) {
        assert.ok(flags.has(f), `${command} ${key}: ${named} (no ${f})`);
      }
    }
  }
  assert.equal(flagFor("loss", "eval"), "--fgsm-loss");
  assert.equal(flagFor("resize_ood", "eval"), "--resize-ood");
  assert.match(flagFor("blockImages", "search"), /--batch-size/);
});

Deno.test("every command checks its flags before opening a file", async () => {
  // None of these files exist: the flag error must come first.
  const evalArgs = "eval --model none.onnx --dfm none --id none --out o";
  const searchArgs = "search --model none.onnx --data none --out o";
  const cases: [string, string][] = [
    [`${evalArgs} --attack pgd`, "--attack"],
    [`${evalArgs} --ood x --ood-layout nope`, "--ood-layout"],
    [`${searchArgs} --stages 3-1`, "--stages"],
    [`${searchArgs} --seed 18446744073709551615`, "--seed"],
    ["info --model none.onnx --batch-size 0", "--batch-size"],
    ["filter --npy none.npy --keep --out o --crop-pct 2 a.png", "--crop-pct"],
    ["demo --work /nonexistent/x --stages 1-9", "--stages"],
    ["report --results none --compat zero", "--compat"],
  ];
  for (const [line, flag] of cases) {
    const err = await buildProgram().parseAsync(line.split(" "), {
      from: "user",
    }).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof UsageError, `${line}: got ${err}`);
    assert.equal(err.exitCode, 2);
    assert.equal(err.flag, flag, line);
  }
});
