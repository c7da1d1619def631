import assert from "node:assert/strict";
import { REPO_ROOT } from "../../src/testing/shared_data.ts";
import { gpuAvailable } from "../gpu_helper.ts";

Deno.test({
  name:
    "GpuContext.create() sets a private XDG_RUNTIME_DIR when unset, so Mesa prints nothing",
  ignore: !gpuAvailable || Deno.build.os === "windows",
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "hfss_xdg_" });
    try {
      const env = Deno.env.toObject();
      delete env.XDG_RUNTIME_DIR;
      const script = `
        import { GpuContext } from "${REPO_ROOT}/src/gpu/context.ts";
        using gpu = await GpuContext.create();
        const dir = Deno.env.get("XDG_RUNTIME_DIR");
        console.log(JSON.stringify({ dir, mode: Deno.statSync(dir).mode & 0o777 }));
      `;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["eval", "--unstable-webgpu", script],
        cwd: REPO_ROOT,
        env: { ...env, TMPDIR: tmp, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const dec = new TextDecoder();
      assert.equal(dec.decode(out.stderr), "");
      assert.equal(out.code, 0);
      const got = JSON.parse(dec.decode(out.stdout));
      assert.equal(got.dir, `${tmp}/hfss-runtime-${Deno.uid()}`);
      assert.equal(got.mode, 0o700);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
