import assert from "node:assert/strict";
import { hfss } from "./_hfss.ts";

Deno.test("hfss rejects an unknown command with exit code 2 and a one-line error", async () => {
  const r = await hfss("frobnicate");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: unknown command 'frobnicate'/m);
});

Deno.test("hfss rejects an unknown flag with exit code 2", async () => {
  const r = await hfss("info", "--no-such-flag");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error: unknown option '--no-such-flag'/);
});

Deno.test("hfss --help lists every subcommand and --version prints the version", async () => {
  const help = await hfss("--help");
  assert.equal(help.code, 0);
  for (const cmd of ["info", "search", "filter", "demo", "eval", "report"]) {
    assert.match(
      help.stdout,
      new RegExp(`\\n\\s+${cmd}\\b`),
      `help lists ${cmd}`,
    );
  }
  const v = await hfss("--version");
  assert.equal(v.code, 0);
  assert.match(
    v.stdout,
    /^hfss \d+\.\d+\.\d+\ndeno \d+\.\d+\.\d+\nonnxruntime-web \d+\.\d+\.\d+\n$/,
  );
});
