/**
 * Benchmark runner: `deno task bench [--only name[,name]] [--quick]` runs every
 * suite in `bench/suites/*.ts`, prints a table of its figures and writes
 * `bench/results/<suite>-<timestamp>.json` with the runtime, adapter report,
 * CPU count, environment knobs and the exact command.
 * `deno task bench --compare a.json b.json` prints b/a for every figure the
 * two files share.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { GpuContext } from "../src/gpu/context.ts";
import { writeJsonAtomic } from "../src/io/atomic.ts";
import { type BenchContext, createBenchContext } from "./context.ts";

const kSuitesDir = fileURLToPath(new URL("./suites/", import.meta.url));
const kResultsDir = fileURLToPath(new URL("./results/", import.meta.url));

type Figures = Record<string, unknown>;

/** Flatten nested figures to `a.b.c` keys (numbers, strings, booleans). */
export function flatten(
  value: unknown,
  prefix = "",
  out: Record<string, number | string | boolean | null> = {},
) {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      flatten(v, prefix ? `${prefix}.${k}` : k, out);
    }
  } else if (
    typeof value === "number" || typeof value === "string" ||
    typeof value === "boolean" ||
    value === null
  ) {
    out[prefix] = value;
  } else if (Array.isArray(value)) {
    out[prefix] = JSON.stringify(value);
  }
  return out;
}

function fmt(v: number | string | boolean | null): string {
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : v.toFixed(3);
}

function printTable(rows: [string, string][]): void {
  const w = Math.max(...rows.map(([k]) => k.length), 6);
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
}

/**
 * The command that reproduces this run: /proc/self/cmdline where readable
 * (needs --allow-all), else the Deno binary, the unstable flag, the granted
 * permissions and the arguments.
 */
function commandLine(): string {
  try {
    const raw = Deno.readTextFileSync("/proc/self/cmdline");
    const parts = raw.split("\0").filter((s) => s.length > 0);
    if (parts.length > 0) return parts.join(" ");
  } catch {
    // not Linux, or /proc needs --allow-all: rebuild it
  }
  const names = ["read", "write", "env", "sys", "run", "net", "ffi"] as const;
  const flags = names.filter((name) =>
    Deno.permissions.querySync({ name }).state === "granted"
  ).map((name) => `--allow-${name}`);
  const webgpu = "gpu" in navigator ? ["--unstable-webgpu"] : [];
  return [
    Deno.execPath(),
    "run",
    ...webgpu,
    ...flags,
    "bench/main.ts",
    ...Deno.args,
  ]
    .join(" ");
}

async function compare(a: string, b: string): Promise<void> {
  const fa = JSON.parse(await Deno.readTextFile(a));
  const fb = JSON.parse(await Deno.readTextFile(b));
  const xa = flatten(fa.figures);
  const xb = flatten(fb.figures);
  console.log(
    `a: ${a} (${fa.adapter?.description ?? "no adapter"}, ${fa.cpus} CPUs)`,
  );
  console.log(
    `b: ${b} (${fb.adapter?.description ?? "no adapter"}, ${fb.cpus} CPUs)`,
  );
  const rows: [string, string][] = [["figure", "a | b | b/a"]];
  for (const [k, va] of Object.entries(xa)) {
    const vb = xb[k];
    if (typeof va === "number" && typeof vb === "number") {
      rows.push([
        k,
        `${fmt(va)} | ${fmt(vb)} | ${va !== 0 ? (vb / va).toFixed(3) : "-"}`,
      ]);
    }
  }
  printTable(rows);
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: {
      only: { type: "string" },
      quick: { type: "boolean", default: false },
      compare: { type: "boolean", default: false },
      "no-write": { type: "boolean", default: false },
    },
    allowPositionals: true,
  });
  if (values.compare) {
    if (positionals.length !== 2) {
      console.error(
        "error: --compare needs two result files: --compare a.json b.json",
      );
      return 2;
    }
    await compare(positionals[0]!, positionals[1]!);
    return 0;
  }
  const only = values.only?.split(",").map((s) => s.trim()).filter(Boolean);
  const names: string[] = [];
  for await (const e of Deno.readDir(kSuitesDir)) {
    if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
      names.push(e.name.slice(0, -3));
    }
  }
  names.sort();
  const selected = only ? names.filter((n) => only.includes(n)) : names;
  if (only && selected.length !== only.length) {
    const missing = only.filter((n) => !names.includes(n));
    console.error(
      `error: Cannot find bench suite ${missing.join(", ")}: have ${
        names.join(", ")
      }`,
    );
    return 2;
  }
  let gpu: GpuContext | null = null;
  try {
    gpu = await GpuContext.create();
  } catch (err) {
    console.error(
      `bench: no WebGPU adapter (${
        err instanceof Error ? err.message : err
      }); GPU figures skipped`,
    );
  }
  const ctx: BenchContext = createBenchContext(gpu, values.quick);
  const meta = {
    runtime: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      typescript: Deno.version.typescript,
      os: Deno.build.os,
      arch: Deno.build.arch,
    },
    cpus: navigator.hardwareConcurrency,
    adapter: gpu?.report() ?? null,
    env: {
      LP_NUM_THREADS: Deno.env.get("LP_NUM_THREADS") ?? null,
      DENO_WEBGPU_BACKEND: Deno.env.get("DENO_WEBGPU_BACKEND") ?? null,
    },
    command: commandLine(),
  };
  let failed = 0;
  try {
    for (const name of selected) {
      ctx.log(`bench: running ${name}`);
      const mod = await import(`./suites/${name}.ts`) as {
        run: (ctx: BenchContext) => Promise<Figures>;
      };
      let figures: Figures;
      try {
        figures = await mod.run(ctx);
      } catch (err) {
        failed++;
        console.error(
          `error: bench suite ${name} failed: ${
            err instanceof Error ? err.stack : err
          }`,
        );
        continue;
      }
      const timestamp = new Date().toISOString();
      console.log(
        `\n== ${name} (${
          meta.adapter?.description ?? "no adapter"
        }, ${meta.cpus} CPUs) ==`,
      );
      printTable(Object.entries(flatten(figures)).map(([k, v]) => [k, fmt(v)]));
      if (!values["no-write"]) {
        const file = `${kResultsDir}${name}-${
          timestamp.replace(/[:.]/g, "-")
        }.json`;
        await writeJsonAtomic(file, {
          suite: name,
          timestamp,
          ...meta,
          figures,
        });
        console.log(`wrote ${file}`);
      }
    }
  } finally {
    gpu?.[Symbol.dispose]();
  }
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
