/**
 * Pure helpers of the connectivity monitor (Heartbeat's ping nodes / ipfail): naming targets
 * and comparing one round of checks with the previous one ("host:port": config/host-port.ts).
 */
import type { ConnectivityConfig } from "../config/safety-schema.js";

/** One upstream target: `{ icmp: host }`, `{ tcp: "host:port" }` or `{ http: url }`. */
export type ConnectivityTarget = ConnectivityConfig["targets"][number];

/** A short, stable name for logs and status: "icmp:10.0.0.1", "tcp:db:5432", or the URL. */
export function describeTarget(target: ConnectivityTarget): string {
  if ("icmp" in target) return `icmp:${target.icmp}`;
  if ("tcp" in target) return `tcp:${target.tcp}`;
  return target.http;
}

/** How one round differs from the one before it. */
export interface RoundChange {
  /** No round before this one. */
  first: boolean;
  /** Targets that answered in the previous round; null for the first round. */
  previousReachable: number | null;
  reachable: number;
  total: number;
  /** Targets that answer now and did not before (on the first round: every target that answers). */
  wentUp: string[];
  /** Targets that answered before and do not now (on the first round: every one that does not). */
  wentDown: string[];
}

/** Number of targets that answered. */
export function countReachable(results: readonly boolean[]): number {
  return results.reduce((count, up) => count + (up ? 1 : 0), 0);
}

/**
 * Compares the results of a round with the previous round's (same targets, same order; null
 * when there was none). Targets are matched by position, so duplicates are fine.
 */
export function diffRounds(
  names: readonly string[],
  previous: readonly boolean[] | null,
  next: readonly boolean[],
): RoundChange {
  const wentUp: string[] = [];
  const wentDown: string[] = [];
  next.forEach((up, index) => {
    const before = previous?.[index];
    const name = names[index] ?? `target ${index + 1}`;
    if (up && before !== true) wentUp.push(name);
    if (!up && (before === true || previous === null)) wentDown.push(name);
  });
  return {
    first: previous === null,
    previousReachable: previous === null ? null : countReachable(previous),
    reachable: countReachable(next),
    total: next.length,
    wentUp,
    wentDown,
  };
}

/** Whether the round is worth an info line: the first round, or any target changed state. */
export function isNoteworthy(change: RoundChange): boolean {
  return change.first || change.wentUp.length > 0 || change.wentDown.length > 0;
}

/** The log message of a change, e.g. "connectivity 2 -> 1 of 2 targets reachable; down: tcp:db:5432". */
export function describeChange(change: RoundChange): string {
  const count =
    change.previousReachable === null || change.previousReachable === change.reachable
      ? `${change.reachable}`
      : `${change.previousReachable} -> ${change.reachable}`;
  const parts = [`connectivity ${count} of ${change.total} targets reachable`];
  if (change.first) {
    if (change.wentDown.length > 0) parts.push(`unreachable: ${change.wentDown.join(", ")}`);
    return parts.join("; ");
  }
  if (change.wentDown.length > 0) parts.push(`down: ${change.wentDown.join(", ")}`);
  if (change.wentUp.length > 0) parts.push(`up: ${change.wentUp.join(", ")}`);
  return parts.join("; ");
}
