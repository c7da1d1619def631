/**
 * Resume configurations: a resumable run (a search stage, an evaluation)
 * records the configuration it ran with and refuses to continue under
 * another one, naming the first key that differs. Keys listed as unchecked
 * (options that cannot change results) are recorded but never block a resume.
 */
import { UserError } from "../errors.ts";

/** Canonical JSON: object keys sorted, recursively (undefined fields left out). */
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

/** One key whose value differs between a saved and a current configuration. */
export interface ConfigDifference {
  key: string;
  saved: unknown;
  current: unknown;
}

/**
 * The keys that differ between two configurations, in the order of
 * `current`'s keys then `saved`'s, leaving out `unchecked` keys.
 *
 * @example
 * ```ts
 * configDifferences({ a: 1, b: [2] }, { a: 1, b: [3] }); // [{ key: "b", saved: [2], current: [3] }]
 * ```
 */
export function configDifferences(
  saved: Record<string, unknown>,
  current: Record<string, unknown>,
  unchecked: readonly string[] = [],
): ConfigDifference[] {
  const keys = [...new Set([...Object.keys(current), ...Object.keys(saved)])];
  return keys
    .filter((key) =>
      !unchecked.includes(key) &&
      canonicalJson(saved[key]) !== canonicalJson(current[key])
    )
    .map((key) => ({ key, saved: saved[key], current: current[key] }));
}

/** The first checked key that differs, or null when the run may resume. */
export function firstDifference(
  saved: Record<string, unknown>,
  current: Record<string, unknown>,
  unchecked: readonly string[] = [],
): ConfigDifference | null {
  return configDifferences(saved, current, unchecked)[0] ?? null;
}

/** A value as a message shows it (long values shortened). */
export function showConfigValue(v: unknown): string {
  if (v === undefined) return "unset";
  const s = typeof v === "string" ? v : canonicalJson(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * A run folder holds a run with another configuration. `key` is the
 * configuration key that differs first, `option` the option key of the
 * library call that sets it (the command line maps it to its flag).
 */
export class ConfigMismatchError extends UserError {
  readonly run: string;
  readonly dir: string;
  readonly key: string;
  readonly option: string;
  readonly saved: unknown;
  readonly current: unknown;
  /** What restarting would discard: finished results or saved progress. */
  readonly discards: "results" | "progress";
  constructor(o: {
    run: string;
    dir: string;
    difference: ConfigDifference;
    option?: string;
    discards?: "results" | "progress";
  }) {
    const option = o.option ?? o.difference.key;
    const discards = o.discards ?? "progress";
    super(
      mismatchMessage(o.run, o.dir, option, o.difference, discards, (k) => k),
    );
    this.name = "ConfigMismatchError";
    this.run = o.run;
    this.dir = o.dir;
    this.key = o.difference.key;
    this.option = option;
    this.saved = o.difference.saved;
    this.current = o.difference.current;
    this.discards = discards;
  }

  /** The message with the option named by `name` (e.g. a flag) and the advice given. */
  describe(name: (option: string) => string, advice?: string): string {
    return mismatchMessage(
      this.run,
      this.dir,
      this.option,
      { key: this.key, saved: this.saved, current: this.current },
      this.discards,
      name,
      advice,
    );
  }
}

function mismatchMessage(
  run: string,
  dir: string,
  option: string,
  d: ConfigDifference,
  discards: string,
  name: (option: string) => string,
  advice =
    `restart to discard the saved ${discards}, or choose another output folder`,
): string {
  return `Cannot resume the ${run} in "${dir}": option ${name(option)} was ${
    showConfigValue(d.saved)
  }, now ${showConfigValue(d.current)} (${advice})`;
}
