import type { Timers } from "../coordination/timers.js";
import { EventQueue } from "../sim/event-queue.js";
import type { Clock } from "../time/clock.js";

/** Virtual time starts here: a plausible epoch, so times print like real ones. */
export const WORLD_START_MS = 1_700_000_000_000;

/**
 * The whole-node simulator's one agenda: every timer of every node, every message in flight and
 * every scheduled fault, in virtual time. Events run one at a time; after each, every promise
 * callback it set off runs too (settle), before time moves on, so that a run replays exactly.
 */
export class World {
  private readonly agenda = new EventQueue<() => void>();
  private now = WORLD_START_MS;
  /** Events run so far (a measure of the work done, for the summary). */
  steps = 0;

  nowMs(): number {
    return this.now;
  }

  at(atMs: number, event: () => void): void {
    this.agenda.push(Math.max(atMs, this.now), event);
  }

  /**
   * Runs every event due up to `untilMs`, then leaves time there. After each event, every promise
   * callback it set off runs too, and what they queue in turn, before the next event: the next
   * event runs from a tick queued by a microtask queued after the event (settle). The microtask
   * queue is FIFO, so that microtask runs after those already queued, but Node runs the tick
   * queue only once the microtask queue is empty, so the tick comes after all of them. Nothing in
   * a simulated node waits on real I/O, real timers or ticks of its own, so nothing else can be
   * waiting. This is what one turn of the event loop (setImmediate) gives, at a fraction of its
   * cost, and without a promise per step: a step is often a single heartbeat, and there are
   * thousands per run.
   */
  runUntil(untilMs: number, stop: () => boolean = () => false): Promise<void> {
    return new Promise((resolve, reject) => {
      const step = (): void => {
        const next = this.agenda.peek();
        if (next === undefined || next.atMs > untilMs || stop()) {
          if (!stop()) this.now = Math.max(this.now, untilMs);
          resolve();
          return;
        }
        this.agenda.pop();
        this.now = next.atMs;
        this.steps++;
        try {
          next.event();
        } catch (error) {
          reject(error);
          return;
        }
        // Now and then a real turn of the event loop: a long run does not hold the process's I/O.
        if (this.steps % STEPS_PER_TURN === 0) setImmediate(step);
        // A reaction to a settled promise is a microtask like queueMicrotask's, without the
        // async context Node gives each of those.
        else SETTLED.then(settled);
      };
      const settled = (): void => {
        process.nextTick(step);
      };
      step();
    });
  }
}

const SETTLED = Promise.resolve();

/** Steps between real turns of the event loop. */
const STEPS_PER_TURN = 4096;

/**
 * A host's clock: it runs at `rate` real milliseconds per millisecond of the world, from an
 * offset of its own (scenario 2 draws them within the drift the product assumes). Every process
 * of the host (the agent, its guard, its resource agents) reads this one.
 */
export class HostClock implements Clock {
  /** The world's time unchanged (scenario 1): no arithmetic, so nothing rounds differently. */
  private readonly exact: boolean;

  constructor(
    private readonly world: World,
    readonly rate = 1,
    readonly offsetMs = 0,
  ) {
    if (!(rate > 0) || !Number.isFinite(offsetMs))
      throw new Error(
        `a host clock wants a positive rate and a finite offset, got ${rate}, ${offsetMs}`,
      );
    this.exact = rate === 1 && offsetMs === 0;
  }

  nowMs(): number {
    const worldMs = this.world.nowMs();
    if (this.exact) return worldMs;
    return WORLD_START_MS + this.offsetMs + (worldMs - WORLD_START_MS) * this.rate;
  }

  /** The world time that passes while this clock advances by `ms`. */
  worldMsFor(ms: number): number {
    return this.exact ? ms : ms / this.rate;
  }

  /** The world time at which this clock will read `localMs`. */
  worldTimeAt(localMs: number): number {
    if (this.exact) return localMs;
    return this.world.nowMs() + (localMs - this.nowMs()) / this.rate;
  }
}

/**
 * One process's view of time: its host's clock, and timers that belong to one run of the
 * process. A paused process runs nothing: what comes due meanwhile runs, in order, when it
 * resumes (late, as on a real machine). A process that ends (crash, kill) never runs its
 * timers again.
 */
export class ProcessTime implements Clock, Timers {
  private paused = false;
  private ended = false;
  private readonly deferred: Array<() => void> = [];

  private readonly clock: HostClock;

  constructor(
    private readonly world: World,
    clock?: HostClock,
  ) {
    this.clock = clock ?? new HostClock(world);
  }

  nowMs(): number {
    return this.clock.nowMs();
  }

  after(delayMs: number, callback: () => void): () => void {
    let cancelled = false;
    // Checked again when it runs: one that came due while the process was paused and was
    // cancelled before it ran (by a callback that ran first at the resume) never runs, as
    // clearTimeout on a timer due but not yet run.
    this.world.at(this.world.nowMs() + this.clock.worldMsFor(Math.max(0, delayMs)), () => {
      if (!cancelled)
        this.run(() => {
          if (!cancelled) callback();
        });
    });
    return () => {
      cancelled = true;
    };
  }

  /** Runs `callback` now as this process would: later if it is paused, never if it ended. */
  run(callback: () => void): void {
    if (this.ended) return;
    if (this.paused) this.deferred.push(callback);
    else callback();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused || this.ended) return;
    this.paused = false;
    // Each as an event of its own, in the order they came due, as a resumed event loop would.
    for (const callback of this.deferred.splice(0))
      this.world.at(this.world.nowMs(), () => this.run(callback));
  }

  end(): void {
    this.ended = true;
    this.deferred.length = 0;
  }
}
