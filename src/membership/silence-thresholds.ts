import type { LinkState } from "./types.js";

/**
 * Every detector reduces to two silence thresholds (late, down) that depend on what it has
 * learnt so far. Deriving both the verdict and the next change from the same two numbers keeps
 * `state()` and `nextChangeAtMs()` consistent by construction: the agent's timer, set to the
 * latter, always finds the former flipped.
 *
 * Thresholds are strict (silence must EXCEED them), as in Heartbeat: a link silent for exactly
 * deadtime_ms is still up, so the change is due just after `referenceMs + threshold`.
 */
export function silenceVerdict(
  silentMs: number,
  lateAfterMs: number,
  downAfterMs: number,
): LinkState {
  if (silentMs > downAfterMs) return "down";
  if (silentMs > lateAfterMs) return "late";
  return "up";
}

/** The boundary after which `silenceVerdict` next changes, or +Infinity once down. */
export function nextVerdictChangeAtMs(
  referenceMs: number,
  silentMs: number,
  lateAfterMs: number,
  downAfterMs: number,
): number {
  // lateAfterMs >= downAfterMs means there is no late phase: the link goes straight to down.
  if (silentMs <= lateAfterMs && lateAfterMs < downAfterMs) return referenceMs + lateAfterMs;
  if (silentMs <= downAfterMs) return referenceMs + downAfterMs;
  return Number.POSITIVE_INFINITY;
}
