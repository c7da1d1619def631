/**
 * Symmetry fills of frequency masks (fftshifted S×S layout, S even, DC at
 * (S/2, S/2), row = vertical frequency). See DFM/README.md and the fixtures'
 * README ("Frequency layout and symmetry").
 *
 * - `reference`: the reference's fill, `M[S−1−h, S−1−w] = M[h, w]` for
 *   h < S/2: rows S/2..S−1 become the 180° rotation of rows 0..S/2−1. This
 *   pairs bins off by one (about the array centre, not about DC), so the
 *   masks are not conjugate-symmetric and the real part taken after the
 *   inverse FFT acts as gain (M(k) + M(−k))/2.
 * - `exact` (default): true conjugate pairs. Equal to the reference fill on
 *   the canonical half H, every other bin takes the value of its partner
 *   ((S−h) mod S, (S−w) mod S), which lies in H.
 *   H = {1 ≤ h ≤ S/2−1, all w} ∪ {h = 0, w ≤ S/2} ∪ {h = S/2, w ≤ S/2}.
 */

/** How the bottom half of a mask is filled from the sampled top half. */
export type SymmetryMode = "exact" | "reference";

/** All symmetry modes, default first. */
export const kSymmetryModes: readonly SymmetryMode[] = ["exact", "reference"];

function checkSize(mask: ArrayLike<number>, size: number): void {
  if (!Number.isInteger(size) || size < 2 || size % 2 !== 0) {
    throw new RangeError(
      `Cannot fill mask symmetry: size ${size} is not a positive even integer`,
    );
  }
  if (mask.length !== size * size) {
    throw new RangeError(
      `Cannot fill mask symmetry: mask has ${mask.length} values, expected ${size}×${size}`,
    );
  }
}

/** The true conjugate partner of shifted bin (h, w). */
export function conjugatePartner(
  h: number,
  w: number,
  size: number,
): [number, number] {
  return [(size - h) % size, (size - w) % size];
}

/** Whether shifted bin (h, w) lies in the canonical half H. */
export function inCanonicalHalf(h: number, w: number, size: number): boolean {
  const half = size / 2;
  if (h >= 1 && h <= half - 1) return true;
  if (h === 0 || h === half) return w <= half;
  return false;
}

/**
 * The reference fill: a copy of `mask` whose rows S/2..S−1 are the 180°
 * rotation of rows 0..S/2−1 (`M[S−1−h, S−1−w] = M[h, w]`).
 */
export function referenceFill<T extends Uint8Array | Float32Array>(
  mask: T,
  size: number,
): T {
  checkSize(mask, size);
  const out = mask.slice() as T;
  const half = size / 2;
  for (let h = 0; h < half; h++) {
    const src = h * size;
    const dst = (size - 1 - h) * size;
    for (let w = 0; w < size; w++) out[dst + size - 1 - w] = mask[src + w]!;
  }
  return out;
}

/**
 * The exact (conjugate-symmetric) mask from a reference-filled one: equal on
 * the canonical half H, every other bin copied from its true partner.
 */
export function exactFromReference<T extends Uint8Array | Float32Array>(
  ref: T,
  size: number,
): T {
  checkSize(ref, size);
  const out = ref.slice() as T;
  for (let h = 0; h < size; h++) {
    for (let w = 0; w < size; w++) {
      if (inCanonicalHalf(h, w, size)) continue;
      const ph = (size - h) % size;
      const pw = (size - w) % size;
      out[h * size + w] = ref[ph * size + pw]!;
    }
  }
  return out;
}

/**
 * Fill the bottom half of `pre` (a sampled, possibly parent-multiplied mask)
 * with the given symmetry. `exact` = `exactFromReference(referenceFill(pre))`.
 *
 * @example
 * ```ts
 * const m = applySymmetry(pre, 32, "exact");
 * isConjugateSymmetric(m, 32); // true
 * ```
 */
export function applySymmetry<T extends Uint8Array | Float32Array>(
  pre: T,
  size: number,
  mode: SymmetryMode,
): T {
  const ref = referenceFill(pre, size);
  if (mode === "reference") return ref;
  if (mode === "exact") return exactFromReference(ref, size);
  throw new RangeError(
    `Cannot fill mask symmetry: unknown mode "${mode as string}" (exact or reference)`,
  );
}

/** Number of bins whose value differs from their true conjugate partner. */
export function countAsymmetricBins(
  mask: ArrayLike<number>,
  size: number,
): number {
  checkSize(mask, size);
  let n = 0;
  for (let h = 0; h < size; h++) {
    const ph = (size - h) % size;
    for (let w = 0; w < size; w++) {
      const pw = (size - w) % size;
      if (mask[h * size + w] !== mask[ph * size + pw]) n++;
    }
  }
  return n;
}

/** Whether `mask` equals its conjugate-partner reflection everywhere. */
export function isConjugateSymmetric(
  mask: ArrayLike<number>,
  size: number,
): boolean {
  return countAsymmetricBins(mask, size) === 0;
}

/**
 * The gain a mask really applies when the real part of the inverse FFT is
 * kept: (M(k) + M(partner(k))) / 2.
 */
export function effectiveGain(
  mask: ArrayLike<number>,
  size: number,
): Float32Array {
  checkSize(mask, size);
  const out = new Float32Array(size * size);
  for (let h = 0; h < size; h++) {
    const ph = (size - h) % size;
    for (let w = 0; w < size; w++) {
      const pw = (size - w) % size;
      out[h * size + w] = (mask[h * size + w]! + mask[ph * size + pw]!) / 2;
    }
  }
  return out;
}

/** Summary of a mask (the fixtures' `stats` fields). */
export interface MaskStats {
  keptBins: number;
  keptFraction: number;
  /** Value at DC (S/2, S/2). */
  dcValue: number;
  /** Bins that differ from their true conjugate partner (gain ½ after the real part). */
  asymmetricBins: number;
}

/** Kept bins, DC value and asymmetric bins of an S×S mask. */
export function maskStats(mask: ArrayLike<number>, size: number): MaskStats {
  checkSize(mask, size);
  let kept = 0;
  for (let i = 0; i < mask.length; i++) kept += mask[i]!;
  return {
    keptBins: kept,
    keptFraction: kept / mask.length,
    dcValue: mask[(size / 2) * size + size / 2]!,
    asymmetricBins: countAsymmetricBins(mask, size),
  };
}
