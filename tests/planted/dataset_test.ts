import assert from "node:assert/strict";
import { join } from "node:path";
import { decode } from "fast-png";
import { Rng } from "../../src/rng.ts";
import { plantLayout } from "../../src/planted/layouts.ts";
import { openDataset } from "../../src/data/dataset.ts";
import { conjugatePartner } from "../../src/dfm/symmetry.ts";
import {
  defaultParams,
  generateImages,
  type PlantedTruth,
  writePlantedDataset,
} from "../../src/planted/dataset.ts";

const small = defaultParams({ classes: 4, perClass: 3, calibPerClass: 3 });

async function readAll(root: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const walk = async (dir: string, rel: string) => {
    for await (const e of Deno.readDir(dir)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(join(dir, e.name), r);
      else out.set(r, await Deno.readFile(join(dir, e.name)));
    }
  };
  await walk(root, "");
  return out;
}

Deno.test("writePlantedDataset() is deterministic: same seed, identical bytes; other seed differs", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await writePlantedDataset(join(tmp, "a"), small);
    await writePlantedDataset(join(tmp, "b"), small);
    await writePlantedDataset(join(tmp, "c"), { ...small, seed: 43 });
    const a = await readAll(join(tmp, "a"));
    const b = await readAll(join(tmp, "b"));
    const c = await readAll(join(tmp, "c"));
    assert.equal(a.size, 4 * 3 + 2);
    assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
    for (const [k, v] of a) assert.deepEqual(v, b.get(k), k);
    const img = "images/class00/00000.png";
    assert.notDeepEqual(a.get(img), c.get(img));
    const ta = JSON.parse(
      new TextDecoder().decode(a.get("planted.json")!),
    ) as PlantedTruth;
    const tc = JSON.parse(
      new TextDecoder().decode(c.get("planted.json")!),
    ) as PlantedTruth;
    assert.notDeepEqual(ta.classes, tc.classes);
    // labels.csv: header, then file,label with label = i mod K, files exist.
    const lines = new TextDecoder().decode(a.get("labels.csv")!).trim().split(
      "\n",
    );
    assert.equal(lines[0], "file,label,label_name");
    assert.equal(lines.length, 13);
    lines.slice(1).forEach((l, i) => {
      const [f, lab, name] = l.split(",");
      assert.equal(Number(lab), i % 4);
      assert.equal(name, `class0${i % 4}`);
      assert.ok(f!.startsWith(`images/${name}/`));
      assert.ok(a.has(f!));
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("writePlantedDataset() PNGs decode to the generated 8-bit RGB bytes", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const { images } = await writePlantedDataset(tmp, small);
    for (let i = 0; i < images.length; i++) {
      const png = decode(
        await Deno.readFile(
          join(tmp, `images/class0${i % 4}/${String(i).padStart(5, "0")}.png`),
        ),
      );
      assert.equal(png.width, 32);
      assert.equal(png.channels, 3);
      assert.equal(png.depth, 8);
      assert.deepEqual(new Uint8Array(png.data), images[i]!.rgb);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

/** Energy of the channel mean at signed frequency (fy, fx): direct float64 DFT sum. */
function dftEnergy(rgb: Uint8Array, s: number, fy: number, fx: number): number {
  let re = 0, im = 0;
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      const k = y * s + x;
      const v = (rgb[3 * k]! + rgb[3 * k + 1]! + rgb[3 * k + 2]!) / (3 * 255);
      const t = -2 * Math.PI * (fy * y + fx * x) / s;
      re += v * Math.cos(t);
      im += v * Math.sin(t);
    }
  }
  return re * re + im * im;
}

Deno.test("generateImages() planted energy survives 8-bit quantisation at every class's bins", () => {
  for (const layout of ["default", "lowhigh"] as const) {
    const params = defaultParams({ classes: 6, layout });
    const truth = plantLayout(new Rng(params.seed).fork("layout"), {
      size: 32,
      classes: 6,
      layout,
    });
    const images = generateImages(params, { split: "train", perClass: 8 });
    // Mean energy at each pair over images that own it vs images that do not.
    for (const plant of truth) {
      for (const p of plant.pairs) {
        let own = 0, nOwn = 0, other = 0, nOther = 0;
        for (const im of images) {
          const e = dftEnergy(im.rgb, 32, p.fy, p.fx);
          if (im.label === plant.label) {
            own += e;
            nOwn++;
          } else {
            other += e;
            nOther++;
          }
        }
        const ratio = (own / nOwn) / (other / nOther);
        assert.ok(
          ratio > 4,
          `${layout} class ${plant.label} (${p.fy},${p.fx}): ratio ${ratio}`,
        );
      }
    }
  }
});

Deno.test("generateImages() pixel mean and std do not reveal the class", () => {
  const params = defaultParams({ classes: 5 });
  const images = generateImages(params, { split: "train", perClass: 40 });
  const stats = Array.from({ length: 5 }, () => ({ m: 0, s: 0, n: 0 }));
  for (const im of images) {
    let m = 0;
    for (const v of im.rgb) m += v / 255;
    m /= im.rgb.length;
    let v2 = 0;
    for (const v of im.rgb) v2 += (v / 255 - m) ** 2;
    const st = stats[im.label]!;
    st.m += m;
    st.s += Math.sqrt(v2 / im.rgb.length);
    st.n++;
  }
  const means = stats.map((s) => s.m / s.n), stds = stats.map((s) => s.s / s.n);
  assert.ok(Math.max(...means) - Math.min(...means) < 0.03, `means ${means}`);
  assert.ok(Math.max(...stds) - Math.min(...stds) < 0.01, `stds ${stds}`);
});

Deno.test("plantLayout() pairs are true conjugate pairs, distinct, spaced, in their radius band", () => {
  for (const size of [32, 64]) {
    for (const layout of ["default", "lowhigh"] as const) {
      const plants = plantLayout(new Rng(7), { size, classes: 10, layout });
      const all: [number, number][] = [];
      for (const pl of plants) {
        assert.equal(pl.pairs.length, 2);
        for (const p of pl.pairs) {
          assert.deepEqual(p.bin, [p.fy + size / 2, p.fx + size / 2]);
          assert.deepEqual(
            p.partner,
            conjugatePartner(p.bin[0], p.bin[1], size),
          );
          assert.deepEqual(p.partner, [-p.fy + size / 2, -p.fx + size / 2]);
          for (const b of [p.bin, p.partner]) {
            assert.ok(b[0] > 0 && b[1] > 0, "no Nyquist row/column");
            assert.notDeepEqual(b, [size / 2, size / 2]);
            all.push(b);
          }
          const r = Math.hypot(p.fy, p.fx);
          if (layout === "lowhigh") {
            assert.ok(
              pl.label % 2 === 0 ? r <= size / 5 : r >= 0.35 * size,
              `r ${r}`,
            );
          }
        }
      }
      for (let i = 0; i < all.length; i++) {
        for (let j = i + 1; j < all.length; j++) {
          const d = Math.max(
            Math.abs(all[i]![0] - all[j]![0]),
            Math.abs(all[i]![1] - all[j]![1]),
          );
          assert.ok(d >= 2, `bins ${all[i]} ${all[j]}`);
        }
      }
    }
  }
});

Deno.test("writePlantedDataset() output opens as labels-csv (root) and as folders (images/) with the same labels", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const { images } = await writePlantedDataset(tmp, small);
    const csv = await openDataset(tmp, { layout: "labels-csv" });
    const folders = await openDataset(join(tmp, "images"), {
      layout: "folders",
    });
    assert.equal(csv.samples.length, images.length);
    assert.equal(folders.samples.length, images.length);
    assert.deepEqual(folders.classes.map((c) => [c.index, c.name]), [
      [0, "class00"],
      [1, "class01"],
      [2, "class02"],
      [3, "class03"],
    ]);
    const byPath = new Map(csv.samples.map((s) => [s.path, s.label]));
    for (const s of folders.samples) {
      assert.equal(byPath.get(s.path), s.label, s.path);
    }
    // Labels agree with the generator: file index i has label i mod K.
    for (const s of csv.samples) {
      const i = Number(s.path.match(/(\d+)\.png$/)![1]);
      assert.equal(s.label, images[i]!.label);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
