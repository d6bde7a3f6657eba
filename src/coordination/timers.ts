import { MAX_TIMER_DELAY_MS, timerDelayProblem } from "../time/timer-delay.js";

/**
 * The timers the coordinator sets, injected as its clock is (src/time/clock.ts): the agent
 * passes real ones, a test passes virtual ones that fire only when it moves virtual time
 * (test/coordination/virtual-time.ts), so that a loaded machine cannot delay one of them.
 */
export interface Timers {
  /** Calls `callback` once, `delayMs` from now, unless the returned function is called first. */
  after(delayMs: number, callback: () => void): () => void;
}

/**
 * Real timers. A delay longer than a timer can wait is waited as long as it can (about 24.8
 * days), never 1 ms as Node would, and reported: every configured duration is bounded when it is
 * read, so this is a bug, but one that every node would meet at once, and ending the agent for
 * it (InvariantError) would take the whole cluster down with it.
 */
export function createSystemTimers(
  onDelayTooLong: (problem: string) => void = (problem) =>
    process.emitWarning(`timer: ${problem}; waiting ${MAX_TIMER_DELAY_MS} ms instead`),
): Timers {
  return {
    after(delayMs, callback) {
      const problem = timerDelayProblem(delayMs);
      if (problem !== null) onDelayTooLong(problem);
      const timer = setTimeout(callback, problem === null ? delayMs : MAX_TIMER_DELAY_MS);
      return () => clearTimeout(timer);
    },
  };
}

export const systemTimers: Timers = createSystemTimers();
