/**
 * The committed oracle fixtures of `tests/fixtures/corrupt/` (written by
 * `scripts/corruption_oracle.py fixtures`): two 224 x 224 test pictures, the
 * oracle's outputs on a few full rows for every corruption and severity
 * (hfss's noise stream replayed), and numpy-sampler statistics.
 */
import { decodeImage, type RgbImage } from "../../src/data/decode.ts";
import { decodeNpy } from "../../src/dfm/npy.ts";
import { REPO_ROOT } from "../../src/testing/shared_data.ts";

export const kFixtureDir = `${REPO_ROOT}/tests/fixtures/corrupt`;

export interface OracleFixtures {
  images: RgbImage[];
  /** Image keys the fixtures seeded with (`clean_<k>`). */
  keys: string[];
  seed: number;
  rows: number[];
  corruptions: string[];
  /** uint8 [images, corruptions, 5, rows, 224, 3]. */
  expected: Uint8Array;
  statDraws: number;
  /** `"<image>/<corruption>/<severity>"` -> mean over draws of [mean, std, PSNR vs clean]. */
  stats: Record<string, [number, number, number]>;
}

/** The two clean test pictures and their keys (`clean_<k>`). */
export async function loadFixtureImages(): Promise<
  { images: RgbImage[]; keys: string[] }
> {
  const images: RgbImage[] = [];
  const keys: string[] = [];
  for (let k = 0; k < 2; k++) {
    const path = `${kFixtureDir}/clean_${k}.png`;
    images.push(await decodeImage(await Deno.readFile(path), path));
    keys.push(`clean_${k}`);
  }
  return { images, keys };
}

export async function loadOracleFixtures(): Promise<OracleFixtures> {
  const meta = JSON.parse(
    await Deno.readTextFile(`${kFixtureDir}/oracle.json`),
  );
  const { images, keys } = await loadFixtureImages();
  const npy = decodeNpy(
    await Deno.readFile(`${kFixtureDir}/expected_rows.npy`),
  );
  return {
    images,
    keys,
    seed: meta.seed,
    rows: meta.rows,
    corruptions: meta.corruptions,
    expected: npy.data as Uint8Array,
    statDraws: meta.stat_draws,
    stats: meta.stats_mean_std_psnr,
  };
}

/** Mean, standard deviation and PSNR against `clean` of an 8-bit image. */
export function imageStats(
  out: Uint8Array,
  clean: Uint8Array,
): [number, number, number] {
  let s = 0, s2 = 0, se = 0;
  for (let i = 0; i < out.length; i++) {
    const v = out[i]!;
    s += v;
    s2 += v * v;
    const d = v - clean[i]!;
    se += d * d;
  }
  const n = out.length;
  const mean = s / n;
  const mse = se / n;
  return [
    mean,
    Math.sqrt(Math.max(0, s2 / n - mean * mean)),
    mse > 0 ? 10 * Math.log10((255 * 255) / mse) : 99,
  ];
}
