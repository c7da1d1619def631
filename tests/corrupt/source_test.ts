import assert from "node:assert/strict";
import { join } from "node:path";
import { openCorruptSource } from "../../src/corrupt/source.ts";
import { exportPath } from "../../src/corrupt/export.ts";
import { UserError } from "../../src/errors.ts";
import { kFixtureDir } from "./_fixtures.ts";

Deno.test("openCorruptSource() takes a flat folder of images, and class folders as a dataset", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hfss_corrupt_source_" });
  try {
    const flat = join(dir, "flat");
    await Deno.mkdir(flat);
    for (const name of ["img10.png", "img2.PNG", "img1.png"]) {
      await Deno.copyFile(join(kFixtureDir, "clean_0.png"), join(flat, name));
    }
    await Deno.writeTextFile(join(flat, ".DS_Store"), "");
    await Deno.writeTextFile(join(flat, "notes.txt"), "not an image");
    const s = await openCorruptSource(flat);
    assert.equal(s.layout, "flat");
    assert.deepStrictEqual(
      s.samples.map((x) => [x.path, x.folder]),
      ["img1.png", "img2.PNG", "img10.png"].map((n) => [join(flat, n), ""]),
    );
    assert.equal(
      exportPath(
        "out",
        { corruption: "fog", severity: 2 },
        s.samples[0]!,
        "png",
      ),
      join("out", "fog", "2", "img1.png"),
    );
    await assert.rejects(
      () => openCorruptSource(flat, { classes: [1] }),
      (e: unknown) =>
        e instanceof UserError && /flat folder of 3 images/.test(e.message),
    );

    // A class folder beside the images: a dataset, read as one.
    const classes = join(dir, "classes");
    await Deno.mkdir(join(classes, "n01440764"), { recursive: true });
    await Deno.copyFile(
      join(kFixtureDir, "clean_1.png"),
      join(classes, "n01440764", "a.png"),
    );
    const c = await openCorruptSource(classes);
    assert.notEqual(c.layout, "flat");
    assert.deepStrictEqual(
      c.samples.map((x) => x.folder),
      ["n01440764"],
    );

    // Class folders reached through symbolic links are folders, not a flat
    // set; a linked image in a flat folder is one of its images.
    const linked = join(dir, "linked");
    await Deno.mkdir(linked);
    await Deno.symlink(
      join(classes, "n01440764"),
      join(linked, "n01440764"),
    );
    const l = await openCorruptSource(linked);
    assert.notEqual(l.layout, "flat");
    assert.deepStrictEqual(l.samples.map((x) => x.folder), ["n01440764"]);
    // ...also beside a stray image at the root: never a flat folder.
    await Deno.copyFile(
      join(kFixtureDir, "clean_0.png"),
      join(linked, "x.png"),
    );
    const beside = await openCorruptSource(linked).then(
      (x) => x.layout,
      (e) => e instanceof UserError ? "refused" : String(e),
    );
    assert.notEqual(beside, "flat");
    await Deno.symlink(
      join(classes, "n01440764", "a.png"),
      join(flat, "img3.png"),
    );
    assert.deepStrictEqual(
      (await openCorruptSource(flat)).samples.map((x) => x.path),
      ["img1.png", "img2.PNG", "img3.png", "img10.png"].map((n) =>
        join(flat, n)
      ),
    );

    // An empty folder is still refused by layout detection.
    const empty = join(dir, "empty");
    await Deno.mkdir(empty);
    await assert.rejects(() => openCorruptSource(empty), UserError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
