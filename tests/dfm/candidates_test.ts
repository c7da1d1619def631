/**
 * Candidate masks against the numpy oracle (../shared/fixtures/reference/
 * masks.json): all 32 cases, both symmetries, exact equality; and the
 * determinism of seeded generation.
 */
import assert from "node:assert/strict";
import {
  buildMasks,
  candidateCount,
  type DrawCells,
  generateCandidate,
  generateCandidates,
  generateDraw,
  locateCandidate,
  parentPicker,
  sampleCells,
  upsampleDraw,
} from "../../src/dfm/candidates.ts";
import { gridSize, stageGeometry, topHalfCells } from "../../src/dfm/grid.ts";
import { isConjugateSymmetric, maskStats } from "../../src/dfm/symmetry.ts";
import type { StageData } from "../../src/dfm/store.ts";
import { testManifest } from "./_manifest.ts";
import { Rng } from "../../src/rng.ts";
import { FIXTURES, haveShared } from "../../src/testing/shared_data.ts";

interface FixArray {
  dtype: string;
  shape: number[];
  data?: number[];
  file?: string;
}

function loadArray(a: FixArray): Uint8Array | Int32Array {
  if (a.data) {
    return a.dtype === "int32"
      ? Int32Array.from(a.data)
      : Uint8Array.from(a.data);
  }
  const bytes = Deno.readFileSync(`${FIXTURES}/${a.file}`);
  if (a.dtype === "int32") {
    return new Int32Array(bytes.slice().buffer);
  }
  return bytes;
}

interface FixCase {
  id: string;
  img_size: number;
  stage: number;
  P: number;
  grid_aligned: number;
  grid_shifted: number | null;
  block: number;
  shift_crop: number | null;
  n_cells_aligned: number;
  n_cells_shifted: number;
  variants: string[];
  sampled_cells: Record<
    string,
    { grid: number; portion: number; count: number; indices: FixArray }
  >;
  parent: { reference: FixArray; corrected: FixArray } | null;
  upsampled: FixArray;
  reference: FixArray;
  corrected: FixArray;
}

const have = haveShared("fixtures/reference/masks.json");
const cases: FixCase[] = have
  ? JSON.parse(Deno.readTextFileSync(`${FIXTURES}/masks.json`)).cases
  : [];

function cellsOf(c: FixCase): DrawCells {
  const get = (k: string) => {
    const e = c.sampled_cells[k];
    return e ? loadArray(e.indices) as Int32Array : undefined;
  };
  const cells: DrawCells = { aAligned: get("A_aligned")! };
  const b = get("B_shifted"), ca = get("C_aligned"), cs = get("C_shifted");
  if (b) cells.bShifted = b;
  if (ca) cells.cAligned = ca;
  if (cs) cells.cShifted = cs;
  return cells;
}

function split(all: Uint8Array, v: number, s: number): Uint8Array {
  return all.subarray(v * s * s, (v + 1) * s * s);
}

function firstDiff(a: Uint8Array, b: Uint8Array, s: number): string {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return `first difference at (${Math.floor(i / s)}, ${i % s}): ${
        a[i]
      } vs ${b[i]}`;
    }
  }
  return "equal";
}

Deno.test({
  name: "stageGeometry() matches the fixtures' grids, blocks and cell counts",
  ignore: !have,
  fn() {
    assert.equal(cases.length, 32);
    for (const c of cases) {
      const g = stageGeometry(c.img_size, c.stage);
      assert.equal(g.grid, c.grid_aligned, c.id);
      assert.equal(g.shiftedGrid, c.grid_shifted, c.id);
      assert.equal(g.block, c.block, c.id);
      assert.equal(g.shiftCrop, c.shift_crop, c.id);
      assert.equal(g.nCellsAligned, c.n_cells_aligned, c.id);
      assert.equal(g.nCellsShifted, c.n_cells_shifted ?? 0, c.id);
      assert.deepEqual([...g.variants], c.variants, c.id);
      for (const [k, e] of Object.entries(c.sampled_cells)) {
        const n = e.grid === c.grid_aligned ? g.nCellsAligned : g.nCellsShifted;
        assert.equal(Math.trunc(n * e.portion), e.count, `${c.id} ${k}`);
      }
    }
  },
});

Deno.test({
  name: "buildMasks() reproduces all 32 fixture cases in both symmetries",
  ignore: !have,
  fn() {
    let checked = 0;
    for (const c of cases) {
      const s = c.img_size;
      const cells = cellsOf(c);
      const up = loadArray(c.upsampled) as Uint8Array;
      const ref = loadArray(c.reference) as Uint8Array;
      const cor = loadArray(c.corrected) as Uint8Array;
      const got = upsampleDraw(cells, { size: s, stage: c.stage });
      assert.equal(got.length, c.variants.length, c.id);
      const parentRef = c.parent
        ? loadArray(c.parent.reference) as Uint8Array
        : undefined;
      const parentCor = c.parent
        ? loadArray(c.parent.corrected) as Uint8Array
        : undefined;
      const r = buildMasks(cells, {
        size: s,
        stage: c.stage,
        symmetry: "reference",
        parent: parentRef,
      });
      const e = buildMasks(cells, {
        size: s,
        stage: c.stage,
        symmetry: "exact",
        parent: parentCor,
      });
      // The corrected mask does not depend on which parent was used.
      const e2 = buildMasks(cells, {
        size: s,
        stage: c.stage,
        symmetry: "exact",
        parent: parentRef,
      });
      for (let v = 0; v < c.variants.length; v++) {
        const tag = `${c.id} ${c.variants[v]}`;
        const u = split(up, v, s);
        assert.ok(
          got[v]!.every((x, i) => x === u[i]),
          `${tag} upsampled: ${firstDiff(got[v]!, u, s)}`,
        );
        const rv = split(ref, v, s);
        assert.ok(
          r[v]!.every((x, i) => x === rv[i]),
          `${tag} reference: ${firstDiff(r[v]!, rv, s)}`,
        );
        const cv = split(cor, v, s);
        assert.ok(
          e[v]!.every((x, i) => x === cv[i]),
          `${tag} exact: ${firstDiff(e[v]!, cv, s)}`,
        );
        assert.deepEqual(e2[v], e[v], `${tag} exact with reference parent`);
        assert.ok(isConjugateSymmetric(e[v]!, s), `${tag} exact symmetric`);
        checked++;
      }
    }
    assert.equal(checked, 16 * 3 + 12 * 3 + 4 * 1);
  },
});

Deno.test({
  name: "maskStats() of built masks equals the fixtures' stats",
  ignore: !have,
  fn() {
    interface Stat {
      kept_bins: number;
      dc_value: number;
      bins_not_equal_to_conjugate_partner: number;
    }
    const all = JSON.parse(Deno.readTextFileSync(`${FIXTURES}/masks.json`))
      .cases as (FixCase & {
        stats: {
          reference: Stat;
          corrected: Stat;
          bins_reference_ne_corrected: number;
        }[];
      })[];
    for (const c of all) {
      const s = c.img_size;
      const build = (symmetry: "exact" | "reference") =>
        buildMasks(cellsOf(c), {
          size: s,
          stage: c.stage,
          symmetry,
          parent: c.parent
            ? loadArray(
              symmetry === "exact" ? c.parent.corrected : c.parent.reference,
            ) as Uint8Array
            : undefined,
        });
      const r = build("reference"), e = build("exact");
      r.forEach((m, v) => {
        const want = c.stats[v]!;
        for (
          const [mask, st] of [[m, want.reference], [
            e[v]!,
            want.corrected,
          ]] as const
        ) {
          const got = maskStats(mask, s);
          assert.equal(got.keptBins, st.kept_bins, `${c.id} ${v}`);
          assert.equal(got.dcValue, st.dc_value, `${c.id} ${v}`);
          assert.equal(
            got.asymmetricBins,
            st.bins_not_equal_to_conjugate_partner,
            `${c.id} ${v}`,
          );
        }
        let ne = 0;
        for (let i = 0; i < m.length; i++) if (m[i] !== e[v]![i]) ne++;
        assert.equal(ne, want.bins_reference_ne_corrected, `${c.id} ${v}`);
      });
    }
  },
});

Deno.test("sampleCells() draws trunc(n·P) distinct sorted top-half cells", () => {
  for (
    const [size, stage, p] of [[224, 1, 0.8], [224, 6, 0.6], [32, 4, 0.6], [
      192,
      4,
      0.8,
    ]] as const
  ) {
    const g = stageGeometry(size, stage);
    const cells = sampleCells(new Rng(7), { size, stage, proportion: p });
    const check = (a: Int32Array | undefined, n: number, portion: number) => {
      assert.ok(a);
      assert.equal(a.length, Math.trunc(n * portion));
      for (let i = 0; i < a.length; i++) {
        assert.ok(a[i]! >= 0 && a[i]! < n);
        if (i > 0) assert.ok(a[i]! > a[i - 1]!, "sorted and distinct");
      }
    };
    check(cells.aAligned, g.nCellsAligned, p);
    if (g.shiftedGrid === null) {
      assert.equal(cells.bShifted, undefined);
      continue;
    }
    check(cells.bShifted, topHalfCells(g.grid + 1), p);
    check(cells.cAligned, g.nCellsAligned, p / 2);
    check(cells.cShifted, g.nCellsShifted, p / 2);
  }
});

Deno.test("generateCandidates() is byte-identical for one seed and differs for another", () => {
  const opts = { size: 32, stage: 2, count: 30, proportion: 0.8, seed: 42 };
  const parent = (i: number, rng: Rng) => {
    const m = new Uint8Array(32 * 32);
    for (let j = 0; j < m.length; j++) m[j] = rng.int(4) === 0 ? 0 : 1;
    return { mask: m, classPos: i % 5, rank: rng.int(10), stage: 1 };
  };
  const a = generateCandidates({ ...opts, parentFor: parent });
  const b = generateCandidates({ ...opts, parentFor: parent });
  const c = generateCandidates({ ...opts, seed: 43, parentFor: parent });
  assert.equal(a.masks.length, 30);
  assert.equal(a.draws.length, 10);
  assert.deepEqual(a.masks, b.masks);
  assert.deepEqual(a.draws, b.draws);
  assert.notDeepEqual(a.masks, c.masks);
  // The key separates independent pools.
  const d = generateCandidates({ ...opts, key: ["class", 3] });
  assert.notDeepEqual(d.masks, generateCandidates(opts).masks);
  // Every candidate regenerates on its own, in any order.
  for (const id of [29, 0, 14, 7]) {
    const one = generateCandidate(id, { ...opts, parentFor: parent });
    assert.deepEqual(one.mask, a.masks[id]);
    assert.equal(one.variant, "ABC"[id % 3]);
    assert.deepEqual(one.draw, a.draws[Math.floor(id / 3)]);
  }
  assert.deepEqual(a.draws[4]!.parent!.classPos, 4);
});

Deno.test("generateCandidates() masks are subsets of their parent and conjugate-symmetric", () => {
  const s = 64;
  const prev = generateCandidates({
    size: s,
    stage: 1,
    count: 3,
    proportion: 0.8,
    seed: 1,
  });
  const parent = prev.masks[0]!;
  const next = generateCandidates({
    size: s,
    stage: 2,
    count: 12,
    proportion: 0.6,
    seed: 1,
    parentFor: () => parent,
  });
  for (const m of next.masks) {
    assert.ok(isConjugateSymmetric(m, s));
    // exact(parent·x) ⊆ parent because parent is exact-symmetric
    for (let i = 0; i < m.length; i++) assert.ok(m[i]! <= parent[i]!);
  }
});

Deno.test("candidateCount() and locateCandidate() follow 3·floor(N_B/3), or floor(N_B/3) at G = S", () => {
  assert.equal(candidateCount(224, 1, 500), 498);
  assert.equal(candidateCount(128, 6, 500), 166);
  assert.equal(candidateCount(32, 4, 10), 3);
  assert.equal(
    generateCandidates({
      size: 32,
      stage: 4,
      count: 10,
      proportion: 0.6,
      seed: 3,
    }).masks.length,
    3,
  );
  assert.deepEqual(locateCandidate(7, { size: 224, stage: 2 }), {
    draw: 2,
    variant: "B",
    variantIndex: 1,
  });
  assert.deepEqual(locateCandidate(7, { size: 32, stage: 4 }), {
    draw: 7,
    variant: "A",
    variantIndex: 0,
  });
});

Deno.test("generateDraw() variant A keeps whole patches of the aligned grid", () => {
  const size = 192, stage = 4;
  const g = gridSize(size, stage);
  assert.equal(g, 24);
  const d = generateDraw({
    size,
    stage,
    proportion: 0.8,
    symmetry: "reference",
    rng: new Rng(5),
  });
  const b = size / g;
  const a = d.masks[0]!;
  // constant on every block of the top half
  for (let y = 0; y < size / 2; y++) {
    for (let x = 0; x < size; x++) {
      const y0 = Math.floor(y / b) * b, x0 = Math.floor(x / b) * b;
      assert.equal(a[y * size + x], a[y0 * size + x0]);
    }
  }
});

Deno.test("parentPicker() picks kept masks uniformly from a stage", () => {
  const s = 32, k = 3, n = 2;
  const masks = new Uint8Array(k * n * s * s);
  for (let i = 0; i < k * n; i++) masks.fill(1, i * s * s, i * s * s + i + 1);
  const manifest = testManifest({
    image_size: s,
    top_n: n,
    classes: [{ index: 0 }, { index: 1 }, { index: 2 }],
    top: [
      { candidates: [0, 1], losses: [1, 2], parents: [null, null] },
      { candidates: [], losses: [], parents: [] },
      { candidates: [2], losses: [1], parents: [null] },
    ],
  });
  const stage: StageData = { manifest, masks, losses: new Float64Array(k * n) };
  const pick = parentPicker(stage);
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const p = pick(i, new Rng(9, [i]));
    assert.ok(p && !(p instanceof Uint8Array));
    seen.add(`${p.classPos}/${p.rank}`);
    const off = (p.classPos * n + p.rank) * s * s;
    assert.deepEqual(p.mask, masks.subarray(off, off + s * s));
  }
  assert.deepEqual([...seen].sort(), ["0/0", "0/1", "2/0"]);
});
