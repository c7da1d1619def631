/**
 * User-facing errors. A `UserError` carries a one-line message that names the
 * file and the problem; `main.ts` prints it as `error: …` and exits 1 (2 for
 * misuse). Anything else is a bug, whose stack the command line prints on
 * request.
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

/**
 * A bad value for one option of a library call. `option` is the option's key
 * as the library names it (the field of its options object, e.g.
 * `"candidates"`); the command line maps keys to its flag names, so library
 * modules never mention flags. Exit code 2: misuse.
 */
export class OptionError extends UserError {
  readonly option: string;
  /** What is wrong, without the option's name ("must be an integer >= 1, got 0"). */
  readonly problem: string;
  constructor(option: string, problem: string, options?: { cause?: unknown }) {
    super(`${option}: ${problem}`, { exitCode: 2, cause: options?.cause });
    this.name = "OptionError";
    this.option = option;
    this.problem = problem;
  }
}
