/** `hfss demo`: not yet available. */
import type { Command } from "commander";

/** Register the `demo` subcommand. */
export function register(_program: Command): void {}
