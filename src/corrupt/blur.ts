/**
 * Blur corruptions: defocus, glass, motion and zoom blur, on 8-bit RGB HWC
 * 224 x 224 images, as the original generator computes them:
 *
 * - defocus: a disk kernel anti-aliased by `cv2.GaussianBlur`, applied with
 *   `cv2.filter2D` (border reflect-101);
 * - glass: skimage `gaussian`, an 8-bit truncation, local pixel "swaps", and
 *   `gaussian` again. The original's swap assigns through numpy views, so it
 *   copies `x[h', w']` into `x[h, w]` and leaves `x[h', w']` as it was; that
 *   is what ImageNet-C contains, and what is done here. Draws: per visited
 *   pixel, `dx` then `dy`, each `Rng.int(2·δ) − δ` (numpy's `randint(−δ, δ)`);
 * - motion: ImageMagick's motion blur (`motion.ts`), angle uniform in
 *   [−45°, 45°) from one draw;
 * - zoom: the mean of the image and its centre zooms (scipy `zoom`, order 1).
 */
import type { Rng } from "../rng.ts";
import { kConstants, type Severity } from "./registry.ts";
import { motionBlur as imMotionBlur, motionKernel } from "./motion.ts";

export {
  defocusBlur,
  diskFilter,
  diskFilterBytes,
  diskKernel,
} from "./defocus.ts";
export { glassBlur } from "./glass.ts";
export {
  clippedZoom,
  zoomBlur,
  zoomEstimateBound,
  zoomGeometry,
} from "./zoom.ts";

/** Motion blur (random: the angle). */
export function motionBlur(
  data: Uint8Array,
  size: number,
  severity: Severity,
  rng: Rng,
): Uint8Array {
  const [radius, sigma] = kConstants.motion_blur[severity - 1]!;
  const angle = -45 + 90 * rng.float();
  return imMotionBlur(data, size, size, 3, motionKernel(radius, sigma, angle));
}
