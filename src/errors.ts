/**
 * User-facing errors. A `UserError` carries a one-line message that names the
 * file and the problem; `main.ts` prints it as `error: …` and exits 1 (2 for
 * misuse). Anything else is a bug and gets its stack with `--debug`.
 */

/** An error whose message is meant for the user, printed without a stack. */
export class UserError extends Error {
  /** Process exit code: 1 for runtime failures, 2 for misuse. */
  readonly exitCode: number;
  constructor(
    message: string,
    options?: { exitCode?: number; cause?: unknown },
  ) {
    super(message, { cause: options?.cause });
    this.name = "UserError";
    this.exitCode = options?.exitCode ?? 1;
  }
}
