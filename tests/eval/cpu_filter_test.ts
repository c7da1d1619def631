import assert from "node:assert/strict";
import { FIXTURES, haveShared } from "../shared_data.ts";
import { cpuFilter } from "../../src/eval/cpu_filter.ts";

interface Arr {
  dtype: string;
  shape: number[];
  data?: number[];
  file?: string;
}
interface Case {
  id: string;
  image: Arr;
  mask_reference: Arr;
  mask_corrected: Arr;
  output_reference: Arr;
  output_corrected: Arr;
}

async function arr(a: Arr): Promise<Float64Array | Uint8Array> {
  if (a.data) {
    return a.dtype === "uint8"
      ? Uint8Array.from(a.data)
      : Float64Array.from(a.data);
  }
  const bytes = await Deno.readFile(`${FIXTURES}/${a.file}`);
  return a.dtype === "uint8"
    ? bytes
    : new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
}

const ignore = !haveShared("fixtures/reference/filter.json");

Deno.test({
  name:
    "cpuFilter() matches the numpy reference filter (reference and corrected masks, S = 32 and 224)",
  ignore,
  fn: async () => {
    const fx = JSON.parse(
      await Deno.readTextFile(`${FIXTURES}/filter.json`),
    ) as { cases: Case[] };
    // all S=32 cases, and one 224 case (the O(S^3) DFT takes ~1 s there)
    const cases = fx.cases.filter((c) =>
      c.id.startsWith("f32") || c.id === "f224_b"
    );
    assert.ok(cases.length >= 3);
    for (const c of cases) {
      const image = Float32Array.from(await arr(c.image));
      for (const kind of ["reference", "corrected"] as const) {
        const mask = await arr(
          kind === "reference" ? c.mask_reference : c.mask_corrected,
        );
        const want = await arr(
          kind === "reference" ? c.output_reference : c.output_corrected,
        );
        const got = cpuFilter(image, 1, mask);
        let maxErr = 0;
        for (let i = 0; i < got.length; i++) {
          maxErr = Math.max(maxErr, Math.abs(got[i]! - want[i]!));
        }
        // float32 input/output (the reference itself runs in float32)
        assert.ok(maxErr < 1e-4, `${c.id} ${kind}: max abs error ${maxErr}`);
      }
    }
  },
});

Deno.test("cpuFilter() with an all-pass mask is the identity; scale/offset apply per channel", () => {
  const s = 6;
  const x = Float32Array.from(
    { length: 2 * 3 * s * s },
    (_, i) => Math.sin(i * 0.7),
  );
  const ones = new Uint8Array(s * s).fill(1);
  const y = cpuFilter(x, 2, ones, { scale: [2, 1, 0.5], offset: [1, 0, -1] });
  for (let i = 0; i < x.length; i++) {
    const c = Math.floor(i / (s * s)) % 3;
    const want = [2, 1, 0.5][c]! * x[i]! + [1, 0, -1][c]!;
    assert.ok(Math.abs(y[i]! - want) < 1e-5, `i=${i}`);
  }
  // DC-only mask keeps the channel mean (DC at S/2, S/2)
  const dc = new Uint8Array(s * s);
  dc[(s / 2) * s + s / 2] = 1;
  const m = cpuFilter(x.subarray(0, 3 * s * s), 1, dc);
  let mean = 0;
  for (let i = 0; i < s * s; i++) mean += x[i]!;
  mean /= s * s;
  assert.ok(
    Math.abs(m[0]! - mean) < 1e-6 && Math.abs(m[s * s - 1]! - mean) < 1e-6,
  );
  assert.throws(() => cpuFilter(x, 2, new Uint8Array(5)), /Cannot filter/);
});
