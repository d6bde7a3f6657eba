import type { LinkState } from "./types.js";

/**
 * Liveness of one peer over one link, judged from heartbeat arrival times alone. Pure: time is
 * always a parameter (milliseconds on the agent's monotonic clock).
 *
 * Before the first `heard`, a detector says "down" and never changes on its own: a link that was
 * never heard has nothing to time out (initdead is membership's business, not the link's).
 */
export interface LinkDetector {
  /** A heartbeat arrived at nowMs. */
  heard(nowMs: number): void;
  state(nowMs: number): LinkState;
  /** Earliest time the state may change if nothing is heard; +Infinity when down or never heard. */
  nextChangeAtMs(nowMs: number): number;
  /** elapsed/deadtime for fixed, phi for phi-accrual; 0 before the first heartbeat. */
  suspicion(nowMs: number): number;
  /**
   * Restart the silence at nowMs without counting it as an arrival: used after a local stall,
   * when the silence measured so far includes time this process was not running. No-op before
   * the first heartbeat.
   */
  rebase(nowMs: number): void;
  /** Forget everything, as if never heard. */
  reset(): void;
}
