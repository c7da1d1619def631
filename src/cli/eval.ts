/**
 * `hfss eval`: per-class TPR with and without each class's rank-0 DFM,
 * in-distribution and on an OOD set or under FGSM, plus each DFM's
 * false-positive rate; resumable class by class (see src/eval/evaluate_dfms.ts
 * and src/eval/runner.ts).
 *
 * Choices the reference made inconsistently are flags, recorded in
 * `config.json` / `summary.json` (reference-hfss.md §2.11 #4–#6, §3):
 * `--mask-space` (default: the DFM stage's masking), `--resize-id` (default
 * crop, the reference's Org columns), `--resize-ood` (default squash, its
 * IN-C/IN-v2/Sketch columns), the `--id` folder as the in-distribution split,
 * and the normalisation (default: the DFM stage's). With `--attack fgsm` and
 * no `--ood`, the attack runs on the ID images (eval_fgsm.py); with `--ood`
 * too, on the OOD images.
 */
import { shardDir } from "../shard/partial.ts";
import { join } from "node:path";
import type { Command } from "commander";
import {
  evaluateDfms,
  type EvaluateDfmsOptions,
} from "../eval/evaluate_dfms.ts";
import type { EvalSummary } from "../eval/runner.ts";
import {
  arg,
  kLayoutAliases,
  kLayoutHelp,
  kMaskSpaces,
  normalizationFlags,
  option,
  parseFraction,
  shared,
  usage,
} from "./args.ts";
import { kCorruptDevices } from "../corrupt/gpu_blur.ts";
import { kOodLayouts } from "../data/ood.ts";
import { printJson } from "./json.ts";

/** The flags of `hfss eval`, parsed: the library's options, with the text flags. */
export type EvalCliOptions =
  & Omit<
    EvaluateDfmsOptions,
    "epsilon" | "epsilonText" | "normalization" | "log" | "warn" | "maxPixels"
  >
  & {
    /** Pixel limit in megapixels (`--max-megapixels`). */
    maxMegapixels?: number;
    /** As written (`8/255`); recorded as text and value. */
    epsilon: string;
    normalize?: string;
    mean?: string;
    std?: string;
    json?: boolean;
    quiet?: boolean;
  };

/** Check the flag combinations and turn the flags into library options. */
export function toEvalOptions(o: EvalCliOptions): EvaluateDfmsOptions {
  if (!o.ood && !o.attack) {
    usage(
      "--ood/--attack",
      "give an OOD set (--ood) or an attack (--attack fgsm)",
    );
  }
  if (
    o.frostTextures !== undefined && o.oodLayout !== "imagenet-c-generate"
  ) {
    usage("--frost-textures", "needs --ood-layout imagenet-c-generate");
  }
  if (o.saveAdversarial !== undefined && !o.attack) {
    usage("--save-adversarial", "needs an attack (--attack fgsm)");
  }
  const normalization = normalizationFlags(o);
  const {
    normalize: _n,
    mean: _m,
    std: _s,
    json: _j,
    quiet,
    maxMegapixels,
    ...rest
  } = o;
  return {
    ...rest,
    ...(maxMegapixels !== undefined ? { maxPixels: maxMegapixels * 1e6 } : {}),
    epsilon: parseFraction("--epsilon", o.epsilon),
    epsilonText: o.epsilon,
    ...(normalization ? { normalization } : {}),
    log: (m) => {
      if (!quiet) console.error(m);
    },
    // notes and warnings are never silenced
    warn: (m) => console.error(m),
  };
}

/** Run `hfss eval` with parsed flags; returns the summary. */
export async function evalCommand(o: EvalCliOptions): Promise<EvalSummary> {
  const opts = toEvalOptions(o);
  if (o.attack && o.threads !== undefined && o.threads > 1) {
    opts.log!(
      `warning: --threads ${o.threads} with --attack: building the FGSM gradient model with threaded onnxruntime-web can hang; use --threads 1 if it does`,
    );
  }
  return await evaluateDfms(opts);
}

function printSummary(s: EvalSummary, out: string): void {
  const f = (
    v: number | null | undefined,
  ) => (typeof v === "number" ? v.toFixed(4) : "-");
  console.log(`classes: ${s.classes}${s.complete ? "" : " (incomplete)"}`);
  console.log(
    `org_acc ${f(s.mean.org_acc)}  org_dfm_acc ${f(s.mean.org_dfm_acc)}`,
  );
  console.log(
    `corrupt_acc ${f(s.mean.corrupt_acc)}  corrupt_dfm_acc ${
      f(s.mean.corrupt_dfm_acc)
    }`,
  );
  console.log(`org_fpr ${f(s.mean.org_fpr)}  dfm_fpr ${f(s.mean.dfm_fpr)}`);
  for (const g of s.groups) {
    console.log(`  ${g.name}: ${f(g.acc)} / dfm ${f(g.dfm_acc)}`);
  }
  console.log(
    `files: ${join(out, "per_class.csv")}, ${join(out, "summary.json")}`,
  );
}

/** Register the `eval` subcommand. */
export function register(program: Command): void {
  program
    .command("eval")
    .description(
      "per-class TPR with/without each class's DFM, in-distribution and on an OOD set or under FGSM; resumable",
    )
    .requiredOption("--model <file>", "ONNX classifier")
    .requiredOption(
      "--dfm <dir>",
      "DFM stage folder (…/stage<k>); rank-0 mask of each class is used",
    )
    .requiredOption(
      "--id <dir>",
      "in-distribution images (this folder is the ID split; e.g. ImageNet val)",
    )
    .addOption(shared.layout("--id-layout", "ID layout"))
    .option("--ood <dir>", "OOD set root")
    .addOption(
      option(
        "--ood-layout <layout>",
        `OOD layout: ${kLayoutHelp}|imagenet-c-generate (ImageNet-C generated from the clean images at --ood)`,
        arg.choice(kOodLayouts, kLayoutAliases),
        "auto",
      ),
    )
    .addOption(
      option(
        "--subsets <list>",
        "ImageNet-C: keep these corruption[/severity] subsets (comma-separated; generated: also a severity or a family noise|blur|weather|digital)",
        arg.list(),
      ),
    )
    .addOption(
      option(
        "--corrupt-format <fmt>",
        "imagenet-c-generate: jpeg (quality-85 round trip, as the released files) | png (none)",
        arg.choice(["jpeg", "png"] as const),
        "jpeg",
      ),
    )
    .addOption(
      option(
        "--corrupt-device <where>",
        `imagenet-c-generate: defocus/motion/zoom blur on ${
          kCorruptDevices.join("|")
        } (auto: a hardware GPU if there is one, else the CPU)`,
        arg.choice(kCorruptDevices),
        "auto",
      ),
    )
    .addOption(shared.frostTextures("imagenet-c-generate: "))
    .addOption(
      option(
        "--attack <name>",
        "adversarial attack as the shifted set: fgsm",
        arg.choice(["fgsm"] as const),
      ),
    )
    .addOption(
      option(
        "--epsilon <eps>",
        "FGSM step on [0,1] pixels (a number or a fraction like 8/255)",
        (f, t) => {
          parseFraction(f, t);
          return t;
        },
        "8/255",
      ),
    )
    .addOption(
      option(
        "--fgsm-loss <loss>",
        "ce (cross-entropy) | reference (nll_loss on logits = -z_y)",
        arg.choice(["ce", "reference"] as const),
        "ce",
      ),
    )
    .option(
      "--save-adversarial <dir>",
      "with --attack: write the attacked inputs to this folder (adversarial.npy on [0,1] pixels, images.csv, PNGs)",
    )
    .requiredOption("--out <dir>", "output folder (resumable)")
    .addOption(
      option(
        "--classes <list>",
        "evaluate only these classes (indices, wnids or names; comma-separated)",
        arg.list(),
      ),
    )
    .addOption(
      option(
        "--max-classes <n>",
        "evaluate only the first n classes of the stage",
        arg.int({ min: 1 }),
      ),
    )
    .addOption(
      option(
        "--max-images <n>",
        "at most n images per class (ID, and per OOD part), seeded",
        arg.int({ min: 1 }),
      ),
    )
    .addOption(
      shared.maskSpace(
        `${kMaskSpaces.join("|")} (default: the DFM stage's masking)`,
      ),
    )
    .addOption(
      shared.resize(
        "--resize-id",
        "crop (Resize256+Crop224, reference Org) | squash",
        "crop",
      ),
    )
    .addOption(
      shared.resize(
        "--resize-ood",
        "squash (Resize((S,S)), reference OOD) | crop",
        "squash",
      ),
    )
    .addOption(shared.cropPct(0.875))
    .addOption(shared.interpolation("the DFM stage's"))
    .addOption(shared.normalize("the DFM stage's"))
    .addOption(shared.mean())
    .addOption(shared.std())
    .addOption(
      option(
        "--fpr-negatives <n>",
        "size of the seeded pool of other-class ID images for DFM FPR (0: off)",
        arg.int(),
        100,
      ),
    )
    .addOption(shared.seed("seed of the FPR pool and image subsampling", 42))
    .addOption(shared.maxMegapixels())
    .addOption(shared.batchSize("images per inference batch", 32))
    .addOption(shared.backend())
    .addOption(
      shared.threads("wasm threads (default: all cores; 1 with --attack)"),
    )
    .addOption(
      shared.workers(
        0,
        "image decode and ImageNet-C generation workers (0 = main thread)",
      ),
    )
    .addOption(shared.filter())
    .addOption(shared.compat("hfss"))
    .option("--label <text>", "display name of this run in the report")
    .option(
      "--restart",
      "discard a previous run in --out with another configuration",
    )
    .addOption(
      shared.shard(
        "evaluate shard i of n of the stage's classes into <out>/shard-i-of-n/; join them with hfss merge --eval",
      ),
    )
    .option("--quiet", "no progress on stderr")
    .option("--json", "print the summary as one JSON object")
    .action(async (opts: EvalCliOptions) => {
      const s = await evalCommand(opts);
      if (opts.json) printJson(s);
      else {
        printSummary(
          s,
          opts.shard ? shardDir(opts.out, opts.shard) : opts.out,
        );
      }
    });
}
