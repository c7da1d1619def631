/**
 * The versions `hfss --version` prints and outputs may record: hfss itself
 * (deno.json `version`), the Deno runtime, and the onnxruntime-web module
 * actually loaded (its `env.versions.web`, not the import map's pin, so a
 * mismatched install shows).
 */
import denoJson from "../deno.json" with { type: "json" };

/** hfss's own version (deno.json `version`). */
export const kHfssVersion: string = denoJson.version;

/** Versions of hfss and what it runs on (snake_case keys, for JSON outputs). */
export interface Versions {
  hfss: string;
  deno: string;
  onnxruntime_web: string;
}

/** hfss, Deno and onnxruntime-web versions (loads onnxruntime-web's module, not its wasm). */
export async function versions(): Promise<Versions> {
  const ort = await import("onnxruntime-web");
  return {
    hfss: kHfssVersion,
    deno: Deno.version.deno,
    onnxruntime_web: ort.env.versions.web ?? ort.env.versions.common,
  };
}

/**
 * The `--version` text: one `name version` line each.
 *
 * @example
 * ```ts
 * console.log(formatVersions(await versions()));
 * // hfss 0.1.0
 * // deno 2.9.6
 * // onnxruntime-web 1.30.0
 * ```
 */
export function formatVersions(v: Versions): string {
  return `hfss ${v.hfss}\ndeno ${v.deno}\nonnxruntime-web ${v.onnxruntime_web}`;
}
