/**
 * Racing: per-class candidate elimination over a class's search images.
 *
 * Every class races its own candidates (its pool, or the shared pool) over its
 * own images, in the search's image order, one slice at a time: all live
 * candidates see slice r, then the rule drops some of them; the survivors go
 * on to slice r + 1 until the class's images are used up. Survivors have then
 * seen every image of the class, so their losses are exactly the exhaustive
 * search's; the top-N is taken among them. Nothing here is random: the same
 * values give the same eliminations.
 *
 * The statistic is the per-image value the caller adds (the image's share of
 * the ranking loss); "mean" below is its mean over the images seen so far,
 * which every live candidate of a class has in common. Rules (`rule`):
 * - `halving` (successive halving): keep the best `ceil(keep × live)` by mean.
 * - `gaussian`: a candidate whose lower bound `mean − z·s/√t` is above the
 *   N-th smallest upper bound `mean + z·s/√t` is dropped (s: sample standard
 *   deviation, t: images seen).
 * - `bernstein` (empirical Bernstein, Audibert, Munos & Szepesvári 2009):
 *   half-width `sqrt(2·V·ln(3/δ)/t) + 3·R·ln(3/δ)/t`, V the empirical
 *   variance and R the range of the values (`range`, or the observed range of
 *   the class's values so far when 0).
 * - `none`: nothing is dropped (racing bookkeeping, exhaustive results).
 * Every rule keeps at least `minKeep` candidates (the best by mean; ties by
 * candidate id), and never drops anything after the class's last slice.
 *
 * State (`RaceState`) is a few float64 arrays per class and serialises to one
 * buffer for checkpoints.
 */
import { OptionError } from "../errors.ts";

/** Elimination rules (`rule`). */
export type RaceRule = "halving" | "gaussian" | "bernstein" | "none";

/** The accepted rules, default first. */
export const kRaceRules: readonly RaceRule[] = [
  "halving",
  "gaussian",
  "bernstein",
  "none",
];

/** Parameters of a race; see the module comment. */
export interface RaceParams {
  rule: RaceRule;
  /** Images per slice (per class). */
  slice: number;
  /** `halving`: fraction of live candidates kept after each slice, in (0, 1]. */
  keep: number;
  /** Fewest candidates any rule keeps, at least `top` (default 2N). */
  minKeep: number;
  /** `gaussian`: bound half-width in standard errors. */
  z: number;
  /** `bernstein`: confidence parameter δ in (0, 1). */
  delta: number;
  /** `bernstein`: value range R (0 = observed range). */
  range: number;
  /** N: the top-N the bounds protect. */
  top: number;
}

/** Default parameters for a search keeping the top `top` (chosen by `bench --only race`). */
export function defaultRaceParams(top: number): RaceParams {
  return {
    rule: "halving",
    slice: 8,
    keep: 0.5,
    minKeep: 2 * top,
    z: 2,
    delta: 0.05,
    range: 0,
    top,
  };
}

/**
 * Check race parameters; throws `OptionError` naming the option key
 * (`race`, `raceSlice`, `raceKeep`, `raceMinKeep`, `raceZ`, `raceDelta`,
 * `raceRange`).
 */
export function checkRaceParams(p: RaceParams): void {
  if (!kRaceRules.includes(p.rule)) {
    throw new OptionError(
      "race",
      `must be one of ${kRaceRules.join(", ")}, got "${p.rule}"`,
    );
  }
  const int = (key: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) {
      throw new OptionError(key, `must be an integer >= ${min}, got ${v}`);
    }
  };
  int("top", p.top, 1);
  int("raceSlice", p.slice, 1);
  int("raceMinKeep", p.minKeep, p.top);
  if (!(p.keep > 0 && p.keep <= 1)) {
    throw new OptionError("raceKeep", `must be in (0, 1], got ${p.keep}`);
  }
  if (!(p.z >= 0 && Number.isFinite(p.z))) {
    throw new OptionError("raceZ", `must be a number >= 0, got ${p.z}`);
  }
  if (!(p.delta > 0 && p.delta < 1)) {
    throw new OptionError("raceDelta", `must be in (0, 1), got ${p.delta}`);
  }
  if (!(p.range >= 0 && Number.isFinite(p.range))) {
    throw new OptionError("raceRange", `must be a number >= 0, got ${p.range}`);
  }
}

/** Figures of the live candidates of one class after t images. */
export interface RaceStats {
  /** Live candidate ids, ascending. */
  ids: readonly number[];
  /** Σ value per live candidate (same order as ids). */
  sum: ArrayLike<number>;
  /** Σ value² per live candidate. */
  sumSq: ArrayLike<number>;
  /** Images seen by every live candidate. */
  t: number;
  /** Observed range of the class's values so far (max − min). */
  range: number;
}

/** Ids ordered by mean, ties by id. */
function byMean(s: RaceStats): number[] {
  const order = s.ids.map((_, i) => i);
  order.sort((a, b) => s.sum[a]! - s.sum[b]! || s.ids[a]! - s.ids[b]!);
  return order;
}

/** Bound half-width of entry i under a confidence rule. */
function halfWidth(s: RaceStats, i: number, p: RaceParams): number {
  const t = s.t;
  const mean = s.sum[i]! / t;
  // Empirical variance (1/t); clamped: rounding can make it slightly negative.
  const v = Math.max(0, s.sumSq[i]! / t - mean * mean);
  if (p.rule === "gaussian") {
    const sampleVar = t > 1 ? (v * t) / (t - 1) : Infinity;
    return p.z * Math.sqrt(sampleVar / t);
  }
  const l = Math.log(3 / p.delta);
  const r = p.range > 0 ? p.range : s.range;
  return Math.sqrt((2 * v * l) / t) + (3 * r * l) / t;
}

/**
 * The candidates a rule keeps after a slice.
 *
 * @param s the live candidates' sums after `t` images
 * @param p race parameters
 * @returns kept candidate ids, ascending
 * @example
 * ```ts
 * const p = { ...defaultRaceParams(1), minKeep: 1 };
 * survivors({ ids: [0, 1, 2, 3], sum: [4, 1, 3, 2], sumSq: [0, 0, 0, 0], t: 1, range: 3 }, p);
 * // [1, 3]: halving keeps the better half by mean
 * ```
 */
export function survivors(s: RaceStats, p: RaceParams): number[] {
  const n = s.ids.length;
  const floor = Math.min(n, p.minKeep);
  const order = byMean(s);
  const keep = new Uint8Array(n);
  for (let r = 0; r < floor; r++) keep[order[r]!] = 1;
  if (p.rule === "none") return [...s.ids];
  if (p.rule === "halving") {
    const k = Math.max(floor, Math.ceil(p.keep * n));
    for (let r = 0; r < k; r++) keep[order[r]!] = 1;
  } else {
    const upper = new Float64Array(n);
    const lower = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const h = halfWidth(s, i, p);
      upper[i] = s.sum[i]! / s.t + h;
      lower[i] = s.sum[i]! / s.t - h;
    }
    const sorted = Float64Array.from(upper).sort();
    const bar = sorted[Math.min(p.top, n) - 1]!;
    for (let i = 0; i < n; i++) if (!(lower[i]! > bar)) keep[i] = 1;
  }
  return s.ids.filter((_, i) => keep[i] === 1);
}

/** Options of {@link RaceState}. */
export interface RaceStateOptions {
  params: RaceParams;
  /** Candidates per class (ids 0..numCandidates−1). */
  numCandidates: number;
  /** Images of every class position. */
  imagesOf: readonly number[];
}

/** Per-class race state: live candidates, their sums, images seen. */
export class RaceState {
  readonly params: RaceParams;
  readonly numCandidates: number;
  readonly numClasses: number;
  readonly imagesOf: readonly number[];
  /** Images seen (completed slices) per class. */
  readonly seen: Float64Array;
  /** 1 = live, `[C, M]`. */
  readonly live: Uint8Array;
  /** Σ value and Σ value² of the current slices, `[C, M]`. */
  readonly sum: Float64Array;
  readonly sumSq: Float64Array;
  /** Smallest and largest value seen per class. */
  readonly lo: Float64Array;
  readonly hi: Float64Array;

  constructor(o: RaceStateOptions) {
    checkRaceParams(o.params);
    this.params = o.params;
    this.numCandidates = o.numCandidates;
    this.numClasses = o.imagesOf.length;
    this.imagesOf = o.imagesOf;
    const cells = this.numClasses * o.numCandidates;
    this.seen = new Float64Array(this.numClasses);
    this.live = new Uint8Array(cells).fill(1);
    this.sum = new Float64Array(cells);
    this.sumSq = new Float64Array(cells);
    this.lo = new Float64Array(this.numClasses).fill(Infinity);
    this.hi = new Float64Array(this.numClasses).fill(-Infinity);
  }

  /** Live candidate ids of class position `c`, ascending. */
  alive(c: number): number[] {
    const m = this.numCandidates, out: number[] = [];
    for (let j = 0; j < m; j++) if (this.live[c * m + j]) out.push(j);
    return out;
  }

  /** Whether class `c` has seen all its images. */
  done(c: number): boolean {
    return this.seen[c]! >= this.imagesOf[c]!;
  }

  /** The class's next slice as `[start, end)` positions among its images. */
  nextSlice(c: number): [number, number] {
    const s = this.seen[c]!;
    return [s, Math.min(this.imagesOf[c]!, s + this.params.slice)];
  }

  /** Add candidate `m`'s value on the next image of its current slice (image order). */
  add(c: number, m: number, value: number): void {
    const i = c * this.numCandidates + m;
    this.sum[i]! += value;
    this.sumSq[i]! += value * value;
    if (value < this.lo[c]!) this.lo[c] = value;
    if (value > this.hi[c]!) this.hi[c] = value;
  }

  /**
   * Close class `c`'s current slice: advance its images and apply the rule
   * (nothing is dropped after the last slice).
   * @returns the candidates dropped
   */
  endSlice(c: number): number[] {
    const [, end] = this.nextSlice(c);
    this.seen[c] = end;
    if (this.done(c)) return [];
    const ids = this.alive(c);
    const m = this.numCandidates;
    const stats: RaceStats = {
      ids,
      sum: ids.map((j) => this.sum[c * m + j]!),
      sumSq: ids.map((j) => this.sumSq[c * m + j]!),
      t: end,
      range: Number.isFinite(this.hi[c]! - this.lo[c]!)
        ? this.hi[c]! - this.lo[c]!
        : 0,
    };
    const kept = new Set(survivors(stats, this.params));
    const dropped = ids.filter((j) => !kept.has(j));
    for (const j of dropped) this.live[c * m + j] = 0;
    return dropped;
  }

  /** All state as one float64 buffer (for checkpoints). */
  toBytes(): Uint8Array {
    const k = this.numClasses, cells = this.sum.length;
    const all = new Float64Array(3 * k + 3 * cells);
    all.set(this.seen, 0);
    all.set(this.lo, k);
    all.set(this.hi, 2 * k);
    all.set(this.live, 3 * k);
    all.set(this.sum, 3 * k + cells);
    all.set(this.sumSq, 3 * k + 2 * cells);
    return new Uint8Array(all.buffer);
  }

  /** Bytes {@link toBytes} writes for this shape. */
  get byteLength(): number {
    return (3 * this.numClasses + 3 * this.sum.length) * 8;
  }

  /** Restore state written by {@link toBytes}; throws when the shape differs. */
  loadBytes(bytes: Uint8Array): void {
    if (bytes.byteLength !== this.byteLength) {
      throw new Error(
        `Cannot restore the race: ${bytes.byteLength} bytes, expected ${this.byteLength}`,
      );
    }
    const all = new Float64Array(bytes.slice().buffer);
    const k = this.numClasses, cells = this.sum.length;
    this.seen.set(all.subarray(0, k));
    this.lo.set(all.subarray(k, 2 * k));
    this.hi.set(all.subarray(2 * k, 3 * k));
    this.live.set(all.subarray(3 * k, 3 * k + cells));
    this.sum.set(all.subarray(3 * k + cells, 3 * k + 2 * cells));
    this.sumSq.set(all.subarray(3 * k + 2 * cells));
  }
}

/**
 * Race one class on a full table of per-image values (simulation and tests):
 * values `[M, n]` row-major, image order along rows.
 *
 * @returns survivors (ascending ids) and candidate × image evaluations spent
 */
export function raceTable(
  values: ArrayLike<number>,
  o: { numCandidates: number; images: number; params: RaceParams },
): { survivors: number[]; evaluations: number } {
  const st = new RaceState({
    params: o.params,
    numCandidates: o.numCandidates,
    imagesOf: [o.images],
  });
  let evaluations = 0;
  while (!st.done(0)) {
    const [a, b] = st.nextSlice(0);
    const ids = st.alive(0);
    for (let i = a; i < b; i++) {
      for (const j of ids) st.add(0, j, values[j * o.images + i]!);
    }
    evaluations += ids.length * (b - a);
    st.endSlice(0);
  }
  return { survivors: st.alive(0), evaluations };
}

/** The race parameters as written in a stage manifest (snake_case). */
export function raceRecord(p: RaceParams): Record<string, string | number> {
  return {
    rule: p.rule,
    slice: p.slice,
    keep: p.keep,
    min_keep: p.minKeep,
    z: p.z,
    delta: p.delta,
    range: p.range,
  };
}
