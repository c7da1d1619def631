/** `hfss report`: not yet available. */
import type { Command } from "commander";

/** Register the `report` subcommand. */
export function register(_program: Command): void {}
