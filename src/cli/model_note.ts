/**
 * What the command line says about a model on stderr before using it: the
 * side it runs a symbolic-size model at when no `--size` was given.
 */
import type { ModelInfo } from "../model/session.ts";

/** The note for a model run at the default side, or null. */
export function modelSizeNote(path: string, info: ModelInfo): string | null {
  if (info.sizeSource !== "default") return null;
  return `note: model "${path}" has a symbolic input size [${
    info.inputShape.join(",")
  }]; running it at ${info.size}x${info.size} (--size to change)`;
}

/** Print {@linkcode modelSizeNote} when there is one. */
export function noteModelSize(model: { path: string; info: ModelInfo }): void {
  const note = modelSizeNote(model.path, model.info);
  if (note) console.error(note);
}
