/**
 * Operators whose outputs carry no gradient: shapes, comparisons, logic,
 * index results and piecewise-constant functions. A tensor computed only
 * through them is a constant of the backward pass (e.g. the `Shape` →
 * `Gather` → `Concat` chains that feed `Reshape` targets), so they never
 * block the transform.
 *
 * @module
 */

import type { Rule, RuleTable } from "./rule.ts";

const none: Rule = { inputs: "none" };

/** Rules of the non-differentiable family. */
export const kConstantRules: RuleTable = Object.fromEntries(
  [
    "Shape",
    "Size",
    "Constant",
    "ConstantOfShape",
    "Range",
    "EyeLike",
    "ArgMax",
    "ArgMin",
    "NonZero",
    "Equal",
    "Greater",
    "GreaterOrEqual",
    "Less",
    "LessOrEqual",
    "Not",
    "And",
    "Or",
    "Xor",
    "IsNaN",
    "IsInf",
    "Sign",
    "Floor",
    "Ceil",
    "Round",
  ].map((op) => [op, none]),
);
