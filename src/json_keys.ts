/**
 * JSON with snake_case keys (every JSON the command line prints and every file
 * hfss writes) and non-finite numbers as null. Maps of user data (model
 * metadata) keep their keys.
 */
import { finiteOrNull } from "./io/json.ts";

const kVerbatim = new Set(["metadata"]);

function snake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

/** A copy of `value` with snake_case keys and NaN/±Infinity as null. */
export function snakeKeys(value: unknown): unknown {
  if (typeof value === "number") return finiteOrNull(value);
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== "object") return value;
  if (ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    out[snake(k)] = kVerbatim.has(k) ? v : snakeKeys(v);
  }
  return out;
}
