/**
 * Stopping a run from outside: Ctrl-C (SIGINT) and a killed launcher. Both
 * end the process at once (every file is written atomically and checkpoints
 * are consistent at any instant) after one line saying where the progress
 * is, so the user knows the same command resumes.
 */
import { exitWithLauncher } from "../io/parent_watch.ts";

/** Commands that checkpoint into `--out`. */
const kResumable = new Set(["search", "eval"]);

/** The value of `--out` in `argv`, if any. */
function outOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--out") return argv[i + 1];
    if (a.startsWith("--out=")) return a.slice(6);
  }
  return undefined;
}

/** What the stop line says about progress. */
export function progressNote(argv: readonly string[]): string {
  const out = outOf(argv);
  return kResumable.has(argv[0] ?? "") && out !== undefined
    ? `progress is saved in "${out}"; rerun the same command to resume`
    : "nothing was saved";
}

/** Install the Ctrl-C handler and the launcher watch for a run of `argv`. */
export function installStopHandlers(argv: readonly string[]): void {
  const note = () => progressNote(argv);
  try {
    Deno.addSignalListener("SIGINT", () => {
      Deno.stderr.writeSync(
        new TextEncoder().encode(`\nerror: Interrupted; ${note()}\n`),
      );
      Deno.exit(130);
    });
  } catch { /* no signals on this platform */ }
  exitWithLauncher(note);
}
