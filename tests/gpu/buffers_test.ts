import assert from "node:assert/strict";
import {
  alignUp,
  createBuffer,
  createBufferWithData,
  readBuffer,
  withValidation,
} from "../../src/gpu/buffers.ts";
import { CopyKernel } from "../../src/gpu/kernels/copy.ts";
import { gpuAvailable, withDevice } from "../gpu_helper.ts";

const ignore = !gpuAvailable;

Deno.test("alignUp() rounds up to the alignment", () => {
  assert.equal(alignUp(0, 256), 0);
  assert.equal(alignUp(1, 256), 256);
  assert.equal(alignUp(256, 256), 256);
  assert.equal(alignUp(257, 4), 260);
});

Deno.test({
  name:
    "createBufferWithData() and readBuffer() round-trip bytes, ranges included",
  ignore,
  fn: () =>
    withDevice(async (gpu) => {
      const data = Float32Array.from({ length: 1000 }, (_, i) => i * 0.5 - 7);
      const buf = createBufferWithData(gpu.device, data, {
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
      });
      try {
        assert.deepEqual(
          new Float32Array(await readBuffer(gpu.device, buf)),
          data,
        );
        const part = new Float32Array(
          await readBuffer(gpu.device, buf, { offset: 400, size: 40 }),
        );
        assert.deepEqual(part, data.subarray(100, 110));
      } finally {
        buf.destroy();
      }
    }),
});

Deno.test({
  name: "withValidation() names the step of a failing creation",
  ignore,
  fn: () =>
    withDevice(async (gpu) => {
      await assert.rejects(
        () =>
          withValidation(gpu.device, "create a broken shader", () =>
            gpu.device.createComputePipeline({
              layout: "auto",
              compute: {
                module: gpu.device.createShaderModule({ code: "fn main() {" }),
                entryPoint: "main",
              },
            })),
        /^Error: Cannot create a broken shader: /,
      );
    }),
});

Deno.test({
  name: "CopyKernel copies every word",
  ignore,
  fn: () =>
    withDevice(async (gpu) => {
      const d = gpu.device;
      const words = 300_000; // not a multiple of the workgroup span
      const data = Float32Array.from({ length: 4 * words }, (_, i) =>
        Math.sin(i));
      const src = createBufferWithData(d, data, {
        usage: GPUBufferUsage.STORAGE,
      });
      const dst = createBuffer(d, {
        size: data.byteLength,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
      });
      try {
        const copy = await CopyKernel.create(d);
        const enc = d.createCommandEncoder();
        copy.encode(enc, { src, dst, bytes: data.byteLength });
        d.queue.submit([enc.finish()]);
        assert.deepEqual(new Float32Array(await readBuffer(d, dst)), data);
      } finally {
        src.destroy();
        dst.destroy();
      }
    }),
});
