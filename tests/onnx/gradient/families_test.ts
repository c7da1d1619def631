/**
 * Whole tiny networks, one per architecture family, built with the ONNX
 * builder the way torch.onnx.export lays them out, checked against
 * per-coordinate finite differences at batch 3 (the shape probe runs at
 * batches 2 and 1).
 */
import { floatTensor, int64Tensor, node } from "../../../src/onnx/builder.ts";
import type { NodeProto, TensorProto } from "../../../src/onnx/proto.ts";
import { Rng } from "../../../src/rng.ts";
import { checkTiny, randn } from "./fd_harness.ts";

/** Collects nodes and weights of one tiny network. */
class Net {
  nodes: NodeProto[] = [];
  inits: TensorProto[] = [];
  #n = 0;
  constructor(private rng: Rng) {}
  name(hint: string) {
    return `${hint}_${this.#n++}`;
  }
  w(dims: number[], scale?: number): string {
    const size = dims.reduce((a, b) => a * b, 1);
    const fanIn = dims.length > 1 ? size / dims[0]! : dims[0]!;
    const name = this.name("w");
    this.inits.push(
      floatTensor(
        name,
        dims,
        randn(this.rng, size, scale ?? 1 / Math.sqrt(fanIn)),
      ),
    );
    return name;
  }
  positive(dims: number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    const name = this.name("p");
    this.inits.push(
      floatTensor(
        name,
        dims,
        Float32Array.from({ length: size }, () => 0.5 + this.rng.float()),
      ),
    );
    return name;
  }
  f(v: number): string {
    const name = this.name("c");
    this.inits.push(floatTensor(name, [], [v]));
    return name;
  }
  ints(v: number[], scalar = false): string {
    const name = this.name("i");
    this.inits.push(int64Tensor(name, scalar ? [] : [v.length], v));
    return name;
  }
  op(
    type: string,
    inputs: string[],
    attrs: Parameters<typeof node>[3] = {},
    outputs = 1,
  ): string {
    const outs = Array.from(
      { length: outputs },
      () => this.name(type.toLowerCase()),
    );
    this.nodes.push(node(type, inputs, outs, attrs));
    return outs[0]!;
  }
  outs(
    type: string,
    inputs: string[],
    count: number,
    attrs: Parameters<typeof node>[3] = {},
  ): string[] {
    const outs = Array.from(
      { length: count },
      () => this.name(type.toLowerCase()),
    );
    this.nodes.push(node(type, inputs, outs, attrs));
    return outs;
  }
  conv(
    x: string,
    cin: number,
    cout: number,
    k: number,
    o: { stride?: number; group?: number; bias?: boolean; pad?: number } = {},
  ) {
    const s = o.stride ?? 1, g = o.group ?? 1;
    const p = o.pad ?? Math.floor(k / 2);
    return this.op("Conv", [
      x,
      this.w([cout, cin / g, k, k]),
      ...(o.bias ? [this.w([cout], 0.1)] : []),
    ], {
      kernel_shape: [k, k],
      strides: [s, s],
      pads: [p, p, p, p],
      group: g,
    });
  }
  bn(x: string, c: number) {
    return this.op("BatchNormalization", [
      x,
      this.positive([c]),
      this.w([c], 0.1),
      this.w([c], 0.1),
      this.positive([c]),
    ]);
  }
  silu(x: string) {
    return this.op("Mul", [x, this.op("Sigmoid", [x])]);
  }
  gelu(x: string) {
    const erf = this.op("Erf", [this.op("Div", [x, this.f(Math.SQRT2)])]);
    return this.op("Mul", [
      this.op("Mul", [x, this.op("Add", [erf, this.f(1)])]),
      this.f(0.5),
    ]);
  }
  linear(x: string, din: number, dout: number) {
    return this.op("Add", [
      this.op("MatMul", [x, this.w([din, dout])]),
      this.w([dout], 0.1),
    ]);
  }
  layerNorm(x: string, d: number) {
    return this.op("LayerNormalization", [
      x,
      this.positive([d]),
      this.w([d], 0.1),
    ], { axis: -1, epsilon: 1e-6 });
  }
  /** LayerNorm as older exporters write it: ReduceMean, Sub, Pow, Sqrt, Div. */
  layerNormDecomposed(x: string, d: number) {
    const mu = this.op("ReduceMean", [x], { axes: [-1], keepdims: 1 });
    const xc = this.op("Sub", [x, mu]);
    const v = this.op("ReduceMean", [this.op("Pow", [xc, this.f(2)])], {
      axes: [-1],
      keepdims: 1,
    });
    const r = this.op("Sqrt", [this.op("Add", [v, this.f(1e-6)])]);
    return this.op("Add", [
      this.op("Mul", [this.op("Div", [xc, r]), this.positive([d])]),
      this.w([d], 0.1),
    ]);
  }
  gapHead(x: string) {
    return this.op("Flatten", [this.op("GlobalAveragePool", [x])], { axis: 1 });
  }
}

Deno.test("gradientModel() matches finite differences: ResNet stem and basic blocks", async () => {
  const t = new Net(new Rng(71));
  let x = t.op("Relu", [t.bn(t.conv("x", 3, 4, 3, { stride: 2 }), 4)]);
  x = t.op("MaxPool", [x], {
    kernel_shape: [3, 3],
    strides: [2, 2],
    pads: [1, 1, 1, 1],
  });
  const a = t.op("Relu", [t.bn(t.conv(x, 4, 4, 3), 4)]);
  x = t.op("Relu", [t.op("Add", [t.bn(t.conv(a, 4, 4, 3), 4), x])]);
  const b = t.op("Relu", [t.bn(t.conv(x, 4, 6, 3, { stride: 2 }), 6)]);
  const down = t.bn(t.conv(x, 4, 6, 1, { stride: 2 }), 6);
  x = t.op("Relu", [t.op("Add", [t.bn(t.conv(b, 6, 6, 3), 6), down])]);
  const out = t.gapHead(x);
  await checkTiny("ResNet", {
    inDims: [3, 12, 12],
    nodes: t.nodes,
    inits: t.inits,
    out,
    outDims: [6],
  });
});

Deno.test("gradientModel() matches finite differences: EfficientNet MBConv with SiLU and squeeze-excitation", async () => {
  const t = new Net(new Rng(72));
  let x = t.silu(t.bn(t.conv("x", 3, 4, 3, { stride: 2 }), 4));
  const e = t.silu(t.bn(t.conv(x, 4, 8, 1), 8));
  const dw = t.silu(t.bn(t.conv(e, 8, 8, 3, { group: 8 }), 8));
  const s = t.op("GlobalAveragePool", [dw]);
  const s1 = t.silu(t.conv(s, 8, 2, 1, { bias: true }));
  const gate = t.op("Sigmoid", [t.conv(s1, 2, 8, 1, { bias: true })]);
  const se = t.op("Mul", [dw, gate]);
  const proj = t.bn(t.conv(se, 8, 4, 1), 4);
  x = t.op("Add", [proj, x]);
  x = t.op("Dropout", [t.gapHead(x)]);
  await checkTiny("EfficientNet", {
    inDims: [3, 8, 8],
    nodes: t.nodes,
    inits: t.inits,
    out: x,
    outDims: [4],
  });
});

Deno.test("gradientModel() matches finite differences: MobileNetV3 block with HardSwish and HardSigmoid", async () => {
  const t = new Net(new Rng(73));
  let x = t.op("HardSwish", [t.bn(t.conv("x", 3, 4, 3, { stride: 2 }), 4)]);
  const e = t.op("HardSwish", [t.bn(t.conv(x, 4, 8, 1), 8)]);
  const dw = t.op("HardSwish", [t.bn(t.conv(e, 8, 8, 3, { group: 8 }), 8)]);
  const s = t.op("Relu", [
    t.conv(t.op("GlobalAveragePool", [dw]), 8, 4, 1, { bias: true }),
  ]);
  const gate = t.op("HardSigmoid", [t.conv(s, 4, 8, 1, { bias: true })], {
    alpha: 1 / 6,
    beta: 0.5,
  });
  x = t.op("Add", [t.bn(t.conv(t.op("Mul", [dw, gate]), 8, 4, 1), 4), x]);
  const out = t.op("HardSwish", [
    t.op("Gemm", [t.gapHead(x), t.w([6, 4])], { transB: 1 }),
  ]);
  await checkTiny(
    "MobileNetV3",
    {
      inDims: [3, 8, 8],
      nodes: t.nodes,
      inits: t.inits,
      out,
      outDims: [6],
      opset: 17,
    },
    { scale: 2 },
  );
});

for (const decomposed of [false, true]) {
  Deno.test(`gradientModel() matches finite differences: ConvNeXt block (${decomposed ? "decomposed LayerNorm" : "LayerNormalization"})`, async () => {
    const t = new Net(new Rng(74));
    const D = 4;
    const stem = t.conv("x", 3, D, 2, { stride: 2, bias: true, pad: 0 });
    const dw = t.conv(stem, D, D, 3, { group: D, bias: true });
    const nhwc = t.op("Transpose", [dw], { perm: [0, 2, 3, 1] });
    const ln = decomposed
      ? t.layerNormDecomposed(nhwc, D)
      : t.layerNorm(nhwc, D);
    const h = t.linear(t.gelu(t.linear(ln, D, 4 * D)), 4 * D, D);
    const scaled = t.op("Mul", [h, t.positive([D])]);
    const back = t.op("Transpose", [scaled], { perm: [0, 3, 1, 2] });
    const res = t.op("Add", [back, stem]);
    const pooled = t.gapHead(res);
    const out = decomposed
      ? t.layerNormDecomposed(pooled, D)
      : t.layerNorm(pooled, D);
    await checkTiny(`ConvNeXt${decomposed ? " (decomposed)" : ""}`, {
      inDims: [3, 8, 8],
      nodes: t.nodes,
      inits: t.inits,
      out,
      outDims: [D],
    });
  });
}

Deno.test("gradientModel() matches finite differences: ViT block with class token, attention and a Shape-built reshape", async () => {
  const t = new Net(new Rng(75));
  const D = 8, H = 2, dh = D / H, L = 4;
  const patches = t.conv("x", 3, D, 4, { stride: 4, bias: true, pad: 0 });
  // [N, D, 2, 2] -> [N, D, L] with a target built from Shape (dynamic batch)
  const n = t.op("Gather", [t.op("Shape", [patches]), t.ints([0], true)], {
    axis: 0,
  });
  const n1 = t.op("Unsqueeze", [n, t.ints([0])]);
  const target = t.op("Concat", [n1, t.ints([D, L])], { axis: 0 });
  const tokens = t.op("Transpose", [t.op("Reshape", [patches, target])], {
    perm: [0, 2, 1],
  });
  // class token expanded to the batch: Expand with a Where(Equal(-1)) shape, as torch writes it
  const want = t.op("Concat", [n1, t.ints([-1, -1])], { axis: 0 });
  const isNeg = t.op("Equal", [want, t.ints([-1, -1, -1])]);
  const eshape = t.op("Where", [isNeg, t.ints([1, 1, 1]), want]);
  const cls = t.op("Expand", [t.w([1, 1, D], 0.5), eshape]);
  let x = t.op("Add", [
    t.op("Concat", [cls, tokens], { axis: 1 }),
    t.w([1, L + 1, D], 0.5),
  ]);
  // attention
  const ln1 = t.layerNorm(x, D);
  const qkv = t.linear(ln1, D, 3 * D);
  const [q, k, v] = t.outs("Split", [qkv, t.ints([D, D, D])], 3, { axis: 2 });
  const heads = (z: string) =>
    t.op("Transpose", [t.op("Reshape", [z, t.ints([0, L + 1, H, dh])])], {
      perm: [0, 2, 1, 3],
    });
  const kt = t.op("Transpose", [heads(k!)], { perm: [0, 1, 3, 2] });
  const scores = t.op("Mul", [
    t.op("MatMul", [heads(q!), kt]),
    t.f(1 / Math.sqrt(dh)),
  ]);
  const att = t.op("MatMul", [
    t.op("Softmax", [scores], { axis: -1 }),
    heads(v!),
  ]);
  const merged = t.op("Reshape", [
    t.op("Transpose", [att], { perm: [0, 2, 1, 3] }),
    t.ints([0, L + 1, D]),
  ]);
  x = t.op("Add", [x, t.linear(merged, D, D)]);
  // MLP
  x = t.op("Add", [
    x,
    t.linear(t.gelu(t.linear(t.layerNorm(x, D), D, 2 * D)), 2 * D, D),
  ]);
  const clsOut = t.op("Gather", [t.layerNorm(x, D), t.ints([0], true)], {
    axis: 1,
  });
  await checkTiny("ViT", {
    inDims: [3, 8, 8],
    nodes: t.nodes,
    inits: t.inits,
    out: clsOut,
    outDims: [D],
  }, { step32: 1e-2 }); // smooth: a larger step keeps float32 rounding small
});

Deno.test("gradientModel() matches finite differences: Swin shifted-window attention block and patch merging", async () => {
  const t = new Net(new Rng(76));
  const D = 4,
    Hh = 2,
    dh = D / Hh,
    win = 2,
    S = 3,
    P = 4,
    nW = (P / win) ** 2,
    T = win * win;
  const patches = t.conv("x", 3, D, 2, { stride: 2, bias: true, pad: 0 }); // [N, D, 3, 3]
  let x = t.layerNorm(t.op("Transpose", [patches], { perm: [0, 2, 3, 1] }), D); // [N, 3, 3, D]
  const shortcut = x;
  // pad 3x3 to 4x4 (window multiple), then roll by -1 on H and W (Slice + Concat)
  x = t.op("Pad", [x, t.ints([0, 0, 0, 0, 0, 1, 1, 0])], { mode: "constant" });
  const roll = (z: string, axis: number, shift: number) => {
    const head = t.op("Slice", [
      z,
      t.ints([shift]),
      t.ints([2 ** 40]),
      t.ints([axis]),
    ]);
    const tail = t.op("Slice", [
      z,
      t.ints([0]),
      t.ints([shift]),
      t.ints([axis]),
    ]);
    return t.op("Concat", [head, tail], { axis });
  };
  x = roll(roll(x, 1, 1), 2, 1);
  // window partition: [N, 2, 2, 2, 2, D] -> [N*nW, T, D] (the first axis grows with the batch)
  const win6 = t.op("Reshape", [
    x,
    t.ints([-1, P / win, win, P / win, win, D]),
  ]);
  const windows = t.op("Reshape", [
    t.op("Transpose", [win6], { perm: [0, 1, 3, 2, 4, 5] }),
    t.ints([-1, T, D]),
  ]);
  const qkv = t.linear(windows, D, 3 * D);
  const qkv5 = t.op("Transpose", [
    t.op("Reshape", [qkv, t.ints([-1, T, 3, Hh, dh])]),
  ], { perm: [2, 0, 3, 1, 4] });
  const pick = (i: number) =>
    t.op("Gather", [qkv5, t.ints([i], true)], { axis: 0 });
  const q = t.op("Mul", [pick(0), t.f(1 / Math.sqrt(dh))]);
  let attn = t.op("MatMul", [
    q,
    t.op("Transpose", [pick(1)], { perm: [0, 1, 3, 2] }),
  ]);
  // relative position bias: Gather on constants (no gradient), [Hh, T, T]
  const table = t.w([9, Hh], 0.5);
  const index = t.ints(Array.from({ length: T * T }, (_, i) => (i * 5) % 9));
  const bias = t.op("Transpose", [
    t.op("Reshape", [
      t.op("Gather", [table, index], { axis: 0 }),
      t.ints([T, T, Hh]),
    ]),
  ], { perm: [2, 0, 1] });
  attn = t.op("Add", [attn, t.op("Unsqueeze", [bias, t.ints([0])])]);
  // shifted-window mask per window: [N, nW, Hh, T, T] + [1, nW, 1, T, T]
  const mask = floatTensor(
    "swin_mask",
    [1, nW, 1, T, T],
    Float32Array.from(
      { length: nW * T * T },
      (_, i) => (i % 3 === 0 ? -100 : 0),
    ),
  );
  t.inits.push(mask);
  attn = t.op("Reshape", [attn, t.ints([-1, nW, Hh, T, T])]);
  attn = t.op("Reshape", [
    t.op("Add", [attn, "swin_mask"]),
    t.ints([-1, Hh, T, T]),
  ]);
  const out1 = t.op("MatMul", [t.op("Softmax", [attn], { axis: -1 }), pick(2)]);
  const merged = t.op("Reshape", [
    t.op("Transpose", [out1], { perm: [0, 2, 1, 3] }),
    t.ints([-1, T, D]),
  ]);
  const proj = t.linear(merged, D, D);
  // window reverse, roll back by +1, crop the padding
  const rev = t.op("Reshape", [
    t.op("Transpose", [
      t.op("Reshape", [proj, t.ints([-1, P / win, P / win, win, win, D])]),
    ], { perm: [0, 1, 3, 2, 4, 5] }),
    t.ints([-1, P, P, D]),
  ]);
  let y = roll(roll(rev, 1, P - 1), 2, P - 1);
  y = t.op("Slice", [y, t.ints([0, 0]), t.ints([S, S]), t.ints([1, 2])]);
  x = t.op("Add", [shortcut, y]);
  x = t.op("Add", [
    x,
    t.linear(t.gelu(t.linear(t.layerNorm(x, D), D, 2 * D)), 2 * D, D),
  ]);
  // patch merging: strided slices of the (odd) grid after padding to even
  const even = t.op("Pad", [x, t.ints([0, 0, 0, 0, 0, 1, 1, 0])], {
    mode: "constant",
  });
  const part = (h: number, w: number) =>
    t.op("Slice", [
      even,
      t.ints([h, w]),
      t.ints([2 ** 40, 2 ** 40]),
      t.ints([1, 2]),
      t.ints([2, 2]),
    ]);
  const cat = t.op("Concat", [part(0, 0), part(1, 0), part(0, 1), part(1, 1)], {
    axis: -1,
  });
  const red = t.op("MatMul", [t.layerNorm(cat, 4 * D), t.w([4 * D, 2 * D])]);
  const out = t.op("ReduceMean", [t.layerNorm(red, 2 * D)], {
    axes: [1, 2],
    keepdims: 0,
  });
  await checkTiny("Swin", {
    inDims: [3, 6, 6],
    nodes: t.nodes,
    inits: t.inits,
    out,
    outDims: [2 * D],
  });
});
