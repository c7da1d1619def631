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
 * A different configuration is refused with a {@link ConfigMismatchError}
 * naming the first differing key (src/io/resume_config.ts), unless the caller
 * asks to restart.
 */
import { sha256Hex } from "../io/sha256.ts";
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic.ts";
import { UserError } from "../errors.ts";
import {
  canonicalJson,
  ConfigMismatchError,
  firstDifference,
} from "../io/resume_config.ts";

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

/**
 * Open (or start) the checkpoint of one stage.
 *
 * @param stageDir `<out>/stage<k>`
 * @param opts `config`: the stage configuration; `optionOf`: maps a config
 *   key to the option key that sets it; `restart`: discard old state
 * @throws ConfigMismatchError when a saved state has a different configuration
 */
export async function openCheckpoint(
  stageDir: string,
  opts: {
    config: Record<string, unknown>;
    optionOf?: (key: string) => string;
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
      } (restart to discard it)`,
    );
  }
  if (state.configHash !== configHash) {
    const difference = firstDifference(state.config ?? {}, opts.config) ??
      { key: "configuration", saved: state.configHash, current: configHash };
    throw new ConfigMismatchError({
      run: "search",
      dir: stageDir,
      difference,
      option: opts.optionOf?.(difference.key) ?? difference.key,
      discards: state.done ? "results" : "progress",
    });
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
