/** `hfss eval`: not yet available. */
import type { Command } from "commander";

/** Register the `eval` subcommand. */
export function register(_program: Command): void {}
