/**
 * Projected wall time of a sharded search from a measured evaluation rate
 * (`hfss project`).
 *
 * Model: a stage's work is candidates × images evaluations; shards hold whole
 * classes (src/shard/partition.ts), so a stage lasts as long as its largest
 * shard, at the rate one shard reaches on its own device, plus a fixed
 * overhead per stage (process start, model load, the merge and the barrier
 * before the next stage). Racing divides the evaluations by a factor. Shards
 * run on separate devices and do not slow each other down (shared storage is
 * assumed fast enough: a shard reads each of its images once per stage).
 */
import { partitionClasses } from "./partition.ts";

/** The paper's full-ImageNet setting (CVPR 2025, reference code defaults). */
export const kPaperSetting = {
  classes: 1000,
  /** 5 % stratified split of ImageNet train (64,000 images). */
  imagesPerClass: 64,
  /** N_B 500: 166 draws × 3 variants. */
  candidates: 498,
  /** 224 × 224: grids 4, 8, 16, 28, 56, 112. */
  stages: 6,
};

/** Inputs of {@link projectSearch}. */
export interface ProjectionInput {
  /** Candidate × image evaluations per second of one shard. */
  evaluationsPerSecond: number;
  shards: number;
  classes: number;
  imagesPerClass: number;
  candidates: number;
  stages: number;
  /** Seconds added to every stage (start, model load, merge). */
  stageOverheadSeconds: number;
  /** Evaluations of exhaustive search ÷ evaluations with racing (1: no racing). */
  raceFactor: number;
}

/** What {@link projectSearch} returns. */
export interface Projection {
  shards: number;
  /** Evaluations of the whole search (exhaustive). */
  evaluations: number;
  /** Classes of the largest shard. */
  maxShardClasses: number;
  /** Wall seconds of one stage and of the whole search. */
  stageSeconds: number;
  totalSeconds: number;
  /** Single-shard time ÷ this time. */
  speedup: number;
}

/**
 * Project the wall time of a search split into `shards` shards.
 *
 * @example
 * ```ts
 * const p = projectSearch({ ...kPaperSetting, evaluationsPerSecond: 1000,
 *   shards: 10, stageOverheadSeconds: 0, raceFactor: 1 });
 * p.totalSeconds; // 498 × 6400 × 6 / 1000 = 19123.2
 * ```
 */
export function projectSearch(o: ProjectionInput): Projection {
  if (!(o.evaluationsPerSecond > 0)) {
    throw new RangeError(
      `Cannot project: rate ${o.evaluationsPerSecond} evaluations/s`,
    );
  }
  if (!(o.raceFactor >= 1)) {
    throw new RangeError(`Cannot project: racing factor ${o.raceFactor} < 1`);
  }
  const weights = new Array<number>(o.classes).fill(o.imagesPerClass);
  const ranges = partitionClasses(weights, o.shards);
  const maxShardClasses = Math.max(...ranges.map((r) => r.end - r.first));
  const shardEvaluations = maxShardClasses * o.imagesPerClass * o.candidates;
  const stageSeconds = shardEvaluations / o.raceFactor /
      o.evaluationsPerSecond + o.stageOverheadSeconds;
  const totalSeconds = stageSeconds * o.stages;
  const single = (o.classes * o.imagesPerClass * o.candidates / o.raceFactor /
      o.evaluationsPerSecond + o.stageOverheadSeconds) * o.stages;
  return {
    shards: o.shards,
    evaluations: o.classes * o.imagesPerClass * o.candidates * o.stages,
    maxShardClasses,
    stageSeconds,
    totalSeconds,
    speedup: single / totalSeconds,
  };
}

/** Seconds as "3.2 h", "4.5 days", "52 s". */
export function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 3 * 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}

/** A figure from a `deno task bench` result file's pipeline suite. */
export interface BenchRate {
  /** The bench case (model) the rate belongs to. */
  name: string;
  evaluationsPerSecond: number;
  /** The adapter and CPU count the figure was measured with. */
  adapter: string;
  cpus: number | null;
}

/**
 * Read the search rate (`search_evaluations_per_s`) of one case from a
 * `bench/results/pipeline-*.json` object; `name` picks the case (default:
 * the only one, or the one whose name contains "224").
 *
 * @throws Error naming what is missing
 */
export function benchRate(json: unknown, name?: string): BenchRate {
  const root = json as {
    figures?: Record<string, unknown>;
    adapter?: { description?: string } | null;
    cpus?: number;
  };
  const figures = root?.figures;
  if (!figures || typeof figures !== "object") {
    throw new Error("it has no figures (not a bench result)");
  }
  const cases = Object.entries(figures).filter(([, v]) =>
    typeof (v as Record<string, unknown>)?.search_evaluations_per_s ===
      "number"
  );
  if (cases.length === 0) {
    throw new Error(
      "it has no search_evaluations_per_s figure (run deno task bench --only pipeline)",
    );
  }
  const pick = name !== undefined
    ? cases.find(([k]) => k === name)
    : cases.length === 1
    ? cases[0]
    : cases.find(([k]) => k.includes("224")) ?? cases[0];
  if (!pick) {
    throw new Error(
      `it has no case "${name}" (has ${cases.map(([k]) => k).join(", ")})`,
    );
  }
  return {
    name: pick[0],
    evaluationsPerSecond: (pick[1] as { search_evaluations_per_s: number })
      .search_evaluations_per_s,
    adapter: root.adapter?.description ?? "no adapter",
    cpus: typeof root.cpus === "number" ? root.cpus : null,
  };
}

/**
 * The racing factor (evaluations of exhaustive search ÷ with racing) for
 * `candidates` per pool and `imagesPerClass` images, from a
 * `bench/results/race-*.json` object (`default_rule_budget_ratio`, key
 * `m<candidates>_n<images>`).
 *
 * @throws Error naming what is missing
 */
export function benchRaceFactor(
  json: unknown,
  candidates: number,
  imagesPerClass: number,
): number {
  const figures = (json as { figures?: Record<string, unknown> })?.figures;
  const table = figures?.default_rule_budget_ratio as
    | Record<string, unknown>
    | undefined;
  if (!table || typeof table !== "object") {
    throw new Error(
      "it has no default_rule_budget_ratio figures (run deno task bench --only race)",
    );
  }
  const key = `m${candidates}_n${imagesPerClass}`;
  const v = table[key];
  if (typeof v !== "number" || !(v >= 1)) {
    throw new Error(
      `it has no racing figure ${key} (has ${Object.keys(table).join(", ")})`,
    );
  }
  return v;
}
