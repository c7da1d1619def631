/**
 * Worker body for `loadGeneratedBatches()` (`generated.ts`): make one
 * generated ImageNet-C sample per message (centre crop, corruption, storage
 * round trip, resize to S) and answer with its [3,S,S] tensor (transferred).
 * The frost textures come once, before any job; the crops of the images this
 * worker was given are kept for their other subsets.
 *
 * Message in:  `{ init: GenerateInit }` once, then `{ id, job: GenerateJob }`
 * Message out: `GenerateReply`
 */
/// <reference lib="deno.worker" />
import { toTensor } from "../data/preprocess.ts";
import { corruptCrop, corruptionRng, storedImage } from "./corrupt.ts";
import { CropCache } from "./crop_cache.ts";
import type { FrostTextures } from "./frost.ts";
import type { GenerateInit, GenerateJob, GenerateReply } from "./generated.ts";

let frost: FrostTextures | null = null;
let cache = new CropCache(32);

const message = (e: unknown) => e instanceof Error ? e.message : String(e);

self.onmessage = async (
  ev: MessageEvent<{ init: GenerateInit } | { id: number; job: GenerateJob }>,
) => {
  if ("init" in ev.data) {
    frost = ev.data.init.frost;
    cache = new CropCache(ev.data.init.cacheSize);
    return;
  }
  const { id, job } = ev.data;
  let reply: GenerateReply;
  let crop;
  try {
    crop = await cache.get(job.path, job.maxPixels);
  } catch (e) {
    reply = { id, error: message(e), stage: "read" };
    self.postMessage(reply);
    return;
  }
  try {
    const rng = corruptionRng(job.seed, job.key, job.subset);
    const img = storedImage(
      corruptCrop(crop, job.subset, rng, frost),
      job.format,
    );
    const tensor = toTensor(img, {
      size: job.size,
      resize: job.resize,
      cropPct: job.cropPct,
      interpolation: job.interpolation,
    });
    reply = { id, tensor };
    self.postMessage(reply, [tensor.buffer as ArrayBuffer]);
  } catch (e) {
    reply = { id, error: message(e), stage: "generate" };
    self.postMessage(reply);
  }
};
