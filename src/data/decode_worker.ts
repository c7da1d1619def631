/**
 * Worker body for `loader.ts`: read, decode and preprocess one image per
 * message, answer with the [3,S,S] tensor (transferred) or an error message.
 *
 * Message in:  `{ id, job: DecodeJob }` (see `src/worker_pool.ts`)
 * Message out: `{ id, tensor }` or `{ id, error }`
 */
/// <reference lib="deno.worker" />
import { readImage } from "./decode.ts";
import { toTensor } from "./preprocess.ts";
import type { DecodeJob, DecodeReply } from "./loader.ts";

self.onmessage = async (ev: MessageEvent<{ id: number; job: DecodeJob }>) => {
  const { id, job } = ev.data;
  try {
    const img = await readImage(job.path, { maxPixels: job.maxPixels });
    const tensor = toTensor(img, {
      size: job.size,
      resize: job.resize,
      cropPct: job.cropPct,
      interpolation: job.interpolation,
    });
    const reply: DecodeReply = { id, tensor };
    self.postMessage(reply, [tensor.buffer as ArrayBuffer]);
  } catch (e) {
    const reply: DecodeReply = {
      id,
      error: e instanceof Error ? e.message : String(e),
    };
    self.postMessage(reply);
  }
};
