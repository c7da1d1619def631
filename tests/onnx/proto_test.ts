import assert from "node:assert/strict";
import * as ort from "onnxruntime-web";
import {
  attrInts,
  DataType,
  decodeModel,
  encodeModel,
  tensorToBigInt64,
  tensorToFloat32,
  tensorToInt64s,
} from "../../src/onnx/proto.ts";
import {
  floatAttr,
  floatTensor,
  graph,
  int64Tensor,
  model,
  node,
  valueInfo,
} from "../../src/onnx/builder.ts";
import { haveShared, shared } from "../../src/testing/shared_data.ts";

ort.env.wasm.numThreads = 1;

const same = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

Deno.test({
  name:
    "decodeModel() and encodeModel() round-trip every shared model byte-identically",
  ignore: !haveShared("data/models"),
  fn() {
    const dir = shared("data/models");
    const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
      n.endsWith(".onnx")
    );
    assert.ok(files.length > 0);
    for (const f of files) {
      const bytes = Deno.readFileSync(`${dir}/${f}`);
      const m = decodeModel(bytes);
      const e1 = encodeModel(m);
      const e2 = encodeModel(decodeModel(e1));
      assert.ok(same(e1, e2), `${f}: encode→decode→encode differs`);
      // The shared files were written by the reference C++ serializer; our field
      // order and packing match it, so even the original bytes come back.
      assert.ok(same(e1, bytes), `${f}: re-encoding differs from the file`);
      // Sanity of decoded content against the documented model layout.
      const g = m.graph!;
      assert.equal(g.input[0]!.name, "input");
      assert.equal(g.output[0]!.name, "logits");
      assert.deepEqual(g.output[0]!.type!.tensorType!.shape!.dim[1], {
        dimValue: 1000,
      });
      assert.equal(m.opsetImport[0]!.version, 13);
      assert.ok(g.node.some((n) => n.opType === "Conv"));
      for (const t of g.initializer) {
        const v = tensorToFloat32(t);
        assert.equal(v.length, t.dims.reduce((p, d) => p * d, 1));
      }
    }
  },
});

Deno.test("decodeModel() skips unknown fields and reads packed and unpacked repeats", () => {
  const m = model({
    graph: graph({
      nodes: [node("Transpose", ["x"], ["y"], { perm: [1, 0] })],
      inputs: [valueInfo("x", DataType.FLOAT, ["N", 2])],
      outputs: [valueInfo("y", DataType.FLOAT, [2, "N"])],
      initializers: [int64Tensor("big", [3], [-1n, 9223372036854775807n, 5])],
    }),
  });
  const bytes = encodeModel(m);
  // Append unknown fields to the model: field 99 varint, field 98 bytes, field 97 fixed32, 96 fixed64.
  const extra = new Uint8Array([
    0x98,
    0x06,
    0x96,
    0x01, // field 99, wire 0, varint 150
    0x92,
    0x06,
    0x03,
    1,
    2,
    3, // field 98, wire 2, 3 bytes
    0x8d,
    0x06,
    1,
    2,
    3,
    4, // field 97, wire 5
    0x81,
    0x06,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8, // field 96, wire 1
  ]);
  const withExtra = new Uint8Array([...bytes, ...extra]);
  const d = decodeModel(withExtra);
  assert.ok(same(encodeModel(d), bytes));
  assert.deepEqual(attrInts(d.graph!.node[0]!, "perm", []), [1, 0]);
  assert.deepEqual(Array.from(tensorToBigInt64(d.graph!.initializer[0]!)), [
    -1n,
    9223372036854775807n,
    5n,
  ]);
  assert.equal(tensorToInt64s(d.graph!.initializer[0]!)[0], -1);
  assert.deepEqual(d.graph!.input[0]!.type!.tensorType!.shape!.dim, [{
    dimParam: "N",
  }, { dimValue: 2 }]);

  // A tensor with packed dims (protobufjs style) and unpacked float_data.
  const tensor = new Uint8Array([
    0x0a,
    0x02,
    0x02,
    0x03, // dims packed [2,3]
    0x10,
    0x01, // data_type FLOAT
    ...[1, 2, 3, 4, 5, 6].flatMap((
      v,
    ) => [0x25, ...new Uint8Array(new Float32Array([v]).buffer)]),
    0x42,
    0x01,
    0x77, // name "w"
  ]);
  const graphBytes = new Uint8Array([0x2a, tensor.length, ...tensor]); // initializer
  const modelBytes = new Uint8Array([0x3a, graphBytes.length, ...graphBytes]);
  const t = decodeModel(modelBytes).graph!.initializer[0]!;
  assert.deepEqual(t.dims, [2, 3]);
  assert.equal(t.name, "w");
  assert.deepEqual(Array.from(tensorToFloat32(t)), [1, 2, 3, 4, 5, 6]);
});

Deno.test("tensorToFloat32() refuses tensors with external data", () => {
  const t = {
    dims: [2],
    dataType: DataType.FLOAT,
    name: "w",
    dataLocation: 1,
    externalData: [{ key: "location", value: "w.bin" }],
  };
  const back = decodeModel(
    encodeModel(
      model({
        graph: graph({ nodes: [], inputs: [], outputs: [], initializers: [t] }),
      }),
    ),
  );
  assert.throws(
    () => tensorToFloat32(back.graph!.initializer[0]!),
    /external file \("w\.bin"\)/,
  );
});

Deno.test("decodeModel() rejects truncated input", () => {
  const bytes = encodeModel(
    model({
      graph: graph({
        nodes: [node("Relu", ["x"], ["y"])],
        inputs: [],
        outputs: [],
      }),
    }),
  );
  assert.throws(
    () => decodeModel(bytes.subarray(0, bytes.length - 3)),
    /Cannot decode ONNX protobuf/,
  );
});

Deno.test("a Relu model built in TypeScript runs in onnxruntime-web", async () => {
  const m = model({
    graph: graph({
      nodes: [node("Relu", ["x"], ["y"], {}, { name: "relu" })],
      inputs: [valueInfo("x", DataType.FLOAT, [2, 3])],
      outputs: [valueInfo("y", DataType.FLOAT, [2, 3])],
    }),
  });
  const s = await ort.InferenceSession.create(encodeModel(m));
  try {
    const x = new Float32Array([-1, 2, -0.5, 0, 3.25, -7]);
    const out = await s.run({ x: new ort.Tensor("float32", x, [2, 3]) });
    assert.deepEqual(Array.from(out.y!.data as Float32Array), [
      0,
      2,
      0,
      0,
      3.25,
      0,
    ]);
  } finally {
    await s.release();
  }
});

Deno.test("a Gemm classifier built in TypeScript matches a hand computation", async () => {
  // logits = alpha * x @ W^T + beta * b, W [3,4] (transB = 1)
  const W = [1, 0, -1, 2, 0.5, 0.5, 0.5, 0.5, -2, 1, 0, 0];
  const b = [0.1, -0.2, 0.3];
  const m = model({
    graph: graph({
      nodes: [
        node(
          "Gemm",
          ["x", "W", "b"],
          ["z"],
          [floatAttr("alpha", 2), floatAttr("beta", 1)].concat([
            { name: "transB", type: 2, i: 1 },
          ]),
        ),
        node("Softmax", ["z"], ["p"], { axis: 1 }),
      ],
      inputs: [valueInfo("x", DataType.FLOAT, ["N", 4])],
      outputs: [
        valueInfo("z", DataType.FLOAT, ["N", 3]),
        valueInfo("p", DataType.FLOAT, ["N", 3]),
      ],
      initializers: [floatTensor("W", [3, 4], W), floatTensor("b", [3], b)],
    }),
  });
  const x = [1, 2, 3, 4, -1, 0.5, 0.25, -2];
  const s = await ort.InferenceSession.create(encodeModel(m));
  try {
    const out = await s.run({
      x: new ort.Tensor("float32", Float32Array.from(x), [2, 4]),
    });
    const z = out.z!.data as Float32Array;
    const p = out.p!.data as Float32Array;
    for (let n = 0; n < 2; n++) {
      const zz = [0, 1, 2].map((k) => {
        let acc = 0;
        for (let j = 0; j < 4; j++) acc += x[n * 4 + j]! * W[k * 4 + j]!;
        return 2 * acc + b[k]!;
      });
      const mx = Math.max(...zz);
      const ez = zz.map((v) => Math.exp(v - mx));
      const sum = ez.reduce((a, c) => a + c, 0);
      for (let k = 0; k < 3; k++) {
        assert.ok(Math.abs(z[n * 3 + k]! - zz[k]!) < 1e-5, `z[${n},${k}]`);
        assert.ok(
          Math.abs(p[n * 3 + k]! - ez[k]! / sum) < 1e-6,
          `p[${n},${k}]`,
        );
      }
    }
  } finally {
    await s.release();
  }
});
