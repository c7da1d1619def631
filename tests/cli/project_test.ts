import assert from "node:assert/strict";
import { join } from "node:path";
import { hfss } from "./_hfss.ts";

Deno.test("hfss project prints the paper setting's wall time per shard count from a bench result", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const bench = join(tmp, "pipeline.json");
    await Deno.writeTextFile(
      bench,
      JSON.stringify({
        cpus: 2,
        adapter: { description: "llvmpipe" },
        figures: {
          "mobilenet_v2_1.0_224": { search_evaluations_per_s: 1000 },
        },
      }),
    );
    const r = await hfss(
      "project",
      "--bench",
      bench,
      "--shards",
      "1,10",
      "--stage-overhead",
      "0",
      "--race-factor",
      "4",
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    const p = JSON.parse(r.stdout);
    // 1000 classes x 64 images x 498 candidates x 6 stages at 1000/s.
    const total = 1000 * 64 * 498 * 6 / 1000;
    assert.equal(p.rows[0].exhaustive.evaluations, 191232000);
    assert.ok(Math.abs(p.rows[0].exhaustive.total_seconds - total) < 1e-6);
    assert.ok(Math.abs(p.rows[1].exhaustive.total_seconds - total / 10) < 1e-6);
    assert.ok(Math.abs(p.rows[1].racing.total_seconds - total / 40) < 1e-6);
    assert.equal(p.rate.name, "mobilenet_v2_1.0_224");
    const text = await hfss("project", "--bench", bench, "--shards", "8");
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /= 191,232,000 evaluations/);
    assert.match(text.stdout, /^8 +\S+ \S+ +\S+ \S+$/m);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("hfss project and hfss merge refuse a missing input or folder in one line", async () => {
  const p = await hfss("project");
  assert.equal(p.code, 2);
  assert.equal(
    p.stderr,
    "error: --bench: give a bench result file (or --rate)\n",
  );
  const m = await hfss("merge");
  assert.equal(m.code, 2);
  assert.equal(
    m.stderr,
    "error: --stage/--eval/--score: give one of --stage <dir>, --eval <dir> or --score <dir>\n",
  );
  const e = await hfss("merge", "--eval", "/nonexistent-hfss-folder");
  assert.equal(e.code, 1);
  assert.equal(
    e.stderr,
    'error: Cannot merge "/nonexistent-hfss-folder": folder not found\n',
  );
});
