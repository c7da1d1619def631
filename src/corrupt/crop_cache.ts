/**
 * The 224 x 224 centre crops (`centreCrop()`) of recently read images, least
 * recently used dropped first: generating ImageNet-C visits each clean image
 * once per subset, and decoding it again would cost as much as corrupting it.
 */
import type { RgbImage } from "../data/decode.ts";
import { kDefaultMaxPixels, readImage } from "../data/decode.ts";
import { centreCrop } from "./corrupt.ts";

/** An LRU of centre crops keyed by path (and the pixel limit they were read under). */
export class CropCache {
  #map = new Map<string, RgbImage>();
  constructor(readonly capacity: number) {}

  /**
   * The centre crop of the image at `path`, read when not held.
   *
   * @throws {UserError} when the file cannot be read or decoded, or has more
   *   than `maxPixels` pixels.
   */
  async get(path: string, maxPixels = kDefaultMaxPixels): Promise<RgbImage> {
    const key = `${maxPixels}\n${path}`;
    const hit = this.#map.get(key);
    if (hit) {
      this.#map.delete(key);
      this.#map.set(key, hit);
      return hit;
    }
    const crop = centreCrop(await readImage(path, { maxPixels }));
    this.#map.set(key, crop);
    if (this.#map.size > this.capacity) {
      this.#map.delete(this.#map.keys().next().value!);
    }
    return crop;
  }
}
