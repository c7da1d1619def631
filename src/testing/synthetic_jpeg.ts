/**
 * Synthetic JPEG files for tests and benchmarks: an image whose pixels come
 * from a formula, encoded by the same codec that decodes real photos.
 */
import encodeJpeg from "@jsquash/jpeg/encode.js";

/**
 * Encode a `w`×`h` RGB image whose pixel `p` (row-major) is `rgb(p)`
 * (clamped to 0..255).
 *
 * @example
 * ```ts
 * const bytes = await syntheticJpeg(8, 8, (p) => [p, 0, 255]);
 * ```
 */
export async function syntheticJpeg(
  w: number,
  h: number,
  rgb: (p: number) => readonly [number, number, number],
  quality = 90,
): Promise<Uint8Array> {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let p = 0; p < w * h; p++) {
    const [r, g, b] = rgb(p);
    data[p * 4] = r;
    data[p * 4 + 1] = g;
    data[p * 4 + 2] = b;
    data[p * 4 + 3] = 255;
  }
  const img = {
    width: w,
    height: h,
    data,
    colorSpace: "srgb",
  } as unknown as ImageData;
  return new Uint8Array(await encodeJpeg(img, { quality }));
}
