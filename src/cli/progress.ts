/**
 * Progress reporting on stderr (results go to stdout).
 *
 * On a terminal: one line redrawn in place at most every 100 ms
 * (`label [#####-----] 120/434 img 14.8 img/s ETA 21s`). Otherwise (a pipe, a
 * log file, CI): a plain line at most every `intervalMs` (default 5 s) and at
 * the end, so logs stay readable.
 */

/** Options for `Progress`. */
export interface ProgressOptions {
  /** Text before the bar. */
  label: string;
  /** Total units, when known. */
  total?: number;
  /** Unit name. @default "img" */
  unit?: string;
  /** Force the terminal style on or off. @default Deno.stderr.isTerminal() */
  tty?: boolean;
  /** Plain-line interval when not on a terminal. @default 5000 */
  intervalMs?: number;
  /** Where to write. @default Deno.stderr */
  write?: (text: string) => void;
  /** Print nothing at all. @default false */
  quiet?: boolean;
}

const encoder = new TextEncoder();

/** A TTY-aware progress line. */
export class Progress {
  readonly label: string;
  readonly total: number | undefined;
  readonly unit: string;
  done = 0;
  readonly #tty: boolean;
  readonly #interval: number;
  readonly #write: (text: string) => void;
  readonly #quiet: boolean;
  readonly #start = performance.now();
  #last = -Infinity;
  #finished = false;

  constructor(options: ProgressOptions) {
    this.label = options.label;
    this.total = options.total;
    this.unit = options.unit ?? "img";
    this.#quiet = options.quiet ?? false;
    let tty = options.tty;
    if (tty === undefined) {
      try {
        tty = Deno.stderr.isTerminal();
      } catch {
        tty = false;
      }
    }
    this.#tty = tty;
    this.#interval = this.#tty ? 100 : options.intervalMs ?? 5000;
    this.#write = options.write ??
      ((t) => Deno.stderr.writeSync(encoder.encode(t)));
  }

  /** Units per second so far. */
  get rate(): number {
    const s = (performance.now() - this.#start) / 1000;
    return s > 0 ? this.done / s : 0;
  }

  /** Advance by `n` units and redraw when due. */
  tick(n = 1): void {
    this.done += n;
    const now = performance.now();
    if (now - this.#last >= this.#interval) {
      this.#last = now;
      this.#render(false);
    }
  }

  /** Final line, with an optional summary. */
  finish(summary?: string): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#render(true, summary);
  }

  #line(): string {
    const rate = this.rate;
    const parts = [this.label];
    if (this.total !== undefined && this.total > 0) {
      const frac = Math.min(1, this.done / this.total);
      if (this.#tty) {
        const width = 24;
        const fill = Math.round(frac * width);
        parts.push(`[${"#".repeat(fill)}${"-".repeat(width - fill)}]`);
      }
      parts.push(`${this.done}/${this.total} ${this.unit}`);
      parts.push(`(${(frac * 100).toFixed(0)}%)`);
    } else {
      parts.push(`${this.done} ${this.unit}`);
    }
    parts.push(`${rate.toFixed(1)} ${this.unit}/s`);
    if (this.total !== undefined && rate > 0 && this.done < this.total) {
      parts.push(`ETA ${Math.ceil((this.total - this.done) / rate)}s`);
    }
    return parts.join(" ");
  }

  #render(final: boolean, summary?: string): void {
    if (this.#quiet) return;
    let text = this.#line();
    if (final && summary) text += ` - ${summary}`;
    if (this.#tty) this.#write(`\r\x1b[2K${text}${final ? "\n" : ""}`);
    else this.#write(`${text}\n`);
  }
}
