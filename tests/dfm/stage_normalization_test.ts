import assert from "node:assert/strict";
import { stageNormalization } from "../../src/dfm/stage_normalization.ts";

Deno.test("stageNormalization() keeps a preset's name with the recorded values, else is custom", () => {
  assert.deepEqual(
    stageNormalization({
      normalization: {
        name: "imagenet",
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
      },
    }),
    {
      name: "imagenet",
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    },
  );
  assert.deepEqual(
    stageNormalization({
      normalization: { name: "custom", mean: [0.1], std: [0.2] },
    }),
    { name: "custom", mean: [0.1, 0.1, 0.1], std: [0.2, 0.2, 0.2] },
  );
});
