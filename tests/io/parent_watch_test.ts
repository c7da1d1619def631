import assert from "node:assert/strict";

/** Linux: the watch and the launchers it knows are Linux processes. */
const linux = Deno.build.os === "linux";

/**
 * Whether the watched child ends within `ms`: its stdout (which only it
 * still holds once the launcher is gone) reaches its end.
 */
async function endsWithin(
  stdout: ReadableStream<Uint8Array>,
  ms: number,
): Promise<boolean> {
  const reader = stdout.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  const end = (async () => {
    while (!(await reader.read()).done) { /* drain */ }
    return true;
  })();
  const ended = await Promise.race([end, timeout]);
  clearTimeout(timer);
  if (!ended) await reader.cancel().catch(() => {});
  return ended;
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
    ignore: !linux,
    async fn() {
      const { launcher: l, child } = await start([
        Deno.execPath(),
        "run",
        "-A",
        launcher,
        ...perms,
      ], env);
      l.kill("SIGKILL");
      await l.status;
      const stopped = await endsWithin(l.stdout, 10_000);
      if (!stopped) Deno.kill(child, "SIGKILL");
      const err = new TextDecoder().decode(
        (await new Response(l.stderr).arrayBuffer()) as ArrayBuffer,
      );
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
  ignore: !linux,
  async fn() {
    const { launcher: sh, child } = await start([
      "sh",
      "-c",
      `"${Deno.execPath()}" run -A "${watched}" & wait`,
    ]);
    sh.kill("SIGKILL");
    await sh.status;
    await sh.stderr.cancel().catch(() => {});
    const still = !(await endsWithin(sh.stdout, 2500));
    Deno.kill(child, "SIGKILL");
    assert.ok(still, "the child stopped although its parent is no launcher");
  },
});
