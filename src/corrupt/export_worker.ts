/**
 * Worker body for `export_pool.ts`: generate and write one block of images
 * (`exportCorruptions()` on the block), answer with its summary and the
 * images that could not be read.
 *
 * Message in:  `{ init: ExportInit }` once, then `{ id, job: ExportJob }`
 * Message out: `{ id, summary, errors: [path, message][] }` or `{ id, failure }`
 */
/// <reference lib="deno.worker" />
import { exportCorruptions } from "./export.ts";
import type { ExportInit, ExportJob, ExportReply } from "./export_pool.ts";
import type { FrostTextures } from "./frost.ts";

let frost: FrostTextures | null = null;

self.onmessage = async (
  ev: MessageEvent<{ init: ExportInit } | { id: number; job: ExportJob }>,
) => {
  if ("init" in ev.data) {
    frost = ev.data.init.frost;
    return;
  }
  const { id, job } = ev.data;
  const errors: [string, string][] = [];
  let reply: ExportReply;
  try {
    const summary = await exportCorruptions({
      ...job,
      frost,
      onError: (path, e) => errors.push([path, e.message]),
    });
    reply = { id, summary, errors };
  } catch (e) {
    reply = { id, failure: e instanceof Error ? e.message : String(e) };
  }
  self.postMessage(reply);
};
