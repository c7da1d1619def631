/**
 * Test helper: open a page in headless Chromium (Debian's `chromium`) through
 * the DevTools protocol, collect console errors, exceptions and failed loads,
 * evaluate an expression, and optionally take a screenshot. Tests skip when
 * /usr/bin/chromium is absent.
 */

/** Path of the Debian Chromium binary. */
export const kChromium = "/usr/bin/chromium";

/** True when Chromium is installed. */
export function haveChromium(): boolean {
  try {
    return Deno.statSync(kChromium).isFile;
  } catch {
    return false;
  }
}

/** Page expression: sources of images that did not decode. */
const kBrokenImages =
  `[...document.images].filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => i.src.slice(0, 80))`;

/** What the page did. */
export interface PageCheck {
  /** Console errors, uncaught exceptions, log entries of level error, failed requests. */
  errors: string[];
  /** Result of `expression` (returnByValue). */
  value: unknown;
  /** PNG screenshot bytes when asked for. */
  screenshot?: Uint8Array;
}

/**
 * Load `url`, wait for the load event, evaluate `expression`. Uses the
 * DevTools protocol when net access to 127.0.0.1 is permitted, else a probe
 * script injected into a copy of the (file) page and `--dump-dom`.
 */
export async function checkPage(
  url: string,
  expression: string,
  options: {
    screenshot?: boolean;
    width?: number;
    height?: number;
    timeoutMs?: number;
  } = {},
): Promise<PageCheck> {
  const net = await Deno.permissions.query({ name: "net", host: "127.0.0.1" });
  if (net.state === "granted") {
    return await checkPageCdp(url, expression, options);
  }
  return await checkPageProbe(url, expression, options);
}

function chromiumArgs(
  profile: string,
  options: { width?: number; height?: number },
): string[] {
  return [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    `--user-data-dir=${profile}`,
    `--window-size=${options.width ?? 1200},${options.height ?? 1600}`,
  ];
}

/**
 * Without DevTools: copy the page beside itself with a probe script first in
 * <head> that records errors (window error events in the capture phase, which
 * include failed image loads, and console.error) and, on load, writes
 * `{errors, value}` into the DOM; read it back with `--dump-dom`.
 */
async function checkPageProbe(
  url: string,
  expression: string,
  options: {
    screenshot?: boolean;
    width?: number;
    height?: number;
    timeoutMs?: number;
  },
): Promise<PageCheck> {
  if (!url.startsWith("file://")) {
    throw new Error(
      `checkPage() without net access needs a file:// URL, got ${url}`,
    );
  }
  const path = decodeURIComponent(new URL(url).pathname);
  const html = await Deno.readTextFile(path);
  const probe = `<script>
window.__errors = [];
window.addEventListener("error", (e) => { window.__errors.push("error: " + (e.message || (e.target && (e.target.src || e.target.href)) || "resource")); }, true);
window.addEventListener("unhandledrejection", (e) => { window.__errors.push("unhandled rejection: " + e.reason); });
const __ce = console.error; console.error = (...a) => { window.__errors.push("console.error: " + a.join(" ")); __ce.apply(console, a); };
window.addEventListener("load", () => { for (const b of (${kBrokenImages})) window.__errors.push("broken image: " + b); let v; try { v = (${expression}); } catch (err) { window.__errors.push("evaluate: " + err); }
  const pre = document.createElement("pre"); pre.id = "__probe"; pre.textContent = JSON.stringify({ errors: window.__errors, value: v }); document.body.appendChild(pre); });
</script>`;
  const i = html.indexOf("<head>");
  if (i < 0) throw new Error(`checkPage(): no <head> in ${path}`);
  const probed = path.replace(/\.html?$/, "") + ".__probe.html";
  await Deno.writeTextFile(
    probed,
    html.slice(0, i + 6) + probe + html.slice(i + 6),
  );
  const profile = await Deno.makeTempDir({ prefix: "hfss-chromium-" });
  try {
    const run = async (extra: string[]) => {
      const cmd = new Deno.Command(kChromium, {
        args: [
          ...chromiumArgs(profile, options),
          "--virtual-time-budget=5000",
          ...extra,
          `file://${probed}`,
        ],
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(options.timeoutMs ?? 30000),
      });
      const out = await cmd.output();
      return new TextDecoder().decode(out.stdout);
    };
    const dom = await run(["--dump-dom"]);
    const m = /<pre id="__probe">([\s\S]*?)<\/pre>/.exec(dom);
    if (!m) {
      throw new Error(
        `Chromium did not run the probe on ${path}: ${dom.slice(0, 300)}`,
      );
    }
    const text = m[1]!.replaceAll("&lt;", "<").replaceAll("&gt;", ">")
      .replaceAll("&quot;", '"')
      .replaceAll("&#39;", "'").replaceAll("&amp;", "&");
    const res = JSON.parse(text) as { errors: string[]; value: unknown };
    const out: PageCheck = { errors: res.errors, value: res.value };
    if (options.screenshot) {
      const shot = `${profile}/shot.png`;
      await run([`--screenshot=${shot}`]);
      out.screenshot = await Deno.readFile(shot);
    }
    return out;
  } finally {
    await Deno.remove(probed).catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

async function checkPageCdp(
  url: string,
  expression: string,
  options: {
    screenshot?: boolean;
    width?: number;
    height?: number;
    timeoutMs?: number;
  } = {},
): Promise<PageCheck> {
  const profile = await Deno.makeTempDir({ prefix: "hfss-chromium-" });
  const child = new Deno.Command(kChromium, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      `--user-data-dir=${profile}`,
      "--remote-debugging-port=0",
      `--window-size=${options.width ?? 1200},${options.height ?? 1600}`,
      "about:blank",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const timeout = options.timeoutMs ?? 30000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, rej) => {
    timer = setTimeout(
      () => rej(new Error(`Chromium did not finish within ${timeout} ms`)),
      timeout,
    );
  });
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let ws: WebSocket | undefined;
  try {
    // read stderr until the DevTools URL appears
    let buf = "";
    const wsUrl = await Promise.race([
      (async () => {
        while (true) {
          const { value, done } = await reader.read();
          if (done) {
            throw new Error(
              `Chromium exited before DevTools was ready: ${buf.slice(-500)}`,
            );
          }
          buf += value;
          const m = /DevTools listening on (ws:\/\/\S+)/.exec(buf);
          if (m) return m[1]!;
        }
      })(),
      deadline,
    ]);
    // keep draining stderr so Chromium never blocks on a full pipe
    (async () => {
      try {
        while (!(await reader.read()).done) { /* drain */ }
      } catch { /* closed */ }
    })();
    ws = new WebSocket(wsUrl);
    await Promise.race([
      new Promise<void>((res, rej) => {
        ws!.onopen = () => res();
        ws!.onerror = () =>
          rej(new Error("Cannot connect to Chromium DevTools"));
      }),
      deadline,
    ]);
    let nextId = 1;
    const pending = new Map<
      number,
      { res: (v: unknown) => void; rej: (e: Error) => void }
    >();
    const errors: string[] = [];
    let loaded: () => void = () => {};
    const loadedP = new Promise<void>((r) => (loaded = r));
    ws.onmessage = (ev) => {
      const msg = JSON.parse(String(ev.data));
      if (msg.id !== undefined) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) p?.rej(new Error(JSON.stringify(msg.error)));
        else p?.res(msg.result);
        return;
      }
      const params = msg.params ?? {};
      switch (msg.method) {
        case "Page.loadEventFired":
          loaded();
          break;
        case "Runtime.exceptionThrown":
          errors.push(
            `exception: ${
              JSON.stringify(
                params.exceptionDetails?.exception?.description ?? params,
              )
            }`,
          );
          break;
        case "Runtime.consoleAPICalled":
          if (params.type === "error" || params.type === "assert") {
            errors.push(
              `console.${params.type}: ${
                JSON.stringify(
                  params.args?.map((a: { value?: unknown }) => a.value),
                )
              }`,
            );
          }
          break;
        case "Log.entryAdded":
          if (params.entry?.level === "error") {
            errors.push(`log: ${params.entry.text} ${params.entry.url ?? ""}`);
          }
          break;
        case "Network.loadingFailed":
          errors.push(`request failed: ${params.errorText}`);
          break;
      }
    };
    const send = (
      method: string,
      params: Record<string, unknown> = {},
      sessionId?: string,
    ) =>
      Promise.race([
        new Promise<Record<string, unknown>>((res, rej) => {
          const id = nextId++;
          pending.set(id, {
            res: (v) => res(v as Record<string, unknown>),
            rej,
          });
          ws!.send(
            JSON.stringify({
              id,
              method,
              params,
              ...(sessionId ? { sessionId } : {}),
            }),
          );
        }),
        deadline,
      ]);
    const { targetId } = await send("Target.createTarget", {
      url: "about:blank",
    }) as { targetId: string };
    const { sessionId } = await send("Target.attachToTarget", {
      targetId,
      flatten: true,
    }) as {
      sessionId: string;
    };
    await send("Page.enable", {}, sessionId);
    await send("Runtime.enable", {}, sessionId);
    await send("Log.enable", {}, sessionId);
    await send("Network.enable", {}, sessionId);
    await send("Page.navigate", { url }, sessionId);
    await Promise.race([loadedP, deadline]);
    const ev = await send("Runtime.evaluate", {
      expression,
      returnByValue: true,
    }, sessionId) as {
      result: { value?: unknown };
      exceptionDetails?: unknown;
    };
    if (ev.exceptionDetails) {
      errors.push(`evaluate: ${JSON.stringify(ev.exceptionDetails)}`);
    }
    const broken = await send("Runtime.evaluate", {
      expression: kBrokenImages,
      returnByValue: true,
    }, sessionId) as { result: { value?: string[] } };
    for (const b of broken.result.value ?? []) {
      errors.push(`broken image: ${b}`);
    }
    const out: PageCheck = { errors, value: ev.result.value };
    if (options.screenshot) {
      const shot = await send("Page.captureScreenshot", {
        format: "png",
        captureBeyondViewport: true,
      }, sessionId) as {
        data: string;
      };
      out.screenshot = Uint8Array.from(atob(shot.data), (c) => c.charCodeAt(0));
    }
    await send("Browser.close").catch(() => {});
    return out;
  } finally {
    clearTimeout(timer);
    try {
      ws?.close();
    } catch { /* closed */ }
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
    await reader.cancel().catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}
