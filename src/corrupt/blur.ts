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
import { gaussianKernel1d, mapIndex } from "./filters.ts";
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
  return diskFilterBytes(data, size, radius, alias);
}

/**
 * The bytes (`toUint8`) of `diskFilter` on an RGB image. Where the kernel
 * folds, the correction is bracketed and summed tap by tap only where a
 * byte could differ; `widen` multiplies the brackets' half-widths (tests
 * widen them to send samples down the slower paths).
 */
export function diskFilterBytes(
  data: Uint8Array,
  size: number,
  radius: number,
  aliasBlur: number,
  widen = 1,
): Uint8Array {
  const out = new Uint8Array(data.length);
  diskFilterRows(
    data,
    size,
    3,
    radius,
    aliasBlur,
    (y, row, fix) => {
      const o = y * row.length;
      if (fix) {
        correctToBytes(row, fix, y, out, o);
        return;
      }
      for (let i = 0; i < row.length; i++) out[o + i] = toByte(row[i]!);
    },
    widen,
    out,
  );
  return out;
}

/**
 * Grow-only scratch arrays, one per slot, reused across calls: a fresh array
 * of a megabyte costs more (page faults on first touch) than the work done
 * in it. Contents are stale: callers write every element they read.
 */
const kScratchF64: Float64Array[] = [];
const kScratchI32: Int32Array[] = [];
const kScratchU8: Uint8Array[] = [];
function scratchF64(slot: number, n: number): Float64Array {
  let a = kScratchF64[slot];
  if (!a || a.length < n) kScratchF64[slot] = a = new Float64Array(n);
  return a.length === n ? a : a.subarray(0, n);
}
function scratchI32(slot: number, n: number): Int32Array {
  let a = kScratchI32[slot];
  if (!a || a.length < n) kScratchI32[slot] = a = new Int32Array(n);
  return a.length === n ? a : a.subarray(0, n);
}
function scratchU8(slot: number, n: number): Uint8Array {
  let a = kScratchU8[slot];
  if (!a || a.length < n) kScratchU8[slot] = a = new Uint8Array(n);
  return a.length === n ? a : a.subarray(0, n);
}

/** `b / 255` for every byte b (the same doubles as the division). */
const kByteToUnit = Float64Array.from({ length: 256 }, (_, b) => b / 255);
/** The same rounded to float32: the original's `float32(x) / 255`. */
const kByteToUnit32 = Float64Array.from(
  { length: 256 },
  (_, b) => Math.fround(b / 255),
);

/** The original's `np.uint8(np.clip(v, 0, 1) * 255)`; monotone in v. */
function toByte(v: number): number {
  return Math.trunc((v < 0 ? 0 : v > 1 ? 1 : v) * 255);
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
  const out = new Float64Array(size * size * channels);
  diskFilterRows(data, size, channels, radius, aliasBlur, (y, row, fix) => {
    if (fix) addCorrection(row, fix.pad, y * fix.pw * fix.C, fix.cOff, fix.cW);
    out.set(row, y * row.length);
  });
  return out;
}

/** The pieces of `diskFilter`: alias Gaussian, disk rows, correction taps. */
interface DiskPlan {
  g: Float64Array;
  /** Half-width of the disk per kernel row (-1: empty row). */
  spanW: Int32Array;
  area: number;
  /** Kernel half-size. */
  half: number;
  /** Correction taps: offsets (padded HWC, from the box corner) and weights. */
  cOff: Int32Array;
  cW: Float64Array;
  /** The correction taps on the (k + 2·rg)² grid, zeros elsewhere. */
  cGrid: Float64Array;
  /** `diskFix`'s terms, worked out on first use. */
  fix?: DiskFix;
}

/** Plans by (radius, alias, size, channels): pure functions of those. */
const kDiskPlans = new Map<string, DiskPlan>();

function diskPlan(
  radius: number,
  aliasBlur: number,
  size: number,
  channels: number,
): DiskPlan {
  const key = `${radius}/${aliasBlur}/${size}/${channels}`;
  let plan = kDiskPlans.get(key);
  if (!plan) {
    plan = makeDiskPlan(radius, aliasBlur, size, channels);
    if (kDiskPlans.size < 64) kDiskPlans.set(key, plan);
  }
  return plan;
}

function makeDiskPlan(
  radius: number,
  aliasBlur: number,
  size: number,
  channels: number,
): DiskPlan {
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
  const cGrid = new Float64Array(k2 * k2);
  const pw = size + 2 * (half + rg); // row length of the padded image
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
        cGrid[y * k2 + x] = d;
      }
    }
  }
  return {
    g,
    spanW,
    area,
    half,
    cOff: Int32Array.from(cOff),
    cW: Float64Array.from(cW),
    cGrid,
  };
}

/**
 * `diskFilter`, handing each output row (`size · channels` samples, a reused
 * buffer) to `emit`, before the correction taps (`fix`, where the kernel
 * folds) are added. Rows flow through: disk sums of one row, its
 * g pass along x, and g along y once `ks` of those are ready; every float sum
 * keeps the order of the direct form, so the values are the same bits.
 * Given `bytes`, rows whose fold bracket is `even` skip `emit`: their bytes
 * go straight there (`fusedBytes`).
 */
function diskFilterRows(
  data: Uint8Array,
  size: number,
  channels: number,
  radius: number,
  aliasBlur: number,
  emit: (y: number, row: Float64Array, fix?: DiskFix) => void,
  widen = 1,
  bytes?: Uint8Array,
): void {
  const plan = diskPlan(radius, aliasBlur, size, channels);
  const { g, area, half, cW } = plan;
  const ks = g.length, rg = (ks - 1) >> 1;
  const C = channels;
  const pr = half + rg; // padding of the image
  const pw = size + 2 * pr;
  const nc = cW.length;
  const pad = nc > 0 ? padImage(data, size, C, pr) : undefined;
  const pk = packedRows(data, size, C, pr, plan.spanW, half);
  const fix = pad ? diskFix(plan, pad, pw, C, widen) : undefined;
  const m = size + 2 * rg;
  const mC = m * C, RS = size * C;
  const scale = area * 255;
  const disk = new Float64Array(mC);
  // Ring of the last ks rows of the g pass along x.
  const hx: Float64Array[] = [];
  for (let i = 0; i < ks; i++) hx.push(new Float64Array(RS));
  const row = new Float64Array(RS);
  const g0 = g[0]!, g1 = g[1]!, g2 = g[2]!;
  const g3 = ks > 3 ? g[3]! : 0, g4 = ks > 4 ? g[4]! : 0;
  const C2 = 2 * C, C3 = 3 * C, C4 = 4 * C;
  for (let y = 0; y < m; y++) {
    const h = hx[y % ks]!;
    if (packedDiskRow(pk, y, disk, scale)) {
      diskGx(pk.sums, m, scale, g, h);
    } else if (ks === 3) {
      for (let i = 0; i < RS; i++) {
        h[i] = g0 * disk[i]! + g1 * disk[i + C]! + g2 * disk[i + C2]!;
      }
    } else {
      for (let i = 0; i < RS; i++) {
        h[i] = g0 * disk[i]! + g1 * disk[i + C]! + g2 * disk[i + C2]! +
          g3 * disk[i + C3]! + g4 * disk[i + C4]!;
      }
    }
    if (y < ks - 1) continue;
    const oy = y - ks + 1;
    const h0 = hx[oy % ks]!, h1 = hx[(oy + 1) % ks]!, h2 = hx[(oy + 2) % ks]!;
    if (bytes && fix && fix.even) {
      // g along y, the first stage and the bytes in one pass.
      const h3 = ks > 3 ? hx[(oy + 3) % ks]! : h0;
      const h4 = ks > 4 ? hx[(oy + 4) % ks]! : h0;
      fusedBytes(h0, h1, h2, h3, h4, g, fix, oy, bytes, oy * RS);
      continue;
    }
    if (ks === 3) {
      for (let i = 0; i < RS; i++) {
        row[i] = g0 * h0[i]! + g1 * h1[i]! + g2 * h2[i]!;
      }
    } else {
      const h3 = hx[(oy + 3) % ks]!, h4 = hx[(oy + 4) % ks]!;
      for (let i = 0; i < RS; i++) {
        row[i] = g0 * h0[i]! + g1 * h1[i]! + g2 * h2[i]! + g3 * h3[i]! +
          g4 * h4[i]!;
      }
    }
    emit(oy, row, fix);
  }
}

/**
 * Disk sums with three channels packed in one float64, c0 + c1·2^17 +
 * c2·2^34 (other channel counts: one a word): integers below 2^53 add
 * exactly, and a channel's disk sum (at most 255 · area < 2^17) cannot
 * carry into the next, so one read serves three samples. Row prefix sums
 * of the packed pixels (below 2^51) in a ring of rows; the disk row by
 * row, two reads a row.
 */
interface PackedRows {
  /** Row prefix sums, padded row Y in slot Y % ring, (pw + 1)·W a row. */
  PP: Float64Array;
  ring: number;
  /** Channels a word (3 or 1) and words a pixel. */
  F: number;
  W: number;
  /** Padded rows made so far. */
  done: number;
  data: Uint8Array;
  size: number;
  pr: number;
  idx: Int32Array;
  /** Offset of the pair sums (row Y + row Y + 1) in PP, and the last row. */
  pairs: number;
  last: number;
  /**
   * Disk rows (kernel rows j, the first of a pair) and their span bounds
   * (words, from the row, plus `pairs` for a pair).
   */
  rowsJ: Int32Array;
  hiO: Int32Array;
  loO: Int32Array;
  sums: Float64Array;
}

const kP17 = 131072;
const kP34 = 17179869184;

function packedRows(
  data: Uint8Array,
  size: number,
  C: number,
  pr: number,
  spanW: Int32Array,
  half: number,
): PackedRows {
  const pw = size + 2 * pr, k = spanW.length;
  const F = C === 3 ? 3 : 1, W = C / F;
  const idx = scratchI32(27, pw);
  for (let i = 0; i < pw; i++) idx[i] = mapIndex(i - pr, size, "reflect101");
  // Two kernel rows of the same span read the sums of two prefix rows
  // (the second half of PP, `pairs` from the first).
  const ring = k + 1, pairs = ring * (pw + 1) * W;
  const rowsJ: number[] = [], hiO: number[] = [], loO: number[] = [];
  let last = 0;
  for (let j = 0; j < k; j++) {
    const w = spanW[j]!;
    if (w < 0) continue;
    const two = j + 1 < k && spanW[j + 1] === w;
    rowsJ.push(j);
    hiO.push((half + w + 1) * W + (two ? pairs : 0));
    loO.push((half - w) * W + (two ? pairs : 0));
    if (two) j++;
    last = j;
  }
  return {
    PP: scratchF64(25, 2 * pairs),
    pairs,
    last,
    ring,
    F,
    W,
    done: 0,
    data,
    size,
    pr,
    idx,
    rowsJ: Int32Array.from(rowsJ),
    hiO: Int32Array.from(hiO),
    loO: Int32Array.from(loO),
    sums: scratchF64(26, pw * W),
  };
}

/**
 * `disk[x·C + c] = (disk sum of channel c at output column x) / scale` for
 * the disk whose top kernel row is padded row y, output columns 0..m − 1
 * (m = disk.length / C); with three channels, returns true instead and
 * leaves the packed sums in `pk.sums` for `diskGx`.
 */
function packedDiskRow(
  pk: PackedRows,
  y: number,
  disk: Float64Array,
  scale: number,
): boolean {
  const { PP, ring, F, W, data, size, pr, idx, rowsJ, hiO, loO, sums } = pk;
  const pw = size + 2 * pr, PS = (pw + 1) * W, pairs = pk.pairs;
  const nj = rowsJ.length, n = (disk.length / F) | 0;
  const end = y + pk.last + 1;
  for (; pk.done < end; pk.done++) {
    const Y = pk.done, sy = idx[Y]! * size, b = (Y % ring) * PS;
    if (F === 3) {
      let s = 0;
      PP[b] = 0;
      for (let x = 0; x < pw; x++) {
        const q = (sy + idx[x]!) * 3;
        s += data[q]! + data[q + 1]! * kP17 + data[q + 2]! * kP34;
        PP[b + x + 1] = s;
      }
    } else {
      for (let c = 0; c < W; c++) PP[b + c] = 0;
      for (let x = 0; x < pw; x++) {
        const q = (sy + idx[x]!) * W, o = b + x * W;
        for (let c = 0; c < W; c++) PP[o + W + c] = PP[o + c]! + data[q + c]!;
      }
    }
    if (Y === 0) continue;
    const a = ((Y - 1) % ring) * PS, d = pairs + a;
    for (let x = 0; x < PS; x++) PP[d + x] = PP[a + x]! + PP[b + x]!;
  }
  // Four disk rows a pass; every partial sum is a sum of spans, exact.
  let t = 0;
  for (; t + 4 <= nj; t += 4) {
    const h0 = ((y + rowsJ[t]!) % ring) * PS;
    const h1 = ((y + rowsJ[t + 1]!) % ring) * PS;
    const h2 = ((y + rowsJ[t + 2]!) % ring) * PS;
    const h3 = ((y + rowsJ[t + 3]!) % ring) * PS;
    const a0 = h0 + hiO[t]!, b0 = h0 + loO[t]!;
    const a1 = h1 + hiO[t + 1]!, b1 = h1 + loO[t + 1]!;
    const a2 = h2 + hiO[t + 2]!, b2 = h2 + loO[t + 2]!;
    const a3 = h3 + hiO[t + 3]!, b3 = h3 + loO[t + 3]!;
    if (t === 0) {
      for (let x = 0; x < n; x++) {
        sums[x] = (PP[a0 + x]! - PP[b0 + x]!) + (PP[a1 + x]! - PP[b1 + x]!) +
          (PP[a2 + x]! - PP[b2 + x]!) + (PP[a3 + x]! - PP[b3 + x]!);
      }
    } else {
      for (let x = 0; x < n; x++) {
        sums[x] = sums[x]! + (PP[a0 + x]! - PP[b0 + x]!) +
          (PP[a1 + x]! - PP[b1 + x]!) + (PP[a2 + x]! - PP[b2 + x]!) +
          (PP[a3 + x]! - PP[b3 + x]!);
      }
    }
  }
  if (t === 0) sums.fill(0, 0, n);
  if (t + 2 <= nj) {
    const h0 = ((y + rowsJ[t]!) % ring) * PS;
    const h1 = ((y + rowsJ[t + 1]!) % ring) * PS;
    const a0 = h0 + hiO[t]!, b0 = h0 + loO[t]!;
    const a1 = h1 + hiO[t + 1]!, b1 = h1 + loO[t + 1]!;
    for (let x = 0; x < n; x++) {
      sums[x] = sums[x]! + (PP[a0 + x]! - PP[b0 + x]!) +
        (PP[a1 + x]! - PP[b1 + x]!);
    }
    t += 2;
  }
  for (; t < nj; t++) {
    const h = ((y + rowsJ[t]!) % ring) * PS;
    const a = h + hiO[t]!, b = h + loO[t]!;
    for (let x = 0; x < n; x++) sums[x] = sums[x]! + (PP[a + x]! - PP[b + x]!);
  }
  if (F === 3) return true;
  for (let x = 0; x < n; x++) disk[x] = sums[x]! / scale;
  return false;
}

/**
 * The g pass along x of a row of packed disk sums (`m` pixels) into `h`
 * (`(m − ks + 1)·3` samples): each pixel is unpacked (the fields are below
 * 2^17, so floor division splits them) and divided by `scale` once, into a
 * window of the last ks pixels; the same products in the same order as
 * the pass over an unpacked row.
 */
function diskGx(
  sums: Float64Array,
  m: number,
  scale: number,
  g: Float64Array,
  h: Float64Array,
): void {
  const g0 = g[0]!, g1 = g[1]!, g2 = g[2]!;
  // Window: a = oldest pixel, then b, c (, d, e).
  let a0 = 0, a1 = 0, a2 = 0, b0 = 0, b1 = 0, b2 = 0, c0 = 0, c1 = 0, c2 = 0;
  let d0 = 0, d1 = 0, d2 = 0;
  if (g.length === 3) {
    for (let x = 0, o = -6; x < m; x++, o += 3) {
      const v = sums[x]!;
      const f2 = Math.floor(v / kP34), r = v - f2 * kP34;
      const f1 = Math.floor(r / kP17);
      a0 = b0, a1 = b1, a2 = b2, b0 = c0, b1 = c1, b2 = c2;
      c0 = (r - f1 * kP17) / scale, c1 = f1 / scale, c2 = f2 / scale;
      if (x < 2) continue;
      h[o] = g0 * a0 + g1 * b0 + g2 * c0;
      h[o + 1] = g0 * a1 + g1 * b1 + g2 * c1;
      h[o + 2] = g0 * a2 + g1 * b2 + g2 * c2;
    }
    return;
  }
  const g3 = g[3]!, g4 = g[4]!;
  let e0 = 0, e1 = 0, e2 = 0;
  for (let x = 0, o = -12; x < m; x++, o += 3) {
    const v = sums[x]!;
    const f2 = Math.floor(v / kP34), r = v - f2 * kP34;
    const f1 = Math.floor(r / kP17);
    a0 = b0, a1 = b1, a2 = b2, b0 = c0, b1 = c1, b2 = c2;
    c0 = d0, c1 = d1, c2 = d2, d0 = e0, d1 = e1, d2 = e2;
    e0 = (r - f1 * kP17) / scale, e1 = f1 / scale, e2 = f2 / scale;
    if (x < 4) continue;
    h[o] = g0 * a0 + g1 * b0 + g2 * c0 + g3 * d0 + g4 * e0;
    h[o + 1] = g0 * a1 + g1 * b1 + g2 * c1 + g3 * d1 + g4 * e1;
    h[o + 2] = g0 * a2 + g1 * b2 + g2 * c2 + g3 * d2 + g4 * e2;
  }
}

/** The reflect-101 padded 8-bit image (for the correction taps). */
function padImage(
  data: Uint8Array,
  size: number,
  C: number,
  pr: number,
): Uint8Array {
  const pw = size + 2 * pr, n = pw * C, mid = pr * C, rowLen = size * C;
  const pad = scratchU8(0, pw * n);
  const idx = new Int32Array(pw);
  for (let i = 0; i < pw; i++) idx[i] = mapIndex(i - pr, size, "reflect101");
  for (let y = 0; y < pw; y++) {
    const src = idx[y]! * size * C, o = y * n;
    pad.set(data.subarray(src, src + rowLen), o + mid);
    for (let x = 0; x < pw; x++) {
      if (x === pr) x += size;
      const s = src + idx[x]! * C;
      for (let c = 0; c < C; c++) pad[o + x * C + c] = data[s + c]!;
    }
  }
  return pad;
}

/**
 * The correction taps of a disk kernel that folds at its box, and a cheap
 * bracket of their sum. The fold is linear along each axis: with F the
 * folded 1-D pass of g on the box, G the plain one and M = F − G (non-zero
 * only within rg of the box's edges), the correction is
 * M_y·(G_x·D) + G_y·(M_x·D) (+ M_y·M_x·D, zero unless the disk's edge
 * columns reach a corner). Each term is a coefficient times a row of G_x·D
 * (g ⊛ a span of the disk) or a column of G_y·D, so its sum over the image
 * is one span of the g-filtered image: two reads of a prefix-sum table
 * (`hp` rows for the first kind, `vp` columns for the second). The terms
 * kept reproduce the taps to within a bracket on the output value (from
 * the measured difference of the kernels, the small terms left out, float
 * rounding: each pixel in [0, 1] moves the value by its residual weight,
 * so the negative and the positive residuals bound it either side); the
 * exact sum of all taps in order is taken only where that bracket
 * straddles a byte boundary.
 */
interface DiskFix {
  /** The reflect-101 padded 8-bit image. */
  pad: Uint8Array;
  pw: number;
  C: number;
  g: Float64Array;
  cOff: Int32Array;
  cW: Float64Array;
  /**
   * The bracket, as offsets from the value (lo ≤ 0 ≤ hi), after the first
   * stage's terms and after all.
   */
  lo1: number;
  hi1: number;
  lo2: number;
  hi2: number;
  /** How many of the span terms (h, v) are in the first stage. */
  nh1: number;
  nv1: number;
  /**
   * The first stage is four h and four v terms of one weight magnitude,
   * the first two of each positive (`fusedBytes` applies).
   */
  even: boolean;
  /** Row of first-stage values (the output row plus those terms). */
  acc: Float64Array;
  /**
   * Span terms along rows: weight, k2 row, and the two prefix columns
   * (times C). Their prefix rows (of the g-filtered image, 0..255 units)
   * live in a ring of k2 rows, padded row Y in slot Y % k2.
   */
  hW: Float64Array;
  hAt: Int32Array;
  hHi: Int32Array;
  hLo: Int32Array;
  hp: Float64Array;
  hpStride: number;
  hpRows: number;
  hpNext: number;
  /**
   * Span terms down columns: weight, the two prefix rows (offsets from the
   * output row) and the column (times C). Column-prefix rows live in a
   * ring of `vpRows` rows, prefix row Y' in slot Y' % vpRows.
   */
  vW: Float64Array;
  vHi: Int32Array;
  vLo: Int32Array;
  vCol: Int32Array;
  vp: Float64Array;
  vpStride: number;
  vpRows: number;
  vpNext: number;
  /** Per output row: where each term's two reads start. */
  hP: Int32Array;
  hQ: Int32Array;
  vP: Int32Array;
  vQ: Int32Array;
}

/**
 * The bracket of `plan`'s correction over the padded image `pad`, its
 * half-widths times `widen`.
 */
function diskFix(
  plan: DiskPlan,
  pad: Uint8Array,
  pw: number,
  C: number,
  widen: number,
): DiskFix {
  const t = plan.fix ??= makeDiskFix(plan, pad, pw, C);
  // Fresh per-call state: the image, the rings (prefix row 0 is zeros).
  const vp = scratchF64(2, t.vpRows * t.vpStride);
  vp.fill(0, 0, t.vpStride);
  return {
    ...t,
    pad,
    lo1: t.lo1 * widen,
    hi1: t.hi1 * widen,
    lo2: t.lo2 * widen,
    hi2: t.hi2 * widen,
    acc: scratchF64(24, (pw - 2 * (plan.half + (plan.g.length >> 1))) * C),
    hp: scratchF64(1, t.hpRows * t.hpStride),
    hpNext: 0,
    vp,
    vpNext: 1,
    hP: new Int32Array(t.hW.length),
    hQ: new Int32Array(t.hW.length),
    vP: new Int32Array(t.vW.length),
    vQ: new Int32Array(t.vW.length),
  };
}

function makeDiskFix(
  plan: DiskPlan,
  pad: Uint8Array,
  pw: number,
  C: number,
): DiskFix {
  const { g, spanW, area, half, cOff, cW, cGrid } = plan;
  const ks = g.length, rg = (ks - 1) >> 1;
  const k = 2 * half + 1, k2 = k + 2 * rg;
  const pr = half + rg;
  // M = F − G on the k2 grid (rows: output index + rg, columns: box index).
  const M = new Float64Array(k2 * k);
  for (let o = -rg; o < k + rg; o++) {
    for (let i = 0; i < ks; i++) {
      const j = o + i - rg;
      if (o >= 0 && o < k) {
        M[(o + rg) * k + mapIndex(j, k, "reflect101")]! += g[i]!;
      }
      if (j >= 0 && j < k) M[(o + rg) * k + j]! -= g[i]!;
    }
  }
  // Disk half-heights per column (the disk is symmetric: = spanW).
  // g ⊛ (a centred span of half-width w) / area, on the k2 grid.
  const prof = (w: number): Float64Array => {
    const out = new Float64Array(k2);
    for (let x = 0; x < k2; x++) {
      let a = 0;
      for (let i = 0; i < ks; i++) {
        const d = x + i - rg - rg - half;
        if (Math.abs(d) <= w) a += g[i]!;
      }
      out[x] = a / area;
    }
    return out;
  };
  interface Term {
    vertical: boolean;
    at: number; // k2 row (horizontal terms) or column (vertical ones)
    w: number;
    coef: number;
    profile: Float64Array;
  }
  const terms: Term[] = [];
  for (let at = 0; at < k2; at++) {
    for (let j = 0; j < k; j++) {
      const coef = M[at * k + j]!;
      const w = spanW[j]!;
      if (coef === 0 || w < 0) continue;
      const profile = prof(w);
      terms.push({ vertical: false, at, w, coef, profile });
      terms.push({ vertical: true, at, w, coef, profile });
    }
  }
  terms.sort((a, b) => Math.abs(b.coef) - Math.abs(a.coef));
  // Two stages: the largest terms for every sample, and the rest only where
  // the first bracket straddles a byte boundary. A bracket of width w
  // sends ~255·w of the samples on to the next stage. In units of a
  // first-stage term (two reads per sample, in a row loop), a sample sent
  // on costs about 30 plus 2 per second-stage term (measured); the last
  // resort sums every tap.
  const approx = new Float64Array(k2 * k2);
  const rounding = 1e-11;
  // The bracket [lo, hi] of the taps' sum minus the terms' (pixels in
  // [0, 1]), float rounding included.
  const bracket = (): [number, number] => {
    let lo = -rounding, hi = rounding;
    for (let i = 0; i < approx.length; i++) {
      const r = cGrid[i]! - approx[i]!;
      if (r < 0) lo += r;
      else hi += r;
    }
    return [lo, hi];
  };
  const width = () => {
    const [lo, hi] = bracket();
    return hi - lo;
  };
  const addTerm = (t: Term) => {
    for (let u = 0; u < k2; u++) {
      const cell = t.vertical ? u * k2 + t.at : t.at * k2 + u;
      approx[cell]! += t.coef * t.profile[u]!;
    }
  };
  for (const t of terms) addTerm(t);
  const [lo2, hi2] = bracket();
  approx.fill(0);
  const n2 = terms.length;
  const stageCost = (n1: number, w1: number) =>
    n1 + 255 * w1 * (30 + 2 * (n2 - n1) + 255 * (hi2 - lo2) * cW.length);
  let best = 0, bestCost = stageCost(0, width());
  for (let n = 0; n < n2; n++) {
    addTerm(terms[n]!);
    const cost = stageCost(n + 1, width());
    if (cost < bestCost) {
      bestCost = cost;
      best = n + 1;
    }
  }
  approx.fill(0);
  for (let n = 0; n < best; n++) addTerm(terms[n]!);
  const [lo1, hi1] = bracket();
  // Stage-one terms first in each list; nh1, nv1 count them.
  // Positive weights first among the first stage's (the order of the
  // terms only moves float rounding, which the brackets cover).
  const first = terms.slice(0, best).sort((a, b) =>
    (b.coef > 0 ? 1 : 0) - (a.coef > 0 ? 1 : 0)
  );
  const kept = [...first, ...terms.slice(best)];
  let nh1 = 0, nv1 = 0;
  for (let n = 0; n < best; n++) {
    if (terms[n]!.vertical) nv1++;
    else nh1++;
  }
  const sign = (v: boolean) =>
    first.filter((t) => t.vertical === v).map((t) => Math.sign(t.coef))
      .join();
  const even = nh1 === 4 && nv1 === 4 &&
    first.every((t) => Math.abs(t.coef) === Math.abs(first[0]!.coef)) &&
    sign(false) === "1,1,-1,-1" && sign(true) === "1,1,-1,-1";
  const hpStride = (pw + 1) * C, vpStride = pw * C;
  const hW: number[] = [], hAt: number[] = [], hHi: number[] = [];
  const hLo: number[] = [];
  const vW: number[] = [], vHi: number[] = [], vLo: number[] = [];
  const vCol: number[] = [];
  let wv = 0;
  for (const t of kept) {
    // Output sample (oy, ox) sees k2 cell (r, c) at padded (oy + r, ox + c);
    // the span is centred on the kernel's centre, padded offset pr.
    if (t.vertical) {
      vW.push(t.coef / (area * 255));
      vHi.push(pr + t.w + 1);
      vLo.push(pr - t.w);
      vCol.push(t.at * C);
      wv = Math.max(wv, t.w);
    } else {
      hW.push(t.coef / (area * 255));
      hAt.push(t.at);
      hHi.push((pr + t.w + 1) * C);
      hLo.push((pr - t.w) * C);
    }
  }
  const vpRows = 2 * wv + 3;
  const vp = scratchF64(2, vpRows * vpStride);
  vp.fill(0, 0, vpStride); // prefix row 0
  return {
    pad,
    pw,
    C,
    g,
    cOff,
    cW,
    lo1,
    hi1,
    lo2,
    hi2,
    nh1,
    nv1,
    even,
    acc: new Float64Array(0),
    hW: Float64Array.from(hW),
    hAt: Int32Array.from(hAt),
    hHi: Int32Array.from(hHi),
    hLo: Int32Array.from(hLo),
    hp: scratchF64(1, k2 * hpStride),
    hpRows: k2,
    hpStride,
    hpNext: 0,
    vW: Float64Array.from(vW),
    vHi: Int32Array.from(vHi),
    vLo: Int32Array.from(vLo),
    vCol: Int32Array.from(vCol),
    vp,
    vpStride,
    vpRows,
    vpNext: 1, // prefix row 0 (zeros) is in slot 0
    hP: new Int32Array(hW.length),
    hQ: new Int32Array(hW.length),
    vP: new Int32Array(vW.length),
    vQ: new Int32Array(vW.length),
  };
}

/**
 * Bring the rings of `fix` up to output row `y` and point each term's reads
 * at them: rows are computed once, in order, while they are needed.
 */
function advanceFix(fix: DiskFix, y: number): void {
  const { pad, pw, C, g, hp, hpStride, vp, vpStride, vpRows } = fix;
  const ks = g.length, rg = (ks - 1) >> 1;
  const k2 = fix.hpRows;
  const rs = pw * C;
  const g0 = g[0]!, g1 = g[1]!, g2 = g[2]!;
  const g3 = ks > 3 ? g[3]! : 0, g4 = ks > 4 ? g[4]! : 0;
  const C2 = 2 * C, C3 = 3 * C, C4 = 4 * C;
  const lo = rg * C, hi = (pw - rg) * C;
  let hNeed = 0;
  for (let t = 0; t < fix.hAt.length; t++) {
    hNeed = Math.max(hNeed, y + fix.hAt[t]!);
  }
  // g is symmetric (g[i] = g[ks − 1 − i]); these sums only feed the
  // bracket, so their order is free.
  for (; fix.hpNext <= hNeed; fix.hpNext++) {
    // Prefix along the padded row Y of (g ⊛ row): hp[b + i] for i = x·C + c
    // holds the sum over columns before x.
    const Y = fix.hpNext;
    const b = (Y % k2) * hpStride + C, q = Y * rs - lo;
    hp.fill(0, b - C, b + lo);
    if (C === 3) {
      // Running sums in locals: no store-to-load chain.
      let s0 = 0, s1 = 0, s2 = 0;
      if (ks === 5) {
        // The five pixels under g in registers, one new pixel a step.
        let a0 = pad[q + lo]!, a1 = pad[q + lo + 1]!, a2 = pad[q + lo + 2]!;
        let b0 = pad[q + lo + 3]!, b1 = pad[q + lo + 4]!;
        let b2 = pad[q + lo + 5]!, c0 = pad[q + lo + 6]!;
        let c1 = pad[q + lo + 7]!, c2 = pad[q + lo + 8]!;
        let d0 = pad[q + lo + 9]!, d1 = pad[q + lo + 10]!;
        let d2 = pad[q + lo + 11]!;
        for (let i = lo; i < hi; i += 3) {
          const p = q + i;
          const e0 = pad[p + 12]!, e1 = pad[p + 13]!, e2 = pad[p + 14]!;
          s0 += g0 * (a0 + e0) + g1 * (b0 + d0) + g2 * c0;
          s1 += g0 * (a1 + e1) + g1 * (b1 + d1) + g2 * c1;
          s2 += g0 * (a2 + e2) + g1 * (b2 + d2) + g2 * c2;
          hp[b + i] = s0;
          hp[b + i + 1] = s1;
          hp[b + i + 2] = s2;
          a0 = b0, a1 = b1, a2 = b2, b0 = c0, b1 = c1, b2 = c2;
          c0 = d0, c1 = d1, c2 = d2, d0 = e0, d1 = e1, d2 = e2;
        }
      } else {
        // ks = 3: the three pixels under g.
        let a0 = pad[q + lo]!, a1 = pad[q + lo + 1]!, a2 = pad[q + lo + 2]!;
        let b0 = pad[q + lo + 3]!, b1 = pad[q + lo + 4]!;
        let b2 = pad[q + lo + 5]!;
        for (let i = lo; i < hi; i += 3) {
          const p = q + i;
          const c0 = pad[p + 6]!, c1 = pad[p + 7]!, c2 = pad[p + 8]!;
          s0 += g0 * (a0 + c0) + g1 * b0;
          s1 += g0 * (a1 + c1) + g1 * b1;
          s2 += g0 * (a2 + c2) + g1 * b2;
          hp[b + i] = s0;
          hp[b + i + 1] = s1;
          hp[b + i + 2] = s2;
          a0 = b0, a1 = b1, a2 = b2, b0 = c0, b1 = c1, b2 = c2;
        }
      }
    } else {
      for (let i = lo; i < hi; i++) {
        const p = q + i;
        const v = ks === 3
          ? g0 * pad[p]! + g1 * pad[p + C]! + g2 * pad[p + C2]!
          : g0 * pad[p]! + g1 * pad[p + C]! + g2 * pad[p + C2]! +
            g3 * pad[p + C3]! + g4 * pad[p + C4]!;
        hp[b + i] = hp[b + i - C]! + v;
      }
    }
    for (let i = hi; i < rs; i++) hp[b + i] = hp[b + i - C]!;
  }
  let vNeed = 0;
  for (let t = 0; t < fix.vHi.length; t++) {
    vNeed = Math.max(vNeed, y + fix.vHi[t]!);
  }
  const r1 = rs, r2 = 2 * rs, r3 = 3 * rs, r4 = 4 * rs;
  for (; fix.vpNext <= vNeed; fix.vpNext++) {
    // Prefix row Y' = prefix row Y' − 1 + (g ⊛ column) at padded row Y' − 1.
    const Y = fix.vpNext - 1;
    const b = (fix.vpNext % vpRows) * vpStride;
    const prev = (Y % vpRows) * vpStride;
    if (Y >= rg && Y + 1 < pw - rg) {
      // Two prefix rows a pass: their g sums share all but one pixel row.
      // The ring holds one row beyond the last one needed (2·wv + 3 rows).
      const q = (Y - rg) * rs;
      const b2 = ((fix.vpNext + 1) % vpRows) * vpStride, r5 = 5 * rs;
      if (ks === 3) {
        for (let i = 0; i < rs; i++) {
          const p = q + i;
          const x0 = pad[p]!, x1 = pad[p + r1]!, x2 = pad[p + r2]!;
          const v = vp[prev + i]! + g0 * (x0 + x2) + g1 * x1;
          vp[b + i] = v;
          vp[b2 + i] = v + g0 * (x1 + pad[p + r3]!) + g1 * x2;
        }
      } else {
        for (let i = 0; i < rs; i++) {
          const p = q + i;
          const x1 = pad[p + r1]!, x2 = pad[p + r2]!, x3 = pad[p + r3]!;
          const x4 = pad[p + r4]!;
          const v = vp[prev + i]! + g0 * (pad[p]! + x4) + g1 * (x1 + x3) +
            g2 * x2;
          vp[b + i] = v;
          vp[b2 + i] = v + g0 * (x1 + pad[p + r5]!) + g1 * (x2 + x4) +
            g2 * x3;
        }
      }
      fix.vpNext++;
    } else if (Y >= rg && Y < pw - rg) {
      const q = (Y - rg) * rs;
      if (ks === 3) {
        for (let i = 0; i < rs; i++) {
          const p = q + i;
          vp[b + i] = vp[prev + i]! + g0 * (pad[p]! + pad[p + r2]!) +
            g1 * pad[p + r1]!;
        }
      } else {
        for (let i = 0; i < rs; i++) {
          const p = q + i;
          vp[b + i] = vp[prev + i]! + g0 * (pad[p]! + pad[p + r4]!) +
            g1 * (pad[p + r1]! + pad[p + r3]!) + g2 * pad[p + r2]!;
        }
      }
    } else vp.copyWithin(b, prev, prev + rs);
  }
  for (let t = 0; t < fix.hAt.length; t++) {
    const row = ((y + fix.hAt[t]!) % k2) * hpStride;
    fix.hP[t] = row + fix.hHi[t]!;
    fix.hQ[t] = row + fix.hLo[t]!;
  }
  for (let t = 0; t < fix.vHi.length; t++) {
    fix.vP[t] = ((y + fix.vHi[t]!) % vpRows) * vpStride + fix.vCol[t]!;
    fix.vQ[t] = ((y + fix.vLo[t]!) % vpRows) * vpStride + fix.vCol[t]!;
  }
}

/**
 * Bytes of `row + correction` (output row `y`) into `out` at `o`, the same
 * as `toByte` of the exact sum: the span terms bracket the value within
 * [v + lo1, v + hi1]; where both ends give the same byte, so does the
 * exact value (`toByte` is monotone); elsewhere the exact sum, all taps in
 * order, decides.
 */
function correctToBytes(
  row: Float64Array,
  fix: DiskFix,
  y: number,
  out: Uint8Array,
  o: number,
): void {
  advanceFix(fix, y);
  const { lo1, hi1, hp, vp, hW, hP, hQ, vW, vP, vQ, nh1, nv1, acc } = fix;
  const n = row.length;
  if (nh1 === 4 && nv1 === 4) {
    // The usual case (severities 4 and 5), in one pass.
    const w0 = hW[0]!, w1 = hW[1]!, w2 = hW[2]!, w3 = hW[3]!;
    const p0 = hP[0]!, p1 = hP[1]!, p2 = hP[2]!, p3 = hP[3]!;
    const q0 = hQ[0]!, q1 = hQ[1]!, q2 = hQ[2]!, q3 = hQ[3]!;
    const u0 = vW[0]!, u1 = vW[1]!, u2 = vW[2]!, u3 = vW[3]!;
    const r0 = vP[0]!, r1 = vP[1]!, r2 = vP[2]!, r3 = vP[3]!;
    const s0 = vQ[0]!, s1 = vQ[1]!, s2 = vQ[2]!, s3 = vQ[3]!;
    for (let i = 0; i < n; i++) {
      const v = row[i]! +
        (w0 * (hp[p0 + i]! - hp[q0 + i]!) + w1 * (hp[p1 + i]! - hp[q1 + i]!) +
          w2 * (hp[p2 + i]! - hp[q2 + i]!) +
          w3 * (hp[p3 + i]! - hp[q3 + i]!)) +
        (u0 * (vp[r0 + i]! - vp[s0 + i]!) + u1 * (vp[r1 + i]! - vp[s1 + i]!) +
          u2 * (vp[r2 + i]! - vp[s2 + i]!) +
          u3 * (vp[r3 + i]! - vp[s3 + i]!));
      // toByte of both ends, inlined.
      const a = v + lo1, b = v + hi1;
      const lo = a <= 0 ? 0 : a >= 1 ? 255 : (a * 255) | 0;
      const hi = b <= 0 ? 0 : b >= 1 ? 255 : (b * 255) | 0;
      out[o + i] = lo === hi ? lo : refineByte(row[i]!, fix, y, i, v);
    }
    return;
  }
  acc.set(row);
  addSpans(acc, hp, hW, hP, hQ, 0, nh1);
  addSpans(acc, vp, vW, vP, vQ, 0, nv1);
  for (let i = 0; i < n; i++) {
    const v = acc[i]!;
    const lo = toByte(v + lo1);
    out[o + i] = lo === toByte(v + hi1)
      ? lo
      : refineByte(row[i]!, fix, y, i, v);
  }
}

/**
 * `correctToBytes` of the row `g0·h0 + g1·h1 + … (+ g4·h4 where g has five
 * taps)`, the g pass along y in the same order as `diskFilterRows`, for an
 * `even` first stage: one weight for its eight terms.
 */
function fusedBytes(
  h0: Float64Array,
  h1: Float64Array,
  h2: Float64Array,
  h3: Float64Array,
  h4: Float64Array,
  g: Float64Array,
  fix: DiskFix,
  y: number,
  out: Uint8Array,
  o: number,
): void {
  advanceFix(fix, y);
  const { lo1, hi1, hp, vp, hW, hP, hQ, vP, vQ } = fix;
  const n = h0.length, five = g.length === 5;
  const g0 = g[0]!, g1 = g[1]!, g2 = g[2]!;
  const g3 = five ? g[3]! : 0, g4 = five ? g[4]! : 0;
  const w = hW[0]!;
  const p0 = hP[0]!, p1 = hP[1]!, p2 = hP[2]!, p3 = hP[3]!;
  const q0 = hQ[0]!, q1 = hQ[1]!, q2 = hQ[2]!, q3 = hQ[3]!;
  const r0 = vP[0]!, r1 = vP[1]!, r2 = vP[2]!, r3 = vP[3]!;
  const s0 = vQ[0]!, s1 = vQ[1]!, s2 = vQ[2]!, s3 = vQ[3]!;
  const at = scratchI32(28, n), rv = scratchF64(29, 2 * n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const r = five
      ? g0 * h0[i]! + g1 * h1[i]! + g2 * h2[i]! + g3 * h3[i]! + g4 * h4[i]!
      : g0 * h0[i]! + g1 * h1[i]! + g2 * h2[i]!;
    const v = r +
      w * ((hp[p0 + i]! - hp[q0 + i]!) + (hp[p1 + i]! - hp[q1 + i]!) -
          (hp[p2 + i]! - hp[q2 + i]!) - (hp[p3 + i]! - hp[q3 + i]!) +
          (vp[r0 + i]! - vp[s0 + i]!) + (vp[r1 + i]! - vp[s1 + i]!) -
          (vp[r2 + i]! - vp[s2 + i]!) - (vp[r3 + i]! - vp[s3 + i]!));
    const a = v + lo1, b = v + hi1;
    const lo = a <= 0 ? 0 : a >= 1 ? 255 : (a * 255) | 0;
    const hi = b <= 0 ? 0 : b >= 1 ? 255 : (b * 255) | 0;
    out[o + i] = lo;
    if (lo !== hi) {
      // Decided after the loop: no call in it.
      at[m] = i;
      rv[2 * m] = r;
      rv[2 * m + 1] = v;
      m++;
    }
  }
  for (let j = 0; j < m; j++) {
    out[o + at[j]!] = refineByte(rv[2 * j]!, fix, y, at[j]!, rv[2 * j + 1]!);
  }
}

/**
 * `acc[i] += Σ_t w[t]·(tab[p[t] + i] − tab[q[t] + i])` over terms t in
 * [t0, t1), two terms a pass.
 */
function addSpans(
  acc: Float64Array,
  tab: Float64Array,
  w: Float64Array,
  p: Int32Array,
  q: Int32Array,
  t0: number,
  t1: number,
): void {
  const n = acc.length;
  let t = t0;
  for (; t + 2 <= t1; t += 2) {
    const w0 = w[t]!, p0 = p[t]!, q0 = q[t]!;
    const w1 = w[t + 1]!, p1 = p[t + 1]!, q1 = q[t + 1]!;
    for (let i = 0; i < n; i++) {
      acc[i] = acc[i]! + w0 * (tab[p0 + i]! - tab[q0 + i]!) +
        w1 * (tab[p1 + i]! - tab[q1 + i]!);
    }
  }
  for (; t < t1; t++) {
    const w0 = w[t]!, p0 = p[t]!, q0 = q[t]!;
    for (let i = 0; i < n; i++) {
      acc[i] = acc[i]! + w0 * (tab[p0 + i]! - tab[q0 + i]!);
    }
  }
}

/**
 * The byte of sample `i` of output row `y` where the first bracket (about
 * `v1`) straddles a boundary: the second-stage terms narrow it; where that still
 * straddles, the exact sum of all taps in order decides.
 */
function refineByte(
  r: number,
  fix: DiskFix,
  y: number,
  i: number,
  v1: number,
): number {
  const { hp, vp, hW, hP, hQ, vW, vP, vQ, nh1, nv1, lo2, hi2 } = fix;
  let v = v1;
  for (let t = nh1; t < hW.length; t++) {
    v += hW[t]! * (hp[hP[t]! + i]! - hp[hQ[t]! + i]!);
  }
  for (let t = nv1; t < vW.length; t++) {
    v += vW[t]! * (vp[vP[t]! + i]! - vp[vQ[t]! + i]!);
  }
  const lo = toByte(v + lo2);
  if (lo === toByte(v + hi2)) return lo;
  const { pad, cOff, cW } = fix, u = kByteToUnit;
  const b = y * fix.pw * fix.C + i;
  let a = 0;
  for (let t = 0; t < cW.length; t++) a += cW[t]! * u[pad[b + cOff[t]!]!]!;
  return toByte(r + a);
}

/**
 * `row[i] += Σ_t cW[t] · pad[base + i + cOff[t]] / 255`, each sum from 0 in tap
 * order; six samples at a time so their chains of additions overlap.
 */
function addCorrection(
  row: Float64Array,
  pad: Uint8Array,
  base: number,
  cOff: Int32Array,
  cW: Float64Array,
): void {
  const n = row.length, nc = cW.length, u = kByteToUnit;
  let i = 0;
  for (; i + 6 <= n; i += 6) {
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0;
    const b = base + i;
    for (let t = 0; t < nc; t++) {
      const w = cW[t]!, o = b + cOff[t]!;
      a0 += w * u[pad[o]!]!;
      a1 += w * u[pad[o + 1]!]!;
      a2 += w * u[pad[o + 2]!]!;
      a3 += w * u[pad[o + 3]!]!;
      a4 += w * u[pad[o + 4]!]!;
      a5 += w * u[pad[o + 5]!]!;
    }
    row[i]! += a0;
    row[i + 1]! += a1;
    row[i + 2]! += a2;
    row[i + 3]! += a3;
    row[i + 4]! += a4;
    row[i + 5]! += a5;
  }
  for (; i < n; i++) {
    let a = 0;
    for (let t = 0; t < nc; t++) a += cW[t]! * u[pad[base + i + cOff[t]!]!]!;
    row[i]! += a;
  }
}

/**
 * Glass blur (random: the local shuffles): the original's `gaussian`,
 * `np.uint8(· 255)`, swaps, `gaussian` and `toUint8`, to the same bytes
 * (tests/corrupt/blur_test.ts checks them against `gaussianFilter` and
 * `Rng.int`). The swaps only move pixels and their draws do not depend on
 * the image, so they run first, on pixel indices: `map[p]` is the pixel
 * whose first-blur value ends up at p. The first blur's second pass is then
 * computed only at pixels that `map` names (a quarter to a half of them),
 * and the second blur reads its input through `map`.
 */
export function glassBlur(
  data: Uint8Array,
  size: number,
  severity: Severity,
  rng: Rng,
): Uint8Array {
  const [sigma, delta, iterations] = kConstants.glass_blur[severity - 1]!;
  const plan = glassPlan(size, sigma);
  const map = glassMap(size, delta, iterations, rng);
  const x = glassBytes(data.length);
  glassGaussian(data, null, x, plan, glassUsed(map, plan));
  const out = new Uint8Array(data.length);
  glassGaussian(x, map, out, plan, null);
  return out;
}

/**
 * The taps of scipy's `gaussian_filter1d` (mode nearest, truncate 4) on one
 * axis of a square `size x size x 3` image, unrolled `nt` wide (9 or 13).
 * Indices in [m, size - m), m = (nt - 1) / 2, take the kernel `w`, padded
 * with a zero weight at both ends where it is narrower than `nt`, over
 * consecutive samples. Every index also has its own taps, `wt` at offsets
 * `vOff` (vertical, in samples) or `hOff` (horizontal), `nt` per index:
 * taps that land on the same input after clamping merged the way
 * `filters.ts` folds them (weights summed in kernel order, the merged tap
 * where the input first appears), padded with zero-weight taps at the end.
 * A zero-weight tap adds +0 to a sum of non-negative terms, so padding
 * leaves every sum's bits unchanged.
 */
interface GlassPlan {
  size: number;
  sigma: number;
  m: number;
  nt: number;
  w: Float64Array;
  vOff: Int32Array;
  hOff: Int32Array;
  wt: Float64Array;
}

const glassPlans: GlassPlan[] = [];

function glassPlan(size: number, sigma: number): GlassPlan {
  for (const p of glassPlans) {
    if (p.size === size && p.sigma === sigma) return p;
  }
  const k = gaussianKernel1d(sigma, 4);
  const r = (k.length - 1) >> 1;
  const nt = r <= 4 ? 9 : 13, m = (nt - 1) >> 1;
  if (r > m) {
    throw new RangeError(`Cannot plan glass blur: sigma ${sigma} is too wide`);
  }
  const w = new Float64Array(nt);
  w.set(k, m - r);
  const vOff = new Int32Array(size * nt), hOff = new Int32Array(size * nt);
  const wt = new Float64Array(size * nt);
  const idx: number[] = [], ws: number[] = [];
  for (let i = 0; i < size; i++) {
    idx.length = 0;
    ws.length = 0;
    for (let t = -r; t <= r; t++) {
      const j = Math.min(size - 1, Math.max(0, i + t));
      const at = idx.indexOf(j);
      if (at < 0) {
        idx.push(j);
        ws.push(0 + k[t + r]!);
      } else ws[at]! += k[t + r]!;
    }
    for (let t = 0; t < idx.length; t++) {
      vOff[i * nt + t] = (idx[t]! - i) * size * 3;
      hOff[i * nt + t] = (idx[t]! - i) * 3;
      wt[i * nt + t] = ws[t]!;
    }
  }
  const p = { size, sigma, m, nt, w, vOff, hOff, wt };
  glassPlans.push(p);
  return p;
}

let glassF = new Float64Array(0);
let glassG = new Float64Array(0);
let glassRows = new Float64Array(0);
let glassX = new Uint8Array(0);
let glassMapA = new Int32Array(0);
let glassFlags = new Uint8Array(0);
let glassCols = new Int32Array(0);
let glassStart = new Int32Array(0);
let glassDraws = new Uint32Array(0);

function glassBytes(n: number): Uint8Array {
  if (glassX.length < n) glassX = new Uint8Array(n);
  return glassX.subarray(0, n);
}

/** Rows per block of `glassGaussian`. */
const kGlassBlock = 8;

/**
 * `trunc(gaussian(src / 255) · 255)` for a square 8-bit RGB image, each
 * sum taken in `gaussianFilter`'s order (rows first; every output's taps
 * from the first, starting at 0). With `map`, pixel p of the input is
 * pixel `map[p]` of `src`. With `used`, the output is written only at the
 * border columns and at the interior pixels `used` lists (the rest of `dst`
 * is left as it was). The sums lie in [0, 1 + 1e-14] (non-negative weights
 * summing to 1 within rounding), so truncating `· 255` is both the first
 * Gaussian's `np.uint8` and the second's `toByte`.
 */
function glassGaussian(
  src: Uint8Array,
  map: Int32Array | null,
  dst: Uint8Array,
  p: GlassPlan,
  used: { start: Int32Array; cols: Int32Array } | null,
): void {
  const { size, m, nt, w, vOff, hOff, wt } = p;
  const rs = size * 3, n = size * rs, B = kGlassBlock;
  if (glassF.length < n) {
    glassF = new Float64Array(n);
    glassG = new Float64Array(n);
  }
  if (glassRows.length < B * rs) glassRows = new Float64Array(B * rs);
  const f = glassF, g = glassG, h = glassRows;
  if (map) glassGather(src, map, f);
  else glassToFloat(src, f);
  const pair = nt === 9 ? glassPair9 : glassPair13;
  const dot = nt === 9 ? glassDot9 : glassDot13;
  const cols = nt === 9 ? glassCols9 : glassCols13;
  // Interior rows and columns: [lo, hi) (none on images narrower than nt).
  const lo = Math.min(m, size), hi = Math.max(lo, size - m);
  const xs = hi - lo, xPairs = xs >> 1;
  // Rows first (vertical taps), then columns, B rows at a time so that what
  // the second pass reads is still in cache; h holds the block's results.
  for (let y0 = 0; y0 < size; y0 += B) {
    const y1 = Math.min(size, y0 + B), d = y0 * rs;
    const i0 = Math.max(y0, lo), i1 = Math.max(i0, Math.min(y1, hi));
    const iPair = i0 + ((i1 - i0) & ~1);
    pair(f, g, 0, i0 * rs, iPair * rs, -m * rs, rs, w);
    for (let y = y0; y < y1; y++) {
      if (y >= i0 && y < iPair) continue;
      dot(f, g, 0, y * rs, rs, 1, 0, vOff, wt, y * nt);
    }
    for (let x = 0; x < size; x++) {
      if (x === lo) x = hi;
      if (x < size) dot(g, h, d, d + 3 * x, 3, y1 - y0, rs, hOff, wt, x * nt);
    }
    for (let y = y0; y < y1; y++) {
      const line = y * rs, hl = line - d;
      if (used) {
        cols(g, dst, used.cols, used.start[y]!, used.start[y + 1]!, line, w);
        glassTrunc(h, hl, dst, line, 3 * lo);
        glassTrunc(h, hl + 3 * hi, dst, line + 3 * hi, rs - 3 * hi);
        continue;
      }
      const q0 = line + 3 * lo, q1 = q0 + 6 * xPairs;
      pair(g, h, d, q0, q1, -3 * m, 3, w);
      if (xs & 1) dot(g, h, d, q1, 3, 1, 0, hOff, wt, (hi - 1) * nt);
      glassTrunc(h, hl, dst, line, rs);
    }
  }
}

function glassToFloat(src: Uint8Array, f: Float64Array): void {
  const u = kByteToUnit;
  for (let i = 0; i < src.length; i++) f[i] = u[src[i]!]!;
}

/** `f[3p + c] = src[3 · map[p] + c] / 255`. */
function glassGather(src: Uint8Array, map: Int32Array, f: Float64Array): void {
  const u = kByteToUnit;
  for (let p = 0, o = 0; p < map.length; p++, o += 3) {
    const s = 3 * map[p]!;
    f[o] = u[src[s]!]!;
    f[o + 1] = u[src[s + 1]!]!;
    f[o + 2] = u[src[s + 2]!]!;
  }
}

/** `dst[at + i] = trunc(h[from + i] · 255)` for i in [0, len). */
function glassTrunc(
  h: Float64Array,
  from: number,
  dst: Uint8Array,
  at: number,
  len: number,
): void {
  for (let i = 0; i < len; i++) dst[at + i] = (h[from + i]! * 255) | 0;
}

/**
 * The interior columns (x in [m, size - m)) of each row whose pixel some
 * `map[p]` names: row y's are `cols[start[y] .. start[y + 1])`, ascending.
 */
function glassUsed(
  map: Int32Array,
  p: GlassPlan,
): { start: Int32Array; cols: Int32Array } {
  const { size, m } = p;
  const np = size * size;
  if (glassFlags.length < np) {
    glassFlags = new Uint8Array(np);
    glassCols = new Int32Array(np);
  }
  if (glassStart.length < size + 1) glassStart = new Int32Array(size + 1);
  const flags = glassFlags, cols = glassCols, start = glassStart;
  flags.fill(0, 0, np);
  for (let i = 0; i < np; i++) flags[map[i]!] = 1;
  let k = 0;
  for (let y = 0; y < size; y++) {
    start[y] = k;
    for (let x = m, i = y * size + m; x < size - m; x++, i++) {
      cols[k] = x; // kept only where the pixel is used (branch-free)
      k += flags[i]!;
    }
  }
  start[size] = k;
  return { start, cols };
}

/**
 * `out[q - d] = Σ_t w[t] · src[q + o0 + t·st]`, t = 0..8 in order, from 0,
 * for q and q + st, for q in [qq, qq + st), qq = q0, q0 + 2·st, … < q1:
 * two outputs whose taps overlap, each sum in its own order, sharing the
 * loads (w symmetric, so that fewer registers are live).
 */
function glassPair9(
  src: Float64Array,
  out: Float64Array,
  d: number,
  q0: number,
  q1: number,
  o0: number,
  st: number,
  w: Float64Array,
): void {
  const w0 = w[0]!, w1 = w[1]!, w2 = w[2]!, w3 = w[3]!, w4 = w[4]!;
  for (let qq = q0; qq < q1; qq += 2 * st) {
    for (let q = qq, qe = qq + st; q < qe; q++) {
      let i = q + o0, s = src[i]!;
      let a = w0 * s; // = 0 + w0 · s: s >= 0, so never -0
      s = src[i += st]!;
      a += w1 * s;
      let b = w0 * s;
      s = src[i += st]!;
      a += w2 * s;
      b += w1 * s;
      s = src[i += st]!;
      a += w3 * s;
      b += w2 * s;
      s = src[i += st]!;
      a += w4 * s;
      b += w3 * s;
      s = src[i += st]!;
      a += w3 * s;
      b += w4 * s;
      s = src[i += st]!;
      a += w2 * s;
      b += w3 * s;
      s = src[i += st]!;
      a += w1 * s;
      b += w2 * s;
      s = src[i += st]!;
      a += w0 * s;
      b += w1 * s;
      s = src[i += st]!;
      b += w0 * s;
      out[q - d] = a;
      out[q + st - d] = b;
    }
  }
}

/** `glassPair9` with 13 taps. */
function glassPair13(
  src: Float64Array,
  out: Float64Array,
  d: number,
  q0: number,
  q1: number,
  o0: number,
  st: number,
  w: Float64Array,
): void {
  const w0 = w[0]!,
    w1 = w[1]!,
    w2 = w[2]!,
    w3 = w[3]!,
    w4 = w[4]!,
    w5 = w[5]!,
    w6 = w[6]!;
  for (let qq = q0; qq < q1; qq += 2 * st) {
    for (let q = qq, qe = qq + st; q < qe; q++) {
      let i = q + o0, s = src[i]!;
      let a = w0 * s; // = 0 + w0 · s: s >= 0, so never -0
      s = src[i += st]!;
      a += w1 * s;
      let b = w0 * s;
      s = src[i += st]!;
      a += w2 * s;
      b += w1 * s;
      s = src[i += st]!;
      a += w3 * s;
      b += w2 * s;
      s = src[i += st]!;
      a += w4 * s;
      b += w3 * s;
      s = src[i += st]!;
      a += w5 * s;
      b += w4 * s;
      s = src[i += st]!;
      a += w6 * s;
      b += w5 * s;
      s = src[i += st]!;
      a += w5 * s;
      b += w6 * s;
      s = src[i += st]!;
      a += w4 * s;
      b += w5 * s;
      s = src[i += st]!;
      a += w3 * s;
      b += w4 * s;
      s = src[i += st]!;
      a += w2 * s;
      b += w3 * s;
      s = src[i += st]!;
      a += w1 * s;
      b += w2 * s;
      s = src[i += st]!;
      a += w0 * s;
      b += w1 * s;
      s = src[i += st]!;
      b += w0 * s;
      out[q - d] = a;
      out[q + st - d] = b;
    }
  }
}

/**
 * `out[q - d] = Σ_t w[t0 + t] · src[q + off[t0 + t]]`, t = 0..8 in order,
 * from 0, for q in [qs, qs + len), qs = q0 + r · rstride, r < rows.
 */
function glassDot9(
  src: Float64Array,
  out: Float64Array,
  d: number,
  q0: number,
  len: number,
  rows: number,
  rstride: number,
  off: Int32Array,
  w: Float64Array,
  t0: number,
): void {
  const o0 = off[t0]!, o1 = off[t0 + 1]!, o2 = off[t0 + 2]!;
  const o3 = off[t0 + 3]!, o4 = off[t0 + 4]!, o5 = off[t0 + 5]!;
  const o6 = off[t0 + 6]!, o7 = off[t0 + 7]!, o8 = off[t0 + 8]!;
  const w0 = w[t0]!, w1 = w[t0 + 1]!, w2 = w[t0 + 2]!;
  const w3 = w[t0 + 3]!, w4 = w[t0 + 4]!, w5 = w[t0 + 5]!;
  const w6 = w[t0 + 6]!, w7 = w[t0 + 7]!, w8 = w[t0 + 8]!;
  for (let r = 0, qs = q0; r < rows; r++, qs += rstride) {
    for (let q = qs; q < qs + len; q++) {
      let a = 0;
      a += w0 * src[q + o0]!;
      a += w1 * src[q + o1]!;
      a += w2 * src[q + o2]!;
      a += w3 * src[q + o3]!;
      a += w4 * src[q + o4]!;
      a += w5 * src[q + o5]!;
      a += w6 * src[q + o6]!;
      a += w7 * src[q + o7]!;
      a += w8 * src[q + o8]!;
      out[q - d] = a;
    }
  }
}

/** `glassDot9` with 13 taps. */
function glassDot13(
  src: Float64Array,
  out: Float64Array,
  d: number,
  q0: number,
  len: number,
  rows: number,
  rstride: number,
  off: Int32Array,
  w: Float64Array,
  t0: number,
): void {
  const o0 = off[t0]!, o1 = off[t0 + 1]!, o2 = off[t0 + 2]!;
  const o3 = off[t0 + 3]!, o4 = off[t0 + 4]!, o5 = off[t0 + 5]!;
  const o6 = off[t0 + 6]!, o7 = off[t0 + 7]!, o8 = off[t0 + 8]!;
  const o9 = off[t0 + 9]!, o10 = off[t0 + 10]!, o11 = off[t0 + 11]!;
  const o12 = off[t0 + 12]!;
  const w0 = w[t0]!, w1 = w[t0 + 1]!, w2 = w[t0 + 2]!;
  const w3 = w[t0 + 3]!, w4 = w[t0 + 4]!, w5 = w[t0 + 5]!;
  const w6 = w[t0 + 6]!, w7 = w[t0 + 7]!, w8 = w[t0 + 8]!;
  const w9 = w[t0 + 9]!, w10 = w[t0 + 10]!, w11 = w[t0 + 11]!;
  const w12 = w[t0 + 12]!;
  for (let r = 0, qs = q0; r < rows; r++, qs += rstride) {
    for (let q = qs; q < qs + len; q++) {
      let a = 0;
      a += w0 * src[q + o0]!;
      a += w1 * src[q + o1]!;
      a += w2 * src[q + o2]!;
      a += w3 * src[q + o3]!;
      a += w4 * src[q + o4]!;
      a += w5 * src[q + o5]!;
      a += w6 * src[q + o6]!;
      a += w7 * src[q + o7]!;
      a += w8 * src[q + o8]!;
      a += w9 * src[q + o9]!;
      a += w10 * src[q + o10]!;
      a += w11 * src[q + o11]!;
      a += w12 * src[q + o12]!;
      out[q - d] = a;
    }
  }
}

/**
 * `dst[q + c] = trunc(255 · Σ_t w[t] · src[q + c + 3·(t − 4)])`, t = 0..8 in
 * order from 0, at q = line + 3 · cols[k], k in [k0, k1), c = 0, 1, 2: the
 * horizontal pass at the listed interior pixels (w symmetric).
 */
function glassCols9(
  src: Float64Array,
  dst: Uint8Array,
  cols: Int32Array,
  k0: number,
  k1: number,
  line: number,
  w: Float64Array,
): void {
  const w0 = w[0]!, w1 = w[1]!, w2 = w[2]!, w3 = w[3]!, w4 = w[4]!;
  for (let k = k0; k < k1; k++) {
    const q = line + 3 * cols[k]!;
    for (let c = 0; c < 3; c++) {
      let i = q + c - 12, a = 0;
      a += w0 * src[i]!;
      a += w1 * src[i += 3]!;
      a += w2 * src[i += 3]!;
      a += w3 * src[i += 3]!;
      a += w4 * src[i += 3]!;
      a += w3 * src[i += 3]!;
      a += w2 * src[i += 3]!;
      a += w1 * src[i += 3]!;
      a += w0 * src[i += 3]!;
      dst[q + c] = (a * 255) | 0;
    }
  }
}

/** `glassCols9` with 13 taps. */
function glassCols13(
  src: Float64Array,
  dst: Uint8Array,
  cols: Int32Array,
  k0: number,
  k1: number,
  line: number,
  w: Float64Array,
): void {
  const w0 = w[0]!, w1 = w[1]!, w2 = w[2]!, w3 = w[3]!, w4 = w[4]!;
  const w5 = w[5]!, w6 = w[6]!;
  for (let k = k0; k < k1; k++) {
    const q = line + 3 * cols[k]!;
    for (let c = 0; c < 3; c++) {
      let i = q + c - 18, a = 0;
      a += w0 * src[i]!;
      a += w1 * src[i += 3]!;
      a += w2 * src[i += 3]!;
      a += w3 * src[i += 3]!;
      a += w4 * src[i += 3]!;
      a += w5 * src[i += 3]!;
      a += w6 * src[i += 3]!;
      a += w5 * src[i += 3]!;
      a += w4 * src[i += 3]!;
      a += w3 * src[i += 3]!;
      a += w2 * src[i += 3]!;
      a += w1 * src[i += 3]!;
      a += w0 * src[i += 3]!;
      dst[q + c] = (a * 255) | 0;
    }
  }
}

/**
 * The original's swaps on pixel indices: `iterations` sweeps over the
 * interior from the bottom-right, each pixel taking what (h + dy, w + dx)
 * holds, `dx` then `dy` drawn as `rng.int(2δ) − δ`. Returns `map` with
 * `map[p]` the pixel whose value ends up at p. The draws of a row come
 * from one `fillU32` (the same stream); for δ = 3 a row holding a value
 * that `Rng.int(6)` rejects (p ≈ 1e-9 per draw) is redone draw by draw,
 * the values past the row's batch taken with `nextU32`.
 */
function glassMap(
  size: number,
  delta: number,
  iterations: number,
  rng: Rng,
): Int32Array {
  const np = size * size, n = 2 * delta;
  const span = Math.max(0, size - 2 * delta);
  const limit = 4294967296 - (4294967296 % n);
  if (glassMapA.length < np) glassMapA = new Int32Array(np);
  if (glassDraws.length < 2 * span) glassDraws = new Uint32Array(2 * span);
  const map = glassMapA.subarray(0, np);
  const draws = glassDraws.subarray(0, 2 * span);
  for (let i = 0; i < np; i++) map[i] = i;
  for (let it = 0; it < iterations; it++) {
    for (let h = size - delta; h > delta; h--) {
      rng.fillU32(draws);
      const dst = h * size + size - delta;
      if (limit < 4294967296 && glassMaxU32(draws) >= limit) {
        glassMapRowExact(map, size, delta, dst, draws, limit, rng);
      } else glassMapRow(map, size, delta, dst, draws);
    }
  }
  return map;
}

/** One row of `glassMap` from `draws`, none of them rejected. */
function glassMapRow(
  map: Int32Array,
  size: number,
  delta: number,
  dst: number,
  draws: Uint32Array,
): void {
  const n = 2 * delta;
  if ((n & (n - 1)) === 0) {
    const mask = n - 1;
    for (let j = 0; j < draws.length; j += 2, dst--) {
      const dx = (draws[j]! & mask) - delta;
      const dy = (draws[j + 1]! & mask) - delta;
      map[dst] = map[dst + dy * size + dx]!;
    }
    return;
  }
  for (let j = 0; j < draws.length; j += 2, dst--) {
    const a = draws[j]!, b = draws[j + 1]!;
    const dx = a - Math.floor(a / n) * n - delta; // exact: a < 2^32
    const dy = b - Math.floor(b / n) * n - delta;
    map[dst] = map[dst + dy * size + dx]!;
  }
}

function glassMaxU32(a: Uint32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (a[i]! > m) m = a[i]!;
  return m;
}

/** One row of `glassMap` with `Rng.int`'s rejection, draw by draw. */
function glassMapRowExact(
  map: Int32Array,
  size: number,
  delta: number,
  dst: number,
  draws: Uint32Array,
  limit: number,
  rng: Rng,
): void {
  const n = 2 * delta;
  let k = 0;
  const next = () => {
    for (;;) {
      const v = k < draws.length ? draws[k++]! : rng.nextU32();
      if (v < limit) return v % n - delta;
    }
  };
  for (let w = size - delta; w > delta; w--, dst--) {
    const dx = next();
    const dy = next();
    map[dst] = map[dst + dy * size + dx]!;
  }
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
 * One zoom of `zoomBlur` as tables: per output index, the two source taps
 * (`lo`, `hi`, absolute) and weights (`u = 1 − t`, `t`); and the two source
 * rows of the current output row, interpolated along x.
 */
interface ZoomPass {
  lo: Int32Array;
  hi: Int32Array;
  t: Float64Array;
  u: Float64Array;
  a: Float64Array;
  b: Float64Array;
  ra: number;
  rb: number;
  /** For the estimate: `lo · 3`, and `t` with 0 where `hi = lo`. */
  x3: Int32Array;
  tz: Float64Array;
  /** Sample range `[c0, c1)` of the crop's columns in a row. */
  c0: number;
  c1: number;
}

/**
 * The passes of one call, cached per (size, zoom): their tables are pure
 * functions of those, and the row buffers are rewritten before they are
 * read (`ra`, `rb` reset per call).
 */
const kZoomPasses = new Map<string, ZoomPass>();

function zoomPass(h: number, zoom: number): ZoomPass {
  const key = `${h}/${zoom}`;
  const cached = kZoomPasses.get(key);
  if (cached) {
    cached.ra = cached.rb = -1;
    return cached;
  }
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
  const a = new Float64Array(h * 3), b = new Float64Array(h * 3);
  const x3 = new Int32Array(h), tz = new Float64Array(h);
  for (let o = 0; o < h; o++) {
    x3[o] = lo[o]! * 3;
    tz[o] = hi[o] === lo[o] ? 0 : t[o]!;
  }
  const c0 = top * 3, c1 = (top + ch) * 3;
  const pass = { lo, hi, t, u, a, b, ra: -1, rb: -1, x3, tz, c0, c1 };
  if (kZoomPasses.size < 256) kZoomPasses.set(key, pass);
  return pass;
}

/**
 * Source row `r` of a 3-channel 8-bit image, as float32 `b / 255`,
 * interpolated along x: `s0·u + s1·t`.
 */
function interpRow3(
  src: Uint8Array,
  h: number,
  r: number,
  z: ZoomPass,
  dst: Float64Array,
): void {
  const { lo, hi, t, u } = z;
  const v = kByteToUnit32;
  const base = r * h * 3;
  for (let x = 0, o = 0; x < h; x++, o += 3) {
    const tx = t[x]!, ux = u[x]!;
    const p0 = base + lo[x]! * 3, p1 = base + hi[x]! * 3;
    dst[o] = v[src[p0]!]! * ux + v[src[p1]!]! * tx;
    dst[o + 1] = v[src[p0 + 1]!]! * ux + v[src[p1 + 1]!]! * tx;
    dst[o + 2] = v[src[p0 + 2]!]! * ux + v[src[p1 + 2]!]! * tx;
  }
}

/**
 * Zoom blur (deterministic; float32 arithmetic, as the original): the mean
 * of the image and its `clippedZoom`s, each zoom rounded to float32 and
 * added in order, then `uint8(clip(v, 0, 1) · 255)`.
 *
 * The byte depends on the final float32 v only through that monotone map,
 * so most samples are decided by a float64 estimate of the same mean
 * without the roundings, within `zoomEstimateBound` of 255·v; a sample
 * whose bracket straddles a byte boundary gets the exact float32 sequence
 * (`zoomSampleExact`), a row with many such samples the exact row kernel
 * (`zoomRowExact`). The estimate works in byte units and interpolates each
 * zoom along y first (two contiguous source rows), then along x, two zooms
 * per pass over the row. On ImageNet validation crops under 0.1 % of the
 * samples need the exact sequence.
 */
export function zoomBlur(
  data: Uint8Array,
  size: number,
  severity: Severity,
): Uint8Array {
  const zooms = kConstants.zoom_blur[severity - 1]!;
  const h = size, rs = h * 3, len = data.length;
  // A zoom of exactly 1 is the image itself (weights 1 and 0): its term is
  // x, so the sum starts there.
  const first = zooms[0] === 1 ? 1 : 0;
  const passes = zooms.slice(first).map((z) => zoomPass(h, z));
  const np = passes.length;
  const n = zooms.length + 1;
  const out = new Uint8Array(len);
  // The estimate reads one sample past each crop's last column (weight 0),
  // and a pair of zooms shares the first's (wider) crop: it needs a column
  // to spare and the zooms in increasing order.
  if (
    passes.some((z, j) => z.c1 >= rs || (j > 0 && z.c0 < passes[j - 1]!.c0))
  ) {
    for (let y = 0; y < h; y++) zoomRowExact(data, h, y, passes, first, out);
    return out;
  }
  const d = zoomEstimateBound(np, n);
  const inv = 1 / n;
  // At or above this the estimate proves every tap 255 (see the bound).
  const white = (1 + first) * 255 + np * 255 - 2 ** -30;
  if (zoomF.length < len) zoomF = new Float32Array(len);
  if (zoomU.length < rs + 3) {
    zoomU = new Float64Array(rs + 3);
    zoomU2 = new Float64Array(rs + 3);
    zoomAcc = new Float64Array(rs);
    zoomMiss = new Int32Array(rs);
  }
  const F = zoomF, U = zoomU, U2 = zoomU2, acc = zoomAcc, miss = zoomMiss;
  F.set(data);
  const w0 = 1 + first;
  for (let y = 0; y < h; y++) {
    const o = y * rs;
    // The row of sums starts from the image row, and from the first zoom
    // where the zooms are odd in number: the rest go by pairs, the last
    // pair deciding the bytes.
    let p = np & 1;
    if (p) {
      const z = passes[0]!;
      const ty = z.t[y]!, r0 = z.lo[y]! * rs, r1 = z.hi[y]! * rs;
      zoomFirst(F, o, w0, U, acc, r0, r1, ty, z.c0, z.c1, z.x3, z.tz, h);
    } else for (let i = 0; i < rs; i++) acc[i] = w0 * F[o + i]!;
    let nm = -1;
    for (; p + 2 <= np; p += 2) {
      const z = passes[p]!, z2 = passes[p + 1]!;
      const ty = z.t[y]!, r0 = z.lo[y]! * rs, r1 = z.hi[y]! * rs;
      const ty2 = z2.t[y]!, r02 = z2.lo[y]! * rs, r12 = z2.hi[y]! * rs;
      zoomPairY(F, U, U2, r0, r1, r02, r12, ty, ty2, z.c0, z.c1);
      if (p + 2 < np) zoomPairX(acc, U, U2, z.x3, z.tz, z2.x3, z2.tz, h);
      else {
        nm = zoomPairXDecide(
          acc,
          U,
          U2,
          z.x3,
          z.tz,
          z2.x3,
          z2.tz,
          h,
          inv,
          d,
          white,
          out,
          o,
          miss,
        );
      }
    }
    if (nm < 0) nm = zoomDecideRow(acc, rs, inv, d, white, out, o, miss);
    if (nm > kZoomRowExact) zoomRowExact(data, h, y, passes, first, out);
    else {
      for (let j = 0; j < nm; j++) {
        const i = miss[j]!;
        out[o + i] = zoomSampleExact(data, h, y, i, passes, first);
      }
    }
  }
  return out;
}

/**
 * The y pass of a pair of zooms: rows `r0`, `r1` at `ty` into `U`, rows
 * `r02`, `r12` at `ty2` into `U2`, over samples `[c0, c1)`.
 */
function zoomPairY(
  F: Float32Array,
  U: Float64Array,
  U2: Float64Array,
  r0: number,
  r1: number,
  r02: number,
  r12: number,
  ty: number,
  ty2: number,
  c0: number,
  c1: number,
): void {
  // The first zoom of a pair is the smaller: its crop is the wider.
  // Close zooms often read the same two rows: load them once. A pixel
  // per iteration (crops start and end on pixels): less loop overhead.
  if (r0 === r02 && r1 === r12) {
    for (let i = c0; i < c1; i += 3) {
      const a = F[r0 + i]!, g = F[r1 + i]! - a;
      const b = F[r0 + i + 1]!, gb = F[r1 + i + 1]! - b;
      const c = F[r0 + i + 2]!, gc = F[r1 + i + 2]! - c;
      U[i] = a + g * ty;
      U2[i] = a + g * ty2;
      U[i + 1] = b + gb * ty;
      U2[i + 1] = b + gb * ty2;
      U[i + 2] = c + gc * ty;
      U2[i + 2] = c + gc * ty2;
    }
  } else if (r02 === r1) {
    // One row in common, zoom 2's other row further out: three to load.
    for (let i = c0; i < c1; i += 3) {
      const a = F[r0 + i]!, b = F[r0 + i + 1]!, c = F[r0 + i + 2]!;
      const a1 = F[r1 + i]!, b1 = F[r1 + i + 1]!, c1_ = F[r1 + i + 2]!;
      U[i] = a + (a1 - a) * ty;
      U[i + 1] = b + (b1 - b) * ty;
      U[i + 2] = c + (c1_ - c) * ty;
      U2[i] = a1 + (F[r12 + i]! - a1) * ty2;
      U2[i + 1] = b1 + (F[r12 + i + 1]! - b1) * ty2;
      U2[i + 2] = c1_ + (F[r12 + i + 2]! - c1_) * ty2;
    }
  } else if (r12 === r0) {
    for (let i = c0; i < c1; i += 3) {
      const a = F[r0 + i]!, b = F[r0 + i + 1]!, c = F[r0 + i + 2]!;
      U[i] = a + (F[r1 + i]! - a) * ty;
      U[i + 1] = b + (F[r1 + i + 1]! - b) * ty;
      U[i + 2] = c + (F[r1 + i + 2]! - c) * ty;
      const a2 = F[r02 + i]!, b2 = F[r02 + i + 1]!, c2 = F[r02 + i + 2]!;
      U2[i] = a2 + (a - a2) * ty2;
      U2[i + 1] = b2 + (b - b2) * ty2;
      U2[i + 2] = c2 + (c - c2) * ty2;
    }
  } else {
    for (let i = c0; i < c1; i += 3) {
      const a = F[r0 + i]!, b = F[r0 + i + 1]!, c = F[r0 + i + 2]!;
      U[i] = a + (F[r1 + i]! - a) * ty;
      U[i + 1] = b + (F[r1 + i + 1]! - b) * ty;
      U[i + 2] = c + (F[r1 + i + 2]! - c) * ty;
      const a2 = F[r02 + i]!, b2 = F[r02 + i + 1]!, c2 = F[r02 + i + 2]!;
      U2[i] = a2 + (F[r12 + i]! - a2) * ty2;
      U2[i + 1] = b2 + (F[r12 + i + 1]! - b2) * ty2;
      U2[i + 2] = c2 + (F[r12 + i + 2]! - c2) * ty2;
    }
  }
}

/**
 * The y and x passes of one zoom, added to `w0` times image row `o` into
 * `acc`.
 */
function zoomFirst(
  F: Float32Array,
  o: number,
  w0: number,
  U: Float64Array,
  acc: Float64Array,
  r0: number,
  r1: number,
  ty: number,
  c0: number,
  c1: number,
  x3: Int32Array,
  tz: Float64Array,
  h: number,
): void {
  for (let i = c0; i < c1; i += 3) {
    const a = F[r0 + i]!, b = F[r0 + i + 1]!, c = F[r0 + i + 2]!;
    U[i] = a + (F[r1 + i]! - a) * ty;
    U[i + 1] = b + (F[r1 + i + 1]! - b) * ty;
    U[i + 2] = c + (F[r1 + i + 2]! - c) * ty;
  }
  // The x taps are lo and lo + 1, with weight 0 on lo + 1 where the
  // original's second tap is lo itself: U has a finite spare sample.
  for (let x = 0, q = 0; x < h; x++, q += 3) {
    const tx = tz[x]!, s = x3[x]!;
    const a = U[s]!, b = U[s + 1]!, c = U[s + 2]!;
    const g = o + q;
    acc[q] = w0 * F[g]! + (a + (U[s + 3]! - a) * tx);
    acc[q + 1] = w0 * F[g + 1]! + (b + (U[s + 4]! - b) * tx);
    acc[q + 2] = w0 * F[g + 2]! + (c + (U[s + 5]! - c) * tx);
  }
}

/**
 * The bytes of a row decided from its sums (see `zoomEstimateBound`); the
 * undecided samples go to `miss`, their count is returned.
 */
function zoomDecideRow(
  acc: Float64Array,
  rs: number,
  inv: number,
  d: number,
  white: number,
  out: Uint8Array,
  o: number,
  miss: Int32Array,
): number {
  let nm = 0;
  for (let i = 0; i < rs; i++) {
    const e = acc[i]!, w = e * inv;
    const k = (w - d) | 0;
    if (w + d < k + 1 && k < 255) out[o + i] = k;
    else if (e >= white) out[o + i] = 255;
    else miss[nm++] = i;
  }
  return nm;
}

/** The x pass of a pair of zooms: add both interpolations to `acc`. */
function zoomPairX(
  acc: Float64Array,
  U: Float64Array,
  U2: Float64Array,
  x3: Int32Array,
  tz: Float64Array,
  x32: Int32Array,
  tz2: Float64Array,
  h: number,
): void {
  for (let x = 0, q = 0; x < h; x++, q += 3) {
    const tx = tz[x]!, s = x3[x]!, tx2 = tz2[x]!, s2 = x32[x]!;
    const a = U[s]!, b = U[s + 1]!, c = U[s + 2]!;
    const a2 = U2[s2]!, b2 = U2[s2 + 1]!, c2 = U2[s2 + 2]!;
    acc[q] = acc[q]! + (a + (U[s + 3]! - a) * tx) +
      (a2 + (U2[s2 + 3]! - a2) * tx2);
    acc[q + 1] = acc[q + 1]! + (b + (U[s + 4]! - b) * tx) +
      (b2 + (U2[s2 + 4]! - b2) * tx2);
    acc[q + 2] = acc[q + 2]! + (c + (U[s + 5]! - c) * tx) +
      (c2 + (U2[s2 + 5]! - c2) * tx2);
  }
}

/**
 * `zoomPairX` for the last pair: the row's bytes from the sums, as
 * `zoomDecideRow`.
 */
function zoomPairXDecide(
  acc: Float64Array,
  U: Float64Array,
  U2: Float64Array,
  x3: Int32Array,
  tz: Float64Array,
  x32: Int32Array,
  tz2: Float64Array,
  h: number,
  inv: number,
  d: number,
  white: number,
  out: Uint8Array,
  o: number,
  miss: Int32Array,
): number {
  let nm = 0;
  for (let x = 0, q = 0; x < h; x++, q += 3) {
    const tx = tz[x]!, s = x3[x]!, tx2 = tz2[x]!, s2 = x32[x]!;
    const a = U[s]!, b = U[s + 1]!, c = U[s + 2]!;
    const a2 = U2[s2]!, b2 = U2[s2 + 1]!, c2 = U2[s2 + 2]!;
    const e0 = acc[q]! + (a + (U[s + 3]! - a) * tx) +
      (a2 + (U2[s2 + 3]! - a2) * tx2);
    const w0 = e0 * inv, k0 = (w0 - d) | 0;
    if (w0 + d < k0 + 1 && k0 < 255) out[o + q] = k0;
    else if (e0 >= white) out[o + q] = 255;
    else miss[nm++] = q;
    const e1 = acc[q + 1]! + (b + (U[s + 4]! - b) * tx) +
      (b2 + (U2[s2 + 4]! - b2) * tx2);
    const w1 = e1 * inv, k1 = (w1 - d) | 0;
    if (w1 + d < k1 + 1 && k1 < 255) out[o + q + 1] = k1;
    else if (e1 >= white) out[o + q + 1] = 255;
    else miss[nm++] = q + 1;
    const e2 = acc[q + 2]! + (c + (U[s + 5]! - c) * tx) +
      (c2 + (U2[s2 + 5]! - c2) * tx2);
    const w2 = e2 * inv, k2 = (w2 - d) | 0;
    if (w2 + d < k2 + 1 && k2 < 255) out[o + q + 2] = k2;
    else if (e2 >= white) out[o + q + 2] = 255;
    else miss[nm++] = q + 2;
  }
  return nm;
}

/**
 * Scratch of `zoomBlur`: the image (bytes: exact in float32, at half the
 * cache footprint of doubles), the y-interpolated rows of a pair of zooms,
 * a row of sums, the undecided samples of a row.
 */
let zoomF = new Float32Array(0);
let zoomU = new Float64Array(0);
let zoomU2 = new Float64Array(0);
let zoomAcc = new Float64Array(0);
let zoomMiss = new Int32Array(0);

/**
 * Undecided samples in a row above which the exact row kernel is cheaper
 * than one exact sample at a time (flat areas off 0 and 255, where the
 * mean sits on a byte boundary).
 */
const kZoomRowExact = 96;

/**
 * A bound on |255·v − w|, where v is the original's final float32 value of
 * a sample and w = Ê / n its float64 estimate in byte units, for `np` zooms
 * besides 1 and n terms in the mean, plus the rounding of `fround(v·255)`.
 *
 * The original, with X = fround(b / 255) per byte: x = X; acc = x (zoom 1);
 * per zoom j = 1..np, C_j is the bilinear value in float64 (within 2^-51 of
 * the real one: values ≤ 1, three rounded operations), c_j = fround(C_j)
 * (|c_j − C_j| ≤ 2^-25, half an ulp below 1), acc_j = fround(acc + c_j)
 * (≤ 2^-24·(j + 1): acc_j ≤ j + 1); s = fround(x + acc) (≤ 2^-24·n); v =
 * fround(s / n) (≤ 2^-25). So |s − T| ≤ E = 2^-24·(np/2 + Σ_j (j + 1) + n)
 * for the real T = 2x + Σ_j C_j, and |v − T/n| ≤ E/n + 2^-25. The estimate
 * Ê = 2b + Σ_j C'_j uses the bytes b instead of X (|X − b/255| ≤ 2^-25 per
 * term, weights summing to 1, so (np + 2)·2^-25 on T in unit scale), the
 * same taps and weights up to the rounding of u = 1 − t (2^-52), and its
 * own float64 roundings (Ê ≤ 255·n < 2^13: under 2^-35 in all). Then
 * fround(v·255) is within 256·2^-24 of 255·v. Rounding terms of 2^-35 and
 * below are covered by the 1e-9 added. Where k ≤ w − d and w + d < k + 1,
 * fround(clip(v)·255) lies in [k, k + 1), so the byte is k.
 *
 * For the 255 shortcut: each C'_j ≤ 255 up to 2^-44; Ê ≥ 255·n − 2^-30
 * forces b = 255 and every C'_j ≥ 255 − 2^-29, so the taps below 255 carry
 * weight under 2^-28, 1 − C_j < 2^-25 and every c_j rounds to 1: acc, s
 * and v are then exact, v = 1 and the byte is 255.
 */
export function zoomEstimateBound(np: number, n: number): number {
  const e = 2 ** -24 * (np / 2 + (np * (np + 3)) / 2 + n);
  return 255 * ((e + (np + 2) * 2 ** -25) / n + 2 ** -25) + 256 * 2 ** -24 +
    1e-9;
}

/** Sample i of output row y, by the original's float32 sequence. */
function zoomSampleExact(
  src: Uint8Array,
  h: number,
  y: number,
  i: number,
  passes: ZoomPass[],
  first: number,
): number {
  const v = kByteToUnit32, f = Math.fround, rs = h * 3;
  const x = (i / 3) | 0, c = i - 3 * x;
  const x0 = v[src[y * rs + i]!]!;
  let acc = first ? x0 : 0;
  for (const z of passes) {
    const tx = z.t[x]!, ux = z.u[x]!, ty = z.t[y]!, uy = z.u[y]!;
    const c0 = z.lo[x]! * 3 + c, c1 = z.hi[x]! * 3 + c;
    const r0 = z.lo[y]! * rs, r1 = z.hi[y]! * rs;
    const a = v[src[r0 + c0]!]! * ux + v[src[r0 + c1]!]! * tx;
    const b = v[src[r1 + c0]!]! * ux + v[src[r1 + c1]!]! * tx;
    acc = f(acc + f(a * uy + b * ty));
  }
  const s = f(f(x0 + acc) / (passes.length + first + 1));
  return Math.trunc(f((s < 0 ? 0 : s > 1 ? 1 : s) * 255));
}

/**
 * Output row y by the original's float32 sequence, computed as
 * `clippedZoom` does: each sample sees `(s00·ux + s01·tx)·uy + (s10·ux +
 * s11·tx)·ty`, with a source row's interpolation along x (the brackets)
 * computed once and shared by the output rows that read it. A zero weight
 * multiplies a finite sample (it adds an exact zero), so the `tx ? … : 0`
 * tests of `clippedZoom` are not needed for the same values.
 */
function zoomRowExact(
  data: Uint8Array,
  h: number,
  y: number,
  passes: ZoomPass[],
  first: number,
  out: Uint8Array,
): void {
  const rs = h * 3, unit = kByteToUnit32, f = Math.fround;
  const np = passes.length, n = np + first + 1;
  const acc = zoomRow32.length === rs
    ? zoomRow32
    : (zoomRow32 = new Float32Array(rs));
  const o = y * rs;
  if (first) { for (let i = 0; i < rs; i++) acc[i] = unit[data[o + i]!]!; }
  else acc.fill(0);
  for (const z of passes) zoomRows(data, h, y, z);
  // Up to four zooms per pass over the row: the float32 sum still adds
  // them one at a time, in order.
  let p = 0;
  for (; p + 4 <= np; p += 4) {
    const z1 = passes[p]!, z2 = passes[p + 1]!;
    const z3 = passes[p + 2]!, z4 = passes[p + 3]!;
    const a1 = z1.a, b1 = z1.b, t1 = z1.t[y]!, u1 = z1.u[y]!;
    const a2 = z2.a, b2 = z2.b, t2 = z2.t[y]!, u2 = z2.u[y]!;
    const a3 = z3.a, b3 = z3.b, t3 = z3.t[y]!, u3 = z3.u[y]!;
    const a4 = z4.a, b4 = z4.b, t4 = z4.t[y]!, u4 = z4.u[y]!;
    for (let i = 0; i < rs; i++) {
      acc[i] = f(
        f(
          f(acc[i]! + f(a1[i]! * u1 + b1[i]! * t1)) +
            f(a2[i]! * u2 + b2[i]! * t2),
        ) + f(a3[i]! * u3 + b3[i]! * t3),
      ) + f(a4[i]! * u4 + b4[i]! * t4);
    }
  }
  for (; p + 2 <= np; p += 2) {
    const z1 = passes[p]!, z2 = passes[p + 1]!;
    const a1 = z1.a, b1 = z1.b, t1 = z1.t[y]!, u1 = z1.u[y]!;
    const a2 = z2.a, b2 = z2.b, t2 = z2.t[y]!, u2 = z2.u[y]!;
    for (let i = 0; i < rs; i++) {
      acc[i] = f(acc[i]! + f(a1[i]! * u1 + b1[i]! * t1)) +
        f(a2[i]! * u2 + b2[i]! * t2);
    }
  }
  if (p < np) {
    const z = passes[p]!;
    const a = z.a, b = z.b, ty = z.t[y]!, uy = z.u[y]!;
    for (let i = 0; i < rs; i++) {
      acc[i]! += f(a[i]! * uy + b[i]! * ty);
    }
  }
  for (let i = 0; i < rs; i++) {
    const v = f(f(unit[data[o + i]!]! + acc[i]!) / n);
    out[o + i] = Math.trunc(f((v < 0 ? 0 : v > 1 ? 1 : v) * 255));
  }
}

let zoomRow32 = new Float32Array(0);

/** Bring `z.a`, `z.b` to the two source rows output row `y` reads. */
function zoomRows(src: Uint8Array, h: number, y: number, z: ZoomPass): void {
  const r0 = z.lo[y]!, r1 = z.hi[y]!;
  if (r0 !== z.ra) {
    if (r0 === z.rb) {
      const s = z.a;
      z.a = z.b;
      z.b = s;
      z.rb = -1;
    } else interpRow3(src, h, r0, z, z.a);
    z.ra = r0;
  }
  if (r1 !== z.rb) {
    if (r1 === z.ra) z.b.set(z.a);
    else interpRow3(src, h, r1, z, z.b);
    z.rb = r1;
  }
}
