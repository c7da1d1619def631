import assert from "node:assert/strict";
import {
  cachedDenortPath,
  compileArgs,
  findDenort,
} from "../../scripts/compile.ts";
import { dirname, relative } from "node:path";
import { REPO_ROOT } from "../../src/testing/shared_data.ts";

const denort = await findDenort();
if (!denort) {
  console.log(
    "compile_test: no denort runtime (DENORT_BIN unset, not in Deno's cache, no network): " +
      "the bin/hfss build test is skipped",
  );
}

Deno.test("findDenort() finds nothing in an empty cache and honours DENORT_BIN", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await findDenort({ denoDir: dir, denortBin: "" }), null);
    assert.equal(await findDenort({ denortBin: `${dir}/missing` }), null);
    const fake = cachedDenortPath(dir);
    await Deno.mkdir(fake.slice(0, fake.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(fake, new Uint8Array(1));
    assert.deepEqual(await findDenort({ denoDir: dir, denortBin: "" }), {
      path: fake,
      source: "cache",
    });
    assert.deepEqual(await findDenort({ denortBin: fake }), {
      path: fake,
      source: "DENORT_BIN",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compileArgs() builds with WebGPU and narrow permissions, never -A", () => {
  const args = compileArgs("out/hfss", REPO_ROOT);
  assert.equal(args[0], "compile");
  assert.ok(args.includes("--unstable-webgpu"));
  assert.ok(!args.includes("-A") && !args.includes("--allow-all"));
  assert.ok(!args.includes("--allow-net") && !args.includes("--allow-ffi"));
  assert.equal(args.at(-1), "main.ts");
});

Deno.test("compileArgs() includes every worker module that src/ starts", async () => {
  const args = compileArgs("out/hfss", REPO_ROOT);
  const included = new Set(
    args.flatMap((a, i) => args[i - 1] === "--include" ? [a] : []),
  );
  // Workers are started as `new URL("./name.ts", import.meta.url)`.
  const started: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (e.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(path);
        for (
          const m of text.matchAll(
            /new (?:Worker|URL)\(\s*(?:new URL\(\s*)?"(\.[^"]+\.ts)",\s*import\.meta\.url/g,
          )
        ) {
          const file = relative(REPO_ROOT, `${dirname(path)}/${m[1]}`);
          if (/worker/.test(file)) started.push(file);
        }
      }
    }
  };
  await walk(`${REPO_ROOT}/src`);
  assert.ok(started.length >= 4, `found ${started.join(", ")}`);
  for (const f of started) assert.ok(included.has(f), `${f} is not included`);
});

Deno.test({
  name: "deno task compile says it skips when denort is missing",
  ignore: denort !== null || Boolean(Deno.env.get("DENORT_BIN")),
  fn: async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-run",
        "scripts/compile.ts",
      ],
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0);
    assert.match(
      text,
      /compile: skipped: Deno cannot obtain its denort runtime/,
    );
  },
});

Deno.test({
  name: "deno task compile builds a binary that prints its version",
  ignore: denort === null,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const bin = `${dir}/hfss`;
      const build = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "scripts/compile.ts", "--output", bin],
        cwd: REPO_ROOT,
      }).output();
      assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));
      const run = await new Deno.Command(bin, {
        args: ["--version"],
        stdout: "piped",
      }).output();
      assert.equal(run.code, 0);
      assert.match(new TextDecoder().decode(run.stdout), /^\d+\.\d+\.\d+/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
