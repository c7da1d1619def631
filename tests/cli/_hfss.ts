/**
 * Run the CLI as a user does: a child `deno run main.ts <args>` in the repo
 * root, with its exit code and decoded output.
 */
import { REPO_ROOT } from "../../src/testing/shared_data.ts";

/** Result of one {@link hfss} run. */
export interface HfssRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `deno run main.ts <args>` in the repo root, its output piped or discarded. */
export function hfssCommand(
  args: string[],
  output: "piped" | "null" = "piped",
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--unstable-webgpu", "-A", "main.ts", ...args],
    cwd: REPO_ROOT,
    stdout: output,
    stderr: output,
    env: { NO_COLOR: "1", XDG_RUNTIME_DIR: "/tmp" },
  });
}

/** Run `main.ts` with `args` in a child process and wait for it. */
export async function hfss(...args: string[]): Promise<HfssRun> {
  const out = await hfssCommand(args).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}
