/**
 * An exclusive lock on a run folder, so two runs never write into one folder
 * at once (one would overwrite the other's files, or leave stages computed
 * with different configurations).
 *
 * The lock is `<dir>/.hfss.lock`, holding who has it (pid, host, command,
 * start time) as JSON. Exclusion comes from an advisory `flock` on that file,
 * which the kernel drops when the holder dies, however it dies (`kill -9`
 * included): a later run takes the folder over and says whose lock it was.
 * The file itself is never deleted (deleting a locked file lets a third run
 * lock a fresh one), only emptied on release.
 *
 * Where the file system has no `flock` (some network mounts), the file's
 * existence is the lock (created exclusively) and a stale one is detected by
 * pid liveness on the same host (`/proc/<pid>`), or by a heartbeat (the
 * holder touches the file every minute) older than ten minutes on another
 * host.
 */
import { join } from "node:path";
import { UserError } from "../errors.ts";

/** Who holds a run folder's lock (snake_case: written as-is). */
export interface LockHolder {
  pid: number;
  hostname: string;
  command: string;
  started_at: string;
}

/** The lock file's name inside a run folder. */
export const kLockName = ".hfss.lock";

const kHeartbeatMs = 60_000;
const kRemoteStaleMs = 10 * 60_000;

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown";
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (typeof h.pid !== "number" || typeof h.hostname !== "string") {
      return undefined;
    }
    return {
      pid: h.pid,
      hostname: h.hostname,
      command: String(h.command ?? "?"),
      started_at: String(h.started_at ?? "?"),
    };
  } catch {
    return undefined;
  }
}

/** "process 123 on this host (search, since 2026-01-01T10:00:00Z)". */
export function describeHolder(h: LockHolder): string {
  const where = h.hostname === hostname()
    ? "on this host"
    : `on host "${h.hostname}"`;
  return `process ${h.pid} ${where} (${h.command}, since ${h.started_at})`;
}

/**
 * Whether a process is alive: `undefined` when this cannot be told (another
 * host, or no `/proc`).
 */
function processAlive(h: LockHolder): boolean | undefined {
  if (h.hostname !== hostname()) return undefined;
  if (h.pid === Deno.pid) return true;
  try {
    Deno.statSync("/proc/self");
  } catch {
    return undefined;
  }
  try {
    Deno.statSync(`/proc/${h.pid}`);
    return true;
  } catch {
    return false;
  }
}

/** An exclusive lock on a run folder; `release()` when done (also on exit). */
export class RunLock {
  /** The folder locked. */
  readonly dir: string;
  /** The lock file. */
  readonly path: string;
  /**
   * When the folder was locked by a run that ended without releasing it
   * (killed): who that was. The caller should say it took over.
   */
  readonly takenOver: LockHolder | undefined;
  #file: Deno.FsFile | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  private constructor(
    dir: string,
    path: string,
    file: Deno.FsFile | undefined,
    takenOver: LockHolder | undefined,
  ) {
    this.dir = dir;
    this.path = path;
    this.#file = file;
    this.takenOver = takenOver;
    // heartbeat, for hosts that cannot see our flock
    const timer = setInterval(() => {
      try {
        const now = new Date();
        Deno.utimeSync(this.path, now, now);
      } catch { /* the folder may be gone; nothing to keep alive */ }
    }, kHeartbeatMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /**
   * Lock `dir` (created when missing) for `command`. `name` locks one part
   * of the folder (a shard) instead of all of it. `flock: false` uses the
   * lock file alone, as on file systems without `flock` (for tests).
   *
   * @throws {UserError} when another live run holds it, naming that run.
   *
   * @example
   * ```ts
   * const lock = RunLock.acquire("DFM/runs/a", "search");
   * try { ... } finally { lock.release(); }
   * ```
   */
  static acquire(
    dir: string,
    command: string,
    options: { flock?: boolean; name?: string } = {},
  ): RunLock {
    try {
      Deno.mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new UserError(
        `Cannot create output folder "${dir}": ${osReason(e)}`,
      );
    }
    // a named part (a shard) has its own lock beside the folder's
    const path = join(
      dir,
      options.name ? `.hfss-${options.name}.lock` : kLockName,
    );
    const me: LockHolder = {
      pid: Deno.pid,
      hostname: hostname(),
      command,
      started_at: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    };
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(path, { read: true, write: true, create: true });
    } catch (e) {
      throw new UserError(
        `Cannot write to output folder "${dir}": ${osReason(e)}`,
      );
    }
    let locked: boolean | undefined;
    try {
      locked = options.flock === false ? undefined : file.tryLockSync(true);
    } catch {
      locked = undefined; // no flock on this file system
    }
    if (locked === undefined) {
      file.close();
      return RunLock.#acquireByFile(dir, path, me);
    }
    const previous = parseHolder(readText(path));
    if (!locked) {
      file.close();
      throw busy(dir, previous);
    }
    // We hold the flock. A previous holder that never released died, unless
    // it runs on another host whose flock we cannot see.
    if (previous && previous.hostname !== me.hostname) {
      const age = Date.now() - mtimeOf(path);
      if (age < kRemoteStaleMs) {
        file.close();
        throw busy(dir, previous);
      }
    }
    writeHolder(file, me);
    return new RunLock(dir, path, file, previous);
  }

  static #acquireByFile(dir: string, path: string, me: LockHolder): RunLock {
    for (let attempt = 0; attempt < 2; attempt++) {
      const text = readText(path);
      const holder = parseHolder(text);
      if (text.trim() === "" || holder === undefined) {
        // empty (released) or unreadable: take it if no one else does first
        try {
          Deno.removeSync(path);
        } catch { /* already gone */ }
      } else {
        const alive = processAlive(holder);
        const stale = alive === false ||
          (alive === undefined &&
            Date.now() - mtimeOf(path) >= kRemoteStaleMs);
        if (!stale) throw busy(dir, holder);
        try {
          Deno.removeSync(path);
        } catch { /* someone else took it over first */ }
      }
      try {
        const file = Deno.openSync(path, { write: true, createNew: true });
        writeHolder(file, me);
        file.close();
        return new RunLock(dir, path, undefined, holder);
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) {
          throw new UserError(
            `Cannot lock output folder "${dir}": ${(e as Error).message}`,
          );
        }
      }
    }
    throw busy(dir, parseHolder(readText(path)));
  }

  /** Give the folder back. Safe to call twice. */
  release(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    const file = this.#file;
    this.#file = undefined;
    if (file) {
      // emptied, not removed: see the module comment
      try {
        file.truncateSync(0);
      } catch { /* best effort */ }
      file.close(); // drops the flock
    } else if (parseHolder(readText(this.path))?.pid === Deno.pid) {
      try {
        Deno.removeSync(this.path);
      } catch { /* already gone */ }
    }
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/** An OS error as a message tail: "permission denied", "read-only file system". */
function osReason(e: unknown): string {
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.NotADirectory) {
    return "a path component is a file";
  }
  if (e instanceof Deno.errors.AlreadyExists) return "a file has that name";
  return (e as Error).message.replace(/ \(os error \d+\).*$/, "").toLowerCase();
}

function busy(dir: string, holder: LockHolder | undefined): UserError {
  const who = holder ? describeHolder(holder) : "another hfss run";
  return new UserError(
    `Cannot use output folder "${dir}": it is in use by ${who}; wait for it to finish or choose another folder`,
  );
}

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

function mtimeOf(path: string): number {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? 0;
  } catch {
    return 0;
  }
}

function writeHolder(file: Deno.FsFile, me: LockHolder): void {
  const bytes = new TextEncoder().encode(JSON.stringify(me) + "\n");
  file.truncateSync(0);
  file.seekSync(0, Deno.SeekMode.Start);
  let off = 0;
  while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
}
