/** Reader for the numpy filter fixtures (`../shared/fixtures/reference/filter.json`). */
import { FIXTURES } from "../../src/testing/shared_data.ts";

interface ArraySpec {
  dtype: "float64" | "uint8" | "int32";
  shape: number[];
  data?: number[];
  file?: string;
}

/** One filter case with its arrays decoded. */
export interface FilterCase {
  id: string;
  size: number;
  image: Float64Array;
  maskReference: Uint8Array;
  maskCorrected: Uint8Array;
  outputReference: Float64Array;
  outputCorrected: Float64Array;
}

async function decode(spec: ArraySpec): Promise<Float64Array | Uint8Array> {
  if (spec.data) {
    return spec.dtype === "uint8"
      ? Uint8Array.from(spec.data)
      : Float64Array.from(spec.data);
  }
  const bytes = await Deno.readFile(`${FIXTURES}/${spec.file}`);
  if (spec.dtype === "uint8") return bytes;
  return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
}

/** Load every case of filter.json. */
export async function loadFilterCases(): Promise<FilterCase[]> {
  const json = JSON.parse(await Deno.readTextFile(`${FIXTURES}/filter.json`));
  const out: FilterCase[] = [];
  for (const c of json.cases) {
    out.push({
      id: c.id,
      size: c.img_size,
      image: await decode(c.image) as Float64Array,
      maskReference: await decode(c.mask_reference) as Uint8Array,
      maskCorrected: await decode(c.mask_corrected) as Uint8Array,
      outputReference: await decode(c.output_reference) as Float64Array,
      outputCorrected: await decode(c.output_corrected) as Float64Array,
    });
  }
  return out;
}

/** Largest absolute difference. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
