/**
 * Candidate pools of one search stage, generated on the fly from the seed.
 *
 * One "draw" is one iteration of the reference's `get_candidates` loop: up to
 * three masks (variants A, B, C; only A when the grid is bin-level), all
 * multiplied by the same parent at stage k > 1. A stage has
 * `floor(N_B / 3)` draws, so N_B = 500 gives 498 candidates; candidate
 * `j` is variant `j mod V` of draw `floor(j / V)`.
 *
 * Every draw has its own random stream, keyed by the stage, the pool and the
 * draw index: `rng.fork("stage", k, pool, d)` where pool is `"shared"` or
 * `"class", <class id>`. Pools can therefore be regenerated at any time, in any
 * order, for one class or all of them (nothing is held for 1000 classes).
 *
 * Lineage (option `lineage`, stage k > 1):
 * - `shared` (the reference): one pool for all classes; each draw's parent is
 *   a uniformly random rank of a uniformly random class's previous top-N.
 *   Every candidate is evaluated on every image.
 * - `per-class`: class c has its own pool; each draw's parent is a uniformly
 *   random rank of class c's own previous top-N; the pool is evaluated on
 *   class c's images only. Same total number of evaluations.
 * At stage 1 there is no parent and both use the shared pool.
 */
import { drawRng, generateDraw } from "../dfm/candidates.ts";
import { stageGeometry } from "../dfm/grid.ts";
import type { SymmetryMode } from "../dfm/symmetry.ts";

/** How stage k > 1 picks parents. */
export type Lineage = "shared" | "per-class";

/** The accepted `lineage` values, default first. */
export const kLineages: readonly Lineage[] = ["per-class", "shared"];

/** Parents of stage k > 1: the previous stage's top-N per class. */
export interface Parents {
  /** The previous stage number. */
  stage: number;
  /** Number of classes of the previous stage. */
  numClasses: number;
  /** Filled ranks of class position `c` (its top-N, fewer if it had fewer candidates). */
  ranksOf(c: number): number;
  /** The mask of class position `c`, rank `r`, of the previous stage. */
  mask(c: number, r: number): Uint8Array;
}

/** Where a draw's parent came from. */
export interface ParentRef {
  classPos: number;
  rank: number;
  stage: number;
}

/** Options of {@link CandidatePools}. */
export interface CandidatePoolOptions {
  /** The run's seed. */
  seed: number;
  stage: number;
  size: number;
  /** N_B: requested candidates per pool (draws = floor(N_B / 3)). */
  candidates: number;
  /** Proportion P of patch cells kept. */
  proportion: number;
  symmetry: SymmetryMode;
  lineage: Lineage;
  /** Previous stage (stage > 1 only). */
  parents?: Parents;
  /**
   * Previous-stage class position of each current class position (per-class
   * lineage at stage > 1). Defaults to the identity.
   */
  parentClassOf?: (c: number) => number;
  /** Stable id of each class position, used as RNG key (per-class lineage). */
  classKey?: (c: number) => string | number;
}

/** The candidate masks of one stage, generated per pool on demand. */
export class CandidatePools {
  readonly opts: CandidatePoolOptions;
  /** Draws per pool. */
  readonly draws: number;
  /** Masks per draw (3, or 1 at bin level). */
  readonly variantsPerDraw: number;
  /** Candidates per pool (`draws × variantsPerDraw`). */
  readonly count: number;
  #cache:
    | { key: string; masks: Uint8Array; parents: (ParentRef | null)[] }
    | null = null;

  constructor(opts: CandidatePoolOptions) {
    if (opts.stage > 1 && !opts.parents) {
      throw new Error(
        `Cannot generate stage ${opts.stage} candidates: no parents`,
      );
    }
    this.opts = opts;
    this.draws = Math.floor(opts.candidates / 3);
    this.variantsPerDraw = stageGeometry(opts.size, opts.stage).variants.length;
    this.count = this.draws * this.variantsPerDraw;
  }

  /** Whether every class shares one pool at this stage. */
  get shared(): boolean {
    return this.opts.stage === 1 || this.opts.lineage === "shared";
  }

  /** Pool key of class position `c` (`"shared"` for a shared pool). */
  poolKey(c: number): string {
    return this.shared ? "shared" : `class:${this.opts.classKey?.(c) ?? c}`;
  }

  /**
   * All masks of the pool of class position `c` (ignored when shared), as one
   * `[count, S, S]` array, with each candidate's parent; the last generated
   * pool is cached.
   */
  pool(c = 0): { masks: Uint8Array; parents: (ParentRef | null)[] } {
    const key = this.poolKey(c);
    if (this.#cache?.key === key) return this.#cache;
    const { size } = this.opts;
    const v = this.variantsPerDraw;
    const area = size * size;
    const masks = new Uint8Array(this.count * area);
    const parents: (ParentRef | null)[] = [];
    for (let d = 0; d < this.draws; d++) {
      const draw = this.draw(c, d);
      if (draw.masks.length !== v) {
        throw new Error(
          `Cannot generate draw ${d}: ${draw.masks.length} masks, expected ${v}`,
        );
      }
      draw.masks.forEach((m, i) => {
        masks.set(m, (d * v + i) * area);
        parents.push(draw.parent);
      });
    }
    this.#cache = { key, masks, parents };
    return this.#cache;
  }

  /**
   * Candidate `id` of the pool of class position `c` (from the cached pool
   * when it is that pool, else regenerated from its draw alone).
   */
  candidate(
    c: number,
    id: number,
  ): { mask: Uint8Array; parent: ParentRef | null } {
    const area = this.opts.size * this.opts.size;
    if (this.#cache?.key === this.poolKey(c)) {
      return {
        mask: this.#cache.masks.subarray(id * area, (id + 1) * area),
        parent: this.#cache.parents[id] ?? null,
      };
    }
    const v = this.variantsPerDraw;
    const draw = this.draw(c, Math.floor(id / v));
    return { mask: draw.masks[id % v]!, parent: draw.parent };
  }

  /** The masks of the pool of class position `c`, `[count, S, S]`. */
  masks(c = 0): Uint8Array {
    return this.pool(c).masks;
  }

  /**
   * Draw `d` of the pool of class position `c`. Shared pools use the same
   * streams as `generateCandidates` (key `["candidates"]`); class pools
   * add `"class", <class id>` to the key.
   */
  draw(
    c: number,
    d: number,
  ): { masks: Uint8Array[]; parent: ParentRef | null } {
    const { seed, stage, parents, size, proportion, symmetry } = this.opts;
    const key = this.shared
      ? ["candidates"]
      : ["candidates", "class", this.opts.classKey?.(c) ?? c];
    const stream = drawRng(seed, { stage, draw: d, key });
    let parent: Uint8Array | undefined;
    let ref: ParentRef | null = null;
    if (stage > 1 && parents) {
      const pick = stream.fork("parent");
      const pc = this.shared
        ? pick.int(parents.numClasses)
        : (this.opts.parentClassOf?.(c) ?? c);
      const rank = pick.int(Math.max(1, parents.ranksOf(pc)));
      parent = parents.mask(pc, rank);
      ref = { classPos: pc, rank, stage: parents.stage };
    }
    const draw = generateDraw({
      size,
      stage,
      proportion,
      symmetry,
      rng: stream.fork("cells"),
      parent,
    });
    return { masks: draw.masks, parent: ref };
  }
}
