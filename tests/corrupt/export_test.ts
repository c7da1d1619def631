import assert from "node:assert/strict";
import { join } from "node:path";
import { exportCorruptions } from "../../src/corrupt/export.ts";
import {
  generatedOodParts,
  generatedParts,
  isGeneratedSample,
  loadGeneratedBatches,
} from "../../src/corrupt/generated.ts";
import { OptionError } from "../../src/errors.ts";
import { resolveSubsets } from "../../src/corrupt/registry.ts";
import { openDataset } from "../../src/data/dataset.ts";
import { loadBatches } from "../../src/data/loader.ts";
import { kFixtureDir } from "./_fixtures.ts";

async function tensors(
  batches: AsyncIterable<{ tensor: Float32Array }>,
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for await (const b of batches) out.push(b.tensor);
  return out;
}

async function cleanSet(dir: string): Promise<string> {
  const root = join(dir, "val");
  for (const [k, wnid] of ["n01440764", "n01443537"].entries()) {
    await Deno.mkdir(join(root, wnid), { recursive: true });
    await Deno.copyFile(
      join(kFixtureDir, `clean_${k}.png`),
      join(root, wnid, `img_${k}.png`),
    );
  }
  return root;
}

Deno.test("exportCorruptions() writes the ImageNet-C layout that the imagenet-c reader and the on-the-fly loader agree on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hfss_corrupt_export_" });
  try {
    const root = await cleanSet(dir);
    const clean = await openDataset(root);
    const subsets = resolveSubsets([
      "gaussian_noise/2",
      "motion_blur/4",
      "jpeg_compression/1",
    ]);
    const out = join(dir, "inc");
    const samples = clean.samples.map((s) => ({
      path: s.path,
      folder: clean.classes.find((c) => c.index === s.label)!.wnid!,
    }));
    const first = await exportCorruptions({
      root,
      samples,
      out,
      subsets,
      seed: 5,
      format: "jpeg",
    });
    assert.equal(first.files_written, 6);
    assert.equal(first.files_skipped, 0);
    const file = join(out, "motion_blur", "4", "n01443537", "img_1.png");
    const bytes = await Deno.readFile(file);
    assert.deepStrictEqual([...bytes.slice(0, 2)], [0xff, 0xd8]);

    // A rerun skips what exists and changes nothing.
    const again = await exportCorruptions({
      root,
      samples,
      out,
      subsets,
      seed: 5,
      format: "jpeg",
    });
    assert.equal(again.files_written, 0);
    assert.equal(again.files_skipped, 6);
    assert.deepStrictEqual(await Deno.readFile(file), bytes);

    // The files, read back as ImageNet-C, give the tensors the on-the-fly
    // generator gives (same seed, same storage step).
    const inc = await openDataset(out, { layout: "imagenet-c" });
    assert.deepStrictEqual(
      inc.subsets!.map((s) => s.name).sort(),
      ["gaussian_noise/2", "jpeg_compression/1", "motion_blur/4"],
    );
    const parts = generatedParts(root, clean.samples, subsets);
    for (const part of parts) {
      const onDisk = inc.samples.filter((s) => s.subset === part.name);
      const a = await tensors(
        loadBatches(onDisk, { batchSize: 4, size: 224, resize: "squash" }),
      );
      const g = await tensors(
        loadGeneratedBatches(part.samples, {
          batchSize: 4,
          size: 224,
          resize: "squash",
          seed: 5,
          format: "jpeg",
        }),
      );
      assert.deepStrictEqual(g, a, part.name);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generatedOodParts() gives one part per subset, grouped by corruption, refusing frost and ImageNet-C roots", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hfss_corrupt_parts_" });
  try {
    const root = await cleanSet(dir);
    const r = await generatedOodParts(root, {
      classes: [0, 1],
      subsets: ["fog/2", "noise/1"],
    });
    assert.deepStrictEqual(
      r.parts.map((p) => [p.name, p.group, p.samples.length]),
      [
        ["fog/2", "fog", 2],
        ["gaussian_noise/1", "gaussian_noise", 2],
        ["impulse_noise/1", "impulse_noise", 2],
        ["shot_noise/1", "shot_noise", 2],
      ],
    );
    assert.equal(r.layout, "imagenet-c-generate");
    assert.deepStrictEqual(r.parts[1]!.samples.map((s) => s.key), [
      "n01440764/img_0.png",
      "n01443537/img_1.png",
    ]);
    assert.ok(isGeneratedSample(r.parts[0]!.samples[0]!));
    assert.ok(!isGeneratedSample({ path: "x", label: 0 }));
    const only0 = await generatedOodParts(root, { classes: [0] });
    assert.equal(only0.parts.length, 70);
    assert.ok(only0.parts.every((p) => p.samples.length === 1));
    assert.match(only0.notes.at(-1)!, /frost is not generated/);
    await assert.rejects(
      () => generatedOodParts(root, { classes: [0], subsets: ["frost/1"] }),
      (e: unknown) =>
        e instanceof OptionError && e.option === "frostTextures" &&
        /photographs of frost/.test(e.message),
    );
    const withFrost = await generatedOodParts(root, {
      classes: [0],
      frost: true,
    });
    assert.equal(withFrost.parts.length, 75);
    assert.deepStrictEqual(
      withFrost.parts.filter((p) => p.group === "frost").map((p) => p.name),
      ["frost/1", "frost/2", "frost/3", "frost/4", "frost/5"],
    );
    assert.doesNotMatch(withFrost.notes.join("\n"), /not generated/);
    const out = join(dir, "inc");
    await exportCorruptions({
      root,
      samples: [{
        path: join(root, "n01440764", "img_0.png"),
        folder: "n01440764",
      }],
      out,
      subsets: resolveSubsets(["contrast/1"]),
      seed: 0,
      format: "png",
    });
    await assert.rejects(
      () => generatedOodParts(out, { classes: [0] }),
      /ImageNet-C folder already/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
