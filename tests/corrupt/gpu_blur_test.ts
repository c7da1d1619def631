import assert from "node:assert/strict";
import { gpuAvailable, withDevice } from "../gpu_helper.ts";
import { GpuBlur, kGpuBlurNames } from "../../src/corrupt/gpu_blur.ts";
import { corruptCrop, corruptionRng } from "../../src/corrupt/corrupt.ts";
import { kSeverities } from "../../src/corrupt/registry.ts";
import { loadFixtureImages } from "./_fixtures.ts";

Deno.test({
  name:
    "GpuBlur.run() matches the CPU corruptions (defocus, motion, zoom) within one level, a quarter on average",
  ignore: !gpuAvailable,
  fn: () =>
    withDevice(async (gpu) => {
      const fx = await loadFixtureImages();
      using blur = await GpuBlur.create(gpu.device);
      for (const name of kGpuBlurNames) {
        for (const severity of kSeverities) {
          const subset = { corruption: name, severity };
          const rngs = fx.keys.map((k) => corruptionRng(3, k, subset));
          const got = await blur.run(
            name,
            fx.images.map((i) => i.data),
            224,
            severity,
            rngs,
          );
          for (const [k, img] of fx.images.entries()) {
            const cpu = corruptCrop(
              img,
              subset,
              corruptionRng(3, fx.keys[k]!, subset),
            );
            let sad = 0, max = 0;
            for (let i = 0; i < cpu.data.length; i++) {
              const d = Math.abs(cpu.data[i]! - got[k]![i]!);
              sad += d;
              if (d > max) max = d;
            }
            const mad = sad / cpu.data.length;
            assert.ok(
              max <= 1 && mad <= 0.25,
              `${name}/${severity} image ${k}: GPU vs CPU max ${max}, mean ${
                mad.toFixed(4)
              }`,
            );
          }
        }
      }
    }),
});
