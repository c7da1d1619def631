import assert from "node:assert/strict";
import {
  glassDot,
  glassMemory,
  glassPass,
  glassPassBytes,
  glassToFloat,
} from "../../../src/corrupt/wasm/glass_pass.ts";
import { gaussianKernel1d } from "../../../src/corrupt/filters.ts";
import { Rng } from "../../../src/rng.ts";

Deno.test("glassPass() equals the tap sums taken one by one in float64", () => {
  const n = 4000;
  const mem = glassMemory(n, 64, 0);
  const rng = new Rng(5, ["glass-pass"]);
  // Byte-valued samples as the passes see them, and arbitrary doubles.
  for (let i = 0; i < n; i++) {
    mem.f[i] = i % 3 === 0 ? rng.int(256) / 255 : rng.nextU32() / 7e8;
  }
  for (const sigma of [0.7, 1, 1.5]) {
    const k = gaussianKernel1d(sigma, 4);
    for (const nt of [9, 13]) {
      if (k.length > nt) continue;
      const w = new Float64Array(nt);
      w.set(k, (nt - k.length) >> 1);
      mem.w.set(w);
      // Odd and even lengths around the 16- and 2-wide steps, strides of a
      // pixel and of a row, runs starting anywhere.
      for (const len of [1, 2, 3, 15, 16, 17, 31, 33, 648, 1341]) {
        for (
          const [st, from, at] of [[3, 0, 0], [672, 5, 7], [1, 11, 3]] as const
        ) {
          if (from + len + (nt - 1) * st > n) continue;
          mem.g.fill(-1);
          glassPass(mem.f, from, mem.g, at, len, st, nt, mem.w);
          for (let i = 0; i < len; i++) {
            let a = 0;
            for (let t = 0; t < nt; t++) a += w[t]! * mem.f[from + i + t * st]!;
            if (!Object.is(mem.g[at + i], a)) {
              assert.fail(
                `sigma ${sigma}, ${nt} taps, len ${len}, st ${st}, i ${i}: ${
                  mem.g[at + i]
                } != ${a}`,
              );
            }
          }
          assert.equal(mem.g[at + len], -1, "wrote past the run");
          if (at > 0) assert.equal(mem.g[at - 1], -1, "wrote before the run");
        }
      }
    }
  }
});

Deno.test("glassPassBytes() writes trunc(255 · sum) of the same sums", () => {
  const n = 3000;
  const mem = glassMemory(n, 64, 0);
  const rng = new Rng(6, ["glass-pass-bytes"]);
  // Byte values with runs of 0 and 255: sums at both ends of [0, 1].
  for (let i = 0; i < n; i++) {
    const r = Math.floor(i / 40) % 4;
    mem.f[i] = r === 0 ? 0 : r === 1 ? 1 : rng.int(256) / 255;
  }
  const w = new Float64Array(13);
  w.set(gaussianKernel1d(1.5, 4));
  mem.w.set(w);
  for (const len of [1, 2, 5, 16, 17, 30, 47, 648, 1001]) {
    for (const [st, from, at] of [[3, 0, 0], [1, 4, 9]] as const) {
      mem.b.fill(77);
      glassPassBytes(mem.f, from, mem.b, at, len, st, 13, mem.w);
      for (let i = 0; i < len; i++) {
        let a = 0;
        for (let t = 0; t < 13; t++) a += w[t]! * mem.f[from + i + t * st]!;
        assert.equal(mem.b[at + i], Math.trunc(a * 255), `len ${len}, i ${i}`);
      }
      assert.equal(mem.b[at + len], 77, "wrote past the run");
      if (at > 0) assert.equal(mem.b[at - 1], 77, "wrote before the run");
    }
  }
});

Deno.test("glassToFloat() reads bytes / 255, directly or through a map", () => {
  const n = 3 * 500;
  const mem = glassMemory(n, 64, 0);
  const rng = new Rng(8, ["glass-to-float"]);
  for (let i = 0; i < n; i++) mem.a[i] = rng.int(256);
  glassToFloat(mem.a, null, mem.f, mem.table);
  for (let i = 0; i < n; i++) assert.equal(mem.f[i], mem.a[i]! / 255);
  for (let p = 0; p < n / 3; p++) mem.map[p] = rng.int(n / 3);
  glassToFloat(mem.a, mem.map, mem.f, mem.table);
  for (let p = 0; p < n / 3; p++) {
    for (let c = 0; c < 3; c++) {
      assert.equal(mem.f[3 * p + c], mem.a[3 * mem.map[p]! + c]! / 255);
    }
  }
});

Deno.test("glassDot() equals the border taps summed one by one", () => {
  const n = 4000, taps = 26;
  const mem = glassMemory(n, 64, taps);
  const rng = new Rng(9, ["glass-dot"]);
  for (let i = 0; i < n; i++) mem.f[i] = rng.nextU32() / 4294967296;
  // Two tap sets as a plan holds them, the second starting at index 13
  // (the first padded with a zero weight).
  for (let t = 0; t < taps; t++) {
    mem.wt[t] = t === 12 ? 0 : rng.nextU32() / 4294967296;
    mem.vOff[t] = rng.int(200) - 100;
  }
  for (
    const [len, rows, rs, t0, nt] of [[3, 7, 50, 0, 13], [1, 2, 9, 13, 9], [
      5,
      2,
      9,
      13,
      9,
    ], [
      101,
      3,
      120,
      13,
      13,
    ]] as const
  ) {
    const from = 150, at = 20;
    mem.g.fill(-1);
    glassDot(mem.f, from, mem.g, at, len, rows, rs, mem.vOff, mem.wt, t0, nt);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < rs; i++) {
        const j = r * rs + i;
        if (i >= len) {
          assert.equal(mem.g[at + j], -1, "wrote outside the runs");
          continue;
        }
        let a = 0;
        for (let t = t0; t < t0 + nt; t++) {
          a += mem.wt[t]! * mem.f[from + j + mem.vOff[t]!]!;
        }
        assert.ok(Object.is(mem.g[at + j], a), `len ${len}, row ${r}, i ${i}`);
      }
    }
  }
});
