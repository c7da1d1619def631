/**
 * Reading a file the user named: any failure becomes one line that names the
 * action and the file, e.g. `Cannot read image "a.jpg": file not found`.
 */
import { UserError } from "../errors.ts";

/**
 * Read `path` whole; on failure throw `<action> "<path>": <why>`.
 *
 * @throws {UserError} when the file cannot be read.
 */
export async function readInputFile(
  path: string,
  action: string,
): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    throw new UserError(`${action} "${path}": ${readFailure(e)}`);
  }
}

/** Why a file could not be opened or read, for an error message. */
export function readFailure(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "file not found";
  return e instanceof Error ? e.message : String(e);
}

/** Whether anything (file or folder) exists at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
