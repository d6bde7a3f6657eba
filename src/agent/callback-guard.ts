import { InvariantError } from "../invariant/invariant-error.js";
import type { Logger } from "../log/logger.js";
import { RateLimiter } from "../time/rate-limiter.js";

export interface CallbackGuardOptions {
  logger: Logger;
  nowMs(): number;
  /** A broken invariant was thrown: the agent must stop (loudly, exit 70). */
  onInvariantBroken(where: string, error: InvariantError): void;
}

/**
 * Timer and socket callbacks run straight from the event loop, where an exception ends the
 * process: one bug in a rarely taken branch, met by every node at once, would take the whole
 * cluster down. Run through the guard, an exception is logged with its stack (at most once per
 * callback and message every 10 s, with the count held back), counted per callback (status:
 * callbackFailures), and the agent goes on. An InvariantError is not contained: the state can
 * no longer be trusted, so the agent stops.
 */
export class CallbackGuard {
  private readonly failureCounts = new Map<string, number>();
  private readonly logLimiter = new RateLimiter(10_000);

  constructor(private readonly options: CallbackGuardOptions) {}

  /** `callback`, run through the guard; `where` names it in logs and counters. */
  wrap<A extends unknown[]>(where: string, callback: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      try {
        callback(...args);
      } catch (error) {
        this.report(where, error);
      }
    };
  }

  /** An exception that reached the event loop elsewhere (uncaughtException, unhandledRejection). */
  report(where: string, error: unknown): void {
    if (error instanceof InvariantError) {
      this.options.logger.fatal({ err: error, where }, "invariant broken; stopping the agent");
      this.options.onInvariantBroken(where, error);
      return;
    }
    this.failureCounts.set(where, (this.failureCounts.get(where) ?? 0) + 1);
    const message = error instanceof Error ? error.message : String(error);
    const suppressed = this.logLimiter.allow(`${where}/${message}`, this.options.nowMs());
    if (suppressed !== null)
      this.options.logger.error(
        { err: error, where, suppressed },
        "callback failed; contained, the agent goes on",
      );
  }

  /** Contained exceptions per callback since the agent started. */
  failures(): Record<string, number> {
    return Object.fromEntries(this.failureCounts);
  }
}
