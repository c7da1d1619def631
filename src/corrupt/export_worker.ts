/**
 * Worker body for `export_pool.ts`: generate and write one block of images
 * (`exportCorruptions()` on the block), answer with its summary and the
 * images that could not be read.
 *
 * Message in:  `{ id, job: ExportJob }`
 * Message out: `{ id, summary, errors: [path, message][] }` or `{ id, failure }`
 */
/// <reference lib="deno.worker" />
import { exportCorruptions } from "./export.ts";
import type { ExportJob, ExportReply } from "./export_pool.ts";

self.onmessage = async (ev: MessageEvent<{ id: number; job: ExportJob }>) => {
  const { id, job } = ev.data;
  const errors: [string, string][] = [];
  let reply: ExportReply;
  try {
    const summary = await exportCorruptions({
      ...job,
      onError: (path, e) => errors.push([path, e.message]),
    });
    reply = { id, summary, errors };
  } catch (e) {
    reply = { id, failure: e instanceof Error ? e.message : String(e) };
  }
  self.postMessage(reply);
};
