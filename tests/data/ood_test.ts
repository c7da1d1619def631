import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveOodParts } from "../../src/data/ood.ts";

Deno.test("resolveOodParts() splits ImageNet-C by corruption/severity and ImageNet-v2 by subset", async () => {
  const root = await Deno.makeTempDir();
  const touch = async (p: string) => {
    await Deno.mkdir(join(root, p, ".."), { recursive: true });
    await Deno.writeFile(join(root, p), new Uint8Array([0xff, 0xd8, 0xff]));
  };
  try {
    // ImageNet-C: class 1 = n01443537, class 2 = n01484850
    await touch("inc/gaussian_noise/1/n01443537/a.JPEG");
    await touch("inc/gaussian_noise/2/n01443537/b.JPEG");
    await touch("inc/fog/1/n01443537/c.JPEG");
    await touch("inc/fog/1/n01484850/d.JPEG");
    const c = await resolveOodParts(join(root, "inc"), {
      layout: "imagenet-c",
      classes: [1, 2],
    });
    assert.equal(c.layout, "imagenet-c");
    assert.deepEqual(c.parts.map((p) => p.name).sort(), [
      "fog/1",
      "gaussian_noise/1",
      "gaussian_noise/2",
    ]);
    for (const p of c.parts) assert.equal(p.group, p.name.split("/")[0]);
    assert.deepEqual(
      c.parts.find((p) => p.name === "fog/1")!.samples.map((s) => s.label)
        .sort(),
      [1, 2],
    );
    // ImageNet-v2 root with two subsets; numeric class folders ("10" is class 10)
    await touch("v2/imagenetv2-top-images-format-val/1/y.jpeg");
    await touch("v2/imagenetv2-matched-frequency-format-val/10/x.jpeg");
    await touch("v2/imagenetv2-matched-frequency-format-val/2/z.jpeg");
    const v = await resolveOodParts(join(root, "v2"), {
      layout: "imagenet-v2",
      classes: [1, 2, 10],
    });
    assert.deepEqual(v.parts.map((p) => p.name), [
      "imagenetv2-matched-frequency-format-val",
      "imagenetv2-top-images-format-val",
    ]);
    assert.deepEqual(
      v.parts[0]!.samples.map((s) => s.label).sort((a, b) => a - b),
      [2, 10],
    );
    assert.deepEqual(v.parts[1]!.samples.map((s) => s.label), [1]);
    // ImageNet-R: predictions restricted to its 200 classes
    await touch("inr/n01443537/r.png");
    const r = await resolveOodParts(join(root, "inr"), {
      layout: "imagenet-r",
      classes: [1],
    });
    assert.equal(r.validLabels?.length, 200);
    assert.ok(r.validLabels!.includes(1));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
