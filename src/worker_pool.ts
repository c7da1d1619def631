/**
 * A pool of Web Workers running one module, one job per worker at a time.
 *
 * Wire format: the pool posts `{ init }` once to each worker when it starts
 * (when an `init` is given), then `{ id, job }` per job; a worker answers
 * each job with one message carrying the same `id`. What a reply means
 * (success, failure) is the caller's business; a worker that crashes
 * (an uncaught error) rejects the job it was running and is replaced.
 *
 * A job may name the worker that must run it (`worker`, modulo the pool's
 * size), so a worker can keep state between the jobs of one key (the
 * generated ImageNet-C path keeps each image's crop where its other subsets
 * will be made); other jobs go to whichever worker frees up first.
 */

/**
 * The Web Worker constructor, captured when this module loads: onnxruntime-web's
 * threaded wasm replaces `globalThis.Worker` with Node's `worker_threads.Worker`
 * (a different API) when it initialises inside Deno, so a pool started after a
 * model is loaded must not read the global.
 */
const kWebWorker: typeof Worker | undefined = (() => {
  const W = globalThis.Worker as typeof Worker | undefined;
  return W && !("on" in W.prototype) ? W : undefined;
})();

/** True when Web Workers can be started (see `kWebWorker`). */
export function webWorkersAvailable(): boolean {
  return kWebWorker !== undefined;
}

interface Task<Job, Reply> {
  job: Job;
  transfer: Transferable[];
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

interface Slot<Job, Reply> {
  worker: Worker;
  /** The job running on this worker, if any. */
  running: (Task<Job, Reply> & { id: number }) | undefined;
  /** Jobs that must run on this worker. */
  queue: Task<Job, Reply>[];
}

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** What the workers are, for crash messages ("decode worker crashed: …"). */
  name: string;
  /** Posted once to each worker before any job. */
  init?: unknown;
}

/** A fixed set of workers running `url`; `terminate()` (or dispose) to stop them. */
export class WorkerPool<Job, Reply extends { id: number }>
  implements Disposable {
  readonly size: number;
  readonly #name: string;
  #slots: Slot<Job, Reply>[] = [];
  /** Jobs any worker may run, in submission order. */
  #shared: Task<Job, Reply>[] = [];
  #next = 0;
  #closed = false;
  readonly #url: URL;
  readonly #init: unknown;

  /** @throws {Error} when Web Workers are not available (see {@link webWorkersAvailable}). */
  constructor(url: URL, workers: number, options: WorkerPoolOptions) {
    if (!kWebWorker) {
      throw new Error("Cannot start worker threads: Web Workers are missing");
    }
    this.size = Math.max(1, Math.floor(workers));
    this.#name = options.name;
    this.#url = url;
    this.#init = options.init;
    for (let i = 0; i < this.size; i++) {
      this.#slots.push({
        worker: this.#spawn(i),
        running: undefined,
        queue: [],
      });
    }
  }

  /**
   * Run `job` on a worker (on worker `worker % size` when given) and resolve
   * with its reply; `transfer` lists buffers to move rather than copy.
   */
  run(
    job: Job,
    options: { worker?: number; transfer?: Transferable[] } = {},
  ): Promise<Reply> {
    if (this.#closed) {
      return Promise.reject(new Error(`${this.#name} workers are stopped`));
    }
    return new Promise<Reply>((resolve, reject) => {
      const task = { job, transfer: options.transfer ?? [], resolve, reject };
      if (options.worker !== undefined) {
        const slot = this.#slots[Math.abs(options.worker) % this.size]!;
        slot.queue.push(task);
        if (!slot.running) this.#dispatch(slot);
      } else {
        this.#shared.push(task);
        const idle = this.#slots.find((s) => !s.running);
        if (idle) this.#dispatch(idle);
      }
    });
  }

  /** Stop every worker; jobs not answered yet are rejected. */
  terminate(): void {
    if (this.#closed) return;
    this.#closed = true;
    const stopped = new Error(`${this.#name} workers are stopped`);
    for (const slot of this.#slots) {
      slot.worker.terminate();
      slot.running?.reject(stopped);
      for (const t of slot.queue) t.reject(stopped);
      slot.running = undefined;
      slot.queue = [];
    }
    for (const t of this.#shared) t.reject(stopped);
    this.#shared = [];
  }

  [Symbol.dispose](): void {
    this.terminate();
  }

  /**
   * Start the worker of slot `i`. A worker whose job threw (Deno closes a
   * worker on an uncaught error) is replaced by a fresh one, so the pool
   * keeps its size.
   */
  #spawn(i: number): Worker {
    const worker = new kWebWorker!(this.#url.href, { type: "module" });
    worker.onmessage = (ev: MessageEvent<Reply>) => {
      const slot = this.#slots[i]!;
      const task = slot.running;
      if (!task || ev.data.id !== task.id) return;
      this.#finish(slot).resolve(ev.data);
    };
    worker.onerror = (ev) => {
      ev.preventDefault();
      if (this.#closed) return;
      const slot = this.#slots[i]!;
      worker.terminate();
      slot.worker = this.#spawn(i);
      if (slot.running) {
        this.#finish(slot).reject(
          new Error(`${this.#name} worker crashed: ${ev.message}`),
        );
      }
    };
    if (this.#init !== undefined) worker.postMessage({ init: this.#init });
    return worker;
  }

  /** Clear `slot`'s running job, start its next one, return the finished task. */
  #finish(slot: Slot<Job, Reply>): Task<Job, Reply> {
    const task = slot.running!;
    slot.running = undefined;
    this.#dispatch(slot);
    return task;
  }

  /** Start the next job on an idle `slot`: its own queue first, then the shared one. */
  #dispatch(slot: Slot<Job, Reply>): void {
    if (this.#closed || slot.running) return;
    const task = slot.queue.shift() ?? this.#shared.shift();
    if (!task) return;
    const id = this.#next++;
    slot.running = { ...task, id };
    slot.worker.postMessage({ id, job: task.job }, task.transfer);
  }
}
