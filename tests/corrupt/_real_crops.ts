/**
 * Real ImageNet validation crops (decode, resize 256, centre crop 224) from
 * `../shared`, or none where it is absent.
 */
import { centreCrop } from "../../src/corrupt/corrupt.ts";
import { openDataset } from "../../src/data/dataset.ts";
import { decodeImage } from "../../src/data/decode.ts";
import { haveShared, shared } from "../../src/testing/shared_data.ts";

const kValSubset = "data/images/imagenet_val_subset";

/** True when the real images are there. */
export const kHaveRealCrops = haveShared(kValSubset);

/** The first `count` crops of the validation subset (none without it). */
export async function realCrops(count: number): Promise<Uint8Array[]> {
  if (!kHaveRealCrops) return [];
  const ds = await openDataset(shared(kValSubset));
  const crops: Uint8Array[] = [];
  for (const s of ds.samples.slice(0, count)) {
    crops.push(
      centreCrop(await decodeImage(await Deno.readFile(s.path), s.path)).data,
    );
  }
  return crops;
}
