import assert from "node:assert/strict";
import {
  compileWat,
  loadWabt,
  wasmModulePath,
  wasmModuleText,
  watSources,
} from "../../scripts/build_wasm.ts";
import { REPO_ROOT } from "../../src/testing/shared_data.ts";

const wabt = await loadWabt();

Deno.test({
  name:
    "every committed wasm module is what build_wasm.ts writes from its .wat source",
  ignore: !wabt,
  fn: async () => {
    const sources = watSources(REPO_ROOT);
    assert.ok(sources.includes("src/corrupt/wasm/zoom_estimate.wat"));
    for (const source of sources) {
      const text = await Deno.readTextFile(`${REPO_ROOT}/${source}`);
      const want = wasmModuleText(source, compileWat(wabt!, source, text));
      const got = await Deno.readTextFile(
        `${REPO_ROOT}/${wasmModulePath(source)}`,
      );
      assert.equal(got, want, `${source}: run deno task build-wasm`);
    }
  },
});
