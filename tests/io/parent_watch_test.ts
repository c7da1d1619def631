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

/** Neither `deno task` nor `npm run` in the environment (the tests may run under one). */
function plainEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  delete env.npm_config_user_agent;
  return { ...env, ...extra };
}

/** Start `argv`, read the watched child's pid from its first stdout line. */
async function start(argv: string[], env = plainEnv()) {
  const p = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    env,
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

for (
  const [how, perms, env] of [
    ["reading /proc (all permissions)", ["-A"], plainEnv()],
    [
      "as a deno task child without /proc access",
      ["--allow-env", "--allow-sys", "--allow-read"],
      plainEnv({ INIT_CWD: "/tmp" }),
    ],
  ] as const
) {
  Deno.test({
    name:
      `exitWithLauncher() stops the process with one line when its launcher is killed with SIGKILL, ${how}`,
    ignore: !haveProc,
    async fn() {
      const { launcher: l, child } = await start([
        Deno.execPath(),
        "run",
        "-A",
        launcher,
        ...perms,
      ], env);
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
}

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
