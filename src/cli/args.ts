/**
 * The command line's one argument module: value parsers for flags (integers,
 * numbers, fractions like `8/255`, lists, stage ranges, seeds, choices), one
 * error style (`error: --flag: problem`, exit code 2), the shared layout
 * vocabulary, and the table that names library option keys as flags.
 *
 * Parsers run while commander reads the command line, so every flag of a
 * command is checked before any file is opened.
 */
import { Option } from "commander";
import { OptionError, UserError } from "../errors.ts";
import { parseShard } from "../shard/partition.ts";
import { type DatasetLayout, kDatasetLayouts } from "../data/dataset.ts";
import {
  kInterpolations,
  type Normalization,
  parseNormalizeFlags,
  type ResizeMode,
} from "../data/preprocess.ts";
import { kSymmetryModes, type SymmetryMode } from "../dfm/symmetry.ts";
import type { CompatMode } from "../eval/tpr_curves.ts";
import { kLossKinds, type LossKind } from "../search/loss.ts";
import { kLineages, type Lineage } from "../search/lineage.ts";

/** A bad flag value: printed as `error: --flag: problem`, exit code 2. */
export class UsageError extends UserError {
  readonly flag: string;
  readonly problem: string;
  constructor(flag: string, problem: string) {
    super(`${flag}: ${problem}`, { exitCode: 2 });
    this.name = "UsageError";
    this.flag = flag;
    this.problem = problem;
  }
}

/** Throw a {@linkcode UsageError}. */
export function usage(flag: string, problem: string): never {
  throw new UsageError(flag, problem);
}

/** Bounds of a number flag. */
export interface Bounds {
  min?: number;
  max?: number;
  /** The lower bound itself is not allowed. */
  minExclusive?: boolean;
}

function describeBounds(b: Bounds): string {
  const lo = b.min === undefined
    ? ""
    : `${b.minExclusive ? ">" : ">="} ${b.min}`;
  const hi = b.max === undefined ? "" : `<= ${b.max}`;
  return [lo, hi].filter(Boolean).join(" and ");
}

function inBounds(x: number, b: Bounds): boolean {
  if (b.min !== undefined && (b.minExclusive ? x <= b.min : x < b.min)) {
    return false;
  }
  return b.max === undefined || x <= b.max;
}

/** An integer (decimal digits, optional sign); never rounded. */
export function parseInteger(
  flag: string,
  text: string,
  bounds: Bounds = { min: 0 },
): number {
  const t = text.trim();
  const what = `an integer${
    describeBounds(bounds) ? ` ${describeBounds(bounds)}` : ""
  }`;
  if (!/^[+-]?\d+$/.test(t)) usage(flag, `expected ${what}, got "${text}"`);
  const n = Number(t);
  if (!Number.isSafeInteger(n)) {
    usage(flag, `${t} is beyond 2^53 - 1, the largest exact integer`);
  }
  if (!inBounds(n, bounds)) usage(flag, `expected ${what}, got ${t}`);
  return n;
}

/** A finite decimal number. */
export function parseNumber(
  flag: string,
  text: string,
  bounds: Bounds = {},
): number {
  const t = text.trim();
  const x = t === "" ? NaN : Number(t);
  const what = `a number${
    describeBounds(bounds) ? ` ${describeBounds(bounds)}` : ""
  }`;
  if (!Number.isFinite(x)) usage(flag, `expected ${what}, got "${text}"`);
  if (!inBounds(x, bounds)) usage(flag, `expected ${what}, got ${t}`);
  return x;
}

/** A number or a fraction of two numbers (`8/255`, `0.03`). */
export function parseFraction(
  flag: string,
  text: string,
  bounds: Bounds = { min: 0 },
): number {
  const m = /^\s*([^/\s]+)\s*(?:\/\s*([^/\s]+)\s*)?$/.exec(text);
  const a = m ? Number(m[1]) : NaN;
  const b = m?.[2] !== undefined ? Number(m[2]) : 1;
  const x = a / b;
  const what = `a number or a fraction like 8/255${
    describeBounds(bounds) ? `, ${describeBounds(bounds)}` : ""
  }`;
  if (!m || !Number.isFinite(x) || !inBounds(x, bounds)) {
    usage(flag, `expected ${what}, got "${text}"`);
  }
  return x;
}

/** A comma-separated list; empty items are dropped. */
export function parseList<T = string>(
  flag: string,
  text: string,
  item: (flag: string, text: string) => T = (_f, s) => s as T,
): T[] {
  const items = text.split(",").map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) usage(flag, "expected a comma-separated list");
  return items.map((s) => item(flag, s));
}

/**
 * Stage numbers: one (`3`), an ascending range (`1-4`) or a list of both
 * (`3,9,96`), at least 1 and at most `max`.
 */
export function parseRange(
  flag: string,
  text: string,
  max = Number.MAX_SAFE_INTEGER,
): number[] {
  const out: number[] = [];
  for (const part of parseList(flag, text)) {
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!m) {
      usage(
        flag,
        `expected a number (2), a range (1-4) or a list (1,3), got "${text}"`,
      );
    }
    const a = parseInteger(flag, m[1]!, { min: 1, max });
    const b = m[2] === undefined
      ? a
      : parseInteger(flag, m[2], { min: 1, max });
    if (b < a) usage(flag, `range "${part}" must ascend`);
    for (let i = a; i <= b; i++) out.push(i);
  }
  for (let i = 1; i < out.length; i++) {
    if (out[i]! <= out[i - 1]!) {
      usage(flag, `"${text}" must ascend without repeats`);
    }
  }
  return out;
}

/**
 * A seed: an integer from 0 to 2^53 - 1, taken exactly. Larger seeds are
 * refused rather than rounded (rounding would silently merge seeds).
 */
export function parseSeed(flag: string, text: string): number {
  return parseInteger(flag, text, { min: 0 });
}

/** One of `choices`, or an alias of one (`aliases` maps alias to choice). */
export function parseChoice<T extends string>(
  flag: string,
  text: string,
  choices: readonly T[],
  aliases: Readonly<Record<string, T>> = {},
): T {
  if ((choices as readonly string[]).includes(text)) return text as T;
  const a = aliases[text];
  if (a !== undefined) return a;
  return usage(flag, `expected ${choices.join(", ")}, got "${text}"`);
}

/**
 * Dataset layouts, one vocabulary for `--layout`, `--id-layout` and
 * `--ood-layout`. The canonical names are the dataset module's; older
 * spellings stay accepted.
 */
export const kLayoutAliases: Readonly<Record<string, DatasetLayout>> = {
  sketch: "imagenet-sketch",
  folder: "folders",
};

/** Parse a layout name (canonical or alias). */
export function parseLayout(flag: string, text: string): DatasetLayout {
  return parseChoice(flag, text, kDatasetLayouts, kLayoutAliases);
}

/** Help text listing the canonical layouts. */
export const kLayoutHelp = kDatasetLayouts.join("|");

/**
 * The normalisation `--normalize`, `--mean` and `--std` give, or undefined
 * when none of them is given (the library then takes the model's or the
 * stage's).
 */
export function normalizationFlags(
  o: { normalize?: string; mean?: string; std?: string },
): Normalization | undefined {
  return o.normalize === undefined && o.mean === undefined &&
      o.std === undefined
    ? undefined
    : parseNormalizeFlags(o);
}

/** Resize modes, as every command names them. */
export const kResizeModes = ["squash", "crop"] as const;
/** Where masks apply, as every command names it. */
export const kMaskSpaces = ["normalized", "pixel"] as const;
/** onnxruntime backends. */
export const kBackends = ["wasm", "webgpu"] as const;
/** Where the spectral filter runs. */
export const kFilterKinds = ["auto", "gpu", "cpu"] as const;
/** Normalisation presets. */
export const kNormalizeNames = ["imagenet", "inception", "none"] as const;
type MaskSpace = typeof kMaskSpaces[number];
type Backend = typeof kBackends[number];

type Parse<T> = (flag: string, text: string) => T;

/**
 * A commander option whose value `parse` checks while the command line is
 * read (`flags` like `"--seed <n>"`).
 */
export function option<T>(
  flags: string,
  description: string,
  parse: Parse<T>,
  dflt?: T,
): Option {
  const o = new Option(flags, description);
  const flag = o.long ?? o.short ?? flags;
  o.argParser((v: string) => parse(flag, v));
  if (dflt !== undefined) o.default(dflt);
  return o;
}

/** Parsers bound to bounds/choices, ready for {@linkcode option}. */
export const arg = {
  int: (bounds: Bounds = { min: 0 }): Parse<number> => (f, t) =>
    parseInteger(f, t, bounds),
  number: (bounds: Bounds = {}): Parse<number> => (f, t) =>
    parseNumber(f, t, bounds),
  fraction: (bounds: Bounds = { min: 0 }): Parse<number> => (f, t) =>
    parseFraction(f, t, bounds),
  /** A fraction in (0, 1], e.g. `--crop-pct`. */
  unit: (): Parse<number> => (f, t) =>
    parseNumber(f, t, { min: 0, minExclusive: true, max: 1 }),
  seed: (): Parse<number> => parseSeed,
  range: (max?: number): Parse<number[]> => (f, t) => parseRange(f, t, max),
  list: (): Parse<string[]> => (f, t) => parseList(f, t),
  numbers: (): Parse<number[]> => (f, t) =>
    parseList(f, t, (ff, s) => parseNumber(ff, s)),
  choice: <T extends string>(
    choices: readonly T[],
    aliases: Readonly<Record<string, T>> = {},
  ): Parse<T> =>
  (f, t) => parseChoice(f, t, choices, aliases),
  layout: (): Parse<DatasetLayout> => parseLayout,
};

/**
 * Library option keys that are not their flag in camelCase (`batchSize` is
 * `--batch-size` without an entry). Per command where a key means another
 * flag there.
 */
const kOptionFlags: Record<string, string> = {
  normalization: "--normalize/--mean/--std",
  normalize: "--normalize",
  topN: "--top",
  maxPixels: "--max-megapixels",
  stage: "--stage/--stages",
  classIds: "--classes",
  masking: "--mask-space",
  parent: "--from",
  // Not a flag: progress saved when shared pools mixed classes in a block.
  schedule: "(block schedule of an older hfss)",
};
const kCommandOptionFlags: Record<string, Record<string, string>> = {
  search: { blockImages: "block size (min(--batch-size, 16))" },
  demo: {
    classes: "--num-classes",
    layout: "--planted-layout",
    stage: "--stages",
    blockImages: "block size (--per-class)",
  },
  // eval's resume configuration: keys read from the DFM stage name --dfm
  eval: {
    loss: "--fgsm-loss",
    dfmStage: "--dfm",
    dfmRank: "--dfm",
    dfmSymmetry: "--dfm",
    dfmSearchMasking: "--dfm",
    fprPool: "--fpr-negatives",
    formatVersion: "format version (another hfss version wrote the run)",
    corruptGeneratorVersion:
      "ImageNet-C generator version (another hfss version generated the images)",
  },
};

/**
 * The flag that sets library option `key` in `command` (camelCase option keys
 * or snake_case configuration keys).
 */
export function flagFor(name: string, command?: string): string {
  const key = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const own = command ? kCommandOptionFlags[command]?.[key] : undefined;
  if (own) return own;
  if (kOptionFlags[key]) return kOptionFlags[key]!;
  if (key.startsWith("--")) return key;
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The one-line message of an `OptionError`, in flag names. */
export function optionErrorLine(err: OptionError, command?: string): string {
  return `${flagFor(err.option, command)}: ${err.problem}`;
}

/**
 * Options several commands share, declared once so that their names, value
 * syntax and help read the same everywhere.
 */
export const shared = {
  layout: (flag = "--layout", what = "dataset layout"): Option =>
    option(`${flag} <layout>`, `${what}: ${kLayoutHelp}`, arg.layout(), "auto"),
  resize: (flag: string, help: string, dflt?: ResizeMode): Option =>
    option(`${flag} <mode>`, help, arg.choice(kResizeModes), dflt),
  interpolation: (dflt = "bilinear"): Option =>
    option(
      "--interpolation <filter>",
      `resampling: ${
        kInterpolations.join("|")
      }, antialiased as PIL's (bicubic: PIL's BICUBIC exactly; default: ${dflt})`,
      arg.choice(kInterpolations),
    ),
  size: (): Option =>
    option(
      "--size <S>",
      "input side for a model with symbolic height/width (default 224); a fixed-size model must match",
      arg.int({ min: 1 }),
    ),
  cropPct: (dflt?: number): Option =>
    option(
      "--crop-pct <f>",
      "centre-crop fraction for crop resizing, in (0, 1]",
      arg.unit(),
      dflt,
    ),
  normalize: (fallback: string): Option =>
    option(
      "--normalize <name>",
      `imagenet|inception|none (default: ${fallback})`,
      arg.choice(kNormalizeNames),
    ),
  mean: (): Option =>
    new Option("--mean <list>", "normalisation mean, 1 or 3 values"),
  std: (): Option =>
    new Option("--std <list>", "normalisation std, 1 or 3 values"),
  maskSpace: (help: string, dflt?: MaskSpace): Option =>
    option("--mask-space <space>", help, arg.choice(kMaskSpaces), dflt),
  seed: (help: string, dflt: number): Option =>
    option("--seed <n>", help, arg.seed(), dflt),
  batchSize: (help: string, dflt: number): Option =>
    option("--batch-size <n>", help, arg.int({ min: 1 }), dflt),
  backend: (dflt = "wasm" as Backend): Option =>
    option(
      "--backend <name>",
      `onnxruntime execution provider: ${kBackends.join("|")}`,
      arg.choice(kBackends),
      dflt,
    ),
  maxMegapixels: (): Option =>
    option(
      "--max-megapixels <n>",
      "refuse images with more pixels than this, from their header",
      arg.number({ min: 0 }),
      100,
    ),
  threads: (help = "onnxruntime wasm threads"): Option =>
    option("--threads <n>", help, arg.int({ min: 1 })),
  workers: (
    dflt: number,
    help = "image decode workers (0 = main thread)",
  ): Option =>
    option(
      "--workers <n>",
      help,
      arg.int(),
      dflt,
    ),
  filter: (): Option =>
    option(
      "--filter <where>",
      `spectral filter: ${
        kFilterKinds.join("|")
      } (auto: the GPU if an adapter opens, else the CPU)`,
      arg.choice(kFilterKinds),
      "auto",
    ),
  candidates: (dflt: number): Option =>
    option(
      "--candidates <n>",
      "N_B: candidates per pool and stage (3 masks per draw)",
      arg.int({ min: 3 }),
      dflt,
    ),
  proportion: (dflt: number): Option =>
    option(
      "--proportion <p>",
      "P: proportion of patch cells kept per candidate, in (0, 1]",
      arg.unit(),
      dflt,
    ),
  top: (dflt: number): Option =>
    option(
      "--top <n>",
      "top-N DFMs kept per class",
      arg.int({ min: 1 }),
      dflt,
    ),
  /** `fallback` describes the default where there is no `dflt`. */
  compat: (dflt?: CompatMode, fallback?: string): Option =>
    option(
      "--compat <mode>",
      `empty AvgTPR groups: hfss (missing; null in JSON) | reference (0, as the notebook)${
        fallback ? ` (default: ${fallback})` : ""
      }`,
      arg.choice(["hfss", "reference"] as const),
      dflt,
    ),
  symmetry: (dflt?: SymmetryMode): Option =>
    option(
      "--symmetry <mode>",
      `mask symmetry fill: ${kSymmetryModes.join("|")}`,
      arg.choice(kSymmetryModes),
      dflt,
    ),
  loss: (dflt?: LossKind): Option =>
    option(
      "--loss <kind>",
      `per-class ranking loss: ${kLossKinds.join("|")}`,
      arg.choice(kLossKinds),
      dflt,
    ),
  lineage: (dflt?: Lineage): Option =>
    option(
      "--lineage <kind>",
      `parents of stage k > 1: ${kLineages.join("|")}`,
      arg.choice(kLineages),
      dflt,
    ),
  /** `--frost-textures DIR`: the original's frost photographs (enables frost). */
  frostTextures: (what = ""): Option =>
    new Option(
      "--frost-textures <dir>",
      `${what}folder with the original ImageNet-C frost photographs frost1.png … frost5.jpg (hendrycks/robustness ImageNet-C/create_c/, or imagecorruptions/frost/ of the imagecorruptions package); generates frost, which is left out without them`,
    ),
  /** `--shard i/n` (1-based), parsed by the shard module. */
  shard: (help: string): Option =>
    option("--shard <i/n>", help, (f, t) => {
      try {
        return parseShard(t);
      } catch (err) {
        if (err instanceof OptionError) usage(f, err.problem);
        throw err;
      }
    }),
};

/** The library's `normalize` option from the normalisation flags. */
export function normalizeOption(
  o: { normalize?: string; mean?: string; std?: string },
): string | { mean: number[]; std: number[] } | undefined {
  const norm = normalizationFlags(o);
  if (!norm) return undefined;
  return norm.name === "custom"
    ? { mean: [...norm.mean], std: [...norm.std] }
    : norm.name;
}
