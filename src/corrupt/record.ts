/**
 * The record a generated ImageNet-C folder keeps of how its files were made
 * (`hfss_corrupt.json`), and the rerun check: files are kept on a rerun, so a
 * run into an existing folder must have the same generator version, seed,
 * storage format, blur device and frost textures (textures may be added to a
 * folder made without them); otherwise the kept files would silently come
 * from another generation. Other subsets may be added.
 */
import { join } from "node:path";
import { UserError } from "../errors.ts";
import { firstDifference, showConfigValue } from "../io/resume_config.ts";
import { type CorruptionSubset, subsetName } from "./registry.ts";

/** The record's file name in the output folder. */
export const kCorruptRecordFile = "hfss_corrupt.json";

/**
 * The record keys a rerun must share with the folder's record, and the
 * option key of the generation that sets each (`null`: no option does).
 */
const kCheckedKeys: readonly [string, string | null][] = [
  ["generator_version", null],
  ["seed", "seed"],
  ["format", "format"],
  ["device", "corruptDevice"],
  ["frost_textures", "frostTextures"],
];

/**
 * A folder cannot take this run's files. `option` is the option key that
 * would have to change (`out` to choose another folder, or the key of the
 * recorded setting); `describe` words the message with options named by the
 * caller (e.g. as flags).
 */
export class CorruptRecordError extends UserError {
  readonly option: string;
  readonly #words: (name: (option: string) => string) => string;
  constructor(
    option: string,
    words: (name: (option: string) => string) => string,
  ) {
    super(words((k) => k), { exitCode: 2 });
    this.name = "CorruptRecordError";
    this.option = option;
    this.#words = words;
  }

  /** The message, with each option key shown by `name`. */
  describe(name: (option: string) => string): string {
    return this.#words(name);
  }
}

/**
 * Check a run into `out` against the folder's record and return the record
 * to write: the saved one brought up to this run (subsets joined, frost
 * textures added), or `current` for a new folder.
 *
 * @throws {CorruptRecordError} naming the record and the first differing
 *   key, or when the folder holds files but no record.
 * @throws {UserError} when the folder or its record cannot be read.
 */
export async function checkCorruptRecord(
  out: string,
  current: Record<string, unknown>,
  subsets: readonly CorruptionSubset[],
): Promise<Record<string, unknown>> {
  const path = join(out, kCorruptRecordFile);
  let text: string | undefined;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      throw new UserError(
        `Cannot read "${path}": ${err instanceof Error ? err.message : err}`,
      );
    }
  }
  if (text === undefined) {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = await Array.fromAsync(Deno.readDir(out));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) {
        throw new UserError(
          `Cannot write generated ImageNet-C into "${out}": ${
            err instanceof Error ? err.message : err
          }`,
        );
      }
    }
    if (entries.length > 0) {
      throw new CorruptRecordError(
        "out",
        (name) =>
          `Cannot write generated ImageNet-C into "${out}": the folder is not empty and has no ${kCorruptRecordFile}, so how its files were made is unknown (choose another ${
            name("out")
          })`,
      );
    }
    return current;
  }
  let saved: Record<string, unknown>;
  try {
    saved = JSON.parse(text);
    if (!saved || typeof saved !== "object" || Array.isArray(saved)) {
      throw new Error("not a JSON object");
    }
  } catch (err) {
    const problem = err instanceof Error ? err.message : String(err);
    throw new CorruptRecordError(
      "out",
      (name) =>
        `Cannot read "${path}": ${problem} (choose another ${name("out")})`,
    );
  }
  // Records written before the generator had a version hold version 1's
  // images; frost textures may be given to a folder made without them.
  const checked = (
    r: Record<string, unknown>,
    other: Record<string, unknown>,
  ) =>
    Object.fromEntries(
      kCheckedKeys.map(([key]) => [
        key,
        key === "generator_version"
          ? r[key] ?? 1
          : key === "frost_textures" && other[key] == null
          ? null
          : r[key],
      ]),
    );
  const diff = firstDifference(
    checked(saved, current),
    checked(current, saved),
  );
  if (diff) {
    const { key, saved: was, current: now } = diff;
    const option = kCheckedKeys.find(([k]) => k === key)![1];
    const [a, b] = key === "frost_textures"
      ? textureDifference(was, now)
      : [showConfigValue(was), showConfigValue(now)];
    throw new CorruptRecordError(option ?? "out", (name) => {
      const advice = option === null
        ? `another hfss version made its files; choose another ${name("out")}`
        : `its files would mix with this run's; choose another ${
          name("out")
        }, or rerun with the recorded ${name(option)}`;
      return `Cannot resume generated ImageNet-C in "${out}": "${path}" records ${
        key.replaceAll("_", " ")
      } ${a}, this run has ${b} (${advice})`;
    });
  }
  const known = new Set(
    Array.isArray(saved.subsets) ? saved.subsets as string[] : [],
  );
  for (const s of subsets) known.add(subsetName(s));
  const frostTextures = current.frost_textures ?? saved.frost_textures ?? null;
  return {
    ...saved,
    ...current,
    frost_textures: frostTextures,
    not_generated: frostTextures ? {} : current.not_generated,
    subsets: [...known],
  };
}

/** The first texture whose hash differs, as `file sha256 <12 hex>…` twice. */
function textureDifference(was: unknown, now: unknown): [string, string] {
  type T = { file?: string; sha256?: string };
  const a = (Array.isArray(was) ? was : []) as T[];
  const b = (Array.isArray(now) ? now : []) as T[];
  const show = (t: T | undefined) =>
    t ? `${t.file} sha256 ${String(t.sha256).slice(0, 12)}…` : "none";
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) {
      return [show(a[i]), show(b[i])];
    }
  }
  return [showConfigValue(was), showConfigValue(now)];
}
