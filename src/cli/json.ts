/** `--json` output: one indented object on stdout, snake_case keys. */
import { snakeKeys } from "../json_keys.ts";

/** Print `value` as indented JSON with snake_case keys. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(snakeKeys(value), null, 2));
}
