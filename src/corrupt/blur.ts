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
import { gaussianFilter, mapIndex, toFloat, toUint8 } from "./filters.ts";
import { motionBlur as imMotionBlur, motionKernel } from "./motion.ts";
import { roundHalfEven } from "../data/preprocess.ts";

/** `disk(radius, alias_blur)` of the original, as a k x k float64 kernel. */
export function diskKernel(
  radius: number,
  aliasBlur: number,
): { kernel: Float64Array; k: number } {
  const half = radius <= 8 ? 8 : radius;
  const ks = radius <= 8 ? 3 : 5;
  const k = 2 * half + 1;
  const disk = new Float64Array(k * k);
  let sum = 0;
  for (let y = -half; y <= half; y++) {
    for (let x = -half; x <= half; x++) {
      const v = x * x + y * y <= radius * radius ? 1 : 0;
      disk[(y + half) * k + x + half] = v;
      sum += v;
    }
  }
  for (let i = 0; i < disk.length; i++) disk[i]! /= sum;
  // cv2.getGaussianKernel(ks, sigma) and a separable pass, reflect-101.
  const g = new Float64Array(ks);
  let gs = 0;
  for (let i = 0; i < ks; i++) {
    const x = i - (ks - 1) * 0.5;
    g[i] = Math.exp((-0.5 / (aliasBlur * aliasBlur)) * x * x);
    gs += g[i]!;
  }
  for (let i = 0; i < ks; i++) g[i]! /= gs;
  const r = (ks - 1) >> 1;
  const tmp = new Float64Array(k * k);
  for (let y = 0; y < k; y++) {
    for (let x = 0; x < k; x++) {
      let a = 0;
      for (let i = 0; i < ks; i++) {
        a += g[i]! * disk[y * k + mapIndex(x + i - r, k, "reflect101")]!;
      }
      tmp[y * k + x] = a;
    }
  }
  const kernel = new Float64Array(k * k);
  for (let y = 0; y < k; y++) {
    for (let x = 0; x < k; x++) {
      let a = 0;
      for (let i = 0; i < ks; i++) {
        a += g[i]! * tmp[mapIndex(y + i - r, k, "reflect101") * k + x]!;
      }
      kernel[y * k + x] = a;
    }
  }
  return { kernel, k };
}

/** Defocus blur (deterministic). */
export function defocusBlur(
  data: Uint8Array,
  size: number,
  severity: Severity,
): Uint8Array {
  const [radius, alias] = kConstants.defocus_blur[severity - 1]!;
  return toUint8(diskFilter(data, size, 3, radius, alias));
}

/**
 * `filter2d` with `diskKernel(radius, aliasBlur)`, computed without its
 * O(area) taps per pixel. The kernel is the normalised disk correlated with
 * the alias Gaussian g along both axes, except where the disk touches the
 * kernel's box and the Gaussian folds back (reflect-101) instead of spilling
 * over. So: the disk sum from integer row-span prefix sums (exact), the two
 * 1-D passes of g, and the few taps of (kernel − unfolded kernel) added
 * directly. Differs from `filter2d` only by float rounding (~1e-15).
 */
export function diskFilter(
  data: Uint8Array,
  size: number,
  channels: number,
  radius: number,
  aliasBlur: number,
): Float64Array {
  const { kernel, k } = diskKernel(radius, aliasBlur);
  const half = (k - 1) >> 1;
  const ks = radius <= 8 ? 3 : 5;
  const rg = (ks - 1) >> 1;
  const g = new Float64Array(ks);
  let gs = 0;
  for (let i = 0; i < ks; i++) {
    const x = i - rg;
    g[i] = Math.exp((-0.5 / (aliasBlur * aliasBlur)) * x * x);
    gs += g[i]!;
  }
  for (let i = 0; i < ks; i++) g[i]! /= gs;
  // Disk rows: half-width per row offset (-1: empty), and the disk's area.
  const spanW = new Int32Array(k).fill(-1);
  let area = 0;
  for (let dy = -half; dy <= half; dy++) {
    for (let dx = 0; dx <= half; dx++) {
      if (dx * dx + dy * dy <= radius * radius) spanW[dy + half] = dx;
    }
    if (spanW[dy + half]! >= 0) area += 2 * spanW[dy + half]! + 1;
  }
  // The unfolded kernel (box k + 2rg): g ⊗ g ⊗ disk / area, zero-extended.
  const k2 = k + 2 * rg;
  const diskE = new Float64Array(k2 * k2);
  for (let y = 0; y < k; y++) {
    const w = spanW[y]!;
    for (let x = half - w; x <= half + w && w >= 0; x++) {
      diskE[(y + rg) * k2 + x + rg] = 1 / area;
    }
  }
  const tmp = new Float64Array(k2 * k2);
  for (let y = 0; y < k2; y++) {
    for (let x = 0; x < k2; x++) {
      let a = 0;
      for (let i = 0; i < ks; i++) {
        const xx = x + i - rg;
        if (xx >= 0 && xx < k2) a += g[i]! * diskE[y * k2 + xx]!;
      }
      tmp[y * k2 + x] = a;
    }
  }
  // Correction taps: kernel (embedded at offset rg) minus the unfolded one.
  const cOff: number[] = [];
  const cW: number[] = [];
  const pr = half + rg; // padding of the image
  const pw = size + 2 * pr;
  for (let y = 0; y < k2; y++) {
    for (let x = 0; x < k2; x++) {
      let full = 0;
      for (let i = 0; i < ks; i++) {
        const yy = y + i - rg;
        if (yy >= 0 && yy < k2) full += g[i]! * tmp[yy * k2 + x]!;
      }
      const ky = y - rg, kx = x - rg;
      const kv = ky >= 0 && ky < k && kx >= 0 && kx < k
        ? kernel[ky * k + kx]!
        : 0;
      const d = kv - full;
      if (Math.abs(d) > 1e-13) {
        cOff.push((y * pw + x) * channels);
        cW.push(d);
      }
    }
  }
  // Reflect-101 padded 8-bit image and per-row, per-channel prefix sums.
  const rowIdx = new Int32Array(pw);
  for (let i = 0; i < pw; i++) rowIdx[i] = mapIndex(i - pr, size, "reflect101");
  const pad = new Uint8Array(pw * pw * channels);
  for (let y = 0; y < pw; y++) {
    const sy = rowIdx[y]! * size;
    for (let x = 0; x < pw; x++) {
      const s = (sy + rowIdx[x]!) * channels, o = (y * pw + x) * channels;
      for (let c = 0; c < channels; c++) pad[o + c] = data[s + c]!;
    }
  }
  const pl = pw + 1;
  const prefix = new Int32Array(pw * channels * pl);
  for (let y = 0; y < pw; y++) {
    for (let c = 0; c < channels; c++) {
      const base = (y * channels + c) * pl;
      let acc = 0;
      for (let x = 0; x < pw; x++) {
        acc += pad[(y * pw + x) * channels + c]!;
        prefix[base + x + 1] = acc;
      }
    }
  }
  // Disk correlation over the image grown by rg on every side.
  const m = size + 2 * rg;
  const disk = new Float64Array(m * m * channels);
  const scale = area * 255;
  const sums = new Int32Array(m);
  for (let y = 0; y < m; y++) {
    for (let c = 0; c < channels; c++) {
      sums.fill(0);
      for (let j = 0; j < k; j++) {
        const w = spanW[j]!;
        if (w < 0) continue;
        // Centre (y + half, x + half) in padded coordinates.
        const b = ((y + j) * channels + c) * pl + half;
        const hiB = b + w + 1, loB = b - w;
        for (let x = 0; x < m; x++) {
          sums[x]! += prefix[hiB + x]! - prefix[loB + x]!;
        }
      }
      for (let x = 0; x < m; x++) {
        disk[(y * m + x) * channels + c] = sums[x]! / scale;
      }
    }
  }
  // g along x (m rows x size columns), then along y (size x size).
  const hx = new Float64Array(m * size * channels);
  for (let y = 0; y < m; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < channels; c++) {
        let a = 0;
        for (let i = 0; i < ks; i++) {
          a += g[i]! * disk[(y * m + x + i) * channels + c]!;
        }
        hx[(y * size + x) * channels + c] = a;
      }
    }
  }
  const out = new Float64Array(size * size * channels);
  const rs = size * channels;
  for (let y = 0; y < size; y++) {
    for (let i0 = 0; i0 < rs; i0++) {
      let a = 0;
      for (let i = 0; i < ks; i++) a += g[i]! * hx[(y + i) * rs + i0]!;
      out[y * rs + i0] = a;
    }
  }
  const nc = cOff.length;
  if (nc > 0) {
    const padF = new Float64Array(pad.length);
    for (let i = 0; i < pad.length; i++) padF[i] = pad[i]! / 255;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const base = (y * pw + x) * channels;
        for (let c = 0; c < channels; c++) {
          let a = 0;
          for (let t = 0; t < nc; t++) a += cW[t]! * padF[base + c + cOff[t]!]!;
          out[(y * size + x) * channels + c]! += a;
        }
      }
    }
  }
  return out;
}

/** Glass blur (random: the local shuffles). */
export function glassBlur(
  data: Uint8Array,
  size: number,
  severity: Severity,
  rng: Rng,
): Uint8Array {
  const [sigma, delta, iterations] = kConstants.glass_blur[severity - 1]!;
  const blurred = gaussianFilter(toFloat(data), size, size, 3, sigma);
  const x = new Uint8Array(blurred.length);
  for (let i = 0; i < x.length; i++) {
    x[i] = Math.trunc(blurred[i]! * 255); // np.uint8(... * 255)
  }
  // The swaps stay sequential; the draws are `rng.int(2δ) − δ`, inlined
  // (same rejection rule, so the same stream).
  const n = 2 * delta;
  const limit = 4294967296 - (4294967296 % n);
  for (let it = 0; it < iterations; it++) {
    for (let h = size - delta; h > delta; h--) {
      let dst = (h * size + size - delta) * 3;
      for (let w = size - delta; w > delta; w--, dst -= 3) {
        let v = rng.nextU32();
        while (v >= limit) v = rng.nextU32();
        const dx = v - Math.floor(v / n) * n - delta; // exact: v < 2^32
        v = rng.nextU32();
        while (v >= limit) v = rng.nextU32();
        const dy = v - Math.floor(v / n) * n - delta;
        const src = dst + (dy * size + dx) * 3;
        x[dst] = x[src]!;
        x[dst + 1] = x[src + 1]!;
        x[dst + 2] = x[src + 2]!;
      }
    }
  }
  return toUint8(gaussianFilter(toFloat(x), size, size, 3, sigma));
}

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

/** Geometry of `clipped_zoom(img, z)` on an h x h image (see below). */
export function zoomGeometry(
  h: number,
  zoom: number,
): { ch: number; top: number; trim: number; ratio: number } {
  const ch = Math.ceil(h / zoom);
  const top = Math.floor((h - ch) / 2);
  const outSide = roundHalfEven(ch * zoom);
  const ratio = outSide > 1 ? (ch - 1) / (outSide - 1) : 1;
  const trim = Math.floor((outSide - h) / 2);
  return { ch, top, trim, ratio };
}

/**
 * The original's `clipped_zoom(img, z)` on a float64 HWC square image: crop
 * the centre `ceil(h / z)`, zoom it with scipy `zoom(order=1)` (corner-aligned
 * linear interpolation, output side `round(ch · z)`), keep the centre h x h.
 */
export function clippedZoom(
  src: Float64Array,
  h: number,
  channels: number,
  zoom: number,
): Float64Array {
  const { ch, top, trim, ratio } = zoomGeometry(h, zoom);
  // Per output index along one axis: lower source index and weight.
  const i0 = new Int32Array(h);
  const t = new Float64Array(h);
  for (let o = 0; o < h; o++) {
    const cc = (o + trim) * ratio;
    let f = Math.floor(cc);
    if (f > ch - 1) f = ch - 1;
    i0[o] = f;
    t[o] = cc - f;
  }
  // Source offsets (within the crop) of the two taps per axis; a tap that
  // falls past the crop has weight 0 or is never read (t = 0).
  const lo = new Int32Array(h), hi = new Int32Array(h);
  for (let o = 0; o < h; o++) {
    lo[o] = top + i0[o]!;
    hi[o] = top + Math.min(i0[o]! + 1, ch - 1);
  }
  const out = new Float64Array(h * h * channels);
  for (let y = 0; y < h; y++) {
    const ty = t[y]!;
    const r0 = lo[y]! * h, r1 = hi[y]! * h;
    for (let x = 0; x < h; x++) {
      const tx = t[x]!;
      const c0 = lo[x]!, c1 = hi[x]!;
      const p00 = (r0 + c0) * channels, p01 = (r0 + c1) * channels;
      const p10 = (r1 + c0) * channels, p11 = (r1 + c1) * channels;
      const o = (y * h + x) * channels;
      for (let k = 0; k < channels; k++) {
        const a = src[p00 + k]! * (1 - tx) + (tx ? src[p01 + k]! * tx : 0);
        const b = ty
          ? src[p10 + k]! * (1 - tx) + (tx ? src[p11 + k]! * tx : 0)
          : 0;
        out[o + k] = a * (1 - ty) + b * ty;
      }
    }
  }
  return out;
}

/**
 * `acc += float32(clippedZoom(src, h, 3, zoom))` without the intermediate
 * image: the same per-sample expression, the taps' offsets and weights
 * hoisted out of the pixel loop. A zero weight multiplies a finite sample
 * (it adds an exact zero), so the `tx ? … : 0` tests of `clippedZoom` are
 * not needed for the same values.
 */
function addClippedZoom3(
  src: Float64Array,
  h: number,
  zoom: number,
  acc: Float32Array,
): void {
  const { ch, top, trim, ratio } = zoomGeometry(h, zoom);
  const lo = new Int32Array(h), hi = new Int32Array(h);
  const t = new Float64Array(h), u = new Float64Array(h);
  for (let o = 0; o < h; o++) {
    const cc = (o + trim) * ratio;
    let f = Math.floor(cc);
    if (f > ch - 1) f = ch - 1;
    t[o] = cc - f;
    u[o] = 1 - (cc - f);
    lo[o] = top + f;
    hi[o] = top + Math.min(f + 1, ch - 1);
  }
  for (let y = 0; y < h; y++) {
    const ty = t[y]!, uy = u[y]!;
    const r0 = lo[y]! * h, r1 = hi[y]! * h;
    let o = y * h * 3;
    for (let x = 0; x < h; x++, o += 3) {
      const tx = t[x]!, ux = u[x]!;
      const p00 = (r0 + lo[x]!) * 3, p01 = (r0 + hi[x]!) * 3;
      const p10 = (r1 + lo[x]!) * 3, p11 = (r1 + hi[x]!) * 3;
      for (let k = 0; k < 3; k++) {
        const a = src[p00 + k]! * ux + src[p01 + k]! * tx;
        const b = src[p10 + k]! * ux + src[p11 + k]! * tx;
        acc[o + k]! += Math.fround(a * uy + b * ty);
      }
    }
  }
}

/** Zoom blur (deterministic; float32 arithmetic, as the original). */
export function zoomBlur(
  data: Uint8Array,
  size: number,
  severity: Severity,
): Uint8Array {
  const zooms = kConstants.zoom_blur[severity - 1]!;
  const x = new Float32Array(data.length);
  for (let i = 0; i < x.length; i++) x[i] = data[i]! / 255;
  const x64 = Float64Array.from(x);
  const acc = new Float32Array(x.length);
  for (const z of zooms) addClippedZoom3(x64, size, z, acc);
  const n = zooms.length + 1;
  const out = new Uint8Array(x.length);
  for (let i = 0; i < acc.length; i++) {
    const v = Math.fround(Math.fround(x[i]! + acc[i]!) / n);
    out[i] = Math.trunc(Math.fround((v < 0 ? 0 : v > 1 ? 1 : v) * 255));
  }
  return out;
}
