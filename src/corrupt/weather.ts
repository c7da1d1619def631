/**
 * Weather corruptions: snow, fog and brightness (frost is not generated: see
 * `registry.ts`). 8-bit RGB HWC in and out, the original's arithmetic:
 *
 * - snow: a normal field (loc, scale) zoomed, thresholded, stored as 8-bit
 *   grey, motion-blurred by ImageMagick's kernel (`motion.ts`) at an angle
 *   uniform in [−135°, −45°), added twice (once turned 180°) to an image
 *   brightened towards its grey level. Draws: 224² normals (row-major), then
 *   the angle;
 * - fog: the diamond-square "plasma fractal" (256², `wibbledecay` per
 *   severity) added and rescaled by the image maximum. Draws: per level, the
 *   square step's uniforms, then the two diamond steps', row-major;
 * - brightness: skimage's `rgb2hsv`, V + c clipped, `hsv2rgb`.
 */
import type { Rng } from "../rng.ts";
import { kConstants, type Severity } from "./registry.ts";
import { toFloat, toUint8 } from "./filters.ts";
import { clippedZoom, zoomGeometry } from "./zoom.ts";
import { motionBlur, motionKernel } from "./motion.ts";

/** `x / 255` for every 8-bit x: the same doubles as dividing per sample. */
const kUnit = (() => {
  const t = new Float64Array(256);
  for (let i = 0; i < 256; i++) t[i] = i / 255;
  return t;
})();

/** `float32(x / 255)` for every 8-bit x. */
const kUnit32 = Float32Array.from(kUnit);

/** Snow's field and layer, reused across calls (one size at a time). */
let kSnowField = new Float64Array(0);
let kSnowLayer = new Uint8Array(0);
const kSnowTables = new Float64Array(5 * 256);
let kSnowBits = new Uint32Array(0);

/**
 * `Rng.normal()` from its two 32-bit draws (the same expression): snow
 * draws its whole field's bits at once and transforms only those it uses.
 */
export function normalFromU32(a: number, b: number): number {
  const u = 1 - a / 4294967296;
  const v = b / 4294967296;
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * Snow (random: the snow field and the blur angle). `clippedZoom` reads only
 * the centre `ch` x `ch` window of the field, so only those normals are
 * computed; the others are drawn (two 32-bit words each, as `normal()`
 * draws) to keep the stream, but not transformed.
 */
export function snow(
  data: Uint8Array,
  size: number,
  severity: Severity,
  rng: Rng,
): Uint8Array {
  const [loc, scale, zoom, thresh, radius, sigma, blend] = kConstants
    .snow[severity - 1]!;
  const n = size * size;
  if (kSnowField.length !== n) {
    kSnowField = new Float64Array(n);
    kSnowLayer = new Uint8Array(n);
  }
  const field = kSnowField, layer8 = kSnowLayer;
  const { ch, top } = zoomGeometry(size, zoom);
  // A row's normals' bits at a time (two words each, as `normal()` draws);
  // rows outside the window are drawn and skipped.
  const bits = kSnowBits.length === 2 * size
    ? kSnowBits
    : (kSnowBits = new Uint32Array(2 * size));
  for (let y = 0; y < size; y++) {
    rng.fillU32(bits);
    if (y < top || y >= top + ch) continue;
    for (let x = top; x < top + ch; x++) {
      field[y * size + x] = loc +
        scale * normalFromU32(bits[2 * x]!, bits[2 * x + 1]!);
    }
  }
  const zoomed = clippedZoom(field, size, 1, zoom);
  for (let i = 0; i < n; i++) {
    let v = zoomed[i]!;
    if (v < thresh) v = 0;
    layer8[i] = Math.trunc((v < 0 ? 0 : v > 1 ? 1 : v) * 255);
  }
  const angle = -135 + 90 * rng.float();
  const blurred = motionBlur(
    layer8,
    size,
    size,
    1,
    motionKernel(radius, sigma, angle),
  );
  const f = Math.fround;
  const unit = kUnit, unit32 = kUnit32;
  // The float32 products of one 8-bit sample, tabulated (the same values):
  // the grey weights' terms, blend·x and (1 − blend)·x.
  const k299 = f(0.299), k587 = f(0.587), k114 = f(0.114);
  const keep = f(1 - blend);
  const t = kSnowTables;
  for (let v = 0; v < 256; v++) {
    const x = unit32[v]!;
    t[v] = f(x * k299);
    t[256 + v] = f(x * k587);
    t[512 + v] = f(x * k114);
    t[768 + v] = f(blend * x);
    t[1024 + v] = f(keep * x);
  }
  const res = new Uint8Array(data.length);
  for (let p = 0, q = 0; p < n; p++, q += 3) {
    const ir = data[q]!, ig = data[q + 1]!, ib = data[q + 2]!;
    const r = unit32[ir]!, g = unit32[ig]!, b = unit32[ib]!;
    // cv2.cvtColor(RGB2GRAY) on float32, then * 1.5 + 0.5.
    const grey = f(f(t[ir]! + t[256 + ig]!) + t[512 + ib]!);
    const lift = f(f(grey * 1.5) + 0.5);
    const keepLift = f(keep * lift);
    const snowAt = unit[blurred[p]!]! + unit[blurred[n - 1 - p]!]!;
    // toUint8 of blend·x + (1 − blend)·max(x, lift) + snow.
    const v0 = f(t[768 + ir]! + (r > lift ? t[1024 + ir]! : keepLift)) + snowAt;
    const v1 = f(t[768 + ig]! + (g > lift ? t[1024 + ig]! : keepLift)) + snowAt;
    const v2 = f(t[768 + ib]! + (b > lift ? t[1024 + ib]! : keepLift)) + snowAt;
    res[q] = (v0 < 0 ? 0 : v0 > 1 ? 1 : v0) * 255;
    res[q + 1] = (v1 < 0 ? 0 : v1 > 1 ? 1 : v1) * 255;
    res[q + 2] = (v2 < 0 ? 0 : v2 > 1 ? 1 : v2) * 255;
  }
  return res;
}

/**
 * The original's `plasma_fractal(mapsize, wibbledecay)`: diamond-square
 * heightmap, normalised to [0, 1]; row-major `mapsize²` float64.
 */
export function plasmaFractal(
  mapsize: number,
  wibbledecay: number,
  rng: Rng,
): Float64Array {
  const m = mapsize;
  const a = new Float64Array(m * m);
  let step = m;
  let wibble = 100;
  const noise = (): number => wibble * (-wibble + 2 * wibble * rng.float());
  while (step >= 2) {
    const half = step / 2;
    const g = m / step;
    // Squares: centre = mean of the four corners + wibble.
    for (let i = 0; i < g; i++) {
      for (let j = 0; j < g; j++) {
        const c00 = a[i * step * m + j * step]!;
        const c10 = a[((i + 1) % g) * step * m + j * step]!;
        const c01 = a[i * step * m + ((j + 1) % g) * step]!;
        const c11 = a[((i + 1) % g) * step * m + ((j + 1) % g) * step]!;
        const acc = (c00 + c10) + (c01 + c11);
        a[(i * step + half) * m + j * step + half] = acc / 4 + noise();
      }
    }
    // Diamonds: (0::s, half::s) then (half::s, 0::s).
    const dr = (i: number, j: number) =>
      a[(((i + g) % g) * step + half) * m + ((j + g) % g) * step + half]!;
    const ul = (i: number, j: number) =>
      a[((i + g) % g) * step * m + ((j + g) % g) * step]!;
    const top = new Float64Array(g * g);
    for (let i = 0; i < g; i++) {
      for (let j = 0; j < g; j++) {
        const s = (dr(i, j) + dr(i - 1, j)) + (ul(i, j) + ul(i, j + 1));
        top[i * g + j] = s / 4 + noise();
      }
    }
    const left = new Float64Array(g * g);
    for (let i = 0; i < g; i++) {
      for (let j = 0; j < g; j++) {
        const s = (dr(i, j) + dr(i, j - 1)) + (ul(i, j) + ul(i + 1, j));
        left[i * g + j] = s / 4 + noise();
      }
    }
    for (let i = 0; i < g; i++) {
      for (let j = 0; j < g; j++) {
        a[i * step * m + j * step + half] = top[i * g + j]!;
        a[(i * step + half) * m + j * step] = left[i * g + j]!;
      }
    }
    step = half;
    wibble /= wibbledecay;
  }
  let lo = Infinity;
  for (let i = 0; i < a.length; i++) if (a[i]! < lo) lo = a[i]!;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    a[i]! -= lo;
    if (a[i]! > hi) hi = a[i]!;
  }
  for (let i = 0; i < a.length; i++) a[i]! /= hi;
  return a;
}

/** Fog (random: the plasma fractal). */
export function fog(
  data: Uint8Array,
  size: number,
  severity: Severity,
  rng: Rng,
): Uint8Array {
  const [strength, decay] = kConstants.fog[severity - 1]!;
  const plasma = plasmaFractal(256, decay, rng);
  const x = toFloat(data);
  let maxVal = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i]! > maxVal) maxVal = x[i]!;
  for (let y = 0; y < size; y++) {
    for (let xx = 0; xx < size; xx++) {
      const add = strength * plasma[y * 256 + xx]!;
      for (let c = 0; c < 3; c++) {
        const i = (y * size + xx) * 3 + c;
        x[i] = ((x[i]! + add) * maxVal) / (maxVal + strength);
      }
    }
  }
  return toUint8(x);
}

/** skimage `rgb2hsv` of one pixel (components in [0, 1]). */
export function rgbToHsv(
  r: number,
  g: number,
  b: number,
): [number, number, number] {
  const v = Math.max(r, g, b);
  const delta = v - Math.min(r, g, b);
  const s = delta === 0 ? 0 : delta / v;
  let h = 0;
  if (delta !== 0) {
    // Later matches win, as in skimage (blue over green over red).
    if (b === v) h = 4 + (r - g) / delta;
    else if (g === v) h = 2 + (b - r) / delta;
    else h = (g - b) / delta;
    h = h / 6;
    h = ((h % 1) + 1) % 1;
  }
  return [h, s, v];
}

/** skimage `hsv2rgb` of one pixel. */
export function hsvToRgb(
  h: number,
  s: number,
  v: number,
): [number, number, number] {
  const hi0 = Math.floor(h * 6);
  const f = h * 6 - hi0;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  switch (((hi0 % 6) + 6) % 6) {
    case 0:
      return [v, t, p];
    case 1:
      return [q, v, p];
    case 2:
      return [p, v, t];
    case 3:
      return [p, q, v];
    case 4:
      return [t, p, v];
    default:
      return [v, p, q];
  }
}

/**
 * Brightness (deterministic): `rgbToHsv`, V + c clipped, `hsvToRgb` and
 * `toUint8`, inlined per pixel with the same expressions. Two steps are
 * rewritten without `%`, with equal results: |h| < 1 here, so `h % 1` is h,
 * and `(h + 1) % 1` is `h + 1 − 1` when h + 1 ≥ 1 (fmod is exact).
 */
export function brightness(data: Uint8Array, severity: Severity): Uint8Array {
  const c = kConstants.brightness[severity - 1]!;
  const unit = kUnit;
  const res = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i += 3) {
    const r = unit[data[i]!]!, g = unit[data[i + 1]!]!, b = unit[data[i + 2]!]!;
    const v = Math.max(r, g, b);
    const delta = v - Math.min(r, g, b);
    const s = delta === 0 ? 0 : delta / v;
    let h = 0;
    if (delta !== 0) {
      // Later matches win, as in skimage (blue over green over red).
      if (b === v) h = 4 + (r - g) / delta;
      else if (g === v) h = 2 + (b - r) / delta;
      else h = (g - b) / delta;
      h = h / 6 + 1;
      if (h >= 1) h -= 1;
    }
    const v2 = Math.min(1, Math.max(0, v + c));
    let hi0 = Math.floor(h * 6);
    const f = h * 6 - hi0;
    const p = v2 * (1 - s);
    const q = v2 * (1 - f * s);
    const t = v2 * (1 - (1 - f) * s);
    if (hi0 < 0 || hi0 > 5) hi0 = ((hi0 % 6) + 6) % 6;
    let ro: number, go: number, bo: number;
    switch (hi0) {
      case 0:
        ro = v2, go = t, bo = p;
        break;
      case 1:
        ro = q, go = v2, bo = p;
        break;
      case 2:
        ro = p, go = v2, bo = t;
        break;
      case 3:
        ro = p, go = q, bo = v2;
        break;
      case 4:
        ro = t, go = p, bo = v2;
        break;
      default:
        ro = v2, go = p, bo = q;
    }
    // toUint8: clip, scale, truncate.
    res[i] = Math.trunc((ro < 0 ? 0 : ro > 1 ? 1 : ro) * 255);
    res[i + 1] = Math.trunc((go < 0 ? 0 : go > 1 ? 1 : go) * 255);
    res[i + 2] = Math.trunc((bo < 0 ? 0 : bo > 1 ? 1 : bo) * 255);
  }
  return res;
}
