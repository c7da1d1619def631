import assert from "node:assert/strict";
import { join } from "node:path";
import {
  detectLayout,
  naturalCompare,
  openDataset,
  parseClassList,
  perClass,
  type Sample,
  stratifiedSplit,
} from "../../src/data/dataset.ts";
import {
  kImagenetAIndices,
  kImagenetRIndices,
  kImagenetWnids,
} from "../../src/data/labels.ts";
import { UserError } from "../../src/errors.ts";
import { parseCsv } from "../../src/io/csv.ts";
import { Rng } from "../../src/rng.ts";

/** Create files (empty placeholders: scanning never decodes). */
async function tree(
  root: string,
  files: string[],
  dirs: string[] = [],
): Promise<void> {
  for (const d of dirs) await Deno.mkdir(join(root, d), { recursive: true });
  for (const f of files) {
    await Deno.mkdir(join(root, f, ".."), { recursive: true });
    await Deno.writeFile(join(root, f), new Uint8Array([0xff, 0xd8, 0xff]));
  }
}

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hfss_ds_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const rel = (root: string, s: Sample) => s.path.slice(root.length + 1);

Deno.test("openDataset() reads ImageNet <wnid>/* folders with sorted-wnid labels", () =>
  withTemp(async (root) => {
    const w = kImagenetWnids;
    await tree(root, [
      `${w[5]}/b.JPEG`,
      `${w[5]}/a.JPEG`,
      `${w[0]}/x.jpg`,
      `${w[999]}/sub/y.png`,
      `${w[3]}/notes.txt`,
    ]);
    const ds = await openDataset(root);
    assert.equal(ds.layout, "imagenet");
    assert.deepEqual(ds.classes.map((c) => [c.index, c.wnid, c.count]), [
      [0, w[0], 1],
      [5, w[5], 2],
      [999, w[999], 1],
    ]);
    assert.deepEqual(ds.samples.map((s) => [rel(root, s), s.label]), [
      [`${w[0]}/x.jpg`, 0],
      [`${w[5]}/a.JPEG`, 5],
      [`${w[5]}/b.JPEG`, 5],
      [`${w[999]}/sub/y.png`, 999],
    ]);
    // the empty class folder is left out with a note, not fatal
    assert.ok(
      ds.notes.some((n) => n.includes(w[3]!) && n.includes("no images")),
      ds.notes.join("; "),
    );
    assert.equal(ds.counts.empty_classes, 1);
  }));

Deno.test("openDataset() maps ImageNet-v2 integer folders numerically (10 is class 10, not 2)", () =>
  withTemp(async (root) => {
    const names = ["0", "1", "2", "10", "100", "999", "11"];
    await tree(root, names.map((n) => `${n}/img_${n}.jpeg`));
    assert.equal(detectLayout(root), "imagenet-v2");
    const ds = await openDataset(root);
    assert.equal(ds.layout, "imagenet-v2");
    for (const s of ds.samples) {
      assert.equal(s.label, Number(rel(root, s).split("/")[0]));
    }
    assert.deepEqual(ds.classes.map((c) => c.index), [
      0,
      1,
      2,
      10,
      11,
      100,
      999,
    ]);
    assert.equal(
      ds.classes.find((c) => c.index === 10)!.wnid,
      kImagenetWnids[10],
    );
  }));

Deno.test("openDataset() reads ImageNet-C <corruption>/<severity>/<wnid>/* and exposes subsets", () =>
  withTemp(async (root) => {
    const w = kImagenetWnids;
    const files: string[] = [];
    for (const c of ["gaussian_noise", "fog"]) {
      for (const s of [1, 2, 10]) {
        files.push(`${c}/${s}/${w[7]}/a.JPEG`, `${c}/${s}/${w[1]}/b.JPEG`);
      }
    }
    await tree(root, files);
    const ds = await openDataset(root);
    assert.equal(ds.layout, "imagenet-c");
    assert.deepEqual(ds.subsets!.map((s) => [s.name, s.count]), [
      ["fog/1", 2],
      ["fog/2", 2],
      ["fog/10", 2],
      ["gaussian_noise/1", 2],
      ["gaussian_noise/2", 2],
      ["gaussian_noise/10", 2],
    ]);
    assert.ok(
      ds.samples.every((s) =>
        s.label === (rel(root, s).includes(w[7]!) ? 7 : 1)
      ),
    );
    assert.ok(
      ds.samples.every((s) =>
        rel(root, s).startsWith(s.subset!.replace("/", "/"))
      ),
    );
    const fog2 = await openDataset(root, { subsets: ["fog/2"] });
    assert.equal(fog2.samples.length, 2);
    assert.ok(fog2.samples.every((s) => s.subset === "fog/2"));
    // a single corruption folder: <root>/<severity>/<wnid>/*
    const single = await openDataset(join(root, "fog"));
    assert.equal(single.layout, "imagenet-c");
    assert.deepEqual(single.subsets!.map((s) => s.name), [
      "fog/1",
      "fog/2",
      "fog/10",
    ]);
  }));

Deno.test("openDataset() detects ImageNet-R and ImageNet-A by their 200 wnids and sets validLabels", () =>
  withTemp(async (root) => {
    for (
      const [name, idx, layout] of [["r", kImagenetRIndices, "imagenet-r"], [
        "a",
        kImagenetAIndices,
        "imagenet-a",
      ]] as const
    ) {
      const dir = join(root, name);
      await tree(dir, [
        `${kImagenetWnids[idx[0]!]}/x.jpg`,
        `${kImagenetWnids[idx[199]!]}/y.jpg`,
      ], idx.map((i) => kImagenetWnids[i]!));
      const ds = await openDataset(dir);
      assert.equal(ds.layout, layout);
      assert.deepEqual(ds.validLabels, [...idx]);
      assert.deepEqual(ds.samples.map((s) => s.label), [idx[0], idx[199]]);
      assert.equal(ds.counts.empty_classes, 198);
      assert.equal(ds.classes.length, 2);
    }
    // explicit layout on a partial tree; a wnid outside the 200 is refused
    const partial = join(root, "partial");
    await tree(partial, [`${kImagenetWnids[kImagenetRIndices[3]!]}/z.jpg`]);
    assert.equal(
      (await openDataset(partial, { layout: "imagenet-r" })).validLabels!
        .length,
      200,
    );
    assert.equal((await openDataset(partial)).layout, "imagenet");
    await tree(partial, [`${kImagenetWnids[0]}/q.jpg`]);
    await assert.rejects(
      () => openDataset(partial, { layout: "imagenet-r" }),
      /not one of its 200 classes/,
    );
  }));

Deno.test("openDataset() reads labels.csv (quoted fields, -1 rows skipped with a note, missing files noted)", () =>
  withTemp(async (root) => {
    await tree(root, ["a.JPEG", "b.png", "c.jpg"]);
    await Deno.writeTextFile(
      join(root, "labels.csv"),
      'file,label,label_name\na.JPEG,472,"canoe, boat"\nb.png,-1,""\nc.jpg,n01440764,"tench"\r\nmissing.jpg,3,"x"\n',
    );
    const ds = await openDataset(root);
    assert.equal(ds.layout, "labels-csv");
    assert.deepEqual(ds.samples.map((s) => [rel(root, s), s.label]), [[
      "a.JPEG",
      472,
    ], ["c.jpg", 0]]);
    assert.ok(
      ds.notes.some((n) =>
        n.includes("label -1") && n.startsWith("skipped 1 row")
      ),
    );
    assert.ok(ds.notes.some((n) => n.includes("missing.jpg")));
  }));

Deno.test("openDataset() names labels.csv classes from a label_name or name column, ImageNet names only without one", () =>
  withTemp(async (root) => {
    await tree(root, ["x/0.png", "x/1.png", "x/2.png", "x/3.png", "x/4.png"]);
    const csv = (text: string) =>
      Deno.writeTextFile(join(root, "labels.csv"), text);
    const names = async () =>
      (await openDataset(root, { layout: "labels-csv" })).classes.map((
        c,
      ) => [c.index, c.name, c.wnid ?? null]);
    // A planted-style file: small integer labels with names.
    await csv(
      `file,label,label_name\nx/0.png,1,class01\nx/1.png,0,class00\nx/2.png,1,class01\nx/3.png,2,\nx/4.png,${
        kImagenetWnids[7]
      },rooster\n`,
    );
    assert.deepEqual(await names(), [
      [0, "class00", null],
      [1, "class01", null],
      [2, "#2", null], // named column, empty value: no ImageNet name
      [7, "rooster", kImagenetWnids[7]!], // a wnid label keeps its wnid
    ]);
    // `name` is accepted too; a later name fills a class first seen unnamed.
    await csv("file,name,label\nx/0.png,,5\nx/1.png,cat,5\nx/2.png,dog,5\n");
    const ds = await openDataset(root, { layout: "labels-csv" });
    assert.deepEqual(ds.classes.map((c) => [c.index, c.name, c.count]), [[
      5,
      "cat",
      3,
    ]]);
    assert.ok(
      ds.notes.some((n) => n.includes("several names")),
      ds.notes.join("; "),
    );
    // No name column: ImageNet indices (and wnids) get ImageNet names and wnids.
    await csv("file,label\nx/0.png,0\nx/1.png,n01443537\nx/2.png,1000\n");
    assert.deepEqual(await names(), [
      [0, "tench", kImagenetWnids[0]!],
      [1, "goldfish", kImagenetWnids[1]!],
      [1000, "#1000", null],
    ]);
  }));

Deno.test("openDataset() reads generic class folders in natural order", () =>
  withTemp(async (root) => {
    await tree(root, [
      "class10/a.jpg",
      "class2/b.jpg",
      "class1/c.JPG",
      "Zebra/d.png",
    ], ["empty"]);
    const ds = await openDataset(root);
    assert.equal(ds.layout, "folders");
    assert.deepEqual(ds.classes.map((c) => [c.index, c.name, c.count]), [
      [0, "Zebra", 1],
      [1, "class1", 1],
      [2, "class2", 1],
      [3, "class10", 1],
    ]);
    assert.ok(
      ds.notes.some((n) => n.includes("empty") && n.includes("no images")),
    );
    const sub = await openDataset(root, {
      classes: parseClassList("class2,3"),
    });
    assert.deepEqual(sub.samples.map((s) => s.label), [2, 3]);
  }));

Deno.test("openDataset() fails clearly: no images (lists extensions), missing folder, unknown classes", () =>
  withTemp(async (root) => {
    await tree(root, ["n01440764/readme.txt"]);
    await assert.rejects(() => openDataset(root), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(
        e.message,
        /no images found \(supported extensions: \.jpg, \.jpeg, \.png/,
      );
      return true;
    });
    await assert.rejects(
      () => openDataset(join(root, "nope")),
      /Cannot open dataset ".*nope": folder not found/,
    );
    await tree(root, ["n01440764/a.jpg"]);
    await assert.rejects(
      () => openDataset(root, { classes: [5] }),
      /none of them is in the dataset/,
    );
  }));

Deno.test("--classes filter keeps the requested ImageNet classes by index, range or wnid", () =>
  withTemp(async (root) => {
    const w = kImagenetWnids;
    await tree(root, [0, 1, 2, 3, 4].map((i) => `${w[i]}/f${i}.jpg`));
    assert.deepEqual(parseClassList("0-2,n01530575, 7"), [
      0,
      1,
      2,
      "n01530575",
      7,
    ]);
    const ds = await openDataset(root, {
      classes: parseClassList(`1-2,${w[4]}`),
    });
    assert.deepEqual(ds.samples.map((s) => s.label), [1, 2, 4]);
    assert.deepEqual(ds.classes.map((c) => c.index), [1, 2, 4]);
  }));

function fakeSamples(counts: number[]): Sample[] {
  const out: Sample[] = [];
  counts.forEach((n, label) => {
    for (let i = 0; i < n; i++) out.push({ path: `c${label}/${i}.jpg`, label });
  });
  return out;
}

Deno.test("stratifiedSplit() takes round(f*n) (at least 1) per class, seeded, order kept", () => {
  const samples = fakeSamples([100, 40, 3, 1]);
  const a = stratifiedSplit(samples, 0.05, new Rng(42));
  const count = (xs: Sample[], l: number) =>
    xs.filter((s) => s.label === l).length;
  assert.deepEqual([0, 1, 2, 3].map((l) => count(a, l)), [5, 2, 1, 1]);
  assert.deepEqual(a, stratifiedSplit(samples, 0.05, new Rng(42)));
  assert.notDeepEqual(a, stratifiedSplit(samples, 0.05, new Rng(7)));
  const idx = a.map((s) => samples.indexOf(s));
  assert.deepEqual(idx, [...idx].sort((x, y) => x - y));
  // a class's pick does not depend on the other classes
  const only0 = stratifiedSplit(
    samples.filter((s) => s.label === 0),
    0.05,
    new Rng(42),
  );
  assert.deepEqual(only0, a.filter((s) => s.label === 0));
  assert.throws(() => stratifiedSplit(samples, 0, new Rng(1)), UserError);
});

Deno.test("perClass() takes at most n per class, seeded", () => {
  const samples = fakeSamples([10, 2, 7]);
  const a = perClass(samples, 3, new Rng(1));
  assert.deepEqual(
    [0, 1, 2].map((l) => a.filter((s) => s.label === l).length),
    [3, 2, 3],
  );
  assert.deepEqual(a, perClass(samples, 3, new Rng(1)));
  assert.equal(new Set(a).size, a.length);
});

Deno.test("naturalCompare() and parseCsv() basics", () => {
  assert.deepEqual(["a10", "a2", "a1", "b"].sort(naturalCompare), [
    "a1",
    "a2",
    "a10",
    "b",
  ]);
  assert.deepEqual(parseCsv('a,b\n"x, ""y""",2\r\n'), [["a", "b"], [
    'x, "y"',
    "2",
  ]]);
});
