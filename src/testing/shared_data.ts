/**
 * Where tests find `../shared/` (real models, images and the numpy fixtures),
 * relative to the repository root. Tests that need it skip when it is absent.
 */
import { fileURLToPath as fromFileUrl } from "node:url";

/** Absolute path of the repository root. */
export const REPO_ROOT = fromFileUrl(new URL("../../", import.meta.url))
  .replace(
    /\/$/,
    "",
  );

/** Absolute path of the shared folder beside the repository. */
export const SHARED = fromFileUrl(new URL("../../../shared/", import.meta.url))
  .replace(/\/$/, "");

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** True when `../shared/<sub>` exists. */
export function haveShared(sub = ""): boolean {
  return exists(sub ? `${SHARED}/${sub}` : SHARED);
}

/** Path under the shared folder. */
export function shared(sub: string): string {
  return `${SHARED}/${sub}`;
}

/** Path of the reference fixtures folder. */
export const FIXTURES = `${SHARED}/fixtures/reference`;
