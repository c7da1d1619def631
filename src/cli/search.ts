/** `hfss search`: not yet available. */
import type { Command } from "commander";

/** Register the `search` subcommand. */
export function register(_program: Command): void {}
