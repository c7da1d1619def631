/**
 * Patch grids of the staged HFSS search.
 *
 * At stage k the S×S spectrum (fftshifted, DC at (S/2, S/2)) is cut into a
 * G×G grid of square patches of `block = S/G` bins (variant A), plus a
 * (G+1)×(G+1) grid shifted by half a block (variants B and C), see
 * `candidates.ts`. Only the top half of a grid is sampled
 * (`gen_freqs_list` of the reference): `G/2` rows for even G, `floor(G/2)+1`
 * rows for odd G (the middle row included); cell `i` is row `i div G`,
 * column `i mod G`, i.e. its index in the full row-major grid.
 *
 * Grid sizes per stage are the reference's table (`get_candidates`,
 * reference-hfss.md §2.4) for S = 32, 64, 128 and 224. Other sizes follow
 * the generalisation documented in DFM/README.md: S must be a multiple of 32;
 * stages 1–3 use G = 4, 8, 16; later stages use S/2^j for j descending from
 * the largest j with S/2^j > 16 down to j = 0 (G = S, bin level). This rule
 * reproduces the reference table for 32, 64 and 128 (224 is kept at the
 * reference's six stages); 192 gives 4, 8, 16, 24, 48, 96, 192. Every block
 * of a stage with G < S is even, so the half-block shift is a whole number of
 * bins; at G = S (block 1) only variant A exists, as in the reference.
 */
import { OptionError, UserError } from "../errors.ts";

/** Grid sizes G per stage (stage 1 first) of the reference, by image size. */
export const kReferenceGrids: Readonly<Record<number, readonly number[]>> = {
  32: [4, 8, 16, 32],
  64: [4, 8, 16, 32, 64],
  128: [4, 8, 16, 32, 64, 128],
  224: [4, 8, 16, 28, 56, 112],
};

/** The mask variants of one draw: A aligned, B shifted, C union at P/2. */
export type Variant = "A" | "B" | "C";

/**
 * The grid sizes G of every stage for image size `size` (stage 1 first).
 *
 * @example
 * ```ts
 * gridSizes(224); // [4, 8, 16, 28, 56, 112]
 * gridSizes(192); // [4, 8, 16, 24, 48, 96, 192]
 * ```
 */
export function gridSizes(size: number): number[] {
  const ref = kReferenceGrids[size];
  return ref ? [...ref] : generalGridSizes(size);
}

/**
 * The generalised grid rule alone (no reference table): 4, 8, 16, then
 * S/2^j for j descending from the largest j with S/2^j > 16 to 0. Equals the
 * reference table for 32, 64 and 128; for 224 it would add a seventh stage
 * (G = 224), which `gridSizes` does not offer.
 */
export function generalGridSizes(size: number): number[] {
  if (!Number.isInteger(size) || size < 32 || size % 32 !== 0) {
    throw new UserError(
      `Cannot tile image size ${size} into frequency patch grids: the size must be a multiple of 32 (32, 64, 96, 128, 160, 192, 224, …)`,
    );
  }
  const grids = [4, 8, 16];
  let j = 0;
  while (size / 2 ** (j + 1) > 16 && (size % 2 ** (j + 1)) === 0) j++;
  for (; j >= 0; j--) grids.push(size / 2 ** j);
  return grids;
}

/** Number of stages available for image size `size`. */
export function stageCount(size: number): number {
  return gridSizes(size).length;
}

/**
 * The aligned grid size G of `stage` (1-based) for image size `size`.
 *
 * @example
 * ```ts
 * gridSize(224, 4); // 28 (block 8)
 * ```
 */
export function gridSize(size: number, stage: number): number {
  const grids = gridSizes(size);
  if (!Number.isInteger(stage) || stage < 1 || stage > grids.length) {
    throw new OptionError(
      "stage",
      `stage ${stage} does not exist for image size ${size}: stages are 1 to ${grids.length} (grids ${
        grids.join(", ")
      })`,
    );
  }
  return grids[stage - 1]!;
}

/** Geometry of one stage (mirrors the fields of the fixtures' masks.json). */
export interface StageGeometry {
  size: number;
  stage: number;
  /** G: cells per side of the aligned grid. */
  grid: number;
  /** G+1, or null when G = S (no shifted variants). */
  shiftedGrid: number | null;
  /** Patch side in bins, S/G. */
  block: number;
  /** Bins cropped on each side of the shifted grid, block/2 (null when G = S). */
  shiftCrop: number | null;
  /** Top-half cells of the aligned grid. */
  nCellsAligned: number;
  /** Top-half cells of the shifted grid (0 when G = S). */
  nCellsShifted: number;
  /** ["A","B","C"], or ["A"] when G = S. */
  variants: readonly Variant[];
}

/** Rows of a g×g grid that are sampled (`gen_freqs_list`). */
export function topHalfRows(g: number): number {
  return g % 2 === 0 ? g / 2 : Math.floor(g / 2) + 1;
}

/** Number of sampled (top-half) cells of a g×g grid. */
export function topHalfCells(g: number): number {
  return topHalfRows(g) * g;
}

/**
 * Cells drawn from `nCells` at proportion `portion`: `int(n × portion)` in
 * IEEE double arithmetic, as the reference's `sample_frequency`.
 */
export function sampledCount(nCells: number, portion: number): number {
  return Math.trunc(nCells * portion);
}

/** The full geometry of `stage` for image size `size`. */
export function stageGeometry(size: number, stage: number): StageGeometry {
  const grid = gridSize(size, stage);
  const block = size / grid;
  const bin = grid === size;
  return {
    size,
    stage,
    grid,
    shiftedGrid: bin ? null : grid + 1,
    block,
    shiftCrop: bin ? null : block / 2,
    nCellsAligned: topHalfCells(grid),
    nCellsShifted: bin ? 0 : topHalfCells(grid + 1),
    variants: bin ? ["A"] : ["A", "B", "C"],
  };
}
