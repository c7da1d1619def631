/**
 * Frost: the clean crop blended with a random 224 x 224 crop of a photograph
 * of frost, as the original generator's `frost()` (`make_imagenet_c.py`):
 *
 *     idx = np.random.randint(5)
 *     frost = cv2.imread(['frost1.png', …, 'frost6.jpg'][idx])
 *     x_start, y_start = np.random.randint(0, frost.shape[0] - 224),
 *                        np.random.randint(0, frost.shape[1] - 224)
 *     frost = frost[x_start:x_start + 224, y_start:y_start + 224][..., [2, 1, 0]]
 *     return np.clip(c[0] * np.array(x) + c[1] * frost, 0, 255)
 *
 * and the saved image is `np.uint8` of that (truncation). Quirks kept:
 * `randint(5)` never picks `frost6.jpg` (so it is not read); the offsets are
 * drawn below `shape - 224`, so a texture's last row and column are never
 * used, and a texture needs at least 225 x 225 pixels; `cv2.imread` decodes to
 * BGR and `[..., [2, 1, 0]]` turns it back to RGB, which the RGB decoders here
 * give directly (alpha dropped, EXIF orientation applied, as `imread`'s;
 * a 16-bit PNG would become 8 bits by `round(v / 257)` here, by
 * `round(v / 256)` in OpenCV). The photographs ship with the original repository
 * (`ImageNet-C/create_c/`) and the `imagecorruptions` package
 * (`imagecorruptions/frost/`), not with hfss: the user gives their folder.
 * (`imagecorruptions` also rescales each texture by 1.1 with bicubic
 * interpolation before cropping; the released ImageNet-C did not.)
 *
 * Draws, from the image's corruption stream, in this order: the texture
 * index `rng.int(5)`, the row offset `rng.int(height - 224)`, the column
 * offset `rng.int(width - 224)` (`Rng.int`: unbiased, by rejection).
 */
import { join } from "node:path";
import type { Rng } from "../rng.ts";
import { decodeImage, type RgbImage } from "../data/decode.ts";
import { UserError } from "../errors.ts";
import { readInputFile } from "../io/read.ts";
import { sha256Hex } from "../io/sha256.ts";
import { kConstants, kCorruptSize, type Severity } from "./registry.ts";

/** The texture files the original can pick (`randint(5)`: not frost6.jpg). */
export const kFrostTextureFiles = [
  "frost1.png",
  "frost2.png",
  "frost3.png",
  "frost4.jpg",
  "frost5.jpg",
] as const;

/** One decoded texture and where it came from. */
export interface FrostTexture {
  /** File name (`frost1.png` …). */
  file: string;
  /** sha256 of the file's bytes. */
  sha256: string;
  image: RgbImage;
}

/** The frost textures of a run, decoded once, in `kFrostTextureFiles` order. */
export interface FrostTextures {
  /** The folder they were read from. */
  dir: string;
  textures: FrostTexture[];
}

/** What a run records of its textures: file names and content hashes. */
export function frostTexturesRecord(
  t: FrostTextures,
): { file: string; sha256: string }[] {
  return t.textures.map(({ file, sha256 }) => ({ file, sha256 }));
}

/**
 * Read and decode the five frost textures in `dir` (hfss's JPEG decoder is
 * libjpeg's, as OpenCV's and Pillow's; PNG alpha is dropped).
 *
 * @throws {UserError} naming the file when one is missing, unreadable, not an
 *   image, or smaller than 225 x 225.
 */
export async function loadFrostTextures(dir: string): Promise<FrostTextures> {
  const textures: FrostTexture[] = [];
  for (const file of kFrostTextureFiles) {
    const path = join(dir, file);
    const bytes = await readInputFile(path, "Cannot read frost texture");
    const image = await decodeImage(bytes, path);
    const min = kCorruptSize + 1;
    if (image.width < min || image.height < min) {
      throw new UserError(
        `Cannot use frost texture "${path}": it is ${image.width}x${image.height}, and frost crops need at least ${min}x${min} pixels`,
      );
    }
    textures.push({
      file,
      sha256: await sha256Hex(bytes),
      image,
    });
  }
  return { dir, textures };
}

/** The draws of one image: texture index and crop offsets (row, column). */
export interface FrostDraws {
  index: number;
  top: number;
  left: number;
}

/** Draw the texture and the crop offsets from `rng`, as documented above. */
export function frostDraws(rng: Rng, textures: FrostTextures): FrostDraws {
  const index = rng.int(kFrostTextureFiles.length);
  const { width, height } = textures.textures[index]!.image;
  const top = rng.int(height - kCorruptSize);
  const left = rng.int(width - kCorruptSize);
  return { index, top, left };
}

/** `uint8(clip(c0 * x + c1 * crop, 0, 255))` on a 224 x 224 RGB crop. */
export function frost(
  data: Uint8Array,
  size: number,
  severity: Severity,
  rng: Rng,
  textures: FrostTextures,
): Uint8Array {
  const [c0, c1] = kConstants.frost[severity - 1]!;
  const { index, top, left } = frostDraws(rng, textures);
  const tex = textures.textures[index]!.image;
  const tw = tex.width * 3;
  const td = tex.data;
  const out = new Uint8Array(data.length);
  const row = size * 3;
  for (let y = 0; y < size; y++) {
    const src = (top + y) * tw + left * 3;
    const dst = y * row;
    for (let i = 0; i < row; i++) {
      const v = c0 * data[dst + i]! + c1 * td[src + i]!;
      out[dst + i] = v > 255 ? 255 : Math.trunc(v);
    }
  }
  return out;
}
