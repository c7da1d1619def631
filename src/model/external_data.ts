/**
 * External weight files of an ONNX model (`model.onnx` + `model.onnx.data`,
 * what `torch.onnx.export` and `onnx.save(..., save_as_external_data=True)`
 * write). onnxruntime-web cannot open files next to a model given as bytes:
 * it needs each file's bytes in `externalData`, keyed by the `location` the
 * model's tensors name.
 *
 * Locations are paths relative to the model's folder; one that leaves it
 * (`../x`, an absolute path) is refused, as a model file must not make hfss
 * read files elsewhere.
 */
import { dirname, isAbsolute, join, normalize } from "node:path";
import { UserError } from "../errors.ts";
import { readFailure } from "../io/read.ts";
import {
  type GraphProto,
  kDataLocationExternal,
  type ModelProto,
  type TensorProto,
} from "../onnx/proto.ts";

/** One external data file as onnxruntime-web takes it. */
export interface ExternalDataFile {
  /** The location as the model names it (relative to the model's folder). */
  path: string;
  data: Uint8Array;
}

function* tensorsOf(g: GraphProto): Generator<TensorProto> {
  yield* g.initializer;
  for (const n of g.node) {
    for (const a of n.attribute) {
      if (a.t) yield a.t;
      yield* a.tensors ?? [];
      if (a.g) yield* tensorsOf(a.g);
      for (const sub of a.graphs ?? []) yield* tensorsOf(sub);
    }
  }
}

/** The distinct external data locations a decoded model refers to, in first-use order. */
export function externalDataLocations(model: ModelProto): string[] {
  const seen = new Set<string>();
  if (!model.graph) return [];
  for (const t of tensorsOf(model.graph)) {
    const external = t.dataLocation === kDataLocationExternal ||
      (t.externalData?.length ?? 0) > 0;
    if (!external) continue;
    const loc = t.externalData?.find((e) => e.key === "location")?.value;
    if (loc) seen.add(loc);
  }
  return [...seen];
}

/**
 * Read the external data files of the model at `modelPath`.
 *
 * @throws {UserError} naming the model and the file when a location leaves the model's folder or cannot be read.
 */
export async function readExternalData(
  modelPath: string,
  model: ModelProto,
): Promise<ExternalDataFile[]> {
  const dir = dirname(modelPath);
  const files: ExternalDataFile[] = [];
  for (const loc of externalDataLocations(model)) {
    const rel = normalize(loc);
    if (isAbsolute(rel) || rel === ".." || rel.startsWith("../")) {
      throw new UserError(
        `Cannot open model "${modelPath}": its external data file "${loc}" is outside the model's folder`,
      );
    }
    const path = join(dir, rel);
    try {
      files.push({ path: loc, data: await Deno.readFile(path) });
    } catch (e) {
      throw new UserError(
        `Cannot open model "${modelPath}": its external data file "${path}" ${
          e instanceof Deno.errors.NotFound
            ? "is missing (it must lie next to the model)"
            : `cannot be read: ${readFailure(e)}`
        }`,
      );
    }
  }
  return files;
}
