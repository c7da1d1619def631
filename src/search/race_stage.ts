/**
 * The evaluation loop of one raced search stage.
 *
 * Work comes in units: one slice of one class's images (positions
 * `[start, end)` of the class's images, in the search's order) times the
 * class's live candidates. A unit's rows are candidate-major (row
 * `a * nb + b`: live candidate a, image b of the slice). Model calls are
 * packed from the queue of pending units, in queue order, whole candidates at
 * a time, up to `batchSize` rows; when the queue holds fewer rows than a
 * batch the next class is admitted (its first slice joins the back of the
 * queue). So batches stay full and mix classes. When a unit's last row is
 * back, the class's slice is closed (`RaceState.endSlice`: the rule drops
 * candidates) and, unless the class is finished, its next slice joins the
 * back of the queue.
 *
 * Determinism: the schedule depends only on the race state, and every
 * accumulator cell (candidate, class) is summed in the class's image order,
 * as in the exhaustive loop; with nothing dropped the accumulators are
 * bit-identical to exhaustive search. The whole state (accumulators, race,
 * queue) is checkpointed after a finished class and at least every
 * `checkpointSeconds`; a resumed run continues with the same schedule.
 */
import type { ClassLossAccumulator } from "./loss.ts";
import { crossEntropyRows } from "../model/cross_entropy.ts";
import type { Checkpoint, CheckpointStats } from "./checkpoint.ts";
import type {
  FilterPort,
  LoadedImages,
  ModelPort,
  StageTimings,
} from "./evaluate.ts";
import type { RaceState } from "./race.ts";
import { type EvaluateMasksOptions, maskInputs } from "./mask_evaluation.ts";

/** One pending unit of the queue (its slice is the class's next slice). */
interface Unit {
  c: number;
  /** Rows already evaluated (whole candidates: a multiple of nb). */
  rowsDone: number;
}

/** The queue of a raced stage: serialised into checkpoints. */
export interface RaceQueue {
  /** Next class position to admit. */
  nextClass: number;
  units: Unit[];
  /** Model calls done. */
  calls: number;
}

/** A fresh queue. */
export function newRaceQueue(): RaceQueue {
  return { nextClass: 0, units: [], calls: 0 };
}

/** Inputs of {@link raceStage}. */
export interface RaceStageOptions<M extends { readonly count: number }> {
  /** Subset indices of every class position, in visiting order. */
  classImages: readonly (readonly number[])[];
  /** Model logit index of every subset image. */
  targetOf: ArrayLike<number>;
  /** Reference batch weight `1/B_b` of every subset image. */
  weightOf: ArrayLike<number>;
  /** Racing value of image `idx` (class position `c`) with cross-entropy `ce`. */
  valueOf(c: number, idx: number, ce: number): number;
  numLogits: number;
  batchSize: number;
  /** Candidate masks `[numCandidates, S, S]` of a class position's pool. */
  poolMasks(c: number): Uint8Array;
  loadImages(indices: number[]): Promise<LoadedImages>;
  filter: FilterPort<M>;
  model: ModelPort;
  scale?: ArrayLike<number>;
  offset?: ArrayLike<number>;
  acc: ClassLossAccumulator;
  race: RaceState;
  queue: RaceQueue;
  checkpoint?: Checkpoint;
  checkpointSeconds?: number;
  /** Figures carried over from earlier runs. */
  prior?: CheckpointStats;
  onProgress?: (evaluations: number) => void;
}

/** Figures of one {@link raceStage} call. */
export interface RaceStageResult {
  /** Candidate × image evaluations done by this call. */
  evaluations: number;
  /** Images whose class slice closed in this call. */
  images: number;
  seconds: number;
  timings: StageTimings;
}

/** All state of a raced stage as one buffer: accumulators, race, queue. */
export function raceStateBytes(
  acc: ClassLossAccumulator,
  race: RaceState,
  queue: RaceQueue,
): Uint8Array {
  const a = acc.toBytes(), r = race.toBytes();
  const q = new Float64Array(3 + 2 * queue.units.length);
  q[0] = queue.nextClass;
  q[1] = queue.calls;
  q[2] = queue.units.length;
  queue.units.forEach((u, i) => {
    q[3 + 2 * i] = u.c;
    q[4 + 2 * i] = u.rowsDone;
  });
  const out = new Uint8Array(a.byteLength + r.byteLength + q.byteLength);
  out.set(a, 0);
  out.set(r, a.byteLength);
  out.set(new Uint8Array(q.buffer), a.byteLength + r.byteLength);
  return out;
}

/** Restore what {@link raceStateBytes} wrote; returns the queue. */
export function loadRaceStateBytes(
  bytes: Uint8Array,
  acc: ClassLossAccumulator,
  race: RaceState,
): RaceQueue {
  const accBytes = (3 * acc.ceSum.length + acc.numClasses) * 8;
  const raceBytes = race.byteLength;
  if (bytes.byteLength < accBytes + raceBytes + 24) {
    throw new Error(
      `Cannot restore the race: ${bytes.byteLength} bytes, expected at least ${
        accBytes + raceBytes + 24
      }`,
    );
  }
  acc.loadBytes(bytes.subarray(0, accBytes));
  race.loadBytes(bytes.subarray(accBytes, accBytes + raceBytes));
  const q = new Float64Array(bytes.slice(accBytes + raceBytes).buffer);
  const n = q[2]!;
  if (q.length !== 3 + 2 * n) {
    throw new Error("Cannot restore the race: the queue record is truncated");
  }
  const units: Unit[] = [];
  for (let i = 0; i < n; i++) {
    units.push({ c: q[3 + 2 * i]!, rowsDone: q[4 + 2 * i]! });
  }
  return { nextClass: q[0]!, calls: q[1]!, units };
}

/** Candidate × image evaluations a unit of class `c` has in total. */
function unitRows(race: RaceState, c: number, live: number): number {
  const [a, b] = race.nextSlice(c);
  return live * (b - a);
}

/**
 * Run a raced stage from the state in `queue`, `acc` and `race` to the end.
 * @returns throughput figures of this call
 */
export async function raceStage<M extends { readonly count: number }>(
  o: RaceStageOptions<M>,
): Promise<RaceStageResult> {
  const t0 = performance.now();
  const { race, acc, queue } = o;
  const numClasses = o.classImages.length;
  let evaluations = 0, images = 0;
  let modelMs = 0, filterMs = 0, loadMs = 0, prepMs = 0, lossMs = 0;
  let saveMs = 0, lastSave = performance.now();
  const prior = o.prior ?? { evaluations: 0, images: 0, seconds: 0 };
  const save = async () => {
    if (!o.checkpoint) return;
    const ts = performance.now();
    await o.checkpoint.save(
      { block: queue.calls, chunk: 0 },
      raceStateBytes(acc, race, queue),
      {
        evaluations: prior.evaluations + evaluations,
        images: prior.images + images,
        seconds: prior.seconds + (performance.now() - t0) / 1000,
      },
    );
    lastSave = performance.now();
    saveMs += lastSave - ts;
  };

  // Per active class: its live masks (compacted) and ids, regenerated from
  // the pool on admission or resume; per unit: its images (prefetched) and
  // its uploaded mask set.
  const liveMasks = new Map<number, { ids: number[]; masks: Uint8Array }>();
  let area = 0;
  const masksOf = (c: number) => {
    const ids = race.alive(c);
    let e = liveMasks.get(c);
    if (!e) {
      const pool = o.poolMasks(c);
      area = pool.length / race.numCandidates;
      const masks = new Uint8Array(ids.length * area);
      ids.forEach((j, a) =>
        masks.set(pool.subarray(j * area, (j + 1) * area), a * area)
      );
      e = { ids, masks };
    } else if (e.ids.length !== ids.length) {
      const keep = new Set(ids);
      const old = e;
      const masks = new Uint8Array(ids.length * area);
      let a = 0;
      old.ids.forEach((j, i) => {
        if (!keep.has(j)) return;
        masks.set(old.masks.subarray(i * area, (i + 1) * area), a * area);
        a++;
      });
      e = { ids, masks };
    }
    liveMasks.set(c, e);
    return e;
  };
  const loads = new Map<string, Promise<LoadedImages>>();
  const sliceKey = (c: number) => `${c}:${race.seen[c]}`;
  const imagesOf = (c: number) => {
    const key = sliceKey(c);
    let p = loads.get(key);
    if (!p) {
      const [a, b] = race.nextSlice(c);
      p = o.loadImages(o.classImages[c]!.slice(a, b));
      loads.set(key, p);
    }
    return p;
  };
  const admit = () => {
    while (queue.nextClass < numClasses) {
      const c = queue.nextClass++;
      if (!race.done(c)) {
        queue.units.push({ c, rowsDone: 0 });
        void imagesOf(c);
        return true;
      }
    }
    return false;
  };
  const sets = new Map<string, M>();
  const setOf = (c: number) => {
    const key = sliceKey(c);
    let set = sets.get(key);
    if (!set) {
      const e = masksOf(c);
      set = o.filter.uploadMasks(e.masks, e.ids.length);
      sets.set(key, set);
    }
    return set;
  };
  const dispose = (key: string) => {
    const s = sets.get(key) as unknown as { [Symbol.dispose]?: () => void };
    s?.[Symbol.dispose]?.();
    sets.delete(key);
  };
  let loadedKey: string | null = null;

  try {
    for (const u of queue.units) void imagesOf(u.c);
    for (;;) {
      // Rows pending in the queue; admit classes until a batch is covered.
      const pending = () =>
        queue.units.reduce(
          (s, u) =>
            s + unitRows(race, u.c, race.alive(u.c).length) - u.rowsDone,
          0,
        );
      while (pending() < o.batchSize && admit());
      if (queue.units.length === 0) break;

      // Pack whole candidates of the queued units, in order.
      interface Piece {
        unit: Unit;
        loaded: LoadedImages;
        first: number;
        count: number;
      }
      const pieces: Piece[] = [];
      let rows = 0;
      for (const unit of queue.units) {
        const tl = performance.now();
        const loaded = await imagesOf(unit.c);
        loadMs += performance.now() - tl;
        const nb = loaded.indices.length;
        const live = race.alive(unit.c).length;
        if (nb === 0) {
          pieces.push({ unit, loaded, first: 0, count: live });
          continue;
        }
        const firstCand = unit.rowsDone / nb;
        const room = Math.floor((o.batchSize - rows) / nb);
        const count = Math.min(
          live - firstCand,
          rows === 0 ? Math.max(1, room) : room,
        );
        if (count <= 0) break;
        pieces.push({ unit, loaded, first: firstCand, count });
        rows += count * nb;
        if (firstCand + count < live) break;
      }

      // Filter every piece, then one model call.
      const x: Float32Array[] = [];
      let rowLength = 0;
      for (const p of pieces) {
        const nb = p.loaded.indices.length;
        if (nb === 0) continue;
        const tp = performance.now();
        const key = sliceKey(p.unit.c);
        if (loadedKey !== key) {
          o.filter.load(p.loaded.tensor, nb);
          loadedKey = key;
        }
        const set = setOf(p.unit.c);
        prepMs += performance.now() - tp;
        const tf = performance.now();
        const opts: Parameters<FilterPort<M>["apply"]>[1] = {
          first: p.first,
          count: p.count,
        };
        if (o.scale) opts.scale = o.scale;
        if (o.offset) opts.offset = o.offset;
        const part = await o.filter.apply(set, opts);
        rowLength = part.length / (p.count * nb);
        x.push(part);
        filterMs += performance.now() - tf;
      }
      let logits: Float32Array = new Float32Array(0);
      if (rows > 0) {
        const input = x.length === 1
          ? x[0]!
          : new Float32Array(rows * rowLength);
        if (x.length > 1) {
          let off = 0;
          for (const part of x) {
            input.set(part, off);
            off += part.length;
          }
        }
        const tm = performance.now();
        logits = await o.model.run(input, rows);
        modelMs += performance.now() - tm;
      }

      // Accumulate (candidate-major within each piece, image order).
      const tc = performance.now();
      const targets = new Int32Array(rows);
      let r0 = 0;
      for (const p of pieces) {
        const nb = p.loaded.indices.length;
        for (let a = 0; a < p.count; a++) {
          for (let b = 0; b < nb; b++) {
            targets[r0 + a * nb + b] = o.targetOf[p.loaded.indices[b]!]!;
          }
        }
        r0 += p.count * nb;
      }
      const { ce, correct } = crossEntropyRows(logits, {
        rows,
        numLogits: o.numLogits,
        targets,
      });
      r0 = 0;
      const finished: Unit[] = [];
      for (const p of pieces) {
        const c = p.unit.c;
        const nb = p.loaded.indices.length;
        const ids = masksOf(c).ids;
        for (let a = 0; a < p.count; a++) {
          const m = ids[p.first + a]!;
          for (let b = 0; b < nb; b++) {
            const idx = p.loaded.indices[b]!;
            const r = r0 + a * nb + b;
            acc.add(m, c, ce[r]!, o.weightOf[idx]!, correct[r]!);
            race.add(c, m, o.valueOf(c, idx, ce[r]!));
          }
        }
        r0 += p.count * nb;
        p.unit.rowsDone += p.count * nb;
        if (p.unit.rowsDone >= ids.length * nb) finished.push(p.unit);
      }
      lossMs += performance.now() - tc;
      evaluations += rows;
      queue.calls++;
      if (rows > 0) o.onProgress?.(rows);

      // Close finished slices; their classes' next slices join the queue.
      let classDone = false;
      for (const unit of finished) {
        const c = unit.c;
        const loaded = await imagesOf(c);
        loads.delete(sliceKey(c));
        dispose(sliceKey(c));
        if (loadedKey === sliceKey(c)) loadedKey = null;
        for (const _ of loaded.indices) acc.countImage(c);
        images += loaded.indices.length;
        race.endSlice(c);
        queue.units.splice(queue.units.indexOf(unit), 1);
        if (race.done(c)) {
          liveMasks.delete(c);
          classDone = true;
        } else {
          queue.units.push({ c, rowsDone: 0 });
          void imagesOf(c);
        }
      }
      const secs = (performance.now() - lastSave) / 1000;
      if (
        classDone ||
        (o.checkpointSeconds !== undefined && secs >= o.checkpointSeconds)
      ) {
        await save();
      }
    }
    await save();
  } finally {
    for (const key of [...sets.keys()]) dispose(key);
  }
  return {
    evaluations,
    images,
    seconds: (performance.now() - t0) / 1000,
    timings: {
      modelSeconds: modelMs / 1000,
      filterSeconds: filterMs / 1000,
      loadSeconds: loadMs / 1000,
      prepareSeconds: prepMs / 1000,
      lossSeconds: lossMs / 1000,
      checkpointSeconds: saveMs / 1000,
    },
  };
}

/** Subset indices of every class position, in subset order. */
export function classImageLists(
  classOf: ArrayLike<number>,
  numClasses: number,
): number[][] {
  const out: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < classOf.length; i++) out[classOf[i]!]!.push(i);
  return out;
}

/**
 * The racing value of one evaluation: the image's share of the ranking loss,
 * scaled so that its mean over the class's images orders candidates as the
 * loss does. `class-ce`: the cross-entropy. `reference`: `ce · w_i · n_c /
 * Σ_c w` (the loss is `Σ w_i ce_i` plus a constant).
 */
export function raceValue(
  kind: "class-ce" | "reference",
  o: {
    classOf: ArrayLike<number>;
    weightOf: ArrayLike<number>;
    numClasses: number;
  },
): (c: number, idx: number, ce: number) => number {
  if (kind === "class-ce") return (_c, _i, ce) => ce;
  const n = new Float64Array(o.numClasses), w = new Float64Array(o.numClasses);
  for (let i = 0; i < o.classOf.length; i++) {
    n[o.classOf[i]!]! += 1;
    w[o.classOf[i]!]! += o.weightOf[i]!;
  }
  const scale = Float64Array.from(n, (v, c) => w[c]! > 0 ? v / w[c]! : 0);
  return (c, idx, ce) => ce * o.weightOf[idx]! * scale[c]!;
}

/**
 * Losses `[M, C]` with every candidate a class dropped set to NaN, so that
 * the top-N (which puts NaN last) is taken among the survivors.
 */
export function survivorLosses(
  losses: Float64Array,
  race: RaceState,
): Float64Array {
  const out = losses.slice();
  const m = race.numCandidates, k = race.numClasses;
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < m; j++) {
      if (!race.live[c * m + j]) out[j * k + c] = NaN;
    }
  }
  return out;
}

/** Inputs of {@link raceMasks}: those of `evaluateMasks` plus the race. */
export interface RaceMasksOptions extends
  Pick<
    EvaluateMasksOptions,
    | "images"
    | "classOf"
    | "targetOf"
    | "numClasses"
    | "numLogits"
    | "masks"
    | "preprocess"
    | "batchSize"
    | "weightOf"
    | "filter"
    | "model"
    | "prior"
    | "checkpoint"
    | "checkpointSeconds"
    | "onProgress"
    | "log"
  > {
  /** The ranking loss (fixes each evaluation's racing value). */
  loss: "class-ce" | "reference";
  acc: ClassLossAccumulator;
  race: RaceState;
  /** Where the race stands (`newRaceQueue()`, or from a checkpoint). */
  queue: RaceQueue;
}

/**
 * Race the masks of the pools over each class's images: the raced
 * counterpart of `evaluateMasks`, same inputs, same accumulators for the
 * survivors.
 */
export function raceMasks(o: RaceMasksOptions): Promise<RaceStageResult> {
  const input = maskInputs(o);
  return raceStage({
    classImages: classImageLists(o.classOf, o.numClasses),
    targetOf: o.targetOf,
    weightOf: o.weightOf,
    valueOf: raceValue(o.loss, o),
    numLogits: o.numLogits,
    batchSize: o.batchSize,
    poolMasks: (c) => o.masks.masks(c),
    loadImages: input.loadImages,
    filter: o.filter,
    model: o.model,
    ...(input.scale ? { scale: input.scale, offset: input.offset! } : {}),
    acc: o.acc,
    race: o.race,
    queue: o.queue,
    ...(o.checkpoint ? { checkpoint: o.checkpoint } : {}),
    ...(o.checkpointSeconds !== undefined
      ? { checkpointSeconds: o.checkpointSeconds }
      : {}),
    ...(o.prior ? { prior: o.prior } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
}
