import type { LinkDetector } from "./link-detector.js";
import { nextVerdictChangeAtMs, silenceVerdict } from "./silence-thresholds.js";
import type { MembershipTiming } from "./timing.js";
import type { LinkState } from "./types.js";

/**
 * Heartbeat's detector: late when silent longer than warntime_ms, down when silent longer than
 * deadtime_ms. Predictable and easy to reason about; the operator tunes it, nothing is learnt.
 */
export class FixedDetector implements LinkDetector {
  private readonly lateAfterMs: number;
  private readonly downAfterMs: number;
  /** Start of the current silence: the last arrival, or the end of a local stall. */
  private silentSinceMs: number | null = null;

  constructor(timing: MembershipTiming) {
    if (!(timing.deadtime_ms > 0)) {
      throw new RangeError(
        `fixed detector: deadtime_ms must be > 0, got ${timing.deadtime_ms}; fix timing.deadtime_ms`,
      );
    }
    this.downAfterMs = timing.deadtime_ms;
    // A warntime at or beyond deadtime would never be seen: the link is down first.
    this.lateAfterMs = Math.min(timing.warntime_ms, timing.deadtime_ms);
  }

  heard(nowMs: number): void {
    this.silentSinceMs = this.silentSinceMs === null ? nowMs : Math.max(this.silentSinceMs, nowMs);
  }

  state(nowMs: number): LinkState {
    if (this.silentSinceMs === null) return "down";
    return silenceVerdict(nowMs - this.silentSinceMs, this.lateAfterMs, this.downAfterMs);
  }

  nextChangeAtMs(nowMs: number): number {
    if (this.silentSinceMs === null) return Number.POSITIVE_INFINITY;
    return nextVerdictChangeAtMs(
      this.silentSinceMs,
      nowMs - this.silentSinceMs,
      this.lateAfterMs,
      this.downAfterMs,
    );
  }

  suspicion(nowMs: number): number {
    if (this.silentSinceMs === null) return 0;
    return Math.max(0, nowMs - this.silentSinceMs) / this.downAfterMs;
  }

  rebase(nowMs: number): void {
    if (this.silentSinceMs !== null) this.silentSinceMs = Math.max(this.silentSinceMs, nowMs);
  }

  reset(): void {
    this.silentSinceMs = null;
  }
}
