/**
 * Backward rules of operators that move values without changing them:
 * reshapes, transposes, concatenation, slicing (any step), padding, gathers
 * along an axis, broadcasting and splits. The generated graph must work at
 * any batch size, so an axis whose size depends on the batch is never cut or
 * padded with sizes from the shape probe.
 *
 * @module
 */

import { attrInt, attrInts, attrString, DataType } from "../proto.ts";
import { normAxis, type RuleContext, type RuleTable } from "./rule.ts";

/** The gradient has the input's values rearranged: reshape back. */
const reshapeBack = {
  inputs: [0],
  backward: ({ e, x, dy, addGrad }: RuleContext) =>
    addGrad(x, e.op("Reshape", [dy, e.op("Shape", [x])], {}, "reshape_bw")),
};

/** Inverse of a permutation. */
function inverse(perm: number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/** One sliced axis: indices `first + k * step`, k < count. */
interface SlicedAxis {
  axis: number;
  first: number;
  step: number;
  count: number;
}

/** ONNX Slice semantics (clamping, negative indices and steps) for one axis. */
function slicedAxis(
  axis: number,
  start: number,
  end: number,
  step: number,
  dim: number,
): SlicedAxis {
  let s = start < 0 ? start + dim : start;
  let t = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    t = Math.min(Math.max(t, 0), dim);
    return {
      axis,
      first: s,
      step,
      count: Math.max(0, Math.ceil((t - s) / step)),
    };
  }
  s = Math.min(Math.max(s, 0), dim - 1);
  t = Math.min(Math.max(t, -1), dim - 1);
  return {
    axis,
    first: s,
    step,
    count: Math.max(0, Math.ceil((s - t) / -step)),
  };
}

/** Rules of the shape family. */
export const kShapeRules: RuleTable = {
  Flatten: reshapeBack,
  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: {
    inputs: [0],
    backward({ e, n, x, dy, shapeOf, addGrad }) {
      const rank = shapeOf(x).length;
      const perm = attrInts(
        n,
        "perm",
        Array.from({ length: rank }, (_, i) => rank - 1 - i),
      );
      addGrad(
        x,
        e.op("Transpose", [dy], { perm: inverse(perm) }, "transpose_bw"),
      );
    },
  },
  Expand: {
    inputs: [0],
    backward: ({ x, y, dy, addGrad, sumTo }) => addGrad(x, sumTo(dy, y, x)),
  },
  Concat: {
    inputs: "all",
    backward(
      { e, n, y, dy, shapeOf, batchAxes, isLive, addGrad, unsupported },
    ) {
      const axis = normAxis(attrInt(n, "axis", 0), shapeOf(y).length);
      if (batchAxes(y).includes(axis)) {
        unsupported(
          "concatenating along an axis whose size depends on the batch",
        );
      }
      let off = 0;
      n.input.forEach((inp, i) => {
        const len = shapeOf(inp)[axis]!;
        if (isLive(i)) {
          addGrad(
            inp,
            e.op(
              "Slice",
              [dy, e.ints([off]), e.ints([off + len]), e.ints([axis])],
              {},
              "concat_bw",
            ),
          );
        }
        off += len;
      });
    },
  },
  Split: {
    inputs: [0],
    backward({ e, n, x, dys, shapeOf, addGrad }) {
      const axis = normAxis(attrInt(n, "axis", 0), shapeOf(x).length);
      const parts = n.output.map((o, i) => dys[i] ?? e.zerosLike(o));
      addGrad(x, e.op("Concat", parts, { axis }, "split_bw"));
    },
  },
  // Slice: reverse negative steps, spread strided picks with zeros in
  // between, then pad to the input's size.
  Slice: {
    inputs: [0],
    backward(
      { e, n, x, y, dy, shapeOf, batchAxes, intsOf, addGrad, unsupported },
    ) {
      const xs = shapeOf(x);
      const rank = xs.length;
      const starts = intsOf(n.input[1]!);
      const ends = intsOf(n.input[2]!);
      const axes = n.input[3]
        ? intsOf(n.input[3]).map((a) => normAxis(a, rank))
        : starts.map((_, i) => i);
      const steps = n.input[4] ? intsOf(n.input[4]) : starts.map(() => 1);
      const cut = axes.map((a, j) =>
        slicedAxis(a, starts[j]!, ends[j]!, steps[j]!, xs[a]!)
      ).filter((s) =>
        !(s.first === 0 && s.step === 1 && s.count === xs[s.axis])
      );
      if (cut.some((s) => batchAxes(x).includes(s.axis))) {
        unsupported("slicing an axis whose size depends on the batch");
      }
      if (cut.some((s) => s.count === 0)) return; // empty slice: no gradient
      const cur = [...shapeOf(y)];
      let d = dy;
      const padsB = new Array<number>(rank).fill(0);
      const padsE = new Array<number>(rank).fill(0);
      for (const s of cut) {
        let low = s.first;
        const p = Math.abs(s.step);
        if (s.step < 0) {
          d = e.op("Slice", [
            d,
            e.ints([-1]),
            e.ints([-(2 ** 62)]),
            e.ints([s.axis]),
            e.ints([-1]),
          ]);
          low = s.first + (s.count - 1) * s.step;
        }
        let len = s.count;
        if (p > 1) {
          // [.., c, ..] -> [.., c, 1, ..] -> pad to [.., c, p, ..] -> [.., c*p, ..]
          const a = s.axis;
          const u = e.op("Unsqueeze", [d, e.ints([a + 1])]);
          const pads = new Array<number>(2 * (rank + 1)).fill(0);
          pads[rank + 1 + a + 1] = p - 1;
          const spread = e.op("Pad", [u, e.ints(pads), e.float(0)], {
            mode: "constant",
          });
          const target = [
            ...new Array<number>(a).fill(0),
            s.count * p,
            ...cur.slice(a + 1),
          ];
          d = e.op("Reshape", [spread, e.ints(target)]);
          len = (s.count - 1) * p + 1;
          d = e.op("Slice", [d, e.ints([0]), e.ints([len]), e.ints([a])]);
        }
        padsB[s.axis] = low;
        padsE[s.axis] = xs[s.axis]! - low - len;
        cur[s.axis] = len;
      }
      if (padsB.some((v) => v) || padsE.some((v) => v)) {
        d = e.op("Pad", [d, e.ints([...padsB, ...padsE]), e.float(0)], {
          mode: "constant",
        }, "slice_bw");
      }
      addGrad(x, d);
    },
  },
  Pad: {
    inputs: [0],
    backward(
      { e, n, x, dy, shapeOf, batchAxes, intsOf, addGrad, unsupported },
    ) {
      const xs = shapeOf(x);
      const rank = xs.length;
      const mode = attrString(n, "mode", "constant");
      if (mode !== "constant") unsupported(`mode "${mode}" is not supported`);
      let pads = intsOf(n.input[1]!);
      if (n.input[3]) {
        const axes = intsOf(n.input[3]).map((a) => normAxis(a, rank));
        const full = new Array<number>(2 * rank).fill(0);
        axes.forEach((a, j) => {
          full[a] = pads[j]!;
          full[a + rank] = pads[j + axes.length]!;
        });
        pads = full;
      }
      const padded = xs.flatMap((_, a) => pads[a] || pads[a + rank] ? [a] : []);
      if (padded.some((a) => batchAxes(x).includes(a))) {
        unsupported("padding an axis whose size depends on the batch");
      }
      if (!padded.length) {
        addGrad(x, dy);
        return;
      }
      // cut the padding off; where negative pads cropped, re-pad with zeros
      const kept = (a: number) =>
        xs[a]! - Math.max(0, -pads[a]!) - Math.max(0, -pads[a + rank]!);
      const starts = padded.map((a) => Math.max(0, pads[a]!));
      let d = e.op(
        "Slice",
        [
          dy,
          e.ints(starts),
          e.ints(padded.map((a, j) => starts[j]! + kept(a))),
          e.ints(padded),
        ],
        {},
        "pad_bw",
      );
      const neg = pads.map((p) => Math.max(0, -p));
      if (neg.some((p) => p)) {
        d = e.op("Pad", [d, e.ints(neg), e.float(0)], { mode: "constant" });
      }
      addGrad(x, d);
    },
  },
  // Gather: scatter-add dy back at the indices.
  Gather: {
    inputs: [0],
    backward({ e, n, x, dy, shapeOf, batchAxes, tryInts, addGrad }) {
      const xs = shapeOf(x);
      const rank = xs.length;
      const a = normAxis(attrInt(n, "axis", 0), rank);
      const idx = n.input[1]!;
      const is = shapeOf(idx);
      const dim = xs[a]!;
      const known = tryInts(idx);
      if (is.length === 0 && known && !batchAxes(x).includes(a)) {
        // one index (the class token): put dy back in its slot
        const k = known[0]! < 0 ? known[0]! + dim : known[0]!;
        const u = e.op("Unsqueeze", [dy, e.ints([a])]);
        const pads = new Array<number>(2 * rank).fill(0);
        pads[a] = k;
        pads[rank + a] = dim - k - 1;
        addGrad(
          x,
          e.op(
            "Pad",
            [u, e.ints(pads), e.float(0)],
            { mode: "constant" },
            "gather_bw",
          ),
        );
        return;
      }
      // move the gathered axis (x) and the index axes (dy) to the front
      const q = is.length;
      const xPerm = [
        a,
        ...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== a),
      ];
      const dyRank = rank - 1 + q;
      const dyPerm = [
        ...Array.from({ length: q }, (_, i) => a + i),
        ...Array.from({ length: a }, (_, i) => i),
        ...Array.from({ length: dyRank - a - q }, (_, i) => a + q + i),
      ];
      const i64 = e.op("Cast", [idx], { to: DataType.INT64 });
      const wrapped = e.op("Where", [
        e.op("Less", [i64, e.ints([0], true)]),
        // the axis may grow with the batch: its size at run time
        e.op("Add", [
          i64,
          e.op("Gather", [e.op("Shape", [x]), e.ints([a], true)]),
        ]),
        i64,
      ]);
      const scattered = e.op(
        "ScatterND",
        [
          e.zerosLike(e.op("Transpose", [x], { perm: xPerm })),
          e.op("Unsqueeze", [wrapped, e.ints([-1])]),
          e.op("Transpose", [dy], { perm: dyPerm }),
        ],
        { reduction: "add" },
        "gather_bw",
      );
      e.needOpset = Math.max(e.needOpset, 16);
      addGrad(x, e.op("Transpose", [scattered], { perm: inverse(xPerm) }));
    },
  },
};
