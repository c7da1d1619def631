/**
 * The ImageNet-C corruptions (Hendrycks & Dietterich, ICLR 2019): names,
 * families and the per-severity constants of the original generator
 * (`hendrycks/robustness`, `ImageNet-C/create_c/make_imagenet_c.py`),
 * transcribed as they are there, quirks included (e.g. elastic's `244`).
 *
 * Frost blends crops of photographs of frost that ship with the original
 * repository, not with hfss: it is generated only when the user gives their
 * folder (`frost.ts`); asking for it without them is an error that says how.
 */
import { OptionError } from "../errors.ts";

/** The 15 corruptions, in the order of the paper's tables. */
export const kCorruptionNames = [
  "gaussian_noise",
  "shot_noise",
  "impulse_noise",
  "defocus_blur",
  "glass_blur",
  "motion_blur",
  "zoom_blur",
  "snow",
  "frost",
  "fog",
  "brightness",
  "contrast",
  "elastic_transform",
  "pixelate",
  "jpeg_compression",
] as const;

export type CorruptionName = typeof kCorruptionNames[number];

/** Severities 1..5. */
export type Severity = 1 | 2 | 3 | 4 | 5;
export const kSeverities: readonly Severity[] = [1, 2, 3, 4, 5];

/** The family folder of the ImageNet-C release (`noise/gaussian_noise/…`). */
export const kFamily: Readonly<Record<CorruptionName, string>> = {
  gaussian_noise: "noise",
  shot_noise: "noise",
  impulse_noise: "noise",
  defocus_blur: "blur",
  glass_blur: "blur",
  motion_blur: "blur",
  zoom_blur: "blur",
  snow: "weather",
  frost: "weather",
  fog: "weather",
  brightness: "weather",
  contrast: "digital",
  elastic_transform: "digital",
  pixelate: "digital",
  jpeg_compression: "digital",
};

/**
 * Why a corruption cannot be generated from hfss's own files, for those that
 * need the user's (frost: the original's frost textures).
 */
export const kUnavailable: Readonly<Partial<Record<CorruptionName, string>>> = {
  frost: "it blends crops of the original generator's photographs of frost " +
    "(frost1.png … frost5.jpg), which do not ship with hfss; they are in " +
    "hendrycks/robustness (ImageNet-C/create_c/) and in the imagecorruptions " +
    "package (imagecorruptions/frost/): give the folder that holds them",
};

/** Corruptions hfss generates from its own files (all but frost). */
export const kGeneratedCorruptions: readonly CorruptionName[] = kCorruptionNames
  .filter((n) => !(n in kUnavailable));

/** The corruptions a run generates: with frost textures, all 15. */
export function generatedCorruptions(
  options: { frost?: boolean } = {},
): readonly CorruptionName[] {
  return options.frost ? kCorruptionNames : kGeneratedCorruptions;
}

/** `np.arange(start, stop, step)`, with numpy's length rule. */
export function arange(start: number, stop: number, step: number): number[] {
  const n = Math.max(0, Math.ceil((stop - start) / step));
  return Array.from({ length: n }, (_, i) => start + i * step);
}

/** Per-severity constants, index `severity - 1`. */
export const kConstants = {
  gaussian_noise: [0.08, 0.12, 0.18, 0.26, 0.38],
  shot_noise: [60, 25, 12, 5, 3],
  impulse_noise: [0.03, 0.06, 0.09, 0.17, 0.27],
  /** (radius, alias_blur) */
  defocus_blur: [[3, 0.1], [4, 0.5], [6, 0.5], [8, 0.5], [10, 0.5]],
  /** (sigma, max_delta, iterations) */
  glass_blur: [[0.7, 1, 2], [0.9, 2, 1], [1, 2, 3], [1.1, 3, 2], [1.5, 4, 2]],
  /** (radius, sigma) of ImageMagick's motion blur */
  motion_blur: [[10, 3], [15, 5], [15, 8], [15, 12], [20, 15]],
  /** zoom factors */
  zoom_blur: [
    arange(1, 1.11, 0.01),
    arange(1, 1.16, 0.01),
    arange(1, 1.21, 0.02),
    arange(1, 1.26, 0.02),
    arange(1, 1.31, 0.03),
  ],
  /** (loc, scale, zoom, threshold, blur radius, blur sigma, blend) */
  snow: [
    [0.1, 0.3, 3, 0.5, 10, 4, 0.8],
    [0.2, 0.3, 2, 0.5, 12, 4, 0.7],
    [0.55, 0.3, 4, 0.9, 12, 8, 0.7],
    [0.55, 0.3, 4.5, 0.85, 12, 8, 0.65],
    [0.55, 0.3, 2.5, 0.85, 12, 12, 0.55],
  ],
  /** (image weight, frost weight) */
  frost: [[1, 0.4], [0.8, 0.6], [0.7, 0.7], [0.65, 0.7], [0.6, 0.75]],
  /** (fog strength, wibble decay) */
  fog: [[1.5, 2], [2, 2], [2.5, 1.7], [2.5, 1.5], [3, 1.4]],
  brightness: [0.1, 0.2, 0.3, 0.4, 0.5],
  contrast: [0.4, 0.3, 0.2, 0.1, 0.05],
  /** (alpha, sigma, affine jitter); the original's 244 where 224 was meant */
  elastic_transform: [
    [244 * 2, 244 * 0.7, 244 * 0.1],
    [244 * 2, 244 * 0.08, 244 * 0.2],
    [244 * 0.05, 244 * 0.01, 244 * 0.02],
    [244 * 0.07, 244 * 0.01, 244 * 0.02],
    [244 * 0.12, 244 * 0.01, 244 * 0.02],
  ],
  pixelate: [0.6, 0.5, 0.4, 0.3, 0.25],
  jpeg_compression: [25, 18, 15, 10, 7],
} as const;

/**
 * Version of the generated pixels: raised whenever a change to a corruption
 * changes any output byte, so folders and evaluations made by an older
 * generator are not silently mixed with new images.
 */
export const kCorruptGeneratorVersion = 1;

/** The side the corruptions work on (the original's 224 x 224 centre crop). */
export const kCorruptSize = 224;

/** One generated ImageNet-C subset. */
export interface CorruptionSubset {
  corruption: CorruptionName;
  severity: Severity;
}

/** `corruption/severity`, as the ImageNet-C folders and `Sample.subset`. */
export function subsetName(s: CorruptionSubset): string {
  return `${s.corruption}/${s.severity}`;
}

function isName(s: string): s is CorruptionName {
  return (kCorruptionNames as readonly string[]).includes(s);
}

/**
 * Resolve subset selectors as for the released ImageNet-C: `corruption`,
 * `corruption/severity`, a bare `severity`, or a family (`noise`, `blur`,
 * `weather`, `digital`). Empty = every generated corruption at every
 * severity (frost only with `frost`: textures given). Order: corruption
 * order, then severity.
 *
 * @throws {OptionError} (key `subsets`) for an unknown selector; (key
 *   `frostTextures`) when frost is asked for by name without textures.
 */
export function resolveSubsets(
  selectors: readonly string[] | undefined,
  options: { frost?: boolean } = {},
): CorruptionSubset[] {
  const generated = generatedCorruptions(options);
  const want = new Set<string>();
  const all = !selectors || selectors.length === 0;
  for (const raw of selectors ?? []) {
    const sel = raw.trim();
    const [a, b, extra] = sel.split("/");
    const sev = b === undefined ? undefined : Number(b);
    if (
      extra !== undefined || a === undefined ||
      (b !== undefined && !(sev! >= 1 && sev! <= 5 && Number.isInteger(sev)))
    ) {
      throw new OptionError(
        "subsets",
        `"${sel}" is not corruption, corruption/severity (1-5), severity or family`,
      );
    }
    if (/^[1-5]$/.test(a) && b === undefined) {
      for (const n of generated) want.add(`${n}/${a}`);
      continue;
    }
    const names = isName(a) ? [a] : generated.filter((n) => kFamily[n] === a);
    if (names.length === 0) {
      throw new OptionError(
        "subsets",
        `unknown corruption "${a}" (known: ${kCorruptionNames.join(", ")})`,
      );
    }
    for (const n of names) {
      const why = kUnavailable[n];
      if (why && !generated.includes(n)) {
        throw new OptionError(
          "frostTextures",
          `not given, and ${n} needs them: ${why}`,
        );
      }
      for (const s of sev === undefined ? kSeverities : [sev as Severity]) {
        want.add(`${n}/${s}`);
      }
    }
  }
  const out: CorruptionSubset[] = [];
  for (const corruption of generated) {
    for (const severity of kSeverities) {
      if (all || want.has(`${corruption}/${severity}`)) {
        out.push({ corruption, severity });
      }
    }
  }
  return out;
}
