/**
 * Helpers for fault-injection tests that drive `hfss` as a user does: a
 * tiny planted model and dataset (32x32, three classes), child processes run
 * to the end or killed with SIGKILL when a condition on the run folder holds.
 */
import { join } from "node:path";
import {
  writeTinyDataset,
  writeTinyModel,
} from "../../src/testing/tiny_search.ts";
import { hfss, hfssCommand } from "../cli/_hfss.ts";

export { hfss };

/**
 * Start `hfss <args>`, poll `ready()` every 10 ms, and SIGKILL the run once
 * it holds. Returns true when the kill landed before the run ended.
 */
export async function killWhen(
  args: string[],
  ready: () => boolean | Promise<boolean>,
): Promise<boolean> {
  const child = hfssCommand(args).spawn();
  let ended = false;
  const status = child.status.then((s) => {
    ended = true;
    return s;
  });
  // drain the pipes so the child never blocks on a full one
  const drain = Promise.all([
    child.stdout.pipeTo(new WritableStream()),
    child.stderr.pipeTo(new WritableStream()),
  ]);
  while (!ended && !(await ready())) {
    await new Promise((r) => setTimeout(r, 10));
  }
  if (!ended) child.kill("SIGKILL");
  const s = await status;
  await drain.catch(() => {});
  return !s.success && s.signal === "SIGKILL";
}

/** Start `hfss <args>` in the background; the caller awaits `output()`. */
export function spawn(args: string[]): Deno.ChildProcess {
  return hfssCommand(args).spawn();
}

/** A temporary folder with a tiny model (`model.onnx`) and dataset (`data/`). */
export async function tinyFixture(
  opts: { classes?: number; perClass?: number } = {},
): Promise<{ dir: string; model: string; data: string }> {
  const dir = await Deno.makeTempDir({ prefix: "hfss_fault_" });
  const classes = opts.classes ?? 3;
  const model = join(dir, "model.onnx");
  const data = join(dir, "data");
  await writeTinyModel(model, { size: 32, classes });
  await writeTinyDataset(data, {
    size: 32,
    classes,
    perClass: opts.perClass ?? 4,
  });
  return { dir, model, data };
}

/** Every file under `dir` (relative paths, sorted), dot-folders excluded. */
export function listFiles(dir: string, sub = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(join(dir, sub))) {
    if (e.name.startsWith(".")) continue;
    const rel = sub ? `${sub}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

/** The JSON in `path`, or undefined while it does not exist or is partial. */
export function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(path));
  } catch {
    return undefined;
  }
}
