/**
 * The `hfss` launcher (scripts/hfss, the package.json `bin` entry), run as a
 * user does: from another folder, with relative paths, without
 * XDG_RUNTIME_DIR.
 */
import assert from "node:assert/strict";
import { REPO_ROOT } from "../../src/testing/shared_data.ts";
import { meanLinearModel } from "../../src/testing/tiny_models.ts";
import denoJson from "../../deno.json" with { type: "json" };

const kLauncher = `${REPO_ROOT}/scripts/hfss`;
const isPosix = Deno.build.os !== "windows";

/** The environment of a user's shell: no XDG_RUNTIME_DIR, no update-check switch. */
function userEnv(tmp: string): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.XDG_RUNTIME_DIR;
  delete env.DENO_NO_UPDATE_CHECK;
  delete env.INIT_CWD;
  return { ...env, NO_COLOR: "1", TMPDIR: tmp };
}

async function launch(cwd: string, tmp: string, ...args: string[]) {
  const out = await new Deno.Command(kLauncher, {
    args,
    cwd,
    env: userEnv(tmp),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

Deno.test({
  name:
    "scripts/hfss runs from another folder with relative paths and a clean stderr",
  ignore: !isPosix,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "hfss_launcher_" });
    try {
      await Deno.mkdir(`${tmp}/work/models`, { recursive: true });
      await Deno.writeFile(
        `${tmp}/work/models/tiny.onnx`,
        meanLinearModel({
          size: 8,
          classes: 5,
          weights: new Float32Array(15),
        }),
      );
      const r = await launch(
        `${tmp}/work`,
        tmp,
        "info",
        "--model",
        "models/tiny.onnx",
      );
      assert.equal(r.stderr, "", `stderr: ${r.stderr}`);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /models\/tiny\.onnx/);
      assert.match(r.stdout, /\[N,3,8,8\]/);
      // A path that does not exist in the caller's folder is named as typed.
      const missing = await launch(
        `${tmp}/work`,
        tmp,
        "info",
        "--model",
        "nope.onnx",
      );
      assert.equal(missing.code, 1);
      assert.equal(
        missing.stderr.trim(),
        'error: Cannot open model "nope.onnx": file not found',
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "scripts/hfss info requests the GPU without Mesa's XDG_RUNTIME_DIR line or a panic",
  ignore: !isPosix,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "hfss_launcher_" });
    try {
      const r = await launch(tmp, tmp, "info");
      assert.doesNotMatch(r.stderr, /XDG_RUNTIME_DIR/);
      assert.doesNotMatch(r.stderr, /panic/i);
      if (r.code === 0) assert.equal(r.stderr, "");
      else assert.match(r.stderr, /^error: [^\n]+\n$/); // no adapter here: one line
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "scripts/hfss --version prints hfss, Deno and onnxruntime-web versions",
  ignore: !isPosix,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "hfss_launcher_" });
    try {
      const r = await launch(tmp, tmp, "--version");
      assert.equal(r.code, 0);
      assert.equal(r.stderr, "");
      const ortPin = denoJson.imports["onnxruntime-web"].split("@").at(-1);
      assert.equal(
        r.stdout,
        `hfss ${denoJson.version}\ndeno ${Deno.version.deno}\nonnxruntime-web ${ortPin}\n`,
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "scripts/hfss replaces itself with Deno, so a kill reaches the worker",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "hfss_launcher_" });
    try {
      // A FIFO as the model: the worker blocks reading it, alive and waiting.
      const mk = await new Deno.Command("mkfifo", { args: [`${tmp}/m.onnx`] })
        .output();
      assert.equal(mk.code, 0);
      const child = new Deno.Command(kLauncher, {
        args: ["info", "--model", "m.onnx"],
        cwd: tmp,
        env: userEnv(tmp),
        clearEnv: true,
        stdout: "null",
        stderr: "null",
      }).spawn();
      // Wait until the launcher has exec'd Deno (its pid then runs Deno's binary).
      let exe = "";
      for (let i = 0; i < 100 && !/deno$/.test(exe); i++) {
        await new Promise((r) => setTimeout(r, 100));
        // Through readlink(1): Deno reads /proc itself only with -A.
        const link = await new Deno.Command("readlink", {
          args: [`/proc/${child.pid}/exe`],
          stdout: "piped",
          stderr: "null",
        }).output();
        exe = new TextDecoder().decode(link.stdout).trim();
      }
      assert.match(exe, /deno$/, `pid ${child.pid} runs ${exe}`);
      child.kill("SIGTERM");
      const status = await child.status;
      assert.equal(status.signal, "SIGTERM");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
