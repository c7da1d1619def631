import assert from "node:assert/strict";
import {
  generalGridSizes,
  gridSize,
  gridSizes,
  kReferenceGrids,
  stageCount,
  stageGeometry,
  topHalfCells,
  topHalfRows,
} from "../../src/dfm/grid.ts";
import { UserError } from "../../src/errors.ts";
import { FIXTURES, haveShared } from "../../src/testing/shared_data.ts";

Deno.test({
  name: "gridSizes() equals the reference table of the fixtures",
  ignore: !haveShared("fixtures/reference/masks.json"),
  fn() {
    const table = JSON.parse(Deno.readTextFileSync(`${FIXTURES}/masks.json`))
      .grid_sizes as Record<string, Record<string, number>>;
    for (const [size, stages] of Object.entries(table)) {
      const want = Object.keys(stages).sort().map((k) => stages[k]!);
      assert.deepEqual(gridSizes(Number(size)), want, size);
      assert.equal(stageCount(Number(size)), want.length);
    }
  },
});

Deno.test("gridSizes() generalises to multiples of 32 with even blocks", () => {
  assert.deepEqual(gridSizes(192), [4, 8, 16, 24, 48, 96, 192]);
  assert.deepEqual(gridSizes(96), [4, 8, 16, 24, 48, 96]);
  assert.deepEqual(gridSizes(160), [4, 8, 16, 20, 40, 80, 160]);
  assert.deepEqual(gridSizes(256), [4, 8, 16, 32, 64, 128, 256]);
  // The rule itself (without the table) reproduces 32, 64, 128.
  for (const s of [32, 64, 128]) {
    assert.deepEqual(generalGridSizes(s), [...kReferenceGrids[s]!]);
  }
  assert.deepEqual(generalGridSizes(224), [...kReferenceGrids[224]!, 224]);
  for (const s of [96, 160, 192, 256, 288, 320]) {
    const grids = gridSizes(s);
    assert.equal(grids.at(-1), s);
    grids.forEach((g, i) => {
      assert.equal(s % g, 0, `${s}: ${g} divides`);
      if (g < s) assert.equal((s / g) % 2, 0, `${s}: block of ${g} is even`);
      if (i > 0) assert.ok(g > grids[i - 1]!, "grids grow");
    });
  }
});

Deno.test("gridSize() rejects sizes that cannot be tiled and stages out of range", () => {
  assert.throws(() => gridSizes(48), UserError);
  assert.throws(() => gridSizes(100), /multiple of 32/);
  assert.throws(() => gridSize(224, 7), /stages are 1 to 6/);
  assert.throws(() => gridSize(224, 0), UserError);
  assert.equal(gridSize(224, 4), 28);
});

Deno.test("topHalfRows() includes the middle row of odd grids", () => {
  assert.equal(topHalfRows(4), 2);
  assert.equal(topHalfRows(5), 3);
  assert.equal(topHalfCells(113), 57 * 113);
  const g = stageGeometry(224, 6);
  assert.equal(g.nCellsAligned, 56 * 112);
  assert.equal(g.nCellsShifted, 57 * 113);
  assert.deepEqual(stageGeometry(32, 4).variants, ["A"]);
});
