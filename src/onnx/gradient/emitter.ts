/**
 * Emits the nodes and constants of a backward pass, with fresh tensor names
 * that cannot clash with the forward graph's.
 *
 * @module
 */

import type { NodeProto, TensorProto } from "../proto.ts";
import { floatTensor, int64Tensor, node } from "../builder.ts";

/** Attributes accepted by {@link Emitter.op} (those of the builder's `node`). */
export type OpAttrs = Parameters<typeof node>[3];

/** Builds backward nodes; deduplicates small constants. */
export class Emitter {
  readonly nodes: NodeProto[] = [];
  readonly inits: TensorProto[] = [];
  /** Default-domain opset of the model (decides e.g. ReduceMean's axes form). */
  readonly opset: number;
  /** Opset the emitted nodes need (raised by rules that emit newer operators). */
  needOpset: number;
  #used: Set<string>;
  #n = 0;
  #consts = new Map<string, string>();

  constructor(used: Set<string>, opset: number) {
    this.#used = used;
    this.opset = opset;
    this.needOpset = opset;
  }

  /** A tensor name not used anywhere in the model. */
  fresh(hint: string): string {
    let name: string;
    do name = `grad/${hint}_${this.#n++}`; while (this.#used.has(name));
    this.#used.add(name);
    return name;
  }

  /** Appends one node with one output; returns the output's name. */
  op(
    opType: string,
    inputs: string[],
    attrs: OpAttrs = {},
    hint = opType,
  ): string {
    const out = this.fresh(hint);
    this.nodes.push(node(opType, inputs, [out], attrs, { name: out }));
    return out;
  }

  /**
   * `ReduceMean`/`ReduceSum`/`ReduceMax` over `axes`, in the form the model's
   * opset expects (axes as an input for ReduceSum from opset 13, for the
   * others from opset 18; the emitted opset never crosses 18).
   */
  reduce(
    opType: "ReduceMean" | "ReduceSum" | "ReduceMax",
    x: string,
    axes: number[],
    keepdims = 1,
  ): string {
    return opType === "ReduceSum" || this.opset >= 18
      ? this.op(opType, [x, this.ints(axes)], { keepdims })
      : this.op(opType, [x], { axes, keepdims });
  }

  /** An int64 constant (`scalar`: rank 0, one value). */
  ints(values: number[], scalar = false): string {
    const key = `i${scalar ? "s" : ""}:${values.join(",")}`;
    let name = this.#consts.get(key);
    if (!name) {
      name = this.fresh("const");
      this.inits.push(int64Tensor(name, scalar ? [] : [values.length], values));
      this.#consts.set(key, name);
    }
    return name;
  }

  /** A float32 scalar constant. */
  float(value: number): string {
    const key = `f:${value}`;
    let name = this.#consts.get(key);
    if (!name) {
      name = this.fresh("const");
      this.inits.push(floatTensor(name, [], [value]));
      this.#consts.set(key, name);
    }
    return name;
  }

  /** A float32 tensor constant. */
  floats(dims: number[], data: ArrayLike<number>): string {
    const name = this.fresh("const");
    this.inits.push(floatTensor(name, dims, data));
    return name;
  }

  /** Float zeros of the runtime shape of tensor `like`. */
  zerosLike(like: string): string {
    return this.op("ConstantOfShape", [this.op("Shape", [like])], {
      value: floatTensor("value", [1], [0]),
    });
  }
}
