import assert from "node:assert/strict";
import {
  arange,
  kConstants,
  kCorruptionNames,
  kGeneratedCorruptions,
  resolveSubsets,
  subsetName,
} from "../../src/corrupt/registry.ts";
import { OptionError } from "../../src/errors.ts";

Deno.test("arange() has numpy's lengths for the zoom-blur factors", () => {
  // numpy: len(np.arange(1, 1.11, 0.01)) == 12, ... (includes 1.11 by rounding).
  assert.deepStrictEqual(kConstants.zoom_blur.map((z) => z.length), [
    12,
    16,
    11,
    13,
    11,
  ]);
  assert.deepStrictEqual(arange(0, 1, 0.25), [0, 0.25, 0.5, 0.75]);
});

Deno.test("resolveSubsets() expands corruptions, severities and families in corruption order", () => {
  assert.deepStrictEqual(resolveSubsets([]).length, 14 * 5);
  assert.deepStrictEqual(kCorruptionNames.length, 15);
  assert.deepStrictEqual(kGeneratedCorruptions.includes("frost"), false);
  assert.deepStrictEqual(
    resolveSubsets(["fog/2", "gaussian_noise"]).map(subsetName),
    [
      "gaussian_noise/1",
      "gaussian_noise/2",
      "gaussian_noise/3",
      "gaussian_noise/4",
      "gaussian_noise/5",
      "fog/2",
    ],
  );
  assert.deepStrictEqual(resolveSubsets(["5"]).length, 14);
  assert.deepStrictEqual(
    resolveSubsets(["noise/1"]).map(subsetName),
    ["gaussian_noise/1", "shot_noise/1", "impulse_noise/1"],
  );
  assert.deepStrictEqual(resolveSubsets(["weather"]).length, 3 * 5);
});

Deno.test("resolveSubsets() rejects unknown names, bad severities and frost with a reason", () => {
  assert.throws(
    () => resolveSubsets(["gaussian"]),
    (e: unknown) =>
      e instanceof OptionError && /unknown corruption/.test(e.message),
  );
  assert.throws(
    () => resolveSubsets(["fog/6"]),
    (e: unknown) => e instanceof OptionError && /severity/.test(e.message),
  );
  assert.throws(
    () => resolveSubsets(["frost"]),
    (e: unknown) =>
      e instanceof OptionError && /photographs of frost/.test(e.message),
  );
});

Deno.test("resolveSubsets() with frost textures adds frost to every selection that covers it", () => {
  const frost = { frost: true };
  assert.deepStrictEqual(resolveSubsets([], frost).length, 15 * 5);
  assert.deepStrictEqual(resolveSubsets(["3"], frost).length, 15);
  assert.deepStrictEqual(
    resolveSubsets(["weather/2"], frost).map(subsetName),
    ["snow/2", "frost/2", "fog/2", "brightness/2"],
  );
  assert.deepStrictEqual(
    resolveSubsets(["frost/4", "noise/1"], frost).map(subsetName),
    ["gaussian_noise/1", "shot_noise/1", "impulse_noise/1", "frost/4"],
  );
  // Without textures: left out of families and severities, refused by name
  // under the textures' option.
  assert.deepStrictEqual(
    resolveSubsets(["weather/2"]).map(subsetName),
    ["snow/2", "fog/2", "brightness/2"],
  );
  assert.throws(
    () => resolveSubsets(["frost/1"]),
    (e: unknown) =>
      e instanceof OptionError && e.option === "frostTextures" &&
      /frost1\.png/.test(e.problem),
  );
});
