/**
 * Partial results of shards: `<dir>/shard-<i>-of-<n>/`, and the checks a
 * merge makes before it writes anything.
 *
 * A shard folder holds its own resume state while it runs and, once
 * complete, its data files and `partial.json`, written last (atomically), so
 * a folder without `partial.json` is an unfinished shard:
 *
 * ```
 * partial.json   { format: "hfss-shard-partial", format_version: 1, created_by,
 *                  kind, shard: {index, count}, classes: {first, end},
 *                  config, config_sha256, data, stats,
 *                  files: { <name>: {sha256, bytes} }, checksum }
 * ```
 *
 * - `kind`: `"search-stage"`, `"eval"` or `"score"`;
 * - `classes`: the class positions `[first, end)` of the run's class order
 *   that this shard computed (src/shard/partition.ts);
 * - `config`: the full configuration of the run the shards make up (the
 *   unsharded run's: every option that changes results), `config_sha256`
 *   its SHA-256 over canonical JSON (keys sorted) without the keys listed in
 *   `unchecked_keys` (recorded, e.g. which GPU ran, but not results);
 * - `data`: what the merge needs besides the numbers (e.g. the stage
 *   manifest's fields), identical across the shards of one run;
 * - `stats`: figures of this shard (evaluations, seconds), not compared;
 * - `files`: SHA-256 and size of every data file of the folder;
 * - `checksum`: SHA-256 of the canonical JSON of all other fields.
 */
import { join } from "node:path";
import { UserError } from "../errors.ts";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic.ts";
import { sha256Hex } from "../io/sha256.ts";
import { canonicalJson, firstDifference } from "../io/resume_config.ts";
import { kCreatedBy } from "../dfm/store.ts";
import {
  type ClassRange,
  parseShardName,
  shardName,
  type ShardSpec,
} from "./partition.ts";

export const kPartialFormat = "hfss-shard-partial";
export const kPartialVersion = 1;
/** The file that marks a shard folder complete. */
export const kPartialFile = "partial.json";

/** What a merge reads. */
export type PartialKind = "search-stage" | "eval" | "score";

/** Size and digest of one data file. */
export interface PartialFileRef {
  sha256: string;
  bytes: number;
}

/** Contents of `partial.json`. */
export interface Partial {
  format: typeof kPartialFormat;
  format_version: typeof kPartialVersion;
  created_by: string;
  kind: PartialKind;
  shard: ShardSpec;
  classes: ClassRange;
  config: Record<string, unknown>;
  config_sha256: string;
  unchecked_keys: string[];
  data: Record<string, unknown>;
  stats: Record<string, number>;
  files: Record<string, PartialFileRef>;
  checksum: string;
}

/** The fields a shard gives to {@link writePartial}. */
export type PartialFields =
  & Pick<Partial, "kind" | "shard" | "classes" | "config" | "data" | "stats">
  & { unchecked_keys?: string[] };

/** A complete, verified shard. */
export interface LoadedShard {
  dir: string;
  partial: Partial;
  /** The data files, checked against their digests. */
  files: Record<string, Uint8Array>;
}

/** `<parent>/shard-<i>-of-<n>`. */
export function shardDir(parent: string, s: ShardSpec): string {
  return join(parent, shardName(s));
}

/** SHA-256 of a configuration over canonical JSON, without `unchecked` keys. */
export function configDigest(
  config: Record<string, unknown>,
  unchecked: readonly string[] = [],
): Promise<string> {
  return sha256Hex(canonicalJson(withoutKeys(config, unchecked)));
}

function withoutKeys(
  config: Record<string, unknown>,
  keys: readonly string[],
): Record<string, unknown> {
  const out = { ...config };
  for (const k of keys) delete out[k];
  return out;
}

/**
 * Write a shard's data files, then `partial.json` (last: its presence marks
 * the shard complete).
 */
export async function writePartial(
  dir: string,
  fields: PartialFields,
  files: Record<string, Uint8Array | string>,
): Promise<Partial> {
  const refs: Record<string, PartialFileRef> = {};
  for (const [name, data] of Object.entries(files)) {
    const bytes = typeof data === "string"
      ? new TextEncoder().encode(data)
      : data;
    await writeFileAtomic(join(dir, name), bytes);
    refs[name] = { sha256: await sha256Hex(bytes), bytes: bytes.byteLength };
  }
  const body = {
    format: kPartialFormat,
    format_version: kPartialVersion,
    created_by: kCreatedBy,
    ...fields,
    unchecked_keys: fields.unchecked_keys ?? [],
    config_sha256: await configDigest(
      fields.config,
      fields.unchecked_keys ?? [],
    ),
    files: refs,
  } as Omit<Partial, "checksum">;
  const partial: Partial = {
    ...body,
    checksum: await sha256Hex(canonicalJson(body)),
  };
  await writeJsonAtomic(join(dir, kPartialFile), partial);
  return partial;
}

/**
 * Read `partial.json` of a shard folder: null when absent (unfinished), the
 * parsed record otherwise; throws a one-line error when it is unreadable or
 * its checksum does not match (corrupt).
 */
export async function readPartialRecord(dir: string): Promise<Partial | null> {
  const path = join(dir, kPartialFile);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw new UserError(`Cannot read "${path}": ${(err as Error).message}`);
  }
  let p: Partial;
  try {
    p = JSON.parse(text) as Partial;
  } catch {
    throw new UserError(`Cannot read "${path}": not valid JSON (corrupt)`);
  }
  if (p?.format !== kPartialFormat || typeof p.checksum !== "string") {
    throw new UserError(
      `Cannot read "${path}": not an hfss shard record (format ${
        JSON.stringify(p?.format)
      })`,
    );
  }
  if (p.format_version > kPartialVersion) {
    throw new UserError(
      `Cannot read "${path}": format version ${p.format_version} is newer than this hfss reads (${kPartialVersion})`,
    );
  }
  const { checksum, ...body } = p;
  if (await sha256Hex(canonicalJson(body)) !== checksum) {
    throw new UserError(
      `Cannot read "${path}": its checksum does not match its contents (corrupt or edited)`,
    );
  }
  return p;
}

async function loadFiles(
  dir: string,
  p: Partial,
  what: string,
  fail: (problem: string) => never,
): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  for (const [name, ref] of Object.entries(p.files)) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(join(dir, name));
    } catch (err) {
      fail(
        `${what} is corrupt: ${name} ${
          err instanceof Deno.errors.NotFound
            ? "is missing"
            : `cannot be read (${(err as Error).message})`
        }`,
      );
    }
    if (
      bytes.byteLength !== ref.bytes || await sha256Hex(bytes) !== ref.sha256
    ) {
      fail(`${what} is corrupt: ${name} does not match its checksum`);
    }
    out[name] = bytes;
  }
  return out;
}

function show(v: unknown): string {
  if (v === undefined) return "unset";
  const s = typeof v === "string" ? v : canonicalJson(v);
  return s.length > 50 ? `${s.slice(0, 47)}...` : s;
}

/**
 * Find, check and load every shard of `parent`, or throw one line naming the
 * first problem. Checks: all shards have one count n; shards 1..n all exist
 * (missing), each is complete (unfinished), its `partial.json` and data files
 * match their checksums (corrupt), its record names the shard of its folder
 * and its class range follows the previous one (duplicate), and its kind,
 * configuration and merge data equal shard 1's (mismatched).
 *
 * @param name how errors name a configuration key (e.g. the option that sets it)
 * @returns the shards in order 1..n
 */
export async function readShardSet(
  parent: string,
  opts: {
    kind: PartialKind;
    /** Number of classes the ranges must cover (else taken from shard 1's data). */
    numClasses?: (first: Partial) => number;
    name?: (key: string) => string;
  },
): Promise<LoadedShard[]> {
  const fail: (problem: string) => never = (problem) => {
    throw new UserError(`Cannot merge "${parent}": ${problem}`);
  };
  const found: ShardSpec[] = [];
  try {
    for await (const e of Deno.readDir(parent)) {
      const s = e.isDirectory ? parseShardName(e.name) : null;
      if (s) found.push(s);
    }
  } catch (err) {
    fail(
      err instanceof Deno.errors.NotFound
        ? "folder not found"
        : (err as Error).message,
    );
  }
  if (found.length === 0) fail(`no shard folders (shard-<i>-of-<n>/) in it`);
  const counts = [...new Set(found.map((s) => s.count))].sort((a, b) => a - b);
  if (counts.length > 1) {
    fail(
      `it holds shards of ${
        counts.join(" and of ")
      } (remove the folders of the run not to merge)`,
    );
  }
  const n = counts[0]!;
  const have = new Set(found.map((s) => s.index));
  for (let i = 1; i <= n; i++) {
    if (!have.has(i)) {
      fail(
        `shard ${i} of ${n} is missing (no ${
          shardName({ index: i, count: n })
        }/)`,
      );
    }
  }
  const shards: LoadedShard[] = [];
  for (let i = 1; i <= n; i++) {
    const spec = { index: i, count: n };
    const dir = shardDir(parent, spec);
    const what = `shard ${i} of ${n}`;
    const p = await readPartialRecord(dir).catch((err): never =>
      fail(`${what} is corrupt (${(err as Error).message})`)
    );
    if (!p) {
      fail(
        `${what} is not finished (${
          shardName(spec)
        }/ has no ${kPartialFile}; run it again)`,
      );
    }
    const rec = p;
    if (rec.shard.index !== i || rec.shard.count !== n) {
      fail(
        `${
          shardName(spec)
        }/ holds shard ${rec.shard.index} of ${rec.shard.count}, a duplicate copied from another folder`,
      );
    }
    if (rec.kind !== opts.kind) {
      fail(`${what} holds a ${rec.kind} result, expected ${opts.kind}`);
    }
    if (shards.length > 0) {
      const first = shards[0]!.partial;
      if (rec.config_sha256 !== first.config_sha256) {
        const skip = first.unchecked_keys ?? [];
        const d = firstDifference(
          withoutKeys(first.config, skip),
          withoutKeys(rec.config, skip),
        );
        const key = d ? (opts.name?.(d.key) ?? d.key) : "configuration";
        fail(
          `${what} has another configuration than shard 1 (${key}: ${
            show(d?.current)
          }, shard 1: ${show(d?.saved)})`,
        );
      }
      const d = firstDifference(first.data, rec.data);
      if (d) {
        fail(
          `${what} does not match shard 1 (${d.key}: ${
            show(d.current)
          }, shard 1: ${show(d.saved)})`,
        );
      }
    }
    const prevEnd = shards.length > 0 ? shards.at(-1)!.partial.classes.end : 0;
    if (rec.classes.first !== prevEnd || rec.classes.end <= rec.classes.first) {
      fail(
        `${what} covers class positions ${rec.classes.first}-${
          rec.classes.end - 1
        }, expected to start at ${prevEnd} (a duplicate or a shard of another split)`,
      );
    }
    const files = await loadFiles(dir, rec, what, fail);
    shards.push({ dir, partial: rec, files });
  }
  const k = opts.numClasses?.(shards[0]!.partial);
  const end = shards.at(-1)!.partial.classes.end;
  if (k !== undefined && end !== k) {
    fail(`the shards cover ${end} of ${k} classes`);
  }
  return shards;
}
