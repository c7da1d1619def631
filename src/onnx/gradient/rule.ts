/**
 * The shape of one backward rule: which inputs of an operator carry gradient
 * and how the gradient of its outputs maps to the gradient of those inputs.
 * The rules themselves live in the `rules_*.ts` files, one family each, and
 * are collected into one table in `table.ts`.
 *
 * @module
 */

import type { NodeProto } from "../proto.ts";
import { UserError } from "../../errors.ts";
import type { Emitter } from "./emitter.ts";

/** An operator on the image input's gradient path that cannot be differentiated. */
export class UnsupportedOperatorError extends UserError {
  readonly opType: string;
  readonly nodeName: string;
  constructor(n: NodeProto, detail?: string) {
    super(
      `Cannot differentiate operator ${n.opType} (node "${
        n.name || n.output[0] || "?"
      }")${detail ? `: ${detail}` : ": no backward rule for this operator"}`,
    );
    this.name = "UnsupportedOperatorError";
    this.opType = n.opType;
    this.nodeName = n.name || n.output[0] || "";
  }
}

/** What a backward rule sees of the node and of the transform. */
export interface RuleContext {
  /** The forward node (a copy; a rule may add optional outputs to it). */
  readonly n: NodeProto;
  readonly e: Emitter;
  /** Default-domain opset of the model. */
  readonly opset: number;
  /** First input and first output of the node. */
  readonly x: string;
  readonly y: string;
  /** Gradient of the first output (a zero tensor when only other outputs have one). */
  readonly dy: string;
  /** Gradient of each output, undefined where none flows back. */
  readonly dys: readonly (string | undefined)[];
  /** True when input slot `i` depends on the image input. */
  isLive(i: number): boolean;
  /** Accumulates `g` into the gradient of tensor `name` (ignored if not live). */
  addGrad(name: string, g: string): void;
  /** Static shape of a tensor (from the probe). */
  shapeOf(name: string): number[];
  /** Axes of a tensor whose size depends on the batch size (cannot be baked in). */
  batchAxes(name: string): number[];
  /** ONNX element type of a node output as the probe saw it (undefined if unknown). */
  dtypeOf(name: string): number | undefined;
  /** Values of a constant integer tensor (initializer, Constant or probe); throws if unknown. */
  intsOf(name: string): number[];
  /** Same as {@link intsOf}, undefined when the values are not known. */
  tryInts(name: string): number[] | undefined;
  /** Reduces `g` (shape of tensor `from`) to the shape of tensor `target`. */
  sumTo(g: string, from: string, target: string): string;
  /** Reduces `g` (static shape `gs`) to the shape of tensor `target`. */
  sumToShape(g: string, gs: number[], target: string): string;
  /** Throws an {@link UnsupportedOperatorError} for this node. */
  unsupported(detail: string): never;
}

/** One operator's entry in the gradient table. */
export interface Rule {
  /**
   * Input slots through which gradient flows (`all`: every input). Other
   * inputs must not depend on the image. `none`: the outputs carry no
   * gradient (integer, boolean or piecewise-constant results).
   */
  inputs: number[] | "all" | "none";
  /** For operators whose outputs carry gradient only sometimes (Cast to float). */
  differentiable?(n: NodeProto): boolean;
  /** Emits the backward pass of one node. Absent for `inputs: "none"`. */
  backward?(c: RuleContext): void;
}

/** A family's rules, by operator type. */
export type RuleTable = Readonly<Record<string, Rule>>;

/** Axis normalised to `[0, rank)`. */
export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
