import type { NotificationEvent } from "../state/notification-events.js";
import type { HookTarget } from "./hook-target.js";

export interface HookQueueOptions {
  /** Past this many waiting events the oldest is dropped, and counted. */
  limit: number;
  /** The wait before the first retry; each next one doubles, up to maxRetryMs. */
  retryMs: number;
  maxRetryMs: number;
  /** Tries per event before it is given up (counted as failed); Infinity: until it is delivered. */
  maxAttempts: number;
}

export interface QueuedEvent extends NotificationEvent {
  /** The cluster's number for a cluster-wide event: what the leader acknowledges. */
  seq?: number;
  /** Where this one event goes, when its queue has no single target (transition scripts). */
  target?: HookTarget;
}

export type NextDelivery =
  | { kind: "deliver"; event: QueuedEvent; attempt: number }
  | { kind: "wait"; untilMs: number }
  | { kind: "idle" };

export interface HookQueueCounts {
  waiting: number;
  delivered: number;
  failedAttempts: number;
  givenUp: number;
  dropped: number;
}

/**
 * One hook's deliveries, one at a time and in order: the head is retried (with backoff) until it
 * is delivered, so a receiver never sees an event before the ones before it. Pure: time is
 * passed in, the caller runs the delivery and says how it went.
 */
export class HookQueue {
  private readonly waiting: QueuedEvent[] = [];
  private attempts = 0;
  private notBeforeMs = 0;
  private inFlight = false;
  private readonly counts = { delivered: 0, failedAttempts: 0, givenUp: 0, dropped: 0 };

  constructor(private readonly options: HookQueueOptions) {}

  /** Queues the event; returns how many waiting events a full queue dropped for it. */
  offer(event: QueuedEvent): number {
    this.waiting.push(event);
    let dropped = 0;
    // The head may be on its way: drop the oldest of the others.
    while (this.waiting.length > this.options.limit) {
      const dropAt = this.inFlight && this.waiting.length > 1 ? 1 : 0;
      this.waiting.splice(dropAt, 1);
      if (dropAt === 0) this.resetAttempts();
      this.counts.dropped++;
      dropped++;
    }
    return dropped;
  }

  /** Whether any waiting event has this id (a cluster queue refilled from the state). */
  has(id: string): boolean {
    return this.waiting.some((event) => event.id === id);
  }

  next(nowMs: number): NextDelivery {
    const head = this.waiting[0];
    if (head === undefined || this.inFlight) return { kind: "idle" };
    if (nowMs < this.notBeforeMs) return { kind: "wait", untilMs: this.notBeforeMs };
    this.inFlight = true;
    this.attempts++;
    return { kind: "deliver", event: head, attempt: this.attempts };
  }

  /** The head was delivered: the next one may go. Returns it. */
  delivered(): QueuedEvent | undefined {
    this.inFlight = false;
    const head = this.waiting.shift();
    if (head !== undefined) this.counts.delivered++;
    this.resetAttempts();
    return head;
  }

  /**
   * The head's delivery failed: it waits (doubling each time) and goes again, unless it has had
   * all its tries. Returns the event given up, if it was.
   */
  failed(nowMs: number): QueuedEvent | undefined {
    this.inFlight = false;
    this.counts.failedAttempts++;
    if (this.attempts >= this.options.maxAttempts) {
      const head = this.waiting.shift();
      if (head !== undefined) this.counts.givenUp++;
      this.resetAttempts();
      return head;
    }
    const backoff = Math.min(
      this.options.maxRetryMs,
      this.options.retryMs * 2 ** Math.min(this.attempts - 1, 30),
    );
    this.notBeforeMs = nowMs + backoff;
    return undefined;
  }

  /** Takes every waiting event out (to carry them to a queue with new settings). */
  drain(): QueuedEvent[] {
    const events = this.waiting.splice(0);
    this.inFlight = false;
    this.resetAttempts();
    return events;
  }

  /** Forgets every waiting event (a leader that stepped down: the next leader delivers them). */
  clear(): void {
    this.waiting.length = 0;
    this.inFlight = false;
    this.resetAttempts();
  }

  status(): HookQueueCounts {
    return { waiting: this.waiting.length, ...this.counts };
  }

  private resetAttempts(): void {
    this.attempts = 0;
    this.notBeforeMs = 0;
  }
}
