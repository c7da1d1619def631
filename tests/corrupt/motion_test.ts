import assert from "node:assert/strict";
import { encode as encodePng } from "fast-png";
import { decodeImage } from "../../src/data/decode.ts";
import { motionBlur, motionKernel } from "../../src/corrupt/motion.ts";
import { loadFixtureImages } from "./_fixtures.ts";

const kConvert = "/usr/bin/convert";
const haveConvert = (() => {
  try {
    return Deno.statSync(kConvert).isFile;
  } catch {
    return false;
  }
})();

Deno.test("motionKernel() is ImageMagick's one-sided Gaussian along the angle", () => {
  const k = motionKernel(10, 3, 0);
  assert.deepStrictEqual(k.weights.length, 21);
  assert.ok(Math.abs(k.weights.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.ok(k.weights[0]! > k.weights[1]! && k.weights[1]! > k.weights[5]!);
  assert.deepStrictEqual([...k.dx.slice(0, 4)], [0, 1, 2, 3]);
  assert.deepStrictEqual([...k.dy.slice(0, 4)], [0, 0, 0, 0]);
  const d = motionKernel(10, 3, 90);
  assert.deepStrictEqual([...d.dy.slice(0, 3)], [0, 1, 2]);
  assert.deepStrictEqual([...d.dx.slice(0, 3)], [0, 0, 0]);
});

Deno.test({
  name: "motionBlur() equals ImageMagick's `convert -motion-blur` bit for bit",
  ignore: !haveConvert,
  fn: async () => {
    const fx = await loadFixtureImages();
    const img = fx.images[0]!;
    const dir = await Deno.makeTempDir({ prefix: "hfss_motion_" });
    try {
      const grey = new Uint8Array(224 * 224);
      for (let p = 0; p < grey.length; p++) grey[p] = img.data[3 * p + 1]!;
      const cases: [Uint8Array, number, number, number, number][] = [
        [img.data, 3, 10, 3, 17.3],
        [img.data, 3, 20, 15, -44.9],
        [grey, 1, 12, 8, -101.25],
      ];
      for (const [data, ch, radius, sigma, angle] of cases) {
        const src = `${dir}/in.png`, dst = `${dir}/out.png`;
        await Deno.writeFile(
          src,
          encodePng({ width: 224, height: 224, data, channels: ch, depth: 8 }),
        );
        const r = await new Deno.Command(kConvert, {
          args: [src, "-motion-blur", `${radius}x${sigma}+${angle}`, dst],
        }).output();
        assert.ok(r.success, new TextDecoder().decode(r.stderr));
        const ref = await decodeImage(await Deno.readFile(dst), dst);
        const ours = motionBlur(
          data,
          224,
          224,
          ch,
          motionKernel(radius, sigma, angle),
        );
        let diff = 0;
        for (let p = 0; p < 224 * 224; p++) {
          for (let c = 0; c < ch; c++) {
            diff += Math.abs(ours[p * ch + c]! - ref.data[p * 3 + c]!);
          }
        }
        assert.deepStrictEqual(
          diff,
          0,
          `radius ${radius} sigma ${sigma} angle ${angle}`,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("motionBlur() equals a direct sum of its taps, edge pixels repeated, on odd sizes", () => {
  // Widths that leave a remainder after the blocks of two (three-channel)
  // and four (grey) pixels the blur sums side by side.
  const sizes: [number, number, number][] = [[7, 5, 3], [9, 6, 1], [4, 3, 3]];
  for (const [width, height, channels] of sizes) {
    const data = new Uint8Array(width * height * channels);
    for (let i = 0; i < data.length; i++) data[i] = (i * 97 + 13) % 256;
    for (const angle of [0, 33, -44.9, 90, 180]) {
      const k = motionKernel(3, 1.5, angle);
      const got = motionBlur(data, height, width, channels, k);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          for (let c = 0; c < channels; c++) {
            let acc = 0;
            for (let j = 0; j < k.weights.length; j++) {
              const sy = Math.min(height - 1, Math.max(0, y + k.dy[j]!));
              const sx = Math.min(width - 1, Math.max(0, x + k.dx[j]!));
              acc += k.weights[j]! * data[(sy * width + sx) * channels + c]!;
            }
            const q = Math.floor(acc * 257 + 0.5);
            const want = Math.min(255, Math.max(0, Math.floor(q / 257)));
            const o = (y * width + x) * channels + c;
            assert.equal(
              got[o],
              want,
              `${width}x${height}x${channels} ${angle}° at ${o}`,
            );
          }
        }
      }
    }
  }
});
