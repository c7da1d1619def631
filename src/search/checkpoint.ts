/**
 * Search checkpoints: `<out>/stage<k>/.checkpoint/`.
 *
 * - `state.json`: `{ version, configHash, config, position, stats, accFile, done }`.
 *   `config` is the stage's full configuration (every option that changes
 *   results), `configHash` its SHA-256 over canonical JSON; `position` is
 *   `{ block, chunk }`, the next unit of work in the stage's fixed order.
 * - `acc-<block>-<chunk>.f64`: the accumulators (raw little-endian float64),
 *   written atomically *before* the state that names it, so a kill at any
 *   point leaves a consistent pair; older accumulator files are removed after.
 *
 * A different configuration is refused with a message naming the first
 * differing option, unless the caller asks to restart.
 */
import { sha256Hex } from "../io/sha256.ts";
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic.ts";
import { UserError } from "../errors.ts";

/** Where the stage's work stands: next image block and candidate chunk. */
export interface Position {
  block: number;
  chunk: number;
}

/** Running figures carried across resumes. */
export interface CheckpointStats {
  evaluations: number;
  images: number;
  /** Seconds of work done before this process (all earlier runs). */
  seconds: number;
}

/** Contents of `state.json`. */
export interface CheckpointState {
  version: 1;
  configHash: string;
  config: Record<string, unknown>;
  position: Position;
  stats: CheckpointStats;
  accFile: string | null;
  done: boolean;
}

/** What {@link openCheckpoint} found. */
export interface OpenedCheckpoint {
  checkpoint: Checkpoint;
  /** The saved state when resuming (null when starting fresh). */
  state: CheckpointState | null;
  /** The saved accumulator bytes when resuming. */
  acc: Uint8Array | null;
}

/** Canonical JSON: object keys sorted, recursively. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(
        Object.keys(v as Record<string, unknown>).sort().map((
          k,
        ) => [k, (v as Record<string, unknown>)[k]]),
      );
    }
    return v;
  });
}

/** The option that differs first between two configurations, or null. */
export function firstDifference(
  saved: Record<string, unknown>,
  current: Record<string, unknown>,
): { key: string; saved: unknown; current: unknown } | null {
  const keys = [...new Set([...Object.keys(current), ...Object.keys(saved)])];
  for (const key of keys) {
    if (canonicalJson(saved[key]) !== canonicalJson(current[key])) {
      return { key, saved: saved[key], current: current[key] };
    }
  }
  return null;
}

function show(v: unknown): string {
  if (v === undefined) return "unset";
  const s = typeof v === "string" ? v : canonicalJson(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Open (or start) the checkpoint of one stage.
 *
 * @param stageDir `<out>/stage<k>`
 * @param opts `config`: the stage configuration; `optionName`: maps a config
 *   key to the CLI option named in messages; `restart`: discard old state
 * @throws UserError when a saved state has a different configuration
 */
export async function openCheckpoint(
  stageDir: string,
  opts: {
    config: Record<string, unknown>;
    optionName?: (key: string) => string;
    restart?: boolean;
  },
): Promise<OpenedCheckpoint> {
  const dir = join(stageDir, ".checkpoint");
  const configHash = await sha256Hex(canonicalJson(opts.config));
  const checkpoint = new Checkpoint(dir, configHash, opts.config);
  if (opts.restart) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    return { checkpoint, state: null, acc: null };
  }
  let state: CheckpointState;
  try {
    state = JSON.parse(
      await Deno.readTextFile(join(dir, "state.json")),
    ) as CheckpointState;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return { checkpoint, state: null, acc: null };
    }
    throw new UserError(
      `Cannot read checkpoint "${join(dir, "state.json")}": ${
        (err as Error).message
      } (rerun with --restart to discard it)`,
    );
  }
  if (state.configHash !== configHash) {
    const diff = firstDifference(state.config ?? {}, opts.config);
    const name = diff ? (opts.optionName?.(diff.key) ?? diff.key) : "unknown";
    const what = diff
      ? `option ${name} was ${show(diff.saved)}, now ${show(diff.current)}`
      : "configuration differs";
    throw new UserError(
      `Cannot resume the search in "${stageDir}": ${what} ` +
        `(rerun with --restart to discard the saved ${
          state.done ? "results" : "progress"
        }, or choose another --out)`,
    );
  }
  let acc: Uint8Array | null = null;
  if (state.accFile) {
    acc = await Deno.readFile(join(dir, state.accFile));
  }
  checkpoint.lastAcc = state.accFile;
  return { checkpoint, state, acc };
}

/** Writes one stage's checkpoint files. */
export class Checkpoint {
  readonly dir: string;
  readonly configHash: string;
  readonly config: Record<string, unknown>;
  /** Accumulator file named by the last saved state. */
  lastAcc: string | null = null;

  constructor(
    dir: string,
    configHash: string,
    config: Record<string, unknown>,
  ) {
    this.dir = dir;
    this.configHash = configHash;
    this.config = config;
  }

  /** Save accumulators and position atomically (accumulators first). */
  async save(
    position: Position,
    acc: Uint8Array,
    stats: CheckpointStats,
    done = false,
  ): Promise<void> {
    const accFile = `acc-${position.block}-${position.chunk}.f64`;
    await writeFileAtomic(join(this.dir, accFile), acc);
    const state: CheckpointState = {
      version: 1,
      configHash: this.configHash,
      config: this.config,
      position,
      stats,
      accFile,
      done,
    };
    await writeJsonAtomic(join(this.dir, "state.json"), state);
    const old = this.lastAcc;
    this.lastAcc = accFile;
    if (old && old !== accFile) {
      await Deno.remove(join(this.dir, old)).catch(() => {});
    }
  }
}
