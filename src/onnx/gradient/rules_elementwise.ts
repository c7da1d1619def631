/**
 * Backward rules of elementwise operators: activations, arithmetic with
 * broadcasting, `Where` and float-to-float `Cast`.
 *
 * @module
 */

import { attrFloat, attrInt, DataType, type NodeProto } from "../proto.ts";
import { floatAttr } from "../builder.ts";
import type { RuleContext, RuleTable } from "./rule.ts";

const kFloatTypes = new Set<number>([
  DataType.FLOAT,
  DataType.FLOAT16,
  DataType.DOUBLE,
  DataType.BFLOAT16,
]);

/** `dy * d` for a unary operator with local derivative `d`. */
function unary(derivative: (c: RuleContext) => string, hint: string) {
  return {
    inputs: [0],
    backward(c: RuleContext) {
      c.addGrad(c.x, c.e.op("Mul", [c.dy, derivative(c)], {}, hint));
    },
  };
}

/** Gradient passes unchanged (Identity, Dropout at inference). */
const passThrough = {
  inputs: [0],
  backward: (c: RuleContext) => c.addGrad(c.x, c.dy),
};

/** Addition-like: each live input gets `±dy`, summed over its broadcast axes. */
const additive = (negateFrom: number) => ({
  inputs: "all" as const,
  backward(c: RuleContext) {
    c.n.input.forEach((inp, i) => {
      if (!c.isLive(i)) return;
      const g = i >= negateFrom ? c.e.op("Neg", [c.dy]) : c.dy;
      c.addGrad(inp, c.sumTo(g, c.y, inp));
    });
  },
});

function hardSigmoidSlope(c: RuleContext, alpha: number, beta: number) {
  const { e, x } = c;
  const lin = e.op("Add", [e.op("Mul", [x, e.float(alpha)]), e.float(beta)]);
  const inside = e.op("And", [
    e.op("Greater", [lin, e.float(0)]),
    e.op("Less", [lin, e.float(1)]),
  ]);
  return e.op("Where", [inside, e.float(alpha), e.float(0)]);
}

/** Rules of the elementwise family. */
export const kElementwiseRules: RuleTable = {
  Identity: passThrough,
  Dropout: passThrough,
  Relu: {
    inputs: [0],
    backward({ e, x, dy, addGrad }) {
      const pos = e.op("Greater", [x, e.float(0)]);
      addGrad(x, e.op("Where", [pos, dy, e.float(0)], {}, "relu_bw"));
    },
  },
  LeakyRelu: {
    inputs: [0],
    backward({ e, n, x, dy, addGrad }) {
      const alpha = attrFloat(n, "alpha", 0.01);
      addGrad(
        x,
        e.op(
          "Where",
          [
            e.op("Greater", [x, e.float(0)]),
            dy,
            e.op("Mul", [dy, e.float(alpha)]),
          ],
          {},
          "leakyrelu_bw",
        ),
      );
    },
  },
  Clip: {
    inputs: [0],
    backward({ e, n, x, dy, addGrad }) {
      // opset >= 11: min and max are optional inputs
      const lo = n.input[1] || undefined;
      const hi = n.input[2] || undefined;
      let mask: string | undefined;
      if (lo) mask = e.op("Greater", [x, lo]);
      if (hi) {
        const below = e.op("Less", [x, hi]);
        mask = mask ? e.op("And", [mask, below]) : below;
      }
      addGrad(
        x,
        mask ? e.op("Where", [mask, dy, e.float(0)], {}, "clip_bw") : dy,
      );
    },
  },
  Sigmoid: unary(
    ({ e, y }) => e.op("Mul", [y, e.op("Sub", [e.float(1), y])]),
    "sigmoid_bw",
  ),
  Tanh: unary(
    ({ e, y }) => e.op("Sub", [e.float(1), e.op("Mul", [y, y])]),
    "tanh_bw",
  ),
  HardSigmoid: unary(
    (c) =>
      hardSigmoidSlope(
        c,
        attrFloat(c.n, "alpha", 0.2),
        attrFloat(c.n, "beta", 0.5),
      ),
    "hardsigmoid_bw",
  ),
  // x * hardsigmoid(x) with alpha 1/6, beta 1/2: hs(x) + x * hs'(x)
  HardSwish: unary((c) => {
    const { e, x } = c;
    const hs = e.op("HardSigmoid", [x], [
      floatAttr("alpha", 1 / 6),
      floatAttr("beta", 0.5),
    ]);
    return e.op("Add", [
      hs,
      e.op("Mul", [x, hardSigmoidSlope(c, 1 / 6, 0.5)]),
    ]);
  }, "hardswish_bw"),
  Neg: {
    inputs: [0],
    backward: ({ e, x, dy, addGrad }) => addGrad(x, e.op("Neg", [dy])),
  },
  Exp: unary(({ y }) => y, "exp_bw"),
  Log: unary(({ e, x }) => e.op("Reciprocal", [x]), "log_bw"),
  Sqrt: unary(
    ({ e, y }) => e.op("Div", [e.float(0.5), y]),
    "sqrt_bw",
  ),
  Reciprocal: unary(
    ({ e, y }) => e.op("Neg", [e.op("Mul", [y, y])]),
    "reciprocal_bw",
  ),
  Abs: unary(({ e, x }) => e.op("Sign", [x]), "abs_bw"),
  // d/dx erf(x) = 2/sqrt(pi) exp(-x^2) (GELU as exported by torch)
  Erf: unary(({ e, x }) =>
    e.op("Mul", [
      e.float(2 / Math.sqrt(Math.PI)),
      e.op("Exp", [e.op("Neg", [e.op("Mul", [x, x])])]),
    ]), "erf_bw"),
  Softplus: unary(({ e, x }) => e.op("Sigmoid", [x]), "softplus_bw"),
  Add: additive(Infinity),
  Sum: additive(Infinity),
  Sub: additive(1),
  Mul: {
    inputs: [0, 1],
    backward({ e, n, y, dy, isLive, addGrad, sumTo }) {
      const [a, b] = n.input as [string, string];
      if (isLive(0)) {
        addGrad(a, sumTo(e.op("Mul", [dy, b], {}, "mul_bw"), y, a));
      }
      if (isLive(1)) {
        addGrad(b, sumTo(e.op("Mul", [dy, a], {}, "mul_bw"), y, b));
      }
    },
  },
  Div: {
    inputs: [0, 1],
    backward({ e, n, y, dy, isLive, addGrad, sumTo }) {
      const [a, b] = n.input as [string, string];
      if (isLive(0)) {
        addGrad(a, sumTo(e.op("Div", [dy, b], {}, "div_bw"), y, a));
      }
      if (isLive(1)) {
        const t = e.op("Neg", [e.op("Div", [e.op("Mul", [dy, y]), b])]);
        addGrad(b, sumTo(t, y, b));
      }
    },
  },
  // y = a^b: da = b a^(b-1) dy, db = y ln(a) dy
  Pow: {
    inputs: [0, 1],
    backward({ e, n, y, dy, isLive, addGrad, sumTo, dtypeOf }) {
      const [a, b] = n.input as [string, string];
      if (isLive(0)) {
        // the exponent may be an integer tensor: compute in the base's type
        const bf = e.op("Cast", [b], { to: dtypeOf(a) ?? DataType.FLOAT });
        const bm1 = e.op("Sub", [bf, e.float(1)]);
        const d = e.op("Mul", [bf, e.op("Pow", [a, bm1])]);
        addGrad(a, sumTo(e.op("Mul", [dy, d], {}, "pow_bw"), y, a));
      }
      if (isLive(1)) {
        const d = e.op("Mul", [y, e.op("Log", [a])]);
        addGrad(b, sumTo(e.op("Mul", [dy, d], {}, "pow_bw"), y, b));
      }
    },
  },
  Where: {
    inputs: [1, 2],
    backward({ e, n, y, dy, isLive, addGrad, sumTo }) {
      const [cond, a, b] = n.input as [string, string, string];
      const zero = e.float(0);
      if (isLive(1)) {
        addGrad(
          a,
          sumTo(e.op("Where", [cond, dy, zero], {}, "where_bw"), y, a),
        );
      }
      if (isLive(2)) {
        addGrad(
          b,
          sumTo(e.op("Where", [cond, zero, dy], {}, "where_bw"), y, b),
        );
      }
    },
  },
  // Float to float: the gradient goes back in the input's type; to integers: none.
  Cast: {
    inputs: [0],
    differentiable: (n: NodeProto) => kFloatTypes.has(attrInt(n, "to", 0)),
    backward({ e, x, dy, addGrad, dtypeOf }) {
      addGrad(
        x,
        e.op("Cast", [dy], { to: dtypeOf(x) ?? DataType.FLOAT }, "cast_bw"),
      );
    },
  },
};
