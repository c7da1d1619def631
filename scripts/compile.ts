/**
 * `deno task compile [--output path]`: build the standalone `bin/hfss` with
 * `deno compile --unstable-webgpu`, narrow permissions, and the shaders (text
 * imports, part of the module graph), wasm files and worker modules embedded.
 *
 * `deno compile` needs Deno's `denort` runtime. It comes from `DENORT_BIN`, or
 * from Deno's download cache (`<DENO_DIR>/dl/release/v<version>/denort-<target>.zip`),
 * which Deno fills from its download host. Where neither exists (no network),
 * this script says so plainly and exits 0 with a skip note instead of waiting
 * on network timeouts.
 */
import { parseArgs } from "node:util";

/** Where a usable denort runtime was found. */
export interface DenortLocation {
  path: string;
  source: "DENORT_BIN" | "cache";
}

/** Options of {@link findDenort}. */
export interface FindDenortOptions {
  /** Value of DENORT_BIN (default: the environment's). */
  denortBin?: string;
  /** Deno's cache folder (default: DENO_DIR, else `deno info --json`). */
  denoDir?: string;
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Deno's cache folder as `deno info` reports it. */
export async function denoDir(): Promise<string | null> {
  const env = Deno.env.get("DENO_DIR");
  if (env) return env;
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json"],
      stdout: "piped",
      stderr: "null",
    }).output();
    return JSON.parse(new TextDecoder().decode(out.stdout)).denoDir ?? null;
  } catch {
    return null;
  }
}

/** The cached denort archive `deno compile` would use, for this Deno version and target. */
export function cachedDenortPath(dir: string): string {
  return `${dir}/dl/release/v${Deno.version.deno}/denort-${Deno.build.target}.zip`;
}

/** Find a denort runtime without touching the network; null when there is none. */
export async function findDenort(
  options: FindDenortOptions = {},
): Promise<DenortLocation | null> {
  const bin = options.denortBin ?? Deno.env.get("DENORT_BIN");
  if (bin) {
    return exists(bin) ? { path: bin, source: "DENORT_BIN" } : null;
  }
  const dir = options.denoDir ?? await denoDir();
  if (!dir) return null;
  const cached = cachedDenortPath(dir);
  return exists(cached) ? { path: cached, source: "cache" } : null;
}

/** Files embedded next to the module graph: wasm of the npm packages that load it at run time. */
export function wasmIncludes(root: string): string[] {
  const out: string[] = [];
  for (
    const dir of [
      "node_modules/onnxruntime-web/dist",
      "node_modules/@jsquash/jpeg/codec/dec",
    ]
  ) {
    try {
      for (const e of Deno.readDirSync(`${root}/${dir}`)) {
        if (e.isFile && e.name.endsWith(".wasm")) out.push(`${dir}/${e.name}`);
      }
    } catch {
      // package not installed: nothing to embed
    }
  }
  return out.sort();
}

/**
 * Worker entry modules (files named `…_worker.ts` under `src/`):
 * `deno compile` embeds a worker's code only when it is included by path.
 */
export function workerIncludes(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(`${root}/${dir}`)) {
      if (e.isDirectory) walk(`${dir}/${e.name}`);
      else if (e.isFile && e.name.endsWith("_worker.ts")) {
        out.push(`${dir}/${e.name}`);
      }
    }
  };
  walk("src");
  return out.sort();
}

/** The `deno compile` arguments for an output path. */
export function compileArgs(output: string, root: string): string[] {
  return [
    "compile",
    "--unstable-webgpu",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-sys",
    ...[...wasmIncludes(root), ...workerIncludes(root)].flatMap((f) => [
      "--include",
      f,
    ]),
    "--output",
    output,
    "main.ts",
  ];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { output: { type: "string", default: "bin/hfss" } },
  });
  const root = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
  const denort = await findDenort();
  if (!denort) {
    const bin = Deno.env.get("DENORT_BIN");
    if (bin) {
      console.error(
        `error: Cannot build ${values.output}: DENORT_BIN points to "${bin}", which does not exist`,
      );
      return 1;
    }
    const dir = await denoDir();
    console.log(
      `compile: skipped: Deno cannot obtain its denort runtime here (DENORT_BIN is unset and ${
        dir ? cachedDenortPath(dir) : "the Deno cache"
      } does not exist; downloading it needs network access to Deno's download host). ` +
        `Set DENORT_BIN to a denort binary of Deno ${Deno.version.deno} to build bin/hfss.`,
    );
    return 0;
  }
  const args = compileArgs(values.output!, root);
  console.error(`compile: using denort from ${denort.source} (${denort.path})`);
  console.error(`compile: deno ${args.join(" ")}`);
  const env: Record<string, string> = denort.source === "DENORT_BIN"
    ? { DENORT_BIN: denort.path }
    : {};
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    env,
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGTERM"), 600_000);
  const status = await child.status;
  clearTimeout(timer);
  if (!status.success) {
    console.error(
      `error: Cannot build ${values.output}: deno compile exited with ${status.code}`,
    );
    return 1;
  }
  console.log(`compile: wrote ${values.output}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
