/**
 * The gradient table: one entry per supported operator, gathered from the
 * rule families. An operator type appears in exactly one family.
 *
 * @module
 */

import type { Rule, RuleTable } from "./rule.ts";
import { kConstantRules } from "./rules_constant.ts";
import { kConvRules } from "./rules_conv.ts";
import { kElementwiseRules } from "./rules_elementwise.ts";
import { kLinearRules } from "./rules_linear.ts";
import { kNormRules } from "./rules_norm.ts";
import { kShapeRules } from "./rules_shape.ts";

function merge(families: RuleTable[]): ReadonlyMap<string, Rule> {
  const table = new Map<string, Rule>();
  for (const f of families) {
    for (const [op, rule] of Object.entries(f)) {
      if (table.has(op)) {
        throw new Error(`Gradient rule for ${op} defined twice`);
      }
      table.set(op, rule);
    }
  }
  return table;
}

/** Backward rule of every supported default-domain operator. */
export const kGradientRules: ReadonlyMap<string, Rule> = merge([
  kConstantRules,
  kElementwiseRules,
  kConvRules,
  kLinearRules,
  kNormRules,
  kShapeRules,
]);
