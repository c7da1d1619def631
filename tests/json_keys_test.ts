import assert from "node:assert/strict";
import { snakeKeys } from "../src/json_keys.ts";

Deno.test("snakeKeys() writes snake_case keys and null for non-finite numbers, keeping metadata keys", () => {
  assert.deepEqual(
    snakeKeys({
      evaluationsPerSecond: 2,
      mean_ce: NaN,
      stages: [{ totalSeconds: 1 }],
      metadata: { myKey: "v" },
    }),
    {
      evaluations_per_second: 2,
      mean_ce: null,
      stages: [{ total_seconds: 1 }],
      metadata: { myKey: "v" },
    },
  );
});
