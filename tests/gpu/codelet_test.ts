import assert from "node:assert/strict";
import { registerFftSource } from "../../src/gpu/kernels/_fft_codelet.ts";

Deno.test("registerFftSource() calls every input once and every output once", () => {
  for (const n of [32, 64, 96, 160, 224, 256]) {
    const src = registerFftSource(n, { outputs: "full" });
    const inputs = [...src.matchAll(/fft_input\((\d+)u\)/g)].map((m) =>
      Number(m[1])
    );
    assert.deepEqual(
      [...inputs].sort((a, b) => a - b),
      Array.from({ length: n }, (_, i) => i),
    );
    const outputs = [...src.matchAll(/fft_output\((\d+)u,/g)].map((m) =>
      Number(m[1])
    );
    assert.deepEqual(outputs, Array.from({ length: n }, (_, i) => i));
    assert.match(src, new RegExp(`const N: u32 = ${n}u;`));
    assert.match(src, new RegExp(`const BS: u32 = ${n / 2 + 2}u;`));
  }
});

Deno.test("registerFftSource() emits the split pairs and output quads", () => {
  const pairs = registerFftSource(224, { outputs: "pairs" });
  const ks = [...pairs.matchAll(/fft_output_pair\((\d+)u,/g)].map((m) =>
    Number(m[1])
  );
  assert.deepEqual(ks, Array.from({ length: 57 }, (_, i) => 2 * i));
  const quads = registerFftSource(224, { outputs: "quads", width: 1 });
  assert.equal([...quads.matchAll(/fft_output_quad\(/g)].length, 56);
  const wide = registerFftSource(224, { outputs: "full", width: 2 });
  assert.match(wide, /dft7_4\(/);
  assert.match(wide, /cmul4\(/);
  assert.doesNotMatch(wide, /\bdft8\(/);
});

Deno.test("registerFftSource() rejects lengths that are not N1 * 32", () => {
  for (const n of [48, 192, 100, 16]) {
    assert.throws(
      () => registerFftSource(n, { outputs: "full" }),
      /Cannot generate a register FFT/,
    );
  }
});
