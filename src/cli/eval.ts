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
import { join } from "node:path";
import type { Command } from "commander";
import type { DatasetLayout } from "../data/dataset.ts";
import { parseNormalizeFlags, type ResizeMode } from "../data/preprocess.ts";
import {
  evaluateDfms,
  type EvaluateDfmsOptions,
} from "../eval/evaluate_dfms.ts";
import type { EvalSummary } from "../eval/runner.ts";
import type { CompatMode } from "../eval/tpr_curves.ts";
import type { MaskFilterKind } from "../eval/mask_filter.ts";
import {
  arg,
  kBackends,
  kFilterKinds,
  kLayoutHelp,
  kMaskSpaces,
  kResizeModes,
  option,
  parseFraction,
  usage,
} from "./args.ts";
import { printJson } from "./json.ts";

/** The flags of `hfss eval`, parsed. */
export interface EvalCliOptions {
  model: string;
  dfm: string;
  id: string;
  idLayout: DatasetLayout;
  ood?: string;
  oodLayout: DatasetLayout;
  attack?: "fgsm";
  epsilon: string;
  fgsmLoss: "ce" | "reference";
  out: string;
  classes?: string[];
  maxClasses?: number;
  maxImages?: number;
  subsets?: string[];
  maskSpace?: "normalized" | "pixel";
  resizeId: ResizeMode;
  resizeOod: ResizeMode;
  cropPct: number;
  normalize?: string;
  mean?: string;
  std?: string;
  fprNegatives: number;
  seed: number;
  batchSize: number;
  backend: "wasm" | "webgpu";
  threads?: number;
  workers: number;
  filter: MaskFilterKind;
  compat: CompatMode;
  label?: string;
  restart?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** Check the flag combinations and turn the flags into library options. */
export function toEvalOptions(o: EvalCliOptions): EvaluateDfmsOptions {
  if (!o.ood && !o.attack) {
    usage(
      "--ood/--attack",
      "give an OOD set (--ood) or an attack (--attack fgsm)",
    );
  }
  const normalization =
    o.normalize !== undefined || o.mean !== undefined || o.std !== undefined
      ? parseNormalizeFlags({
        ...(o.normalize !== undefined ? { normalize: o.normalize } : {}),
        ...(o.mean !== undefined ? { mean: o.mean } : {}),
        ...(o.std !== undefined ? { std: o.std } : {}),
      })
      : undefined;
  const { normalize: _n, mean: _m, std: _s, json: _j, quiet, ...rest } = o;
  return {
    ...rest,
    epsilon: parseFraction("--epsilon", o.epsilon),
    epsilonText: o.epsilon,
    ...(normalization ? { normalization } : {}),
    log: (m) => {
      if (!quiet) console.error(m);
    },
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
    .addOption(
      option(
        "--id-layout <layout>",
        `ID layout: ${kLayoutHelp}`,
        arg.layout(),
        "auto",
      ),
    )
    .option("--ood <dir>", "OOD set root")
    .addOption(
      option(
        "--ood-layout <layout>",
        `OOD layout: ${kLayoutHelp}`,
        arg.layout(),
        "auto",
      ),
    )
    .addOption(
      option(
        "--subsets <list>",
        "ImageNet-C: keep these corruption[/severity] subsets (comma-separated)",
        arg.list(),
      ),
    )
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
      option(
        "--mask-space <space>",
        `${kMaskSpaces.join("|")} (default: the DFM stage's masking)`,
        arg.choice(kMaskSpaces),
      ),
    )
    .addOption(
      option(
        "--resize-id <mode>",
        "crop (Resize256+Crop224, reference Org) | squash",
        arg.choice(kResizeModes),
        "crop",
      ),
    )
    .addOption(
      option(
        "--resize-ood <mode>",
        "squash (Resize((S,S)), reference OOD) | crop",
        arg.choice(kResizeModes),
        "squash",
      ),
    )
    .addOption(
      option(
        "--crop-pct <f>",
        "centre-crop fraction for crop",
        arg.unit(),
        0.875,
      ),
    )
    .addOption(
      option(
        "--normalize <name>",
        "imagenet|inception|none (default: the DFM stage's)",
        arg.choice(["imagenet", "inception", "none"] as const),
      ),
    )
    .option("--mean <list>", "normalisation mean, 1 or 3 values")
    .option("--std <list>", "normalisation std, 1 or 3 values")
    .addOption(
      option(
        "--fpr-negatives <n>",
        "size of the seeded pool of other-class ID images for DFM FPR (0: off)",
        arg.int(),
        100,
      ),
    )
    .addOption(
      option(
        "--seed <n>",
        "seed of the FPR pool and image subsampling",
        arg.seed(),
        42,
      ),
    )
    .addOption(
      option(
        "--batch-size <n>",
        "images per inference batch",
        arg.int({ min: 1 }),
        32,
      ),
    )
    .addOption(
      option(
        "--backend <name>",
        `onnxruntime execution provider: ${kBackends.join("|")}`,
        arg.choice(kBackends),
        "wasm",
      ),
    )
    .addOption(
      option(
        "--threads <n>",
        "wasm threads (default: all cores; 1 with --attack)",
        arg.int({ min: 1 }),
      ),
    )
    .addOption(
      option(
        "--workers <n>",
        "image decode workers (0 = main thread)",
        arg.int(),
        0,
      ),
    )
    .addOption(
      option(
        "--filter <where>",
        `spectral filter: ${kFilterKinds.join("|")}`,
        arg.choice(kFilterKinds),
        "auto",
      ),
    )
    .addOption(
      option(
        "--compat <mode>",
        "AvgTPR empty groups in summary.json: hfss (null) | reference (0)",
        arg.choice(["hfss", "reference"] as const),
        "hfss",
      ),
    )
    .option("--label <text>", "display name of this run in the report")
    .option(
      "--restart",
      "discard a previous run in --out with another configuration",
    )
    .option("--quiet", "no progress on stderr")
    .option("--json", "print the summary as one JSON object")
    .action(async (opts: EvalCliOptions) => {
      const s = await evalCommand(opts);
      if (opts.json) printJson(s);
      else printSummary(s, opts.out);
    });
}
