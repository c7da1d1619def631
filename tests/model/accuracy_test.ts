import assert from "node:assert/strict";
import { openDataset } from "../../src/data/dataset.ts";
import { normalization } from "../../src/data/preprocess.ts";
import { evaluateClean } from "../../src/model/accuracy.ts";
import { ModelSession } from "../../src/model/session.ts";
import { haveShared, shared } from "../../src/testing/shared_data.ts";

// The independent figure (../shared/docs/platform-notes.md, data/README.md):
// MobileNetV2-quant, inception normalisation, resize 256 + centre crop 224,
// 434 val images: top-1 82.0%, top-5 94.9%, mean CE 0.716.
Deno.test({
  name:
    "evaluateClean() gives MobileNetV2 top-1 >= 80% on the 434 val images (resize 256, crop 224, inception)",
  ignore: !haveShared("data/models/mobilenet_v2_1.0_224_quant.onnx") ||
    !haveShared("data/images/imagenet_val_subset/labels.csv"),
  fn: async () => {
    const ds = await openDataset(shared("data/images/imagenet_val_subset"));
    assert.equal(ds.layout, "labels-csv");
    assert.equal(ds.samples.length, 434);
    const model = await ModelSession.open(
      shared("data/models/mobilenet_v2_1.0_224_quant.onnx"),
    );
    try {
      assert.equal(model.info.size, 224);
      const r = await evaluateClean(model, ds.samples, {
        batchSize: 32,
        resize: "crop",
        cropPct: 0.875,
        workers: 1,
        normalization: normalization("inception"),
      });
      console.log(
        `MobileNetV2: top-1 ${(r.top1 * 100).toFixed(2)}% top-5 ${
          (r.top5 * 100).toFixed(2)
        }% ` +
          `mean CE ${r.mean_ce.toFixed(4)} ${r.images_per_s.toFixed(1)} img/s`,
      );
      assert.equal(r.images, 434);
      assert.equal(r.failed, 0);
      assert.ok(r.top1 >= 0.8, `top-1 ${r.top1}`);
      assert.ok(r.top5 >= 0.93, `top-5 ${r.top5}`);
      assert.ok(Math.abs(r.mean_ce - 0.716) < 0.03, `mean CE ${r.mean_ce}`);
    } finally {
      await model.release();
    }
  },
});
