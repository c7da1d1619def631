import assert from "node:assert/strict";
import { createMaskFilter } from "../../src/eval/mask_filter.ts";
import { referenceFilter } from "../../src/fft/reference.ts";
import { Rng } from "../../src/rng.ts";
import { gpuAvailable } from "../gpu_helper.ts";

const S = 16;

function inputs(count: number): { x: Float32Array; mask: Float32Array } {
  const rng = new Rng(7);
  const x = Float32Array.from(
    { length: count * 3 * S * S },
    () => rng.float(),
  );
  // a conjugate-symmetric gain mask (real output) with DC kept
  const mask = new Float32Array(S * S);
  for (let u = 0; u < S; u++) {
    for (let v = 0; v < S; v++) {
      const du = u - S / 2, dv = v - S / 2;
      mask[u * S + v] = Math.hypot(du, dv) <= 4 ? 1 : 0.25;
    }
  }
  return { x, mask };
}

async function check(kind: "cpu" | "gpu"): Promise<void> {
  const count = 2;
  const { x, mask } = inputs(count);
  using f = await createMaskFilter({ size: S, maxImages: count, kind });
  assert.equal(f.info.kind, kind);
  assert.equal(f.onGpu, kind === "gpu");
  const scale = [2, 3, 4], offset = [0.5, -1, 0];
  const y = await f.apply(x, count, mask, { scale, offset });
  assert.equal(y.length, x.length);
  for (let b = 0; b < count; b++) {
    const plane = 3 * S * S;
    const ref = referenceFilter(
      x.subarray(b * plane, (b + 1) * plane),
      mask,
      S,
    );
    for (let i = 0; i < plane; i++) {
      const c = Math.floor(i / (S * S));
      const want = ref[i]! * scale[c]! + offset[c]!;
      assert.ok(
        Math.abs(y[b * plane + i]! - want) < 1e-4,
        `${kind} image ${b} value ${i}: ${y[b * plane + i]} vs ${want}`,
      );
    }
  }
}

Deno.test("createMaskFilter() on the CPU matches the float64 reference filter, with the affine", async () => {
  await check("cpu");
});

Deno.test({
  name:
    "createMaskFilter() on the GPU matches the float64 reference filter, with the affine",
  ignore: !gpuAvailable,
  fn: () => check("gpu"),
});
