import assert from "node:assert/strict";
import { FIXTURES, haveShared } from "../../src/testing/shared_data.ts";
import {
  kThresholds,
  tprCurves,
  tprCurveToJson,
  tprPanels,
} from "../../src/eval/tpr_curves.ts";

const ignore = !haveShared("fixtures/reference/tpr_curves.json");

interface Mean {
  Org_acc: number;
  Org_DFM_acc: number;
  Corrupt_acc: number;
  Corrupt_DFM_acc: number;
}
interface Fixture {
  thresholds: number[];
  cases: {
    id: string;
    table: Record<string, number[]>;
    per_threshold: {
      t: number;
      shortcut_indices: number[];
      non_shortcut_indices: number[];
      shortcut_mean: Mean;
      non_shortcut_mean: Mean;
      size_shortcut: number;
      size_non_shortcut: number;
    }[];
    notebook_series: Record<string, Record<string, number[]>>;
  }[];
}

async function load(): Promise<Fixture> {
  return JSON.parse(
    await Deno.readTextFile(`${FIXTURES}/tpr_curves.json`),
  ) as Fixture;
}

function table(c: Fixture["cases"][number]) {
  return {
    org_acc: c.table.Org_acc!,
    org_dfm_acc: c.table.Org_DFM_acc!,
    corrupt_acc: c.table.Corrupt_acc!,
    corrupt_dfm_acc: c.table.Corrupt_DFM_acc!,
  };
}

Deno.test({
  name: "kThresholds are the fixture's literal doubles",
  ignore,
  fn: async () => {
    const fx = await load();
    assert.deepEqual([...kThresholds], fx.thresholds);
    // not k*0.1: 3*0.1 = 0.30000000000000004
    assert.equal(kThresholds[2], 0.3);
  },
});

Deno.test({
  name:
    "tprPanels() matches the notebook series exactly (compat reference, both cases, both panels)",
  ignore,
  fn: async () => {
    const fx = await load();
    assert.equal(fx.cases.length, 2);
    for (const c of fx.cases) {
      const { id, ood } = tprPanels(table(c), { compat: "reference" });
      for (
        const [key, curve] of [
          ["Org_acc,Org_DFM_acc", id],
          ["Corrupt_acc,Corrupt_DFM_acc", ood],
        ] as const
      ) {
        const nb = c.notebook_series[key]!;
        const msg = `${c.id} ${key}`;
        assert.deepEqual(curve.shortcut, nb.S_de, msg);
        assert.deepEqual(curve.nonShortcut, nb.N_de, msg);
        assert.deepEqual(curve.shortcutDfm, nb.S_DFM_de, msg);
        assert.deepEqual(curve.nonShortcutDfm, nb.N_DFM_de, msg);
        assert.deepEqual(curve.sizeShortcut, nb.sizes_shortcut, msg);
        assert.deepEqual(curve.sizeNonShortcut, nb.sizes_normal, msg);
      }
      // per-threshold groups and means
      c.per_threshold.forEach((p, k) => {
        assert.equal(id.thresholds[k], p.t);
        assert.deepEqual(id.shortcutIndices[k], p.shortcut_indices);
        assert.deepEqual(id.nonShortcutIndices[k], p.non_shortcut_indices);
        assert.equal(id.shortcut[k], p.shortcut_mean.Org_acc);
        assert.equal(id.shortcutDfm[k], p.shortcut_mean.Org_DFM_acc);
        assert.equal(ood.shortcut[k], p.shortcut_mean.Corrupt_acc);
        assert.equal(ood.shortcutDfm[k], p.shortcut_mean.Corrupt_DFM_acc);
        assert.equal(id.nonShortcut[k], p.non_shortcut_mean.Org_acc);
        assert.equal(id.nonShortcutDfm[k], p.non_shortcut_mean.Org_DFM_acc);
        assert.equal(ood.nonShortcut[k], p.non_shortcut_mean.Corrupt_acc);
        assert.equal(
          ood.nonShortcutDfm[k],
          p.non_shortcut_mean.Corrupt_DFM_acc,
        );
        assert.equal(id.sizeShortcut[k], p.size_shortcut);
        assert.equal(id.sizeNonShortcut[k], p.size_non_shortcut);
      });
    }
  },
});

Deno.test({
  name:
    "tprCurves() default gives NaN for empty groups and the fixture values elsewhere",
  ignore,
  fn: async () => {
    const fx = await load();
    const c = fx.cases.find((x) => x.id === "empty_groups12")!;
    const { id } = tprPanels(table(c));
    let empties = 0;
    c.per_threshold.forEach((p, k) => {
      for (
        const [indices, series, ref] of [
          [p.shortcut_indices, id.shortcut, p.shortcut_mean.Org_acc],
          [p.non_shortcut_indices, id.nonShortcut, p.non_shortcut_mean.Org_acc],
        ] as const
      ) {
        if (indices.length === 0) {
          empties++;
          assert.ok(Number.isNaN(series[k]), `t=${p.t} empty group is NaN`);
        } else assert.equal(series[k], ref);
      }
      assert.equal(id.sizeShortcut[k], p.size_shortcut);
    });
    assert.ok(empties >= 2, "the case has empty groups");
  },
});

Deno.test("tprCurves() splits on > t, skips NaN values like pandas", () => {
  // independent oracle by hand: t = 0.5 only
  const split = [0.5, 0.6, NaN, 0.2];
  const acc = [1, 0.5, 0.9, NaN];
  const c = tprCurves(split, { acc, dfmAcc: split }, { thresholds: [0.5] });
  assert.deepEqual(c.shortcutIndices, [[1]]);
  assert.deepEqual(c.nonShortcutIndices, [[0, 3]]);
  assert.equal(c.shortcut[0], 0.5);
  assert.equal(c.nonShortcut[0], 1); // NaN of class 3 skipped
  assert.equal(c.nonShortcutDfm[0], (0.5 + 0.2) / 2);
  assert.equal(c.sizeShortcut[0], 1 / 3 * 100 * 2);
});

Deno.test("tprCurveToJson() writes snake_case keys and NaN as null", () => {
  const c = tprCurves([0.05, 0.95], { acc: [0.5, 1], dfmAcc: [0.05, 0.95] }, {
    thresholds: [0.1, 0.99],
  });
  const j = tprCurveToJson(c);
  assert.deepEqual(j.shortcut_indices, [[1], []]);
  assert.deepEqual(j.non_shortcut_indices, [[0], [0, 1]]);
  assert.deepEqual(j.shortcut, [1, null]);
  assert.deepEqual(j.non_shortcut, [0.5, 0.75]);
  assert.deepEqual(j.shortcut_dfm, [0.95, null]);
  assert.deepEqual(j.non_shortcut_dfm, [0.05, 0.5]);
  assert.deepEqual(j.size_shortcut, [100, 0]);
  assert.deepEqual(j.size_non_shortcut, [100, 200]);
  assert.ok(Object.keys(j).every((k) => /^[a-z_]+$/.test(k)));
});
