/** `hfss info`: runtime, WebGPU adapter and (later) model and data checks. */
import type { Command } from "commander";
import { GpuContext } from "../gpu/context.ts";

/** Register the `info` subcommand. */
export function register(program: Command): void {
  program
    .command("info")
    .description(
      "print the runtime and the WebGPU adapter (name, backend, fallback, limits, features)",
    )
    .option("--json", "print one JSON object instead of text")
    .action(async (opts: { json?: boolean }) => {
      using gpu = await GpuContext.create();
      const adapter = gpu.report();
      const runtime = {
        deno: Deno.version.deno,
        v8: Deno.version.v8,
        os: Deno.build.os,
        arch: Deno.build.arch,
        cpus: navigator.hardwareConcurrency,
      };
      if (opts.json) {
        console.log(JSON.stringify({ runtime, adapter }, null, 2));
        return;
      }
      console.log(
        `runtime: deno ${runtime.deno} (${runtime.os}/${runtime.arch}, ${runtime.cpus} CPUs)`,
      );
      console.log(
        `adapter: ${adapter.description}${
          adapter.isFallbackAdapter ? " (fallback/software)" : ""
        }`,
      );
      console.log(`backend: ${adapter.backend}`);
      console.log(`features: ${adapter.features.join(", ") || "(none)"}`);
      for (const [k, v] of Object.entries(adapter.limits)) {
        console.log(`limit ${k}: ${v}`);
      }
    });
}
