/**
 * Mask inputs of `hfss score`: a search stage folder (every filled rank of
 * every class, class-major), or an `.npy` array of masks `[n, S, S]` or
 * `[K, N, S, S]` in the DFM layout (fftshifted, DC at (S/2, S/2), 1 = kept;
 * DFM/README.md). Masks are 0/1: uint8 or bool, or float arrays whose values
 * are all exactly 0 or 1. Mask i of a `[K, N, S, S]` array is `[i div N,
 * i mod N]`.
 */
import { UserError } from "../errors.ts";
import { decodeNpy } from "../dfm/npy.ts";
import { readStage, type StageManifest } from "../dfm/store.ts";
import { readInputFile } from "../io/read.ts";

/** Where one scored mask came from. */
export interface MaskOrigin {
  /** Class position in the stage (or index along K of a `[K, N, S, S]` array); null for `[n, S, S]`. */
  classPos: number | null;
  /** Model output index of that class (stage folders only). */
  classId: number | null;
  wnid: string | null;
  /** Rank within the class (index along N); null for `[n, S, S]`. */
  rank: number | null;
}

/** Masks to score. */
export interface ScoreMasks {
  kind: "stage" | "npy";
  path: string;
  /** S: masks are S×S. */
  size: number;
  count: number;
  /** uint8 0/1, `[count, S, S]`. */
  masks: Uint8Array;
  origins: MaskOrigin[];
  /** The stage's manifest when `kind` is "stage". */
  manifest: StageManifest | null;
}

/**
 * Read the masks of a stage folder or an `.npy` file.
 *
 * @param path a stage folder (with `manifest.json`) or an `.npy` file
 * @returns the masks in scoring order and where each came from
 * @throws UserError naming the file and the problem
 * @example
 * ```ts
 * const m = await readScoreMasks("DFM/runs/my-run/stage3");
 * console.log(m.count, m.origins[0]); // K·N' masks, { classPos: 0, rank: 0, ... }
 * ```
 */
export async function readScoreMasks(path: string): Promise<ScoreMasks> {
  let isDir = false;
  try {
    isDir = (await Deno.stat(path)).isDirectory;
  } catch {
    throw new UserError(`Cannot read masks "${path}": file not found`);
  }
  if (isDir) return await stageMasks(path);
  return npyMasks(path, await readInputFile(path, "Cannot read masks"));
}

async function stageMasks(dir: string): Promise<ScoreMasks> {
  const stage = await readStage(dir).catch((err) => {
    throw new UserError(
      `Cannot read masks "${dir}": not a readable stage folder (${
        err instanceof Error ? err.message : err
      })`,
    );
  });
  const m = stage.manifest;
  const area = m.image_size * m.image_size;
  const origins: MaskOrigin[] = [];
  const parts: Uint8Array[] = [];
  m.classes.forEach((cls, c) => {
    const filled = m.top[c]?.candidates.length ?? 0;
    for (let r = 0; r < filled; r++) {
      const off = (c * m.top_n + r) * area;
      parts.push(stage.masks.subarray(off, off + area));
      origins.push({
        classPos: c,
        classId: cls.index,
        wnid: cls.wnid ?? null,
        rank: r,
      });
    }
  });
  if (parts.length === 0) {
    throw new UserError(`Cannot read masks "${dir}": the stage has no masks`);
  }
  const masks = new Uint8Array(parts.length * area);
  parts.forEach((p, i) => masks.set(p, i * area));
  return {
    kind: "stage",
    path: dir,
    size: m.image_size,
    count: parts.length,
    masks,
    origins,
    manifest: m,
  };
}

/**
 * Masks from the bytes of an `.npy` file (see the module comment).
 * @throws UserError naming `path` when the shape or values do not fit
 */
export function npyMasks(path: string, bytes: Uint8Array): ScoreMasks {
  let arr;
  try {
    arr = decodeNpy(bytes, path);
  } catch (err) {
    throw new UserError(
      `Cannot read masks "${path}": ${
        err instanceof Error ? err.message : err
      }`,
    );
  }
  const { shape, data } = arr;
  const fail = (what: string): never => {
    throw new UserError(`Cannot read masks "${path}": ${what}`);
  };
  if (shape.length !== 3 && shape.length !== 4) {
    fail(
      `shape is [${shape.join(", ")}], expected [n, S, S] or [K, N, S, S]`,
    );
  }
  const s = shape.at(-1)!;
  if (shape.at(-2) !== s || s < 2) {
    fail(`masks are ${shape.at(-2)}x${s}, expected square masks`);
  }
  const count = shape.length === 3 ? shape[0]! : shape[0]! * shape[1]!;
  if (count < 1) fail("the array holds no masks");
  if (data instanceof BigInt64Array) {
    fail(`dtype ${arr.dtype} is not supported (use uint8, bool or float)`);
  }
  const masks = new Uint8Array(count * s * s);
  const values = data as Exclude<typeof data, BigInt64Array>;
  for (let i = 0; i < masks.length; i++) {
    const v = values[i]!;
    if (v !== 0 && v !== 1) {
      const m = Math.floor(i / (s * s)), k = i % (s * s);
      fail(
        `mask ${m} has value ${v} at (${Math.floor(k / s)}, ${
          k % s
        }), expected 0 or 1`,
      );
    }
    masks[i] = v;
  }
  const n = shape.length === 4 ? shape[1]! : 0;
  const origins: MaskOrigin[] = Array.from({ length: count }, (_, i) => ({
    classPos: n ? Math.floor(i / n) : null,
    classId: null,
    wnid: null,
    rank: n ? i % n : null,
  }));
  return {
    kind: "npy",
    path,
    size: s,
    count,
    masks,
    origins,
    manifest: null,
  };
}
