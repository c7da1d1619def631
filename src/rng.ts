/**
 * Seeded pseudo-random numbers. Every random choice in hfss flows from one
 * seed (the `seed` option) through an `Rng`: same seed, same draws, on every
 * platform.
 *
 * Generator: xoshiro128** (32-bit state words, plain integer arithmetic), seeded
 * through SplitMix32-style mixing. `fork(...keys)` derives an independent child
 * stream from the parent seed and a key path, so work can be split (per stage,
 * per class, per candidate) without the order of consumption mattering.
 */

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

function hashKeys(seed: number, keys: readonly (string | number)[]): number {
  let h = mix32(seed >>> 0 ^ 0x9e3779b9);
  for (const key of keys) {
    const s = typeof key === "number" ? `#${key}` : `$${key}`;
    for (let i = 0; i < s.length; i++) {
      h = mix32((h ^ s.charCodeAt(i)) + 0x9e3779b9 >>> 0);
    }
    h = mix32(h ^ 0x85ebca6b);
  }
  return h;
}

/** A seeded xoshiro128** stream. */
export class Rng {
  readonly seed: number;
  readonly path: readonly (string | number)[];
  #s: Uint32Array;

  /**
   * @param seed any integer (taken modulo 2^32)
   * @param path optional key path (used by `fork`)
   */
  constructor(seed: number, path: readonly (string | number)[] = []) {
    if (!Number.isInteger(seed)) {
      throw new RangeError(
        `Cannot seed generator: seed ${seed} is not an integer`,
      );
    }
    this.seed = seed >>> 0;
    this.path = path;
    let x = hashKeys(this.seed, path);
    this.#s = new Uint32Array(4);
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      this.#s[i] = mix32(x);
    }
    if ((this.#s[0]! | this.#s[1]! | this.#s[2]! | this.#s[3]!) === 0) {
      this.#s[0] = 1;
    }
  }

  /** A generator with an explicit xoshiro128** state (for known-answer tests). */
  static fromState(state: readonly [number, number, number, number]): Rng {
    const r = new Rng(0);
    r.#s.set(state.map((x) => x >>> 0));
    return r;
  }

  /** An independent stream for the given key path below this one. */
  fork(...keys: (string | number)[]): Rng {
    return new Rng(this.seed, [...this.path, ...keys]);
  }

  /** The next 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2] = s[2]! ^ s[0]!;
    s[3] = s[3]! ^ s[1]!;
    s[1] = s[1]! ^ s[2]!;
    s[0] = s[0]! ^ s[3]!;
    s[2] = s[2]! ^ t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /**
   * Fill `out` with the next `out.length` 32-bit unsigned integers: the same
   * values, and the same state afterwards, as that many `nextU32()` calls
   * (the state is kept in locals for the loop).
   */
  fillU32(out: Uint32Array): Uint32Array {
    const s = this.#s;
    let s0 = s[0]!, s1 = s[1]!, s2 = s[2]!, s3 = s[3]!;
    for (let i = 0; i < out.length; i++) {
      const m = Math.imul(s1, 5);
      out[i] = Math.imul((m << 7) | (m >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
    return out;
  }

  /** A float in [0, 1) with 32 bits of randomness. */
  float(): number {
    return this.nextU32() / 4294967296;
  }

  /** An unbiased integer in [0, n), n <= 2^32. */
  int(n: number): number {
    if (!(n >= 1 && n <= 4294967296 && Number.isInteger(n))) {
      throw new RangeError(
        `Cannot draw an integer below ${n}: bound must be an integer in [1, 2^32]`,
      );
    }
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** A standard normal deviate (Box-Muller). */
  normal(): number {
    const u = 1 - this.float();
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a;
  }

  /** `k` distinct integers from [0, n), in draw order (partial Fisher-Yates). */
  sample(n: number, k: number): number[] {
    if (k > n || k < 0) {
      throw new RangeError(`Cannot sample ${k} of ${n} items`);
    }
    const idx = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      const t = idx[i]!;
      idx[i] = idx[j]!;
      idx[j] = t;
    }
    return idx.slice(0, k);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
