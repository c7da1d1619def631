/** `hfss filter`: not yet available. */
import type { Command } from "commander";

/** Register the `filter` subcommand. */
export function register(_program: Command): void {}
