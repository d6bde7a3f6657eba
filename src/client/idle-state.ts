/**
 * Netty's IdleStateHandler as a pure timer: reader-idle (nothing read for `readerIdleMs`),
 * writer-idle (nothing written for `writerIdleMs`) and all-idle (neither for `allIdleMs`). Each
 * fires once when its period passes without the activity it watches, then again after each
 * further period; 0 turns one off. The caller says when it read and wrote, asks `due(nowMs)`
 * for the events that fell due, and sets one timer for `nextDeadlineMs()`.
 */
export interface IdleTimes {
  readerIdleMs: number;
  writerIdleMs: number;
  allIdleMs: number;
}

export type IdleKind = "reader_idle" | "writer_idle" | "all_idle";

export class IdleState {
  #lastReadMs: number;
  #lastWriteMs: number;
  /** When each kind last fired, or the activity it watches last happened (the later). */
  readonly #since: Record<IdleKind, number>;

  constructor(
    private readonly times: IdleTimes,
    nowMs: number,
  ) {
    for (const [name, value] of Object.entries(times)) {
      if (!Number.isFinite(value) || value < 0)
        throw new RangeError(`${name} must be 0 (off) or a positive number of ms, got ${value}`);
    }
    this.#lastReadMs = nowMs;
    this.#lastWriteMs = nowMs;
    this.#since = { reader_idle: nowMs, writer_idle: nowMs, all_idle: nowMs };
  }

  read(nowMs: number): void {
    this.#lastReadMs = nowMs;
    this.#since.reader_idle = nowMs;
    this.#since.all_idle = nowMs;
  }

  wrote(nowMs: number): void {
    this.#lastWriteMs = nowMs;
    this.#since.writer_idle = nowMs;
    this.#since.all_idle = nowMs;
  }

  get lastReadMs(): number {
    return this.#lastReadMs;
  }

  get lastWriteMs(): number {
    return this.#lastWriteMs;
  }

  /** The events due at `nowMs`, in the order reader, writer, all; each restarts its period. */
  due(nowMs: number): IdleKind[] {
    const fired: IdleKind[] = [];
    for (const kind of ["reader_idle", "writer_idle", "all_idle"] as const) {
      const period = this.#period(kind);
      if (period === 0 || nowMs - this.#since[kind] < period) continue;
      fired.push(kind);
      this.#since[kind] = nowMs;
    }
    return fired;
  }

  /** When the next event falls due, or null when every timer is off. */
  nextDeadlineMs(): number | null {
    const deadlines = (["reader_idle", "writer_idle", "all_idle"] as const)
      .filter((kind) => this.#period(kind) > 0)
      .map((kind) => this.#since[kind] + this.#period(kind));
    return deadlines.length === 0 ? null : Math.min(...deadlines);
  }

  #period(kind: IdleKind): number {
    if (kind === "reader_idle") return this.times.readerIdleMs;
    if (kind === "writer_idle") return this.times.writerIdleMs;
    return this.times.allIdleMs;
  }
}

export interface BackoffTimes {
  /** The first retry's delay. */
  baseMs: number;
  /** No retry waits longer. */
  maxMs: number;
}

/**
 * How long to wait before reconnect attempt `attempt` (0 for the first): exponential, capped,
 * with jitter over the upper half so that clients cut off together do not return together.
 * `random` is Math.random in use, a fixed sequence in tests.
 */
export function reconnectDelayMs(
  attempt: number,
  times: BackoffTimes,
  random: () => number,
): number {
  const ceiling = Math.min(times.maxMs, times.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
