/**
 * What every bench suite receives. A suite is a module in `bench/suites/`
 * exporting `run(ctx: BenchContext): Promise<Record<string, unknown>>`; the
 * returned figures (nested objects of numbers and strings) are printed as a
 * table and written to `bench/results/<suite>-<timestamp>.json` together with
 * the runtime, adapter, CPU count and command (see `bench/main.ts`).
 */
import process from "node:process";
import type { GpuContext } from "../src/gpu/context.ts";

/** Mean, standard deviation and median of repeated timings, in milliseconds. */
export interface Timing {
  n: number;
  meanMs: number;
  stdMs: number;
  medianMs: number;
  /**
   * Mean CPU time of the whole process per run (all threads, including a
   * software adapter's), from getrusage; null where unavailable. Less
   * disturbed than wall time when other jobs share the cores.
   */
  cpuMeanMs: number | null;
}

/** CPU time (user + system, all threads) of this process in ms (getrusage via node:process). */
export function processCpuMs(): number | null {
  try {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  } catch {
    return null;
  }
}

/** Options of {@link BenchContext.measure}. */
export interface MeasureOptions {
  /** Untimed runs first (default 1). */
  warmup?: number;
  /** Timed runs (default 5, 2 in quick mode). */
  reps?: number;
}

/** Shared services for bench suites. */
export interface BenchContext {
  /** The WebGPU context, or null when there is no adapter. */
  gpu: GpuContext | null;
  /** Fewer repetitions (`--quick`). */
  quick: boolean;
  /** Progress line on stderr. */
  log(message: string): void;
  /** Time `fn` (await it; GPU work must be awaited inside `fn`). */
  measure(fn: () => unknown, options?: MeasureOptions): Promise<Timing>;
}

/** Summarise timings in ms. */
export function summarize(
  times: number[],
  cpuMeanMs: number | null = null,
): Timing {
  const n = times.length;
  const mean = times.reduce((a, b) => a + b, 0) / n;
  const variance = times.reduce((a, b) => a + (b - mean) ** 2, 0) /
    Math.max(1, n - 1);
  const sorted = [...times].sort((a, b) => a - b);
  const median = n % 2
    ? sorted[(n - 1) / 2]!
    : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return {
    n,
    meanMs: mean,
    stdMs: Math.sqrt(variance),
    medianMs: median,
    cpuMeanMs,
  };
}

/** Build a context (used by `bench/main.ts` and by tests of suites). */
export function createBenchContext(
  gpu: GpuContext | null,
  quick: boolean,
): BenchContext {
  return {
    gpu,
    quick,
    log(message: string) {
      console.error(message);
    },
    async measure(fn, options = {}) {
      const warmup = options.warmup ?? 1;
      const reps = options.reps ?? (quick ? 2 : 5);
      for (let i = 0; i < warmup; i++) await fn();
      const times: number[] = [];
      const c0 = processCpuMs();
      for (let i = 0; i < reps; i++) {
        const t0 = performance.now();
        await fn();
        times.push(performance.now() - t0);
      }
      const c1 = processCpuMs();
      return summarize(
        times,
        c0 === null || c1 === null ? null : (c1 - c0) / reps,
      );
    },
  };
}
