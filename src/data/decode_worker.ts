/**
 * Worker body for `loader.ts`: read, decode and preprocess one image per
 * message, answer with the [3,S,S] tensor (transferred) or an error message.
 *
 * Message in:  `{ id, path, size, resize, cropPct, interpolation, maxPixels }`
 * Message out: `{ id, tensor }` or `{ id, error }`
 */
/// <reference lib="deno.worker" />
import { readImage } from "./decode.ts";
import { type Interpolation, type ResizeMode, toTensor } from "./preprocess.ts";

interface Job {
  id: number;
  path: string;
  size: number;
  resize: ResizeMode;
  cropPct: number;
  interpolation: Interpolation;
  maxPixels: number;
}

self.onmessage = async (ev: MessageEvent<Job>) => {
  const job = ev.data;
  try {
    const img = await readImage(job.path, { maxPixels: job.maxPixels });
    const tensor = toTensor(img, {
      size: job.size,
      resize: job.resize,
      cropPct: job.cropPct,
      interpolation: job.interpolation,
    });
    self.postMessage({ id: job.id, tensor }, [tensor.buffer as ArrayBuffer]);
  } catch (e) {
    self.postMessage({
      id: job.id,
      error: e instanceof Error ? e.message : String(e),
    });
  }
};
