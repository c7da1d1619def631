import assert from "node:assert/strict";
import {
  type EstimateZoom,
  zoomEstimate,
} from "../../../src/corrupt/wasm/zoom_estimate.ts";
import { zoomEstimateBound, zoomGeometry } from "../../../src/corrupt/zoom.ts";
import { kConstants, type Severity } from "../../../src/corrupt/registry.ts";
import { Rng } from "../../../src/rng.ts";
import { loadFixtureImages } from "../_fixtures.ts";
import { realCrops } from "../_real_crops.ts";

/** The tables of `zoomBlur` for the zooms besides 1 at side h. */
function zoomTables(h: number, severity: Severity): EstimateZoom[] {
  return kConstants.zoom_blur[severity - 1]!.slice(1).map((zoom) => {
    const { ch, top, trim, ratio } = zoomGeometry(h, zoom);
    const lo = new Int32Array(h), hi = new Int32Array(h);
    const t = new Float64Array(h);
    for (let o = 0; o < h; o++) {
      const cc = (o + trim) * ratio;
      const f = Math.min(Math.floor(cc), ch - 1);
      t[o] = cc - f;
      lo[o] = top + f;
      hi[o] = top + Math.min(f + 1, ch - 1);
    }
    return { lo, hi, t, top, ch };
  });
}

/**
 * The estimate transcribed plainly, sample by sample, in float64: each zoom
 * interpolated along y (`a + (b − a)·t`), then along x, added in order to
 * `w0·x`; a byte where the bound proves it, else the sample is undecided.
 */
function scalarEstimate(
  data: Uint8Array,
  h: number,
  zooms: EstimateZoom[],
  p: { w0: number; inv: number; d: number; white: number },
): { bytes: Uint8Array; miss: number[] } {
  const rs = h * 3;
  const bytes = new Uint8Array(h * rs), miss: number[] = [];
  const U = zooms.map(() => new Float64Array(rs + 3));
  for (let y = 0; y < h; y++) {
    for (const [j, z] of zooms.entries()) {
      const r0 = z.lo[y]! * rs, r1 = z.hi[y]! * rs, ty = z.t[y]!;
      for (let i = z.top * 3; i < (z.top + z.ch) * 3; i++) {
        const a = data[r0 + i]!;
        U[j]![i] = a + (data[r1 + i]! - a) * ty;
      }
    }
    for (let i = 0; i < rs; i++) {
      const x = Math.floor(i / 3), c = i % 3;
      let e = p.w0 * data[y * rs + i]!;
      for (const [j, z] of zooms.entries()) {
        const s = z.lo[x]! * 3 + c;
        const tx = z.hi[x] === z.lo[x] ? 0 : z.t[x]!;
        const a = U[j]![s]!;
        e = e + (a + (U[j]![s + 3]! - a) * tx);
      }
      const w = e * p.inv, k = Math.trunc(w - p.d);
      if (w + p.d < k + 1 && k < 255) bytes[y * rs + i] = k;
      else if (e >= p.white) bytes[y * rs + i] = 255;
      else miss.push(y * rs + i);
    }
  }
  return { bytes, miss };
}

function edgeImages(h: number): Uint8Array[] {
  const len = h * h * 3;
  const rng = new Rng(5, ["zoom-estimate"]);
  const noise = Uint8Array.from({ length: len }, () => rng.int(256));
  // Flat areas (every tap equal: the mean sits on a byte boundary), a
  // saturated one, and two-valued stripes.
  const blocks = Uint8Array.from({ length: len }, (_, i) => {
    const p = Math.floor(i / 3), x = p % h, y = Math.floor(p / h);
    return y < h / 3 ? 255 : x < h / 2 ? 37 : (x >> 2) & 1 ? 254 : 1;
  });
  return [noise, blocks];
}

Deno.test("zoomEstimate() decides the bytes and lists the undecided samples of the plain float64 estimate", async () => {
  const fx = await loadFixtureImages();
  const crops = await realCrops(3);
  // 224 (the corruption size), then sizes that relayout and grow the
  // module's memory, then 224 again (its tables rewritten).
  const cases: [number, Uint8Array[]][] = [
    [224, [...fx.images.map((im) => im.data), ...crops, ...edgeImages(224)]],
    [50, edgeImages(50)],
    [301, edgeImages(301)],
    [224, edgeImages(224)],
  ];
  let undecided = 0;
  for (const [h, images] of cases) {
    for (const severity of [1, 2, 3, 4, 5] as Severity[]) {
      const zooms = zoomTables(h, severity);
      const n = zooms.length + 2;
      const p = {
        w0: 2,
        inv: 1 / n,
        d: zoomEstimateBound(zooms.length, n),
        white: n * 255 - 2 ** -30,
      };
      for (const [k, data] of images.entries()) {
        const want = scalarEstimate(data, h, zooms, p);
        const out = new Uint8Array(data.length);
        const got = zoomEstimate(data, h, zooms, `s${severity}`, p, out);
        const what = `size ${h}, severity ${severity}, image ${k}`;
        assert.deepEqual([...got.miss], want.miss, what);
        const perRow = new Array<number>(h).fill(0);
        for (const i of want.miss) perRow[Math.floor(i / (h * 3))]!++;
        assert.deepEqual([...got.counts], perRow, what);
        for (const i of want.miss) out[i] = want.bytes[i] = 0;
        assert.deepEqual(out, want.bytes, what);
        undecided += want.miss.length;
      }
    }
  }
  assert.ok(undecided > 1000, `${undecided} undecided samples`);
});
