import type { Timers } from "../../src/coordination/timers.js";
import type { Clock } from "../../src/time/clock.js";

interface Pending {
  atMs: number;
  /** Order of setting: timers due at the same moment fire in the order they were set. */
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

/**
 * A clock and timers on virtual time: it stands still until the driver moves it, so a timer
 * never fires late however loaded the machine is, and never early either.
 */
export class VirtualTime implements Clock, Timers {
  private now: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(startMs: number) {
    this.now = startMs;
  }

  nowMs(): number {
    return this.now;
  }

  after(delayMs: number, callback: () => void): () => void {
    const timer = {
      atMs: this.now + Math.max(0, delayMs),
      seq: this.seq++,
      callback,
      cancelled: false,
    };
    this.pending.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Calls `callback` every `everyMs` until the returned function is called. */
  every(everyMs: number, callback: () => void): () => void {
    let cancel = () => {};
    const beat = () => {
      cancel = this.after(everyMs, beat);
      callback();
    };
    cancel = this.after(everyMs, beat);
    return () => cancel();
  }

  /** When the next timer is due, or undefined when none is set. */
  nextAtMs(): number | undefined {
    this.pending = this.pending.filter((timer) => !timer.cancelled);
    return this.earliest()?.atMs;
  }

  /** Moves time to the next timer and fires it (false when none is set). */
  fireNext(): boolean {
    const next = this.earliest();
    if (next === undefined) return false;
    this.pending = this.pending.filter((timer) => timer !== next);
    this.now = Math.max(this.now, next.atMs);
    next.callback();
    return true;
  }

  /** Moves time to `atMs`, firing nothing: the caller has fired every timer due before it. */
  advanceTo(atMs: number): void {
    this.now = Math.max(this.now, atMs);
  }

  private earliest(): Pending | undefined {
    let earliest: Pending | undefined;
    for (const timer of this.pending) {
      if (timer.cancelled) continue;
      if (
        earliest === undefined ||
        timer.atMs < earliest.atMs ||
        (timer.atMs === earliest.atMs && timer.seq < earliest.seq)
      )
        earliest = timer;
    }
    return earliest;
  }
}
