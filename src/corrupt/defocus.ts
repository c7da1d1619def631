/**
 * Defocus blur, as the original generator computes it: a disk kernel
 * anti-aliased by `cv2.GaussianBlur`, applied with `cv2.filter2D` (border
 * reflect-101), on 8-bit RGB HWC images. The passes over every sample run
 * in a WebAssembly SIMD kernel (`wasm/defocus_rows.wat`), the same float64
 * operations in the same order.
 */
import { kConstants, type Severity } from "./registry.ts";
import { mapIndex } from "./filters.ts";
import { kByteToUnit, scratchF64, scratchI32, toByte } from "./scratch.ts";
import {
  diskGx,
  diskSums,
  fusedRow,
  hpRow,
  prefixRow,
  refineRow,
  type RowsMemory,
  rowsMemory,
  vpRows as vpRows_,
} from "./wasm/defocus_rows.ts";

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
    // Present from the start: plans of every severity share one shape, so
    // the row loop's code stays optimised across severities.
    fix: undefined,
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
  const m = size + 2 * rg;
  const mC = m * C, RS = size * C;
  const terms = nc > 0 ? (plan.fix ??= makeDiskFix(plan, pw, C)) : undefined;
  const fused = bytes && terms?.even;
  // The rows the kernel reads live in its memory (`mem`): f64 the prefix
  // sums, the disk sums, the undecided samples, the fold's prefix tables
  // (rows and columns), the second stage's weights, the ring of the g pass
  // along x; i32 the disk's span table, the undecided samples' indices,
  // the second stage's reads; u8 a row of bytes, the padded image.
  const k = plan.spanW.length, W = C === 3 ? 1 : C;
  const pairs = (k + 1) * (pw + 1) * W;
  const nt = terms ? terms.hW.length + terms.vW.length : 0;
  const mem = rowsMemory(
    [
      2 * pairs + 4,
      pw * W + 4,
      terms ? 2 * RS : 0,
      terms ? terms.hpRows * terms.hpStride : 0,
      terms ? terms.vpRows * terms.vpStride : 0,
      nt,
      ...g.map(() => RS),
    ],
    [2 * k, terms ? RS : 0, 2 * nt, C === 3 ? pw : 0],
    // Two spare rows and a few bytes after the padded image: the kernels
    // read past its end (values unused).
    [
      terms ? RS : 0,
      terms ? (pw + 2) * pw * C + 16 : 0,
      C === 3 ? data.length : 0,
    ],
  );
  const fix = terms
    ? diskFix(
      plan,
      padImage(data, size, C, pr, mem.u8[1]!),
      mem.f64[3]!,
      mem.f64[4]!,
      pw,
      C,
      widen,
      mem,
    )
    : undefined;
  const pk = packedRows(data, size, C, pr, plan.spanW, half, mem);
  const scale = area * 255;
  const disk = new Float64Array(mC);
  // Ring of the last ks rows of the g pass along x.
  // The kernel writes them in its memory; the JS passes read copies (plain
  // arrays are faster to read from JS than views of a wasm memory).
  // Built element by element: a packed array of one kind whichever the
  // path, so the loop below is not deoptimised between severities.
  const hk: Float64Array[] = [];
  for (let j = 0; j < ks; j++) hk.push(mem.f64[6 + j]!);
  const hx = fused ? hk : hk.map(() => new Float64Array(RS));
  const row = new Float64Array(RS);
  const g0 = g[0]!, g1 = g[1]!, g2 = g[2]!;
  const g3 = ks > 3 ? g[3]! : 0, g4 = ks > 4 ? g[4]! : 0;
  const C2 = 2 * C, C3 = 3 * C, C4 = 4 * C;
  for (let y = 0; y < m; y++) {
    const h = hx[y % ks]!;
    if (packedDiskRow(pk, y, disk, scale)) {
      diskGx(m, g, scale, pk.sums, hk[y % ks]!);
      if (!fused) h.set(hk[y % ks]!);
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
    if (bytes && fix && fused) {
      // g along y, the first stage and the bytes in one pass.
      const h3 = ks > 3 ? hx[(oy + 3) % ks]! : h0;
      const h4 = ks > 4 ? hx[(oy + 4) % ks]! : h0;
      fusedBytes([h0, h1, h2, h3, h4], g, fix, oy, bytes, oy * RS, mem);
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
 * row, two reads a row (the kernel's `prefix_row` and `disk_sums`).
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
  /** With three channels: the image and the columns' byte offsets. */
  img: Uint8Array;
  cols: Int32Array;
  /** The span table of `diskSums`, two addresses a disk row. */
  S: Int32Array;
}

function packedRows(
  data: Uint8Array,
  size: number,
  C: number,
  pr: number,
  spanW: Int32Array,
  half: number,
  mem: RowsMemory,
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
  let img = data, cols = idx;
  if (F === 3) {
    // The image and the columns' byte offsets, for `prefixRow`.
    img = mem.u8[2]!;
    img.set(data);
    cols = mem.i32[3]!;
    for (let i = 0; i < pw; i++) cols[i] = 3 * idx[i]!;
  }
  return {
    img,
    cols,
    PP: mem.f64[0]!,
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
    sums: mem.f64[1]!,
    S: mem.i32[0]!,
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
    const a = ((Y + ring - 1) % ring) * PS;
    if (F === 3) {
      prefixRow(pk.img, 3 * sy, pk.cols, PP, PS, b, a, Y ? pairs + a : -1);
      continue;
    }
    for (let c = 0; c < W; c++) PP[b + c] = 0;
    for (let x = 0; x < pw; x++) {
      const q = (sy + idx[x]!) * W, o = b + x * W;
      for (let c = 0; c < W; c++) PP[o + W + c] = PP[o + c]! + data[q + c]!;
    }
    if (Y === 0) continue;
    const d = pairs + a;
    for (let x = 0; x < PS; x++) PP[d + x] = PP[a + x]! + PP[b + x]!;
  }
  // Every partial sum is a sum of spans, exact in any order.
  const S = pk.S, base = PP.byteOffset;
  for (let t = 0; t < nj; t++) {
    const h = base + 8 * (((y + rowsJ[t]!) % ring) * PS);
    S[2 * t] = h + 8 * hiO[t]!;
    S[2 * t + 1] = h + 8 * loO[t]!;
  }
  diskSums(n, nj, S, sums);
  if (F === 3) return true;
  for (let x = 0; x < n; x++) disk[x] = sums[x]! / scale;
  return false;
}

/** The reflect-101 padded 8-bit image (for the correction taps). */
function padImage(
  data: Uint8Array,
  size: number,
  C: number,
  pr: number,
  pad: Uint8Array,
): Uint8Array {
  const pw = size + 2 * pr, n = pw * C, mid = pr * C, rowLen = size * C;
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
  /**
   * The kernel's views (see `diskFilterRows`): a row of bytes, the
   * undecided samples and the second stage's terms.
   */
  mem?: RowsMemory;
}

/**
 * The bracket of `plan`'s correction over the padded image `pad`, its
 * half-widths times `widen`, with the prefix tables in `hp` and `vp`.
 */
function diskFix(
  plan: DiskPlan,
  pad: Uint8Array,
  hp: Float64Array,
  vp: Float64Array,
  pw: number,
  C: number,
  widen: number,
  mem: RowsMemory,
): DiskFix {
  const t = plan.fix ??= makeDiskFix(plan, pw, C);
  // Fresh per-call state: the image, the rings (prefix row 0 is zeros).
  vp.fill(0, 0, t.vpStride);
  return {
    ...t,
    pad,
    lo1: t.lo1 * widen,
    hi1: t.hi1 * widen,
    lo2: t.lo2 * widen,
    hi2: t.hi2 * widen,
    acc: scratchF64(24, (pw - 2 * (plan.half + (plan.g.length >> 1))) * C),
    hp,
    hpNext: 0,
    mem,
    vp,
    vpNext: 1,
    hP: new Int32Array(t.hW.length),
    hQ: new Int32Array(t.hW.length),
    vP: new Int32Array(t.vW.length),
    vQ: new Int32Array(t.vW.length),
  };
}

function makeDiskFix(plan: DiskPlan, pw: number, C: number): DiskFix {
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
  // An even row length: `vp_rows` writes samples in pairs.
  const hpStride = (pw + 1) * C, vpStride = (pw * C + 1) & ~1;
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
  // The image and the tables come with each call (`diskFix`).
  return {
    pad: new Uint8Array(0),
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
    hp: new Float64Array(0),
    hpRows: k2,
    hpStride,
    hpNext: 0,
    vW: Float64Array.from(vW),
    vHi: Int32Array.from(vHi),
    vLo: Int32Array.from(vLo),
    vCol: Int32Array.from(vCol),
    vp: new Float64Array(0),
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
    if (C === 3) hpRow((hi - lo) / 3, g, pad, q + lo, hp, b + lo);
    else {
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
  for (; fix.vpNext <= vNeed; fix.vpNext++) {
    // Prefix row Y' = prefix row Y' − 1 + (g ⊛ column) at padded row Y' − 1.
    const Y = fix.vpNext - 1;
    const b = (fix.vpNext % vpRows) * vpStride;
    const prev = (Y % vpRows) * vpStride;
    if (Y >= rg && Y < pw - rg) {
      // Two prefix rows a pass: their g sums share all but one pixel row.
      // The ring holds one row beyond the last one needed (2·wv + 3 rows),
      // so the second may be written where only the first is inside (from
      // the pad's spare rows); the rows after it overwrite it.
      const b2 = ((fix.vpNext + 1) % vpRows) * vpStride;
      vpRows_(rs, g, pad, (Y - rg) * rs, rs, vp, prev, b, b2);
      if (Y + 1 < pw - rg) fix.vpNext++;
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
 * exact value (`toByte` is monotone); elsewhere the second stage, then the
 * exact sum of all taps in order, decide (`finishRow`).
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
  const mem = fix.mem!;
  const bytes = mem.u8[0]!, at = mem.i32[1]!, rv = mem.f64[2]!;
  const n = row.length;
  acc.set(row);
  addSpans(acc, hp, hW, hP, hQ, 0, nh1);
  addSpans(acc, vp, vW, vP, vQ, 0, nv1);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const v = acc[i]!;
    const lo = toByte(v + lo1);
    bytes[i] = lo;
    if (lo !== toByte(v + hi1)) {
      at[m] = i;
      rv[2 * m] = row[i]!;
      rv[2 * m + 1] = v;
      m++;
    }
  }
  finishRow(fix, y, m, out, o);
}

/**
 * `correctToBytes` of the row `g0·h0 + g1·h1 + … (+ g4·h4 where g has five
 * taps)`, the g pass along y in the same order as `diskFilterRows`, for an
 * `even` first stage (one weight for its eight terms): the kernel
 * (`defocus_rows.wat`) decides the bytes the first bracket proves, the
 * rest are refined here. `h` and the tables of `fix` are views of `mem`.
 */
function fusedBytes(
  h: Float64Array[],
  g: Float64Array,
  fix: DiskFix,
  y: number,
  out: Uint8Array,
  o: number,
  mem: RowsMemory,
): void {
  advanceFix(fix, y);
  const { hp, vp, hP, hQ, vP, vQ } = fix;
  const T = mem.table, n = h[0]!.length;
  for (let t = 0; t < 5; t++) T[t] = h[t]!.byteOffset;
  const hb = hp.byteOffset, vb = vp.byteOffset;
  for (let t = 0; t < 4; t++) {
    T[5 + t] = hb + 8 * hP[t]!;
    T[9 + t] = hb + 8 * hQ[t]!;
    T[13 + t] = vb + 8 * vP[t]!;
    T[17 + t] = vb + 8 * vQ[t]!;
  }
  const row = mem.u8[0]!, at = mem.i32[1]!, rv = mem.f64[2]!;
  const m = fusedRow(n, g, fix.hW[0]!, fix.lo1, fix.hi1, row, at, rv);
  finishRow(fix, y, m, out, o);
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
 * The bytes of output row `y` into `out` at `o`: the kernel's row of bytes
 * (`mem.u8[0]`), where the first bracket straddled a byte boundary for
 * the `m` samples listed (index, row value r, first-stage value v) the
 * second-stage terms narrow it (`refine`); where that still straddles,
 * the exact sum of all taps in order decides.
 */
function finishRow(
  fix: DiskFix,
  y: number,
  m: number,
  out: Uint8Array,
  o: number,
): void {
  const { hp, vp, hW, hP, hQ, vW, vP, vQ, nh1, nv1 } = fix;
  const mem = fix.mem!;
  const row = mem.u8[0]!, at = mem.i32[1]!, rv = mem.f64[2]!;
  if (m > 0) {
    const Wt = mem.f64[5]!, A = mem.i32[2]!;
    const hb = hp.byteOffset, vb = vp.byteOffset;
    let nt = 0;
    for (let t = nh1; t < hW.length; t++, nt++) {
      Wt[nt] = hW[t]!;
      A[2 * nt] = hb + 8 * hP[t]!;
      A[2 * nt + 1] = hb + 8 * hQ[t]!;
    }
    for (let t = nv1; t < vW.length; t++, nt++) {
      Wt[nt] = vW[t]!;
      A[2 * nt] = vb + 8 * vP[t]!;
      A[2 * nt + 1] = vb + 8 * vQ[t]!;
    }
    m = refineRow(m, nt, Wt, A, fix.lo2, fix.hi2, at, rv, row);
  }
  out.set(row, o);
  if (m === 0) return;
  const { pad, cOff, cW } = fix, u = kByteToUnit;
  for (let j = 0; j < m; j++) {
    const b = y * fix.pw * fix.C + at[j]!;
    let a = 0;
    for (let t = 0; t < cW.length; t++) a += cW[t]! * u[pad[b + cOff[t]!]!]!;
    out[o + at[j]!] = toByte(rv[2 * j]! + a);
  }
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
