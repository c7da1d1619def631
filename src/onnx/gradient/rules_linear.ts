/**
 * Backward rules of matrix products: Gemm and MatMul (2-D or batched, with
 * broadcasting of the leading axes).
 *
 * @module
 */

import { attrFloat, attrInt } from "../proto.ts";
import { attr, floatAttr } from "../builder.ts";
import type { RuleTable } from "./rule.ts";

/** Permutation swapping the last two axes. */
function swapLast(rank: number): number[] {
  const p = Array.from({ length: rank }, (_, i) => i);
  p[rank - 1] = rank - 2;
  p[rank - 2] = rank - 1;
  return p;
}

/** Rules of the matrix-product family. */
export const kLinearRules: RuleTable = {
  Gemm: {
    inputs: [0, 1, 2],
    backward({ e, n, y, dy, isLive, addGrad, sumTo }) {
      const [a, b, c] = n.input as [string, string, string | undefined];
      const alpha = attrFloat(n, "alpha", 1);
      const beta = attrFloat(n, "beta", 1);
      const transA = attrInt(n, "transA", 0);
      const transB = attrInt(n, "transB", 0);
      const fa = floatAttr("alpha", alpha);
      if (isLive(0)) {
        // dA' = alpha dY B'^T ; dA = transA ? (dA')^T : dA'
        const ga = transA
          ? e.op("Gemm", [b, dy], [
            fa,
            attr("transA", transB),
            attr("transB", 1),
          ], "gemm_bw")
          : e.op(
            "Gemm",
            [dy, b],
            [fa, attr("transB", transB ? 0 : 1)],
            "gemm_bw",
          );
        addGrad(a, ga);
      }
      if (isLive(1)) {
        // dB' = alpha A'^T dY ; dB = transB ? (dB')^T : dB'
        const gb = transB
          ? e.op("Gemm", [dy, a], [
            fa,
            attr("transA", 1),
            attr("transB", transA),
          ], "gemm_bw")
          : e.op(
            "Gemm",
            [a, dy],
            [fa, attr("transA", transA ? 0 : 1)],
            "gemm_bw",
          );
        addGrad(b, gb);
      }
      if (c && isLive(2)) {
        addGrad(
          c,
          sumTo(beta === 1 ? dy : e.op("Mul", [dy, e.float(beta)]), y, c),
        );
      }
    },
  },
  // Y = A B over the last two axes; leading axes broadcast, so each operand's
  // gradient is summed over the axes it was broadcast along.
  MatMul: {
    inputs: [0, 1],
    backward(
      { e, n, y, dy, isLive, addGrad, shapeOf, sumToShape, unsupported },
    ) {
      const [a, b] = n.input as [string, string];
      const as = shapeOf(a);
      const bs = shapeOf(b);
      if (as.length < 2 || bs.length < 2) {
        unsupported("1-D MatMul operands are not supported");
      }
      const lead = shapeOf(y).slice(0, -2);
      if (isLive(0)) {
        const bt = e.op("Transpose", [b], { perm: swapLast(bs.length) });
        const full = e.op("MatMul", [dy, bt], {}, "matmul_bw");
        addGrad(a, sumToShape(full, [...lead, ...as.slice(-2)], a));
      }
      if (isLive(1)) {
        const at = e.op("Transpose", [a], { perm: swapLast(as.length) });
        const full = e.op("MatMul", [at, dy], {}, "matmul_bw");
        addGrad(b, sumToShape(full, [...lead, ...bs.slice(-2)], b));
      }
    },
  },
};
