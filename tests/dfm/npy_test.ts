import assert from "node:assert/strict";
import {
  decodeNpy,
  decodeNpyHeader,
  encodeNpy,
  type NpyDtype,
} from "../../src/dfm/npy.ts";
import { UserError } from "../../src/errors.ts";

const ascii = (b: Uint8Array) => String.fromCharCode(...b);

Deno.test("encodeNpy() writes numpy's version 1.0 header for uint8 [2, 3]", () => {
  const bytes = encodeNpy(new Uint8Array([0, 1, 2, 3, 4, 5]), "uint8", [2, 3]);
  const dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }";
  // numpy 2.4 `np.save` output: header length 118 (0x76), 21 - 1 spare
  // spaces for the first axis plus padding to 128 bytes, ending in "\n".
  const header = "\x93NUMPY\x01\x00v\x00" + dict + " ".repeat(58) + "\n";
  assert.equal(header.length, 128);
  assert.equal(ascii(bytes.subarray(0, 128)), header);
  assert.deepEqual([...bytes.subarray(128)], [0, 1, 2, 3, 4, 5]);
  assert.equal(bytes.length, 134);
});

Deno.test("encodeNpy() writes 1-d and 0-d shapes as Python tuples", () => {
  const one = ascii(encodeNpy(new Float64Array([1.5]), "float64", [1]));
  assert.match(
    one,
    /'descr': '<f8', 'fortran_order': False, 'shape': \(1,\), \}/,
  );
  const zero = ascii(encodeNpy(new Int32Array([7]), "int32", []));
  assert.match(zero, /'shape': \(\), \}/);
  assert.deepEqual(decodeNpy(encodeNpy([7], "int32", [])).shape, []);
});

Deno.test("decodeNpy() round-trips every dtype bit for bit", () => {
  const cases: [NpyDtype, ArrayLike<number> | BigInt64Array, number[]][] = [
    ["uint8", new Uint8Array([0, 1, 255, 7]), [2, 2]],
    ["float32", new Float32Array([0.1, -2.5, Infinity, NaN, 1e-30, 3]), [3, 2]],
    ["float64", new Float64Array([Math.PI, -0, NaN, 1e300, 5e-324]), [5]],
    ["int32", new Int32Array([-2147483648, 2147483647, 0]), [1, 3, 1]],
    ["int64", new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 5n]), [3]],
  ];
  for (const [dtype, data, shape] of cases) {
    const bytes = encodeNpy(data as Uint8Array, dtype, shape);
    assert.equal(decodeNpyHeader(bytes).dataOffset % 64, 0);
    const back = decodeNpy(bytes);
    assert.equal(back.dtype, dtype);
    assert.deepEqual(back.shape, shape);
    assert.deepEqual(
      new Uint8Array(
        back.data.buffer,
        back.data.byteOffset,
        back.data.byteLength,
      ),
      new Uint8Array(
        (data as Uint8Array).buffer,
        (data as Uint8Array).byteOffset,
        (data as Uint8Array).byteLength,
      ),
      dtype,
    );
  }
  // plain arrays are converted
  const f = decodeNpy(encodeNpy([0.5, 2], "float32", [2])).data;
  assert.ok(f instanceof Float32Array);
  assert.deepEqual([...f], [0.5, 2]);
});

Deno.test("decodeNpy() reads a version 2.0 header and names the file in errors", () => {
  const dict = "{'shape': (2,), 'fortran_order': False, 'descr': '<i8', }";
  const pad = 64 - ((12 + dict.length + 1) % 64);
  const head = "\x93NUMPY\x02\x00" + "\0\0\0\0" + dict + " ".repeat(pad) + "\n";
  const bytes = new Uint8Array(head.length + 16);
  for (let i = 0; i < head.length; i++) bytes[i] = head.charCodeAt(i);
  new DataView(bytes.buffer).setUint32(8, head.length - 12, true);
  new DataView(bytes.buffer).setBigInt64(head.length, 9n, true);
  const a = decodeNpy(bytes);
  assert.deepEqual([...(a.data as BigInt64Array)], [9n, 0n]);

  const good = encodeNpy(new Uint8Array(6), "uint8", [2, 3]);
  assert.throws(
    () => decodeNpy(good.subarray(0, good.length - 2), "x/m.npy"),
    (e: unknown) =>
      e instanceof UserError &&
      /Cannot read npy file "x\/m.npy": truncated data/.test(e.message),
  );
  const notNpy = new TextEncoder().encode("PK\x03\x04 not numpy at all");
  assert.throws(() => decodeNpy(notNpy, "a.npz"), /not an npy file/);
  const bigEndian = good.slice();
  bigEndian.set(new TextEncoder().encode("'>f8'"), 20);
  assert.throws(() => decodeNpy(bigEndian), /unsupported dtype '>f8'/);
  const fortran = ascii(good).replace("False", "True ");
  assert.throws(
    () => decodeNpy(Uint8Array.from(fortran, (c) => c.charCodeAt(0))),
    /Fortran-order/,
  );
});

async function haveNumpy(): Promise<boolean> {
  try {
    const out = await new Deno.Command("python3", {
      args: ["-c", "import numpy"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

Deno.test({
  name:
    "encodeNpy() files load in numpy and numpy's files decode (skips without numpy)",
  ignore: !(await haveNumpy()),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const a = new Float64Array([1.25, -3, 1e-300, 7]);
      await Deno.writeFile(`${dir}/a.npy`, encodeNpy(a, "float64", [2, 2]));
      await Deno.writeFile(
        `${dir}/m.npy`,
        encodeNpy(new Uint8Array([0, 1, 1, 0, 1, 1]), "uint8", [1, 2, 3]),
      );
      const script = [
        "import numpy as np, sys",
        `a = np.load('${dir}/a.npy'); m = np.load('${dir}/m.npy')`,
        "assert a.dtype == np.float64 and a.shape == (2, 2) and a[1, 0] == 1e-300, a",
        "assert m.dtype == np.uint8 and m.shape == (1, 2, 3) and m.sum() == 4, m",
        `np.save('${dir}/b.npy', np.arange(12, dtype=np.int32).reshape(3, 4) * -1)`,
        `np.save('${dir}/c.npy', np.array([[0.5, 2.0]], dtype=np.float32))`,
        `np.save('${dir}/a2.npy', a)`,
        `np.save('${dir}/m2.npy', m)`,
        `np.save('${dir}/big.npy', np.zeros((1000, 10, 1, 1), np.uint8))`,
        `np.save('${dir}/s.npy', np.int64(-3))`,
      ].join("\n");
      const out = await new Deno.Command("python3", { args: ["-c", script] })
        .output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      const b = decodeNpy(await Deno.readFile(`${dir}/b.npy`));
      assert.equal(b.dtype, "int32");
      assert.deepEqual(b.shape, [3, 4]);
      assert.deepEqual(
        [...(b.data as Int32Array)],
        Array.from({ length: 12 }, (_, i) => i === 0 ? 0 : -i),
      );
      const c = decodeNpy(await Deno.readFile(`${dir}/c.npy`));
      assert.equal(c.dtype, "float32");
      assert.deepEqual([...(c.data as Float32Array)], [0.5, 2]);
      // Our bytes are numpy's bytes, header included.
      const same = async (ours: Uint8Array, theirs: string) =>
        assert.deepEqual(ours, await Deno.readFile(`${dir}/${theirs}`), theirs);
      await same(await Deno.readFile(`${dir}/a.npy`), "a2.npy");
      await same(await Deno.readFile(`${dir}/m.npy`), "m2.npy");
      await same(
        encodeNpy(new Uint8Array(10000), "uint8", [1000, 10, 1, 1]),
        "big.npy",
      );
      await same(encodeNpy(new BigInt64Array([-3n]), "int64", []), "s.npy");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("decodeNpy() copies misaligned elements and views aligned ones", () => {
  const file = encodeNpy(new Float64Array([1.5, -2]), "float64", [2]);
  const shifted = new Uint8Array(file.length + 3);
  shifted.set(file, 3);
  const a = decodeNpy(shifted.subarray(3));
  assert.deepEqual([...(a.data as Float64Array)], [1.5, -2]);
  const b = decodeNpy(file);
  assert.equal(b.data.buffer, file.buffer);
  assert.deepEqual([...(b.data as Float64Array)], [1.5, -2]);
});
