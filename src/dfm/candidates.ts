/**
 * HFSS candidate masks, faithful to the reference's `get_candidates`
 * (reference-hfss.md §2.4–2.7), with every random choice taken from a seeded
 * `Rng`.
 *
 * One draw (one loop iteration of the reference) gives up to three masks:
 * - A: the aligned G×G grid, a proportion P of its top-half cells kept;
 * - B: the (G+1)×(G+1) grid shifted by half a block, P of its top-half cells;
 * - C: the union (logical OR) of an aligned grid and a shifted grid, each
 *   sampled at P/2.
 * When G = S (bin level) only A exists. Cells are upsampled with `kron` (A:
 * `M[y,x] = grid[y div b, x div b]`; B: `M[y,x] = grid[(y+b/2) div b,
 * (x+b/2) div b]`, the crop of the (S+b)² kron by b/2 on every side), then
 * multiplied by the parent mask (stage > 1), then the bottom half is filled
 * with the chosen symmetry (`symmetry.ts`).
 *
 * Sampling (`sampleCells`) is separate from the deterministic construction
 * (`buildMasks`), so the construction can be checked against the fixtures'
 * recorded cells. Candidate ids within a stage: draw i gives ids 3i, 3i+1,
 * 3i+2 (variants A, B, C), or id i when G = S. Draw i of stage k uses the
 * stream `new Rng(seed).fork(...key, "stage", k, "draw", i)` (cells from its
 * fork "cells", the parent choice from its fork "parent"), so any candidate
 * can be regenerated on its own, in any order.
 */
import { Rng } from "../rng.ts";
import {
  sampledCount,
  type StageGeometry,
  stageGeometry,
  type Variant,
} from "./grid.ts";
import { applySymmetry, type SymmetryMode } from "./symmetry.ts";
import type { StageData } from "./store.ts";

/**
 * Sampled top-half cell indices of one draw (sorted ascending), in the
 * reference's draw order. `bShifted`, `cAligned`, `cShifted` are absent when
 * G = S.
 */
export interface DrawCells {
  /** Variant A: aligned grid G, portion P. */
  aAligned: Int32Array;
  /** Variant B: shifted grid G+1, portion P. */
  bShifted?: Int32Array;
  /** Variant C, aligned part: grid G, portion P/2. */
  cAligned?: Int32Array;
  /** Variant C, shifted part: grid G+1, portion P/2. */
  cShifted?: Int32Array;
}

/** Size and stage of a mask construction. */
export interface StageOptions {
  /** Image size S (masks are S×S). */
  size: number;
  /** Stage k, 1-based. */
  stage: number;
}

/** Options of `buildMasks`. */
export interface BuildOptions extends StageOptions {
  /** Symmetry fill (default "exact"). */
  symmetry?: SymmetryMode;
  /** Parent mask (S×S, 0/1) multiplied in before the fill (stage > 1). */
  parent?: Uint8Array | undefined;
}

function checkProportion(p: number): void {
  if (!(p > 0 && p <= 1)) {
    throw new RangeError(
      `Cannot sample frequency cells: proportion ${p} is not in (0, 1]`,
    );
  }
}

function sortedSample(rng: Rng, n: number, portion: number): Int32Array {
  const k = sampledCount(n, portion);
  const out = Int32Array.from(rng.sample(n, k));
  return out.sort();
}

/**
 * Draw the cells of one draw: distinct top-half cells, `trunc(n × P)` of the
 * aligned grid, then of the shifted grid, then `trunc(n × P/2)` of each for
 * the union (the reference's order).
 *
 * @example
 * ```ts
 * const cells = sampleCells(new Rng(1), { size: 32, stage: 1, proportion: 0.8 });
 * cells.aAligned.length; // 6 = trunc(8 × 0.8)
 * ```
 */
export function sampleCells(
  rng: Rng,
  opts: StageOptions & { proportion: number },
): DrawCells {
  checkProportion(opts.proportion);
  const geo = stageGeometry(opts.size, opts.stage);
  const p = opts.proportion;
  const aAligned = sortedSample(rng, geo.nCellsAligned, p);
  if (geo.shiftedGrid === null) return { aAligned };
  const bShifted = sortedSample(rng, geo.nCellsShifted, p);
  const cAligned = sortedSample(rng, geo.nCellsAligned, p / 2);
  const cShifted = sortedSample(rng, geo.nCellsShifted, p / 2);
  return { aAligned, bShifted, cAligned, cShifted };
}

function cellGrid(cells: Int32Array, g: number, n: number, what: string) {
  const grid = new Uint8Array(g * g);
  for (const i of cells) {
    if (!(i >= 0 && i < n)) {
      throw new RangeError(
        `Cannot build mask: ${what} cell ${i} is outside the ${n} top-half cells of a ${g}×${g} grid`,
      );
    }
    grid[i] = 1;
  }
  return grid;
}

/** Upsample an aligned grid (`kron` by block b): OR into `out`. */
function orAligned(out: Uint8Array, grid: Uint8Array, geo: StageGeometry) {
  const { size: s, grid: g, block: b } = geo;
  for (let y = 0; y < s; y++) {
    const row = Math.floor(y / b) * g;
    for (let x = 0; x < s; x++) {
      if (grid[row + Math.floor(x / b)]) out[y * s + x] = 1;
    }
  }
}

/** Upsample a shifted grid (kron to S+b, crop b/2 on every side): OR into `out`. */
function orShifted(out: Uint8Array, grid: Uint8Array, geo: StageGeometry) {
  const { size: s, block: b } = geo;
  const g = geo.shiftedGrid!;
  const c = geo.shiftCrop!;
  for (let y = 0; y < s; y++) {
    const row = Math.floor((y + c) / b) * g;
    for (let x = 0; x < s; x++) {
      if (grid[row + Math.floor((x + c) / b)]) out[y * s + x] = 1;
    }
  }
}

/**
 * The upsampled masks of a draw before parent and symmetry (the fixtures'
 * `upsampled`): one S×S 0/1 mask per variant, in the order A, B, C.
 */
export function upsampleDraw(
  cells: DrawCells,
  opts: StageOptions,
): Uint8Array[] {
  const geo = stageGeometry(opts.size, opts.stage);
  const s = geo.size;
  const g = geo.grid;
  const a = new Uint8Array(s * s);
  orAligned(a, cellGrid(cells.aAligned, g, geo.nCellsAligned, "A"), geo);
  if (geo.shiftedGrid === null) return [a];
  const gs = geo.shiftedGrid;
  const { bShifted, cAligned, cShifted } = cells;
  if (!bShifted || !cAligned || !cShifted) {
    throw new RangeError(
      `Cannot build masks of stage ${opts.stage} (size ${s}): cells of variants B and C are missing`,
    );
  }
  const bm = new Uint8Array(s * s);
  orShifted(bm, cellGrid(bShifted, gs, geo.nCellsShifted, "B"), geo);
  const cm = new Uint8Array(s * s);
  orAligned(cm, cellGrid(cAligned, g, geo.nCellsAligned, "C aligned"), geo);
  orShifted(cm, cellGrid(cShifted, gs, geo.nCellsShifted, "C shifted"), geo);
  return [a, bm, cm];
}

/**
 * The final masks of a draw from its cells: upsample, multiply by the
 * parent (if any), fill the symmetry. Deterministic; one S×S 0/1 mask per
 * variant (A, B, C; only A when G = S).
 *
 * @example
 * ```ts
 * const [a, b, c] = buildMasks(cells, { size: 32, stage: 1, symmetry: "exact" });
 * ```
 */
export function buildMasks(cells: DrawCells, opts: BuildOptions): Uint8Array[] {
  const s = opts.size;
  const parent = opts.parent;
  if (parent && parent.length !== s * s) {
    throw new RangeError(
      `Cannot build masks: parent mask has ${parent.length} values, expected ${s}×${s}`,
    );
  }
  const mode = opts.symmetry ?? "exact";
  return upsampleDraw(cells, opts).map((m) => {
    if (parent) {
      for (let i = 0; i < m.length; i++) m[i] = m[i]! & (parent[i]! ? 1 : 0);
    }
    return applySymmetry(m, s, mode);
  });
}

/** Options of `generateDraw`. */
export interface DrawOptions extends BuildOptions {
  /** Proportion P of top-half cells kept (variant C uses P/2). */
  proportion: number;
  /** Stream the cells are drawn from. */
  rng: Rng;
}

/** One draw: its cells and masks. */
export interface Draw {
  cells: DrawCells;
  /** One S×S 0/1 mask per variant. */
  masks: Uint8Array[];
  variants: readonly Variant[];
}

/** One loop iteration of the reference: sample cells, build A, B, C. */
export function generateDraw(opts: DrawOptions): Draw {
  const cells = sampleCells(opts.rng, opts);
  const masks = buildMasks(cells, opts);
  return {
    cells,
    masks,
    variants: stageGeometry(opts.size, opts.stage).variants,
  };
}

/** A parent mask chosen for a draw, with where it comes from. */
export interface ParentPick {
  /** S×S 0/1 mask. */
  mask: Uint8Array;
  /** Position of the parent's class in the previous stage's class list. */
  classPos: number;
  /** Rank of the parent in that class's top-N (0 = lowest loss). */
  rank: number;
  /** Stage the parent comes from. */
  stage: number;
}

/** Lineage of a draw (a `ParentPick` without the mask). */
export interface ParentRef {
  classPos: number;
  rank: number;
  stage: number;
}

/**
 * Chooses the parent of draw `drawIndex` with `rng` (its own stream): a mask,
 * a `ParentPick` (recorded in the draw), or undefined (no parent).
 */
export type ParentFor = (
  drawIndex: number,
  rng: Rng,
) => Uint8Array | ParentPick | undefined;

/** Options of `generateCandidates`. */
export interface CandidatesOptions extends StageOptions {
  /** N_B: number of candidates asked for; floor(N_B/3) draws are made. */
  count: number;
  /** Proportion P. */
  proportion: number;
  /** Symmetry fill (default "exact"). */
  symmetry?: SymmetryMode;
  /** The run's seed. */
  seed: number;
  /** Parent of each draw (stage > 1). */
  parentFor?: ParentFor;
  /** Key path of the candidate streams (default ["candidates"]). */
  key?: string | number | readonly (string | number)[];
}

/** What a draw contributed to a candidate set. */
export interface DrawRecord {
  /** Draw index i within the stage. */
  index: number;
  /** Id of its first candidate (variant A). */
  firstCandidate: number;
  variants: readonly Variant[];
  parent: ParentRef | null;
  cells: DrawCells;
}

/** A stage's candidate set. */
export interface Candidates {
  /** One S×S 0/1 mask per candidate, index = candidate id. */
  masks: Uint8Array[];
  draws: DrawRecord[];
}

/** Number of draws for N_B candidates: floor(N_B/3), as the reference. */
export function drawCount(count: number): number {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(
      `Cannot count draws: N_B ${count} is not a non-negative integer`,
    );
  }
  return Math.floor(count / 3);
}

/**
 * Candidates per stage: 3·floor(N_B/3), or floor(N_B/3) when G = S.
 *
 * @example
 * ```ts
 * candidateCount(224, 1, 500); // 498
 * ```
 */
export function candidateCount(
  size: number,
  stage: number,
  count: number,
): number {
  return drawCount(count) * stageGeometry(size, stage).variants.length;
}

/** The draw and variant of candidate `id` of a stage. */
export function locateCandidate(
  id: number,
  opts: StageOptions,
): { draw: number; variant: Variant; variantIndex: number } {
  const variants = stageGeometry(opts.size, opts.stage).variants;
  if (!Number.isInteger(id) || id < 0) {
    throw new RangeError(`Cannot locate candidate ${id}: not a valid id`);
  }
  const v = id % variants.length;
  return {
    draw: Math.floor(id / variants.length),
    variant: variants[v]!,
    variantIndex: v,
  };
}

/** The stream of draw `draw` of `stage` for `seed` (see module comment). */
export function drawRng(
  seed: number,
  opts: { stage: number; draw: number; key?: CandidatesOptions["key"] },
): Rng {
  const key = opts.key === undefined
    ? ["candidates"]
    : typeof opts.key === "object"
    ? [...opts.key]
    : [opts.key];
  return new Rng(seed).fork(...key, "stage", opts.stage, "draw", opts.draw);
}

function makeDraw(
  i: number,
  opts: Omit<CandidatesOptions, "count">,
): { record: DrawRecord; masks: Uint8Array[] } {
  const rng = drawRng(opts.seed, {
    stage: opts.stage,
    draw: i,
    key: opts.key,
  });
  let parent: Uint8Array | undefined;
  let parentRef: ParentRef | null = null;
  const picked = opts.parentFor?.(i, rng.fork("parent"));
  if (picked instanceof Uint8Array) parent = picked;
  else if (picked) {
    parent = picked.mask;
    parentRef = {
      classPos: picked.classPos,
      rank: picked.rank,
      stage: picked.stage,
    };
  }
  const draw = generateDraw({
    size: opts.size,
    stage: opts.stage,
    proportion: opts.proportion,
    symmetry: opts.symmetry ?? "exact",
    rng: rng.fork("cells"),
    parent,
  });
  return {
    record: {
      index: i,
      firstCandidate: i * draw.variants.length,
      variants: draw.variants,
      parent: parentRef,
      cells: draw.cells,
    },
    masks: draw.masks,
  };
}

/**
 * A stage's candidates: floor(N_B/3) draws, each giving variants A, B, C
 * (only A when G = S). Same options, same masks, bit for bit.
 *
 * @example
 * ```ts
 * const { masks } = generateCandidates({
 *   size: 224, stage: 1, count: 30, proportion: 0.8, seed: 42,
 * });
 * masks.length; // 30
 * ```
 */
export function generateCandidates(opts: CandidatesOptions): Candidates {
  const n = drawCount(opts.count);
  checkProportion(opts.proportion);
  const masks: Uint8Array[] = [];
  const draws: DrawRecord[] = [];
  for (let i = 0; i < n; i++) {
    const d = makeDraw(i, opts);
    draws.push(d.record);
    masks.push(...d.masks);
  }
  return { masks, draws };
}

/**
 * Candidate `id` of a stage, regenerated on its own (identical to
 * `generateCandidates(opts).masks[id]`): builds its draw only.
 */
export function generateCandidate(
  id: number,
  opts: Omit<CandidatesOptions, "count">,
): { mask: Uint8Array; variant: Variant; draw: DrawRecord } {
  const loc = locateCandidate(id, opts);
  const d = makeDraw(loc.draw, opts);
  return {
    mask: d.masks[loc.variantIndex]!,
    variant: loc.variant,
    draw: d.record,
  };
}

/**
 * The reference's parent choice over a previous stage: a class position
 * uniform over the classes that kept at least one mask, then a rank uniform
 * over that class's kept masks (the reference: `prev[c][M]`, c uniform in
 * [0, K), M uniform in [0, 10)). Pass as `parentFor`.
 */
export function parentPicker(prev: StageData): ParentFor {
  const { manifest } = prev;
  const s = manifest.image_size;
  const n = manifest.top_n;
  const withMasks = manifest.top.flatMap((t, c) =>
    t.candidates.length > 0 ? [c] : []
  );
  if (withMasks.length === 0) {
    throw new RangeError(
      `Cannot pick parent masks: stage ${manifest.stage} kept no masks`,
    );
  }
  return (_draw, rng) => {
    const classPos = withMasks[rng.int(withMasks.length)]!;
    const rank = rng.int(manifest.top[classPos]!.candidates.length);
    const off = (classPos * n + rank) * s * s;
    return {
      mask: prev.masks.subarray(off, off + s * s),
      classPos,
      rank,
      stage: manifest.stage,
    };
  };
}
