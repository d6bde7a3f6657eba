/**
 * The timers the coordinator sets, injected as its clock is (src/time/clock.ts): the agent
 * passes real ones, a test passes virtual ones that fire only when it moves virtual time
 * (test/coordination/virtual-time.ts), so that a loaded machine cannot delay one of them.
 */
export interface Timers {
  /** Calls `callback` once, `delayMs` from now, unless the returned function is called first. */
  after(delayMs: number, callback: () => void): () => void;
}

export const systemTimers: Timers = {
  after(delayMs, callback) {
    const timer = setTimeout(callback, delayMs);
    return () => clearTimeout(timer);
  },
};
