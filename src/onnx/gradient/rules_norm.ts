/**
 * Backward rules of normalisations and reductions: LayerNormalization,
 * Softmax, LogSoftmax, ReduceMean and ReduceSum.
 *
 * @module
 */

import { attrFloat, attrInt, attrInts } from "../proto.ts";
import { normAxis, type RuleContext, type RuleTable } from "./rule.ts";

/** Reduction axes of ReduceMean/ReduceSum (attribute before opset 18 for ReduceMean). */
function reduceAxes(c: RuleContext): number[] | "identity" {
  const { n, opset, intsOf, shapeOf, x } = c;
  let axes: number[];
  if (n.opType === "ReduceSum" || opset >= 18) {
    axes = n.input[1] ? intsOf(n.input[1]) : [];
    if (!axes.length && attrInt(n, "noop_with_empty_axes", 0)) {
      return "identity";
    }
  } else axes = attrInts(n, "axes", []);
  const rank = shapeOf(x).length;
  if (!axes.length) axes = Array.from({ length: rank }, (_, i) => i);
  return axes.map((a) => normAxis(a, rank));
}

const reduction = {
  inputs: [0],
  backward(c: RuleContext) {
    const { e, n, x, dy, shapeOf, addGrad } = c;
    const axes = reduceAxes(c);
    if (axes === "identity") {
      addGrad(x, dy);
      return;
    }
    let d = dy;
    if (!attrInt(n, "keepdims", 1)) {
      d = e.op("Unsqueeze", [d, e.ints([...axes].sort((p, q) => p - q))]);
    }
    d = e.op("Expand", [d, e.op("Shape", [x])], {}, "reduce_bw");
    if (n.opType === "ReduceMean") {
      if (axes.some((a) => c.batchAxes(x).includes(a))) {
        c.unsupported("averaging over an axis whose size depends on the batch");
      }
      const xs = shapeOf(x);
      const count = axes.reduce((p, a) => p * xs[a]!, 1);
      d = e.op("Mul", [d, e.float(1 / count)]);
    }
    addGrad(x, d);
  },
};

/** Rules of the normalisation and reduction family. */
export const kNormRules: RuleTable = {
  ReduceMean: reduction,
  ReduceSum: reduction,
  // y = (x - mu) * rstd * scale + bias over axes [axis, rank); with
  // xhat = (x - mu) * rstd and g = dy * scale:
  // dx = rstd * (g - mean(g) - xhat * mean(g * xhat)).
  LayerNormalization: {
    inputs: [0],
    backward({ e, n, x, dys, shapeOf, addGrad, unsupported }) {
      if (dys.slice(1).some((d) => d)) {
        unsupported("gradients through the Mean/InvStdDev outputs");
      }
      const dy = dys[0]!;
      const rank = shapeOf(x).length;
      const axis = normAxis(attrInt(n, "axis", -1), rank);
      const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
      const eps = attrFloat(n, "epsilon", 1e-5);
      const mu = e.reduce("ReduceMean", x, axes);
      const xc = e.op("Sub", [x, mu]);
      const variance = e.reduce("ReduceMean", e.op("Mul", [xc, xc]), axes);
      const rstd = e.op("Reciprocal", [
        e.op("Sqrt", [e.op("Add", [variance, e.float(eps)])]),
      ]);
      const xhat = e.op("Mul", [xc, rstd]);
      const g = e.op("Mul", [dy, n.input[1]!]);
      const m1 = e.reduce("ReduceMean", g, axes);
      const m2 = e.reduce("ReduceMean", e.op("Mul", [g, xhat]), axes);
      const inner = e.op("Sub", [
        e.op("Sub", [g, m1]),
        e.op("Mul", [xhat, m2]),
      ]);
      addGrad(x, e.op("Mul", [rstd, inner], {}, "layernorm_bw"));
    },
  },
  Softmax: {
    inputs: [0],
    backward({ e, n, x, y, dy, shapeOf, addGrad }) {
      const axis = normAxis(attrInt(n, "axis", -1), shapeOf(x).length);
      const s = e.reduce("ReduceSum", e.op("Mul", [dy, y]), [axis]);
      addGrad(x, e.op("Mul", [y, e.op("Sub", [dy, s])], {}, "softmax_bw"));
    },
  },
  LogSoftmax: {
    inputs: [0],
    backward({ e, n, x, y, dy, shapeOf, addGrad }) {
      const axis = normAxis(attrInt(n, "axis", -1), shapeOf(x).length);
      const s = e.reduce("ReduceSum", dy, [axis]);
      addGrad(
        x,
        e.op(
          "Sub",
          [dy, e.op("Mul", [e.op("Exp", [y]), s])],
          {},
          "logsoftmax_bw",
        ),
      );
    },
  },
};
