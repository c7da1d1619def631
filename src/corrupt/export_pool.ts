/**
 * `exportCorruptions()` on several threads: blocks of images are handed to a
 * pool of Web Workers (`export_worker.ts`) as they free up, each writing its
 * block's files itself. Every image has its own random stream and every file
 * its own path, so the files are the same bytes whatever the number of
 * workers or the order blocks finish in; resuming still skips what exists.
 *
 * The GPU blurs live on the calling thread's device, so a run with a
 * `GpuBlur` stays on one thread (as does one where Web Workers cannot start).
 */
import { UserError } from "../errors.ts";
import { webWorkersAvailable, WorkerPool } from "../worker_pool.ts";
import {
  exportCorruptions,
  type ExportOptions,
  type ExportSummary,
} from "./export.ts";
import type { FrostTextures } from "./frost.ts";

/** What a worker is sent per block: `ExportOptions` without callbacks, GPU or frost. */
export type ExportJob = Omit<
  ExportOptions,
  "gpu" | "frost" | "onProgress" | "onError"
>;

/** What a worker is sent once: the run's frost textures. */
export interface ExportInit {
  frost: FrostTextures | null;
}

/** What a worker answers. */
export type ExportReply =
  | { id: number; summary: ExportSummary; errors: [string, string][] }
  | { id: number; failure: string };

/**
 * Generate and write every subset of every sample on `workers` threads
 * (1: the calling thread, as `exportCorruptions`).
 */
export async function exportCorruptionsParallel(
  o: ExportOptions,
  workers: number,
): Promise<ExportSummary> {
  const n = Math.min(Math.max(1, Math.floor(workers)), o.samples.length);
  if (n <= 1 || o.gpu || !webWorkersAvailable()) {
    return await exportCorruptions(o);
  }
  const t0 = performance.now();
  const block = Math.max(1, o.blockSize ?? 16);
  const blocks: number[] = [];
  for (let i = 0; i < o.samples.length; i += block) blocks.push(i);
  const total: ExportSummary = {
    images: o.samples.length,
    subsets: o.subsets.length,
    files_written: 0,
    files_skipped: 0,
    images_failed: 0,
    seconds: 0,
  };
  // Progress is reported in sample order: a block counts once every block
  // before it is done too.
  const finished = new Set<number>();
  let reported = 0;
  using pool = new WorkerPool<ExportJob, ExportReply>(
    new URL("./export_worker.ts", import.meta.url),
    n,
    // the frost textures travel once per worker, not with every block
    { name: "corrupt", init: { frost: o.frost ?? null } },
  );
  let next = 0;
  const runBlocks = async () => {
    while (next < blocks.length) {
      const id = next++;
      const start = blocks[id]!;
      const job: ExportJob = {
        root: o.root,
        samples: o.samples.slice(start, start + block),
        out: o.out,
        subsets: o.subsets,
        seed: o.seed,
        format: o.format,
        blockSize: block,
      };
      const reply = await pool.run(job);
      if ("failure" in reply) throw new UserError(reply.failure);
      total.files_written += reply.summary.files_written;
      total.files_skipped += reply.summary.files_skipped;
      total.images_failed += reply.summary.images_failed;
      for (const [path, message] of reply.errors) {
        o.onError?.(path, new Error(message));
      }
      finished.add(id);
      while (finished.has(reported)) reported++;
      const done = Math.min(
        blocks[reported] ?? o.samples.length,
        o.samples.length,
      );
      o.onProgress?.(done, o.samples.length);
    }
  };
  await Promise.all(Array.from({ length: n }, runBlocks));
  total.seconds = (performance.now() - t0) / 1000;
  return total;
}
