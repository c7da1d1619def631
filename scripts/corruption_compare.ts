/**
 * Compare hfss's corruptions with the numpy oracle (scripts/corruption_oracle.py)
 * on full images: generates every corruption x severity for the given 224 x 224
 * PNGs (or the fixture pictures), writes them as `.npy`, and runs the oracle's
 * `compare`, which prints PSNR and mean absolute difference per subset.
 *
 *   deno run -A scripts/corruption_compare.ts [--seed N] [a.png b.png ...]
 *
 * Other images than the fixtures are centre-cropped first (resize 256, crop 224).
 */
import { basename, join } from "node:path";
import { decodeImage } from "../src/data/decode.ts";
import { encodeNpy } from "../src/dfm/npy.ts";
import {
  centreCrop,
  corruptCrop,
  corruptionRng,
} from "../src/corrupt/corrupt.ts";
import {
  kCorruptSize,
  kGeneratedCorruptions,
  kSeverities,
} from "../src/corrupt/registry.ts";

const args = [...Deno.args];
let seed = 7;
const si = args.indexOf("--seed");
if (si >= 0) {
  seed = Number(args[si + 1]);
  args.splice(si, 2);
}
const here = new URL("..", import.meta.url).pathname;
const files = args.length > 0
  ? args
  : [0, 1].map((k) => join(here, `tests/fixtures/corrupt/clean_${k}.png`));
const n = kCorruptSize * kCorruptSize * 3;
const clean = new Uint8Array(files.length * n);
const ours = new Uint8Array(
  files.length * kGeneratedCorruptions.length * 5 * n,
);
const keys: string[] = [];
for (const [k, f] of files.entries()) {
  let img = await decodeImage(await Deno.readFile(f), f);
  if (img.width !== kCorruptSize || img.height !== kCorruptSize) {
    img = centreCrop(img);
  }
  const key = basename(f).replace(/\.[^.]*$/, "");
  keys.push(key);
  clean.set(img.data, k * n);
  for (const [ci, corruption] of kGeneratedCorruptions.entries()) {
    for (const severity of kSeverities) {
      const subset = { corruption, severity };
      const out = corruptCrop(img, subset, corruptionRng(seed, key, subset));
      ours.set(
        out.data,
        ((k * kGeneratedCorruptions.length + ci) * 5 + severity - 1) * n,
      );
    }
  }
}
const dir = await Deno.makeTempDir({ prefix: "hfss_corrupt_cmp_" });
const shape = [kCorruptSize, kCorruptSize, 3];
await Deno.writeFile(
  join(dir, "clean.npy"),
  encodeNpy(clean, "uint8", [files.length, ...shape]),
);
await Deno.writeFile(
  join(dir, "ours.npy"),
  encodeNpy(ours, "uint8", [
    files.length,
    kGeneratedCorruptions.length,
    5,
    ...shape,
  ]),
);
const p = new Deno.Command("/usr/bin/python3", {
  args: [
    join(here, "scripts/corruption_oracle.py"),
    "compare",
    join(dir, "ours.npy"),
    join(dir, "clean.npy"),
    String(seed),
    ...keys,
  ],
  stdout: "inherit",
  stderr: "inherit",
});
const { code } = await p.output();
await Deno.remove(dir, { recursive: true });
Deno.exit(code);
