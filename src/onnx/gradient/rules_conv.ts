/**
 * Backward rules of convolutional operators: Conv (as ConvTranspose), max and
 * average pooling, global average pooling and inference-mode batch
 * normalisation.
 *
 * @module
 */

import {
  attrFloat,
  attrInt,
  attrInts,
  attrString,
  type NodeProto,
} from "../proto.ts";
import type { RuleTable } from "./rule.ts";

/** Pads/output_padding so that a ConvTranspose yields the forward input's size. */
function transposedPads(
  inSpatial: number[],
  outSpatial: number[],
  kernel: number[],
  strides: number[],
  dilations: number[],
  padsBegin: number[],
) {
  const padsEnd: number[] = [];
  const outPad: number[] = [];
  for (let i = 0; i < inSpatial.length; i++) {
    const total = strides[i]! * (outSpatial[i]! - 1) +
      (kernel[i]! - 1) * dilations[i]! + 1 - padsBegin[i]!;
    if (total >= inSpatial[i]!) {
      padsEnd.push(total - inSpatial[i]!);
      outPad.push(0);
    } else {
      padsEnd.push(0);
      outPad.push(inSpatial[i]! - total);
    }
  }
  return { pads: [...padsBegin, ...padsEnd], outputPadding: outPad };
}

/** Explicit begin pads of a Conv/pool node (auto_pad resolved from static shapes). */
function beginPads(
  n: NodeProto,
  inSpatial: number[],
  outSpatial: number[],
  kernel: number[],
  strides: number[],
  dilations: number[],
): number[] {
  const r = inSpatial.length;
  const autoPad = attrString(n, "auto_pad", "NOTSET");
  if (autoPad === "NOTSET") {
    return attrInts(n, "pads", new Array(2 * r).fill(0)).slice(0, r);
  }
  if (autoPad === "VALID") return new Array(r).fill(0);
  return inSpatial.map((h, i) => {
    const need = Math.max(
      0,
      (outSpatial[i]! - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! +
        1 - h,
    );
    return autoPad === "SAME_LOWER"
      ? Math.ceil(need / 2)
      : Math.floor(need / 2);
  });
}

/** Rules of the convolution and pooling family. */
export const kConvRules: RuleTable = {
  Conv: {
    inputs: [0],
    backward({ e, n, x, y, dy, shapeOf, addGrad }) {
      const w = n.input[1]!;
      const xs = shapeOf(x);
      const ys = shapeOf(y);
      const r = xs.length - 2;
      const kernel = attrInts(n, "kernel_shape", shapeOf(w).slice(2));
      const strides = attrInts(n, "strides", new Array(r).fill(1));
      const dil = attrInts(n, "dilations", new Array(r).fill(1));
      const pb = beginPads(n, xs.slice(2), ys.slice(2), kernel, strides, dil);
      const tp = transposedPads(
        xs.slice(2),
        ys.slice(2),
        kernel,
        strides,
        dil,
        pb,
      );
      addGrad(
        x,
        e.op("ConvTranspose", [dy, w], {
          strides,
          dilations: dil,
          group: attrInt(n, "group", 1),
          pads: tp.pads,
          output_padding: tp.outputPadding,
          kernel_shape: kernel,
        }, "conv_bw"),
      );
    },
  },
  MaxPool: {
    inputs: [0],
    backward({ e, n, x, dy, addGrad, unsupported }) {
      if (attrInt(n, "storage_order", 0) !== 0) {
        unsupported("storage_order 1 is not supported");
      }
      // scatter-add dy at the argmax indices (the forward node gains them)
      let idx = n.output[1];
      if (!idx) {
        idx = e.fresh("maxpool_indices");
        n.output[1] = idx;
      }
      const flat = e.ints([-1]);
      const xflat = e.op("Reshape", [x, flat]);
      const scattered = e.op(
        "ScatterElements",
        [
          e.zerosLike(xflat),
          e.op("Reshape", [idx, flat]),
          e.op("Reshape", [dy, flat]),
        ],
        { axis: 0, reduction: "add" },
        "maxpool_bw",
      );
      addGrad(x, e.op("Reshape", [scattered, e.op("Shape", [x])]));
      e.needOpset = Math.max(e.needOpset, 16);
    },
  },
  AveragePool: {
    inputs: [0],
    backward({ e, n, x, y, dy, shapeOf, addGrad, unsupported }) {
      const xs = shapeOf(x);
      const ys = shapeOf(y);
      const r = xs.length - 2;
      const kernel = attrInts(n, "kernel_shape", []);
      const strides = attrInts(n, "strides", new Array(r).fill(1));
      const dil = attrInts(n, "dilations", new Array(r).fill(1));
      if (dil.some((d) => d !== 1)) {
        unsupported("dilated average pooling is not supported");
      }
      const pb = beginPads(n, xs.slice(2), ys.slice(2), kernel, strides, dil);
      const autoPad = attrString(n, "auto_pad", "NOTSET");
      const pads = attrInts(n, "pads", new Array(2 * r).fill(0));
      const pe = autoPad === "NOTSET"
        ? pads.slice(r)
        : xs.slice(2).map((h, i) =>
          Math.max(0, (ys[i + 2]! - 1) * strides[i]! + kernel[i]! - h) - pb[i]!
        );
      const includePad = attrInt(n, "count_include_pad", 0) === 1;
      // Per-axis window counts, then their outer product: divisor map [1,1,...out].
      const perAxis = xs.slice(2).map((h, i) => {
        const lo = includePad ? -pb[i]! : 0;
        const hiB = includePad ? h + pe[i]! : h;
        return Array.from({ length: ys[i + 2]! }, (_, o) => {
          const s = o * strides[i]! - pb[i]!;
          return Math.max(0, Math.min(s + kernel[i]!, hiB) - Math.max(s, lo));
        });
      });
      const outSpatial = ys.slice(2);
      const size = outSpatial.reduce((p, v) => p * v, 1);
      const inv = new Float32Array(size);
      for (let f = 0; f < size; f++) {
        let rem = f;
        let cnt = 1;
        for (let i = r - 1; i >= 0; i--) {
          cnt *= perAxis[i]![rem % outSpatial[i]!]!;
          rem = Math.floor(rem / outSpatial[i]!);
        }
        inv[f] = cnt > 0 ? 1 / cnt : 0;
      }
      const scaled = e.op("Mul", [dy, e.floats([1, 1, ...outSpatial], inv)]);
      const C = xs[1]!;
      const kSize = kernel.reduce((p, v) => p * v, 1);
      const ones = e.floats(
        [C, 1, ...kernel],
        new Float32Array(C * kSize).fill(1),
      );
      const tp = transposedPads(
        xs.slice(2),
        outSpatial,
        kernel,
        strides,
        dil,
        pb,
      );
      addGrad(
        x,
        e.op("ConvTranspose", [scaled, ones], {
          strides,
          group: C,
          pads: tp.pads,
          output_padding: tp.outputPadding,
          kernel_shape: kernel,
        }, "avgpool_bw"),
      );
    },
  },
  GlobalAveragePool: {
    inputs: [0],
    backward({ e, x, dy, shapeOf, addGrad }) {
      const area = shapeOf(x).slice(2).reduce((p, v) => p * v, 1);
      const ex = e.op("Expand", [dy, e.op("Shape", [x])]);
      addGrad(x, e.op("Mul", [ex, e.float(1 / area)], {}, "gap_bw"));
    },
  },
  BatchNormalization: {
    inputs: [0],
    // inference mode: y = (x - mean) / sqrt(var + eps) * scale + B
    backward({ e, n, x, dy, shapeOf, addGrad, unsupported }) {
      if (
        attrInt(n, "training_mode", 0) !== 0 ||
        n.output.slice(1).some((o) => o)
      ) {
        unsupported("training-mode outputs are not supported");
      }
      const eps = attrFloat(n, "epsilon", 1e-5);
      const k = e.op("Div", [
        n.input[1]!,
        e.op("Sqrt", [e.op("Add", [n.input[4]!, e.float(eps)])]),
      ]);
      const rank = shapeOf(x).length;
      const axes = Array.from({ length: rank - 2 }, (_, i) => i + 1);
      const kk = axes.length ? e.op("Unsqueeze", [k, e.ints(axes)]) : k;
      addGrad(x, e.op("Mul", [dy, kk], {}, "bn_bw"));
    },
  },
};
