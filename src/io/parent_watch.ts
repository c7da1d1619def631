/**
 * Stop with the launcher. `deno task hfss ...` (and the npm `deno` wrapper)
 * start hfss as a child of one or more launcher processes; when a launcher is
 * killed with SIGKILL, the child is not told and would keep running and
 * writing. So the process watches its launchers and, when one ends, stops the
 * way `kill -9` would (every file is written atomically, checkpoints make the
 * run resumable), after one line on stderr.
 *
 * Two ways to see a launcher end:
 * - started by `deno task` or `npm run` (their environment variables
 *   `npm_config_user_agent`, `INIT_CWD`): the parent process changes
 *   (`Deno.ppid`, no permission needed);
 * - where `/proc` may be read (Linux, all permissions): the chain of
 *   launcher ancestors (processes named `deno` or `node` directly above),
 *   which also covers a wrapper between the task and hfss.
 *
 * Only launchers are watched: under a shell, `nohup` or a scheduler, the
 * parent ending does not stop hfss.
 */

const kPollMs = 1000;
const kLauncherNames = new Set(["deno", "node"]);

interface ProcInfo {
  name: string;
  ppid: number;
  /** Start time in clock ticks since boot: a reused pid has another. */
  start: string;
}

function procInfo(pid: number): ProcInfo | undefined {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ... starttime(22) ..."; comm may hold ") "
  const open = stat.indexOf("(");
  const close = stat.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const rest = stat.slice(close + 2).split(" ");
  if (rest[0] === "Z" || rest[0] === "X") return undefined; // zombie: ended
  return {
    name: stat.slice(open + 1, close),
    ppid: Number(rest[1]),
    start: rest[19] ?? "",
  };
}

/** True when `deno task` or `npm run` started this process. */
function underTaskRunner(): boolean {
  try {
    return (Deno.env.get("npm_config_user_agent") ?? "").startsWith("deno/") ||
      Deno.env.get("INIT_CWD") !== undefined;
  } catch {
    return false; // no env permission
  }
}

function currentParent(): number | undefined {
  try {
    return Deno.ppid;
  } catch {
    return undefined;
  }
}

/** The launcher processes above this one (nearest first), as pid + start time. */
export function launcherChain(): { pid: number; start: string }[] {
  const chain: { pid: number; start: string }[] = [];
  let pid: number;
  try {
    pid = Deno.ppid;
  } catch {
    return chain;
  }
  for (let depth = 0; depth < 8 && pid > 1; depth++) {
    const info = procInfo(pid);
    if (!info || !kLauncherNames.has(info.name)) break;
    chain.push({ pid, start: info.start });
    pid = info.ppid;
  }
  return chain;
}

/**
 * Watch the launcher chain; when a launcher ends, print `message()` (one
 * line, e.g. where progress is saved) and exit with code 1. Returns a
 * function that stops watching. The watch never keeps the process alive.
 */
export function exitWithLauncher(message: () => string): () => void {
  const chain = launcherChain();
  const parent = underTaskRunner() ? currentParent() : undefined;
  if (chain.length === 0 && parent === undefined) return () => {};
  const timer = setInterval(() => {
    const gone = chain.find((p) => procInfo(p.pid)?.start !== p.start) ??
      (parent !== undefined && currentParent() !== parent
        ? { pid: parent }
        : undefined);
    if (!gone) return;
    clearInterval(timer);
    try {
      Deno.stderr.writeSync(
        new TextEncoder().encode(
          `error: Stopped: the launching process ${gone.pid} has ended; ${message()}\n`,
        ),
      );
    } finally {
      Deno.exit(1);
    }
  }, kPollMs);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}
