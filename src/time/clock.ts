/**
 * The agent's clock: milliseconds on a monotonic timeline anchored at the Unix epoch. Monotonic
 * so that a wall-clock step (NTP, an operator) never makes a peer look silent; epoch-anchored so
 * that timestamps on the wire and in logs are readable. Protocol cores never read it themselves:
 * the agent passes `nowMs` in, and the simulator passes virtual time.
 */
export interface Clock {
  nowMs(): number;
}

// Read once: the getter is not free, and the clock is read several times per frame.
const ORIGIN_MS = performance.timeOrigin;

export const systemClock: Clock = {
  nowMs: () => ORIGIN_MS + performance.now(),
};

/**
 * CLOCK_MONOTONIC in ms: the clock both ends of the node guard's pipe stamp and compare (the
 * agent and its guard are two processes; this clock is the same in both).
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
