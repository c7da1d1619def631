/**
 * Noise corruptions: gaussian, shot (Poisson) and impulse (salt and pepper).
 * Input and output are 8-bit RGB, HWC; `rng` is the image's stream for this
 * corruption and severity, consumed in pixel order (HWC).
 *
 * Draws (so an oracle can be fed the same fields):
 * - gaussian: one standard normal per sample (`Rng.normal`, Box-Muller);
 * - shot: one uniform per sample, turned into a Poisson(λ = x·c) count by
 *   CDF inversion;
 * - impulse: two uniforms per sample: flipped (u < amount), salt (u < 0.5),
 *   as skimage's `random_noise(mode="s&p")`.
 */
import type { Rng } from "../rng.ts";
import { kConstants, type Severity } from "./registry.ts";
import { toUint8 } from "./filters.ts";

/** `clip(x/255 + N(0, c²), 0, 1)`. */
export function gaussianNoise(
  data: Uint8Array,
  severity: Severity,
  rng: Rng,
): Uint8Array {
  const c = kConstants.gaussian_noise[severity - 1]!;
  // `rng.normal()` per sample, inlined (same draws, same expression, so the
  // same values), clipped and truncated in the same pass.
  const out = new Uint8Array(data.length);
  const twoPi = 2 * Math.PI;
  for (let i = 0; i < data.length; i++) {
    const u = 1 - rng.nextU32() / 4294967296;
    const v = rng.nextU32() / 4294967296;
    const n = Math.sqrt(-2 * Math.log(u)) * Math.cos(twoPi * v);
    const x = data[i]! / 255 + n * c;
    out[i] = Math.trunc((x < 0 ? 0 : x > 1 ? 1 : x) * 255);
  }
  return out;
}

/** The smallest k with P(X <= k) >= u for X ~ Poisson(lambda). */
export function poissonInverse(lambda: number, u: number): number {
  let p = Math.exp(-lambda);
  let f = p;
  let k = 0;
  while (u > f && k < 1000) {
    k++;
    p *= lambda / k;
    f += p;
    if (p === 0 && k > lambda) break;
  }
  return k;
}

/**
 * The CDF of Poisson(λ) at k = 0, 1, … as `poissonInverse` accumulates it,
 * until it stops growing (so a table scan gives `poissonInverse`'s answer).
 */
function poissonCdf(lambda: number): Float64Array {
  const f: number[] = [];
  let p = Math.exp(-lambda);
  let acc = p;
  f.push(acc);
  for (let k = 1; k < 1000; k++) {
    p *= lambda / k;
    const next = acc + p;
    if (p === 0 && k > lambda) break;
    acc = next;
    f.push(acc);
    if (acc >= 1) break;
  }
  return Float64Array.from(f);
}

/** `clip(Poisson(x/255 · c) / c, 0, 1)`; λ takes 256 values, so CDFs are tabled. */
export function shotNoise(
  data: Uint8Array,
  severity: Severity,
  rng: Rng,
): Uint8Array {
  const c = kConstants.shot_noise[severity - 1]!;
  const tables = Array.from(
    { length: 256 },
    (_, v) => poissonCdf((v / 255) * c),
  );
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const cdf = tables[data[i]!]!;
    const u = rng.float();
    let k = 0;
    while (k < cdf.length && u > cdf[k]!) k++;
    // Past the table: poissonInverse would go on until its own stop rule.
    out[i] = (k < cdf.length ? k : poissonInverse((data[i]! / 255) * c, u)) / c;
  }
  return toUint8(out);
}

/** A fraction `amount` of the samples set to 0 or 1 with equal odds. */
export function impulseNoise(
  data: Uint8Array,
  severity: Severity,
  rng: Rng,
): Uint8Array {
  const amount = kConstants.impulse_noise[severity - 1]!;
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const flipped = rng.float() < amount;
    const salt = rng.float() < 0.5;
    out[i] = flipped ? (salt ? 1 : 0) : data[i]! / 255;
  }
  return toUint8(out);
}
