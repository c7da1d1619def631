/** JSON values of the files hfss writes. */

/**
 * A number as JSON can hold it: NaN and ±Infinity become null.
 *
 * @example
 * ```ts
 * finiteOrNull(0.5); // 0.5
 * finiteOrNull(NaN); // null
 * ```
 */
export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
