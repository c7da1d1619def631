import assert from "node:assert/strict";
import { join } from "node:path";
import { checkPage, haveChromium } from "./chromium.ts";

Deno.test({
  name:
    "checkPage() reports a broken image and console errors (the report check can fail)",
  ignore: !haveChromium(),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const page = join(dir, "bad.html");
      await Deno.writeTextFile(
        page,
        `<!DOCTYPE html><html><head><title>t</title></head><body>
<img src="data:image/png;base64,AAAA"><svg class="plot" width="10" height="10"></svg>
<script>console.error("boom")</script></body></html>`,
      );
      const r = await checkPage(
        `file://${page}`,
        `document.querySelectorAll("svg.plot").length`,
      );
      assert.equal(r.value, 1);
      assert.ok(
        r.errors.some((e) => e.includes("boom")),
        JSON.stringify(r.errors),
      );
      assert.ok(
        r.errors.length >= 2,
        `broken image reported: ${JSON.stringify(r.errors)}`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
