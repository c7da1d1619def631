/**
 * Planted-frequency layouts: which frequency bins carry each class's
 * shortcut in the planted benchmark.
 *
 * Conventions (see ../shared/fixtures/reference/README.md, "Frequency
 * layout"): an S×S spectrum (S even) in the fftshifted layout, row `h` =
 * vertical frequency `fy = h − S/2`, column `w` = horizontal frequency
 * `fx = w − S/2`; DC at (S/2, S/2). A planted *pair* is one frequency
 * (fy, fx) of the canonical half-plane together with its conjugate partner
 * (−fy, −fx); in the shifted layout the partner of (h, w) is
 * ((S − h) mod S, (S − w) mod S). Pairs never touch the Nyquist row/column
 * (h = 0 or w = 0) and never DC, so every planted frequency is a true
 * two-bin conjugate pair.
 *
 * Layouts:
 * - `default`: every class gets `pairsPerClass` pairs at random radii in
 *   [2, S/2 − 1] (mid to high frequencies, all orientations).
 * - `lowhigh`: even classes get low-frequency pairs (radius in [1, S/5]),
 *   odd classes high-frequency pairs (radius in [0.35·S, S/2 − 1]), so the
 *   search must find both coarse and fine shortcut patterns.
 *
 * Any two planted bins (partners included, across all classes) are at
 * Chebyshev distance >= `minSpacing` (default 2), so they fall in different
 * bins at the finest stage and rarely share a 2×2 patch.
 */
import { OptionError, UserError } from "../errors.ts";
import type { Rng } from "../rng.ts";
import { conjugatePartner } from "../dfm/symmetry.ts";

/** Names of the built-in planted layouts. */
export const kLayoutNames = ["default", "lowhigh"] as const;

/** A planted layout name. */
export type LayoutName = typeof kLayoutNames[number];

/** One planted frequency pair, as signed frequencies of the canonical half. */
export interface PlantedPair {
  /** Vertical frequency in [0, S/2 − 1] (0 only with fx > 0). */
  fy: number;
  /** Horizontal frequency in [−S/2 + 1, S/2 − 1]. */
  fx: number;
  /** Bin of (fy, fx) in the shifted layout: [h, w]. */
  bin: [number, number];
  /** Bin of the conjugate partner (−fy, −fx) in the shifted layout. */
  partner: [number, number];
}

/** The planted pairs of one class. */
export interface ClassPlant {
  label: number;
  pairs: PlantedPair[];
}

/** Options of {@linkcode plantLayout}. */
export interface LayoutOptions {
  /** Image side S (even, >= 16). */
  size: number;
  /** Number of classes K. */
  classes: number;
  /** Layout name. @default "default" */
  layout?: LayoutName;
  /** Planted pairs per class. @default 2 */
  pairsPerClass?: number;
  /** Minimum Chebyshev distance between any two planted bins. @default 2 */
  minSpacing?: number;
}

function radiusBand(
  layout: LayoutName,
  size: number,
  label: number,
): [number, number] {
  if (layout === "lowhigh") {
    return label % 2 === 0 ? [1, size / 5] : [0.35 * size, size / 2 - 1];
  }
  return [2, size / 2 - 1];
}

/**
 * Draw the planted pairs of every class, seeded.
 *
 * @param rng the stream to draw from (e.g. `new Rng(seed).fork("layout")`)
 * @param opts size, classes, layout, pairs per class, spacing
 * @returns one {@linkcode ClassPlant} per class, label order
 * @example
 * ```ts
 * const plants = plantLayout(new Rng(42), { size: 32, classes: 10 });
 * plants[0]!.pairs.length; // 2
 * ```
 */
export function plantLayout(rng: Rng, opts: LayoutOptions): ClassPlant[] {
  const { size, classes } = opts;
  const layout = opts.layout ?? "default";
  const pairsPerClass = opts.pairsPerClass ?? 2;
  const minSpacing = opts.minSpacing ?? 2;
  if (!(size >= 16 && size % 2 === 0)) {
    throw new OptionError(
      "size",
      `expected an even number >= 16 to plant frequencies, got ${size}`,
    );
  }
  if (!kLayoutNames.includes(layout)) {
    throw new OptionError(
      "layout",
      `unknown layout "${layout}" (expected ${kLayoutNames.join(", ")})`,
    );
  }
  const half = size / 2;
  // Candidate frequencies of the canonical half-plane per radius band.
  const candidatesFor = (band: [number, number]): [number, number][] => {
    const out: [number, number][] = [];
    for (let fy = 0; fy <= half - 1; fy++) {
      for (let fx = -half + 1; fx <= half - 1; fx++) {
        if (fy === 0 && fx <= 0) continue;
        const r = Math.hypot(fy, fx);
        if (r >= band[0] && r <= band[1]) out.push([fy, fx]);
      }
    }
    return out;
  };
  for (let attempt = 0; attempt < 50; attempt++) {
    const r = rng.fork("attempt", attempt);
    const taken: [number, number][] = [];
    const far = (h: number, w: number) =>
      taken.every(([a, b]) =>
        Math.max(Math.abs(a - h), Math.abs(b - w)) >= minSpacing
      );
    const plants: ClassPlant[] = [];
    let ok = true;
    for (let label = 0; label < classes && ok; label++) {
      const cands = candidatesFor(radiusBand(layout, size, label));
      const order = r.fork("class", label).shuffle(cands.slice());
      const pairs: PlantedPair[] = [];
      for (const [fy, fx] of order) {
        if (pairs.length === pairsPerClass) break;
        const bin: [number, number] = [fy + half, fx + half];
        const partner = conjugatePartner(bin[0], bin[1], size);
        if (!far(...bin) || !far(...partner)) continue;
        if (
          Math.max(
            Math.abs(bin[0] - partner[0]),
            Math.abs(bin[1] - partner[1]),
          ) < minSpacing
        ) {
          continue;
        }
        taken.push(bin, partner);
        pairs.push({ fy, fx, bin, partner });
      }
      if (pairs.length < pairsPerClass) ok = false;
      plants.push({ label, pairs });
    }
    if (ok) return plants;
  }
  throw new UserError(
    `Cannot plant ${pairsPerClass} pairs for ${classes} classes in a ${size}×${size} ` +
      `spectrum (layout "${layout}"): not enough room at spacing ${minSpacing}`,
  );
}

/** All planted bins of one class in the shifted layout (both partners), flat [h, w] list. */
export function classBins(plant: ClassPlant): [number, number][] {
  return plant.pairs.flatMap((p) => [p.bin, p.partner]);
}
