/**
 * When a stage folder counts as finished. A stage is finished only when its
 * files read back as the manifest describes them (format, dtypes, shapes),
 * their contents hash to what the manifest recorded, and the manifest was
 * written by a run of the same configuration. Then the stage is skipped,
 * with or without its `.checkpoint/` (a copy without dot-files is still
 * finished). A stage of another configuration is never overwritten silently,
 * and a damaged one (a truncated `masks.npy`) is computed again.
 */
import { readStage, type StageData } from "../dfm/store.ts";
import { pathExists } from "../io/read.ts";
import { createHash } from "node:crypto";
import { type ConfigDifference, firstDifference } from "../io/resume_config.ts";
import { snakeKeys } from "../json_keys.ts";
import { join } from "node:path";

/** What a stage folder holds, as far as resuming is concerned. */
export type FinishedStatus =
  | { kind: "absent" }
  | { kind: "finished"; stage: StageData }
  | { kind: "damaged"; why: string }
  | { kind: "other"; difference: ConfigDifference };

/** The stage configuration as the manifest records it (snake_case keys). */
export function stageFingerprint(
  config: Record<string, unknown>,
): Record<string, unknown> {
  return snakeKeys(config) as Record<string, unknown>;
}

/** SHA-256 (hex) of a typed array's bytes. */
export function arraySha256(a: Uint8Array | Float64Array): string {
  return createHash("sha256").update(
    new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
  ).digest("hex");
}

/**
 * Check the stage folder `dir` against this run's `fingerprint`
 * ({@link stageFingerprint} of the stage configuration).
 */
export async function finishedStatus(
  dir: string,
  fingerprint: Record<string, unknown>,
): Promise<FinishedStatus> {
  if (!(await pathExists(join(dir, "manifest.json")))) {
    return { kind: "absent" };
  }
  let stage: StageData;
  try {
    stage = await readStage(dir);
  } catch (err) {
    return { kind: "damaged", why: (err as Error).message };
  }
  const search = (stage.manifest.extra?.search ?? {}) as Record<
    string,
    unknown
  >;
  const saved = search.configuration as Record<string, unknown> | undefined;
  if (!saved || typeof saved !== "object") {
    return {
      kind: "other",
      difference: {
        key: "configuration",
        saved: "not recorded",
        current: "this run's",
      },
    };
  }
  const difference = firstDifference(saved, fingerprint);
  if (difference) return { kind: "other", difference };
  // hashes are recorded by a search (a merge of shards checks shapes only)
  if (
    search.masks_sha256 !== undefined &&
    search.masks_sha256 !== arraySha256(stage.masks)
  ) {
    return { kind: "damaged", why: "masks.npy does not match its manifest" };
  }
  if (
    search.losses_sha256 !== undefined &&
    search.losses_sha256 !== arraySha256(stage.losses)
  ) {
    return { kind: "damaged", why: "losses.npy does not match its manifest" };
  }
  return { kind: "finished", stage };
}
