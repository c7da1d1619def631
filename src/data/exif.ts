/**
 * JPEG header scanning: frame size, component count, coding process, Adobe
 * colour transform and the EXIF orientation tag (APP1 "Exif\0\0", TIFF IFD0
 * tag 0x0112), read by hand so that no decoder has to be trusted with it.
 *
 * Orientation follows the EXIF 2.3 meaning of the values 1-8: how the stored
 * pixels must be transformed for display. `applyOrientation()` does that
 * transform on an RGB image (as PIL's `ImageOps.exif_transpose`).
 */

/** What `readJpegInfo()` finds in a JPEG's markers before the scan data. */
export interface JpegInfo {
  /** Frame width in pixels (0 when no SOF marker was found). */
  width: number;
  /** Frame height in pixels (0 when no SOF marker was found). */
  height: number;
  /** Number of colour components: 1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK. */
  components: number;
  /** True for a progressive (SOF2/SOF6/SOF10/SOF14) frame. */
  progressive: boolean;
  /** True for an arithmetic-coded frame (SOF9-SOF15). */
  arithmetic: boolean;
  /** Adobe APP14 transform flag (0 none/CMYK, 1 YCbCr, 2 YCCK), or undefined when absent. */
  adobeTransform: number | undefined;
  /** EXIF orientation 1-8 (1 when absent or invalid). */
  orientation: number;
}

/** True when the bytes start with the JPEG SOI marker. */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 &&
    bytes[2] === 0xff;
}

/**
 * Scan a JPEG's marker segments up to the first SOS and report what they say.
 * Malformed segments end the scan early; the caller's decoder reports the error.
 *
 * @example
 * ```ts
 * const info = readJpegInfo(await Deno.readFile("a.jpg"));
 * if (info.components === 4) console.log("CMYK");
 * ```
 */
export function readJpegInfo(bytes: Uint8Array): JpegInfo {
  const info: JpegInfo = {
    width: 0,
    height: 0,
    components: 0,
    progressive: false,
    arithmetic: false,
    adobeTransform: undefined,
    orientation: 1,
  };
  if (!isJpeg(bytes)) return info;
  let p = 2;
  while (p + 4 <= bytes.length) {
    if (bytes[p] !== 0xff) break;
    const marker = bytes[p + 1]!;
    if (marker === 0xff) { // fill byte
      p++;
      continue;
    }
    if (
      marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01
    ) {
      p += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // EOI or SOS
    const len = (bytes[p + 2]! << 8) | bytes[p + 3]!;
    if (len < 2 || p + 2 + len > bytes.length) break;
    const seg = bytes.subarray(p + 4, p + 2 + len);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 &&
      marker !== 0xc8 && marker !== 0xcc;
    if (isSof && seg.length >= 6) {
      info.height = (seg[1]! << 8) | seg[2]!;
      info.width = (seg[3]! << 8) | seg[4]!;
      info.components = seg[5]!;
      const kind = marker & 0x0f;
      info.progressive = kind === 2 || kind === 6 || kind === 10 || kind === 14;
      info.arithmetic = marker >= 0xc9;
    } else if (marker === 0xe1 && seg.length > 14 && isExifHeader(seg)) {
      info.orientation = readTiffOrientation(seg.subarray(6));
    } else if (
      marker === 0xee && seg.length >= 12 && seg[0] === 0x41 &&
      seg[1] === 0x64 && seg[2] === 0x6f && seg[3] === 0x62 && seg[4] === 0x65
    ) {
      info.adobeTransform = seg[11]!;
    }
    p += 2 + len;
  }
  return info;
}

function isExifHeader(seg: Uint8Array): boolean {
  // "Exif\0\0"
  return seg[0] === 0x45 && seg[1] === 0x78 && seg[2] === 0x69 &&
    seg[3] === 0x66 && seg[4] === 0 && seg[5] === 0;
}

/** Read tag 0x0112 (Orientation) from IFD0 of a TIFF structure; 1 when absent or invalid. */
export function readTiffOrientation(tiff: Uint8Array): number {
  if (tiff.length < 8) return 1;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49; // "II"
  const big = tiff[0] === 0x4d && tiff[1] === 0x4d; // "MM"
  if (!little && !big) return 1;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  if (view.getUint16(2, little) !== 42) return 1;
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > tiff.length) return 1;
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > tiff.length) return 1;
    if (view.getUint16(e, little) !== 0x0112) continue;
    const type = view.getUint16(e + 2, little);
    // SHORT (3) is standard; tolerate LONG (4) written by some tools.
    const value = type === 4
      ? view.getUint32(e + 8, little)
      : view.getUint16(e + 8, little);
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/** An RGB image with 8-bit samples, row-major, 3 bytes per pixel. */
export interface RgbImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `width * height * 3` bytes, RGB interleaved. */
  data: Uint8Array;
}

/**
 * Transform stored pixels for display according to EXIF orientation 1-8.
 * Orientations 5-8 swap width and height.
 *
 * @example
 * ```ts
 * const upright = applyOrientation({ width: 2, height: 1, data: new Uint8Array(6) }, 6);
 * // upright.width === 1, upright.height === 2
 * ```
 */
export function applyOrientation(img: RgbImage, orientation: number): RgbImage {
  if (orientation <= 1 || orientation > 8) return img;
  const { width: w, height: h, data } = img;
  const swap = orientation >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const out = new Uint8Array(ow * oh * 3);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      // Source coordinates of the displayed pixel (ox, oy).
      let sx: number, sy: number;
      switch (orientation) {
        case 2: // mirrored horizontally
          sx = w - 1 - ox;
          sy = oy;
          break;
        case 3: // rotated 180
          sx = w - 1 - ox;
          sy = h - 1 - oy;
          break;
        case 4: // mirrored vertically
          sx = ox;
          sy = h - 1 - oy;
          break;
        case 5: // transposed
          sx = oy;
          sy = ox;
          break;
        case 6: // stored rotated 90 CCW: rotate 90 CW to display
          sx = oy;
          sy = h - 1 - ox;
          break;
        case 7: // transversed
          sx = w - 1 - oy;
          sy = h - 1 - ox;
          break;
        default: // 8: rotate 90 CCW to display
          sx = w - 1 - oy;
          sy = ox;
          break;
      }
      const s = (sy * w + sx) * 3;
      const d = (oy * ow + ox) * 3;
      out[d] = data[s]!;
      out[d + 1] = data[s + 1]!;
      out[d + 2] = data[s + 2]!;
    }
  }
  return { width: ow, height: oh, data: out };
}
