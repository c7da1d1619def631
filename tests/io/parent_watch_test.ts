import assert from "node:assert/strict";

const haveProc = (() => {
  try {
    Deno.statSync("/proc/self/stat");
    return true;
  } catch {
    return false;
  }
})();

function alive(pid: number): boolean {
  try {
    const s = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/\) [ZX] /.test(s);
  } catch {
    return false;
  }
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

/** Start `argv`, read the watched child's pid from its first stdout line. */
async function start(argv: string[]) {
  const p = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = p.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { launcher: p, child: Number(text.trim()) };
}

const watched = new URL("./_watched.ts", import.meta.url).pathname;
const launcher = new URL("./_launcher.ts", import.meta.url).pathname;

Deno.test({
  name:
    "exitWithLauncher() stops the process with one line when its launcher is killed with SIGKILL",
  ignore: !haveProc,
  async fn() {
    const { launcher: l, child } = await start([
      Deno.execPath(),
      "run",
      "-A",
      launcher,
    ]);
    assert.ok(alive(child));
    l.kill("SIGKILL");
    await l.status;
    const stopped = await waitFor(() => !alive(child), 10_000);
    if (!stopped) Deno.kill(child, "SIGKILL");
    const err = new TextDecoder().decode(
      (await new Response(l.stderr).arrayBuffer()) as ArrayBuffer,
    );
    await l.stdout.cancel().catch(() => {});
    assert.ok(stopped, "the child outlived its launcher");
    assert.match(
      err,
      new RegExp(
        `^error: Stopped: the launching process ${l.pid} has ended; progress is saved\n$`,
      ),
    );
  },
});

Deno.test({
  name:
    "exitWithLauncher() keeps running when its parent is a shell that ends (nohup-style)",
  ignore: !haveProc,
  async fn() {
    const { launcher: sh, child } = await start([
      "sh",
      "-c",
      `"${Deno.execPath()}" run -A "${watched}" & wait`,
    ]);
    sh.kill("SIGKILL");
    await sh.status;
    await sh.stdout.cancel().catch(() => {});
    await sh.stderr.cancel().catch(() => {});
    await new Promise((r) => setTimeout(r, 2500));
    const still = alive(child);
    Deno.kill(child, "SIGKILL");
    assert.ok(still, "the child stopped although its parent is no launcher");
  },
});
