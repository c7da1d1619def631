/**
 * ImageNet-1k labels: wnid (sorted order) <-> class index <-> name, and the
 * 200-class ImageNet-R / ImageNet-A subsets as 1000-class index lists.
 *
 * The class index of a wnid is its position in the sorted list of the 1000
 * ILSVRC2012 wnids (torchvision `ImageFolder` order; index 0 = n01440764,
 * "tench"). The tables live in `imagenet_classes.ts`.
 */
import {
  kImagenetAIndices as aIndices,
  kImagenetNames as names,
  kImagenetRIndices as rIndices,
  kImagenetWnidsText,
} from "./imagenet_classes.ts";

/** The 1000 ImageNet wnids in class index order (sorted). */
export const kImagenetWnids: readonly string[] = Object.freeze(
  kImagenetWnidsText.trim().split(/\s+/),
);

/** ImageNet class names in class index order ("tench, Tinca tinca", ...). */
export const kImagenetNames: readonly string[] = names;

/** 1000-class indices of the 200 ImageNet-R classes, ascending. */
export const kImagenetRIndices: readonly number[] = rIndices;

/** 1000-class indices of the 200 ImageNet-A classes, ascending. */
export const kImagenetAIndices: readonly number[] = aIndices;

const wnidToIndex = new Map<string, number>(
  kImagenetWnids.map((w, i) => [w, i]),
);

/** True for a string shaped like a WordNet id (`n` + 8 digits). */
export function isWnid(s: string): boolean {
  return /^n\d{8}$/.test(s);
}

/**
 * Class index of an ImageNet-1k wnid, or undefined when it is not one of the 1000.
 *
 * @example
 * ```ts
 * wnidToClassIndex("n01440764"); // 0
 * ```
 */
export function wnidToClassIndex(wnid: string): number | undefined {
  return wnidToIndex.get(wnid);
}

/** The wnid of a class index 0..999. */
export function classIndexToWnid(index: number): string {
  const w = kImagenetWnids[index];
  if (w === undefined) {
    throw new RangeError(`class index ${index} is not in 0..999`);
  }
  return w;
}

/** The short name of a class (first synonym, e.g. "tench"); `#<index>` when outside 0..999. */
export function className(index: number): string {
  const n = kImagenetNames[index];
  return n === undefined ? `#${index}` : n.split(",")[0]!.trim();
}
