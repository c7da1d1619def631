import assert from "node:assert/strict";
import {
  classIndexToWnid,
  className,
  isWnid,
  kImagenetAIndices,
  kImagenetNames,
  kImagenetRIndices,
  kImagenetWnids,
  wnidToClassIndex,
} from "../../src/data/labels.ts";
import { parseCsv } from "../../src/io/csv.ts";
import { haveShared, shared } from "../../src/testing/shared_data.ts";

Deno.test("kImagenetWnids holds 1000 unique wnids in sorted order", () => {
  assert.equal(kImagenetWnids.length, 1000);
  assert.equal(new Set(kImagenetWnids).size, 1000);
  assert.ok(kImagenetWnids.every(isWnid));
  assert.deepEqual([...kImagenetWnids].sort(), [...kImagenetWnids]);
  assert.equal(kImagenetWnids[0], "n01440764");
  assert.equal(kImagenetWnids[999], "n15075141");
  assert.equal(wnidToClassIndex("n01440764"), 0);
  assert.equal(classIndexToWnid(999), "n15075141");
  assert.equal(wnidToClassIndex("n99999999"), undefined);
});

Deno.test("ImageNet-R and ImageNet-A index lists have 200 ascending classes with the published starts", () => {
  for (const list of [kImagenetRIndices, kImagenetAIndices]) {
    assert.equal(list.length, 200);
    assert.equal(new Set(list).size, 200);
    assert.ok(
      list.every((v, i) => v >= 0 && v < 1000 && (i === 0 || v > list[i - 1]!)),
    );
  }
  assert.deepEqual(kImagenetRIndices.slice(0, 10), [
    1,
    2,
    4,
    6,
    8,
    9,
    11,
    13,
    22,
    23,
  ]);
  assert.deepEqual(kImagenetAIndices.slice(0, 5), [6, 11, 13, 15, 17]);
  // A few wnids of the ImageNet-R list (hendrycks eval.py) map to the right index.
  assert.equal(kImagenetWnids[kImagenetRIndices[0]!], "n01443537"); // goldfish
  assert.equal(kImagenetWnids[kImagenetRIndices[199]!], "n12267677"); // acorn
});

Deno.test("kImagenetNames has 1000 names; className() gives the first synonym", () => {
  assert.equal(kImagenetNames.length, 1000);
  assert.equal(className(0), "tench");
  assert.equal(className(1), "goldfish");
  assert.equal(className(5000), "#5000");
});

Deno.test({
  name: "kImagenetNames equals ../shared imagenet_classes.txt",
  ignore: !haveShared("data/models/imagenet_classes.txt"),
  fn: async () => {
    const lines =
      (await Deno.readTextFile(shared("data/models/imagenet_classes.txt")))
        .split("\n");
    assert.deepEqual(lines.slice(0, 1000), [...kImagenetNames]);
  },
});

Deno.test({
  name:
    "wnid order agrees with the wnid,label pairs of ../shared imagenet_sample_per_class",
  ignore: !haveShared("data/images/imagenet_sample_per_class/labels.csv"),
  fn: async () => {
    const rows = parseCsv(
      await Deno.readTextFile(
        shared("data/images/imagenet_sample_per_class/labels.csv"),
      ),
    );
    const h = rows[0]!;
    const [li, wi] = [h.indexOf("label"), h.indexOf("wnid")];
    assert.equal(rows.length - 1, 100);
    for (const r of rows.slice(1)) {
      assert.equal(wnidToClassIndex(r[wi]!), Number(r[li]));
    }
  },
});
