import assert from "node:assert/strict";
import { join } from "node:path";
import { kLockName, RunLock } from "../../src/io/lock.ts";
import { UserError } from "../../src/errors.ts";

async function withTemp(
  fn: (dir: string) => Promise<void> | void,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hfss_lock_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Start a child that holds the lock on `dir`; resolves once it holds it. */
async function holder(dir: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./_hold_lock.ts", import.meta.url).pathname,
      dir,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  assert.equal(new TextDecoder().decode(value).trim(), "locked");
  reader.releaseLock();
  return child;
}

Deno.test("RunLock.acquire() refuses a folder held by a live process, naming it, then takes it over after kill -9", () =>
  withTemp(async (dir) => {
    const child = await holder(dir);
    try {
      assert.throws(() => RunLock.acquire(dir, "search"), (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.ok(!e.message.includes("\n"));
        assert.match(
          e.message,
          new RegExp(
            `^Cannot use output folder ".*": it is in use by process ${child.pid} on this host \\(holder, since `,
          ),
        );
        return true;
      });
    } finally {
      child.kill("SIGKILL");
      await child.status;
      await child.stdout.cancel().catch(() => {});
    }
    const lock = RunLock.acquire(dir, "search");
    assert.equal(lock.takenOver?.pid, child.pid);
    lock.release();
    // released cleanly: the next run takes nothing over
    const again = RunLock.acquire(dir, "eval");
    assert.equal(again.takenOver, undefined);
    again.release();
  }));

Deno.test("RunLock.acquire() excludes a second lock in the same process and frees the folder on release", () =>
  withTemp((dir) => {
    const a = RunLock.acquire(join(dir, "new", "run"), "search");
    assert.throws(() => RunLock.acquire(a.dir, "search"), /in use by process/);
    a.release();
    a.release(); // twice is fine
    RunLock.acquire(a.dir, "search").release();
    assert.ok(Deno.statSync(join(a.dir, kLockName)).isFile); // kept, emptied
  }));

Deno.test("RunLock.acquire() refuses a lock with a fresh heartbeat from another host, takes over an old one", () =>
  withTemp((dir) => {
    const path = join(dir, kLockName);
    const other = {
      pid: 1,
      hostname: "some-other-node",
      command: "search",
      started_at: "2026-01-01T00:00:00Z",
    };
    Deno.writeTextFileSync(path, JSON.stringify(other));
    assert.throws(
      () => RunLock.acquire(dir, "search"),
      /in use by process 1 on host "some-other-node"/,
    );
    const old = new Date(Date.now() - 11 * 60_000);
    Deno.utimeSync(path, old, old);
    const lock = RunLock.acquire(dir, "search");
    assert.equal(lock.takenOver?.hostname, "some-other-node");
    lock.release();
  }));

Deno.test("RunLock.acquire() without flock: the file is the lock, a dead pid on this host is taken over", () =>
  withTemp(async (dir) => {
    const a = RunLock.acquire(dir, "search", { flock: false });
    assert.throws(
      () => RunLock.acquire(dir, "eval", { flock: false }),
      /in use by process \d+ on this host \(search/,
    );
    a.release();
    const b = RunLock.acquire(dir, "eval", { flock: false });
    assert.equal(b.takenOver, undefined);
    b.release();
    // a holder that died without releasing: a finished child's pid
    const child = new Deno.Command("true").spawn();
    await child.status;
    Deno.writeTextFileSync(
      join(dir, kLockName),
      JSON.stringify({
        pid: child.pid,
        hostname: Deno.hostname(),
        command: "search",
        started_at: "2026-01-01T00:00:00Z",
      }),
    );
    let procReadable = true;
    try {
      Deno.statSync("/proc/self");
    } catch {
      procReadable = false; // not Linux, or not all permissions
    }
    if (!procReadable) {
      // liveness unknown: the fresh heartbeat holds, an old one is stale
      assert.throws(
        () => RunLock.acquire(dir, "search", { flock: false }),
        /in use by process/,
      );
      const old = new Date(Date.now() - 11 * 60_000);
      Deno.utimeSync(join(dir, kLockName), old, old);
    }
    const c = RunLock.acquire(dir, "search", { flock: false });
    assert.equal(c.takenOver?.pid, child.pid);
    c.release();
  }));

Deno.test("RunLock.acquire() says in one line when the folder cannot be written", () =>
  withTemp((dir) => {
    Deno.writeTextFileSync(join(dir, "file"), "x");
    assert.throws(
      () => RunLock.acquire(join(dir, "file", "run"), "search"),
      /Cannot create output folder ".*file\/run": a path component is a file$/,
    );
  }));
