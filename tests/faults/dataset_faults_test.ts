/**
 * Fault injection, datasets: folders as users really have them (archive
 * junk, a stray folder, link loops, paths leaving the folder). Every case
 * must either scan exactly right or fail with one line; never relabel.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describeDataset, openDataset } from "../../src/data/dataset.ts";
import { kImagenetWnids } from "../../src/data/labels.ts";
import { UserError } from "../../src/errors.ts";

async function files(root: string, paths: string[]): Promise<void> {
  for (const p of paths) {
    await Deno.mkdir(join(root, p, ".."), { recursive: true });
    await Deno.writeFile(join(root, p), new Uint8Array([0xff, 0xd8, 0xff]));
  }
}

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hfss_fault_ds_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A one-line UserError whose message matches every pattern. */
function oneLine(...patterns: RegExp[]): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof UserError, String(e));
    assert.ok(!e.message.includes("\n"), e.message);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  };
}

Deno.test("openDataset() keeps ImageNet-v2 labels when the root has an empty __MACOSX folder and dot-folders", () =>
  withTemp(async (root) => {
    await files(root, ["3/a.jpg", "10/b.jpg", "__MACOSX/10/._b.jpg"]);
    await Deno.mkdir(join(root, ".cache"));
    await Deno.writeTextFile(join(root, "Thumbs.db"), "x");
    const ds = await openDataset(root);
    assert.equal(ds.layout, "imagenet-v2");
    assert.deepEqual(ds.samples.map((s) => s.label), [3, 10]);
    assert.match(describeDataset(ds), /imagenet-v2 \(detected: 2 numeric/);
    assert.equal(ds.counts.junk_entries, 2); // __MACOSX, Thumbs.db
  }));

Deno.test("openDataset() refuses an ImageNet-v2 root with one stray folder instead of relabelling as folders", () =>
  withTemp(async (root) => {
    await files(root, ["3/a.jpg", "10/b.jpg", "extra/c.jpg"]);
    await assert.rejects(
      () => openDataset(root),
      oneLine(/imagenet-v2/, /"extra"/, /folders would relabel/),
    );
    // with the layout given, the stray folder is skipped, counted and noted
    const ds = await openDataset(root, { layout: "imagenet-v2" });
    assert.deepEqual(ds.samples.map((s) => s.label), [3, 10]);
    assert.equal(ds.counts.stray_folders, 1);
    assert.ok(ds.notes.some((n) => n.includes("extra")));
  }));

Deno.test("openDataset() refuses class-index folders of 1000 and above, and wnid roots with a stray folder", () =>
  withTemp(async (root) => {
    const v2 = join(root, "v2");
    await files(v2, ["3/a.jpg", "1000/b.jpg"]);
    await assert.rejects(() => openDataset(v2), oneLine(/"1000"/));
    const inet = join(root, "inet");
    await files(inet, [
      `${kImagenetWnids[5]}/a.jpg`,
      `${kImagenetWnids[9]}/b.jpg`,
      "misc/c.jpg",
    ]);
    await assert.rejects(
      () => openDataset(inet),
      oneLine(/imagenet \(wnid folders\) fits 2 of 3/, /"misc"/),
    );
  }));

Deno.test("openDataset() refuses a root that fits both labels.csv and class folders", () =>
  withTemp(async (root) => {
    await files(root, [`${kImagenetWnids[1]}/a.jpg`]);
    await Deno.writeTextFile(
      join(root, "labels.csv"),
      `file,label\n${kImagenetWnids[1]}/a.jpg,7\n`,
    );
    await assert.rejects(
      () => openDataset(root),
      oneLine(/labels-csv/, /imagenet/, /both fit/),
    );
  }));

Deno.test("openDataset() follows a folder link loop once, without duplicates or a stack overflow", () =>
  withTemp(async (root) => {
    await files(root, ["cat/a.jpg", "dog/b.jpg"]);
    // cat/loop -> cat (a cycle), dog/cats -> ../cat (a second way to cat's images)
    await Deno.symlink(join(root, "cat"), join(root, "cat", "loop"));
    await Deno.symlink("../cat", join(root, "dog", "cats"));
    const ds = await openDataset(root);
    assert.equal(ds.layout, "folders");
    assert.deepEqual(
      ds.samples.map((s) => [s.path.slice(root.length + 1), s.label]),
      [["cat/a.jpg", 0], ["dog/b.jpg", 1]],
    );
    assert.equal(ds.counts.link_loops, 2); // cat/loop, and dog/cats/loop
    assert.equal(ds.counts.duplicate_files, 1); // dog/cats/a.jpg
    assert.deepEqual(ds.classes.map((c) => c.count), [1, 1]);
  }));

Deno.test("openDataset() keeps a linked image in the class of its real file, whichever comes first", () =>
  withTemp(async (root) => {
    await files(root, ["b_dog/real.jpg"]);
    await Deno.mkdir(join(root, "a_cat"));
    await files(root, ["a_cat/own.jpg"]);
    await Deno.symlink(
      join(root, "b_dog", "real.jpg"),
      join(root, "a_cat", "link.jpg"),
    );
    const ds = await openDataset(root);
    assert.deepEqual(
      ds.samples.map((s) => [s.path.slice(root.length + 1), s.label]),
      [["a_cat/own.jpg", 0], ["b_dog/real.jpg", 1]],
    );
    assert.equal(ds.counts.duplicate_files, 1);
  }));

Deno.test("openDataset() leaves out a class with no images and reports every skipped row, counted", () =>
  withTemp(async (root) => {
    await files(root, ["a.jpg", "b.jpg"]);
    await Deno.writeTextFile(
      join(root, "labels.csv"),
      "file,label\na.jpg,1\nb.jpg,-1\nnope.jpg,2\nreadme.txt,3\na.jpg,1\n",
    );
    const ds = await openDataset(root);
    assert.deepEqual(ds.samples.map((s) => s.label), [1]);
    assert.deepEqual(ds.counts, {
      ...ds.counts,
      negative_labels: 1,
      missing_files: 1,
      not_images: 1,
      duplicate_rows: 1,
    });
    assert.equal(ds.notes.length, 4, ds.notes.join("; "));
    const folders = join(root, "f");
    await files(folders, ["x/a.jpg"]);
    await Deno.mkdir(join(folders, "y"));
    const fd = await openDataset(folders);
    assert.deepEqual(fd.classes.map((c) => c.name), ["x"]);
    assert.equal(fd.counts.empty_classes, 1);
    assert.ok(fd.notes.some((n) => /left out 1 class .*y/.test(n)));
  }));

Deno.test("openDataset() refuses labels.csv paths that leave the data folder", () =>
  withTemp(async (root) => {
    const data = join(root, "data");
    await files(root, ["secret.jpg", "data/a.jpg"]);
    for (const bad of ["../secret.jpg", join(root, "secret.jpg")]) {
      await Deno.writeTextFile(
        join(data, "labels.csv"),
        `file,label\na.jpg,1\n${bad},2\n`,
      );
      await assert.rejects(
        () => openDataset(data),
        oneLine(/row 3/, /outside the data folder/),
      );
    }
  }));
