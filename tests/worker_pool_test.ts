import assert from "node:assert/strict";
import { webWorkersAvailable, WorkerPool } from "../src/worker_pool.ts";

const kEcho = new URL("./fixtures/worker_pool/echo_worker.ts", import.meta.url);

type Job = { value: number; crash?: boolean; wait?: number };
type Reply = { id: number; token: string; init: unknown; value: number };

Deno.test("WorkerPool.run() answers every job, sends init once to each worker, and keeps a named worker's jobs on it", async () => {
  assert.ok(webWorkersAvailable());
  using pool = new WorkerPool<Job, Reply>(kEcho, 2, {
    name: "echo",
    init: { run: 7 },
  });
  assert.equal(pool.size, 2);
  const shared = await Promise.all(
    Array.from({ length: 8 }, (_, i) => pool.run({ value: i, wait: 5 })),
  );
  assert.deepStrictEqual(shared.map((r) => r.value), [0, 1, 2, 3, 4, 5, 6, 7]);
  for (const r of shared) assert.deepStrictEqual(r.init, { run: 7 });
  // two workers, both used when jobs wait on each other
  assert.equal(new Set(shared.map((r) => r.token)).size, 2);

  const pinned = await Promise.all(
    Array.from(
      { length: 6 },
      (_, i) => pool.run({ value: i, wait: i % 2 ? 1 : 10 }, { worker: i }),
    ),
  );
  const even = new Set(
    pinned.filter((_, i) => i % 2 === 0).map((r) => r.token),
  );
  const odd = new Set(pinned.filter((_, i) => i % 2 === 1).map((r) => r.token));
  assert.equal(even.size, 1);
  assert.equal(odd.size, 1);
  assert.notDeepStrictEqual([...even], [...odd]);
  assert.deepStrictEqual(pinned.map((r) => r.value), [0, 1, 2, 3, 4, 5]);
  // worker index is taken modulo the size
  const again = await pool.run({ value: 9 }, { worker: 4 });
  assert.ok(even.has(again.token));
});

Deno.test("WorkerPool.run() rejects the job of a crashed worker and goes on; terminate() rejects what is left", async () => {
  const pool = new WorkerPool<Job, Reply>(kEcho, 1, { name: "echo" });
  try {
    await assert.rejects(
      () => pool.run({ value: 1, crash: true }),
      /echo worker crashed: .*asked to crash/,
    );
    assert.equal((await pool.run({ value: 2 })).value, 2);
    const slow = pool.run({ value: 3, wait: 2000 });
    const queued = pool.run({ value: 4 });
    pool.terminate();
    await assert.rejects(() => slow, /echo workers are stopped/);
    await assert.rejects(() => queued, /echo workers are stopped/);
    await assert.rejects(() => pool.run({ value: 5 }), /stopped/);
  } finally {
    pool.terminate();
  }
});
