import { ownValue, withEntry } from "./records.js";
import type { FenceCount, FenceEvent } from "./types.js";

/** What a fence record counts as: the labels of `vigil_cluster_fences_total`. */
export const FENCE_RESULTS = ["success", "failure", "confirmed"] as const;
export type FenceCountResult = (typeof FENCE_RESULTS)[number];

/** An operator's confirmation is not a fence that worked: it is counted apart. */
export function fenceResultOf(event: Pick<FenceEvent, "ok" | "action">): FenceCountResult {
  if (!event.ok) return "failure";
  return event.action === "confirm" ? "confirmed" : "success";
}

const NONE: FenceCount = { success: 0, failure: 0, confirmed: 0 };

/** `counts` with `event` counted; the original is left alone. */
export function countFence(
  counts: Readonly<Record<string, FenceCount>>,
  event: Pick<FenceEvent, "node" | "ok" | "action">,
): Record<string, FenceCount> {
  const before = ownValue(counts, event.node) ?? NONE;
  const result = fenceResultOf(event);
  return withEntry(counts, event.node, { ...before, [result]: before[result] + 1 });
}

/**
 * The counts of a snapshot written before they were kept: what its fence history shows. Every
 * node restoring such a snapshot derives the same, and it is exact while the cluster has had no
 * more fences than the history holds (FENCE_HISTORY_LIMIT).
 */
export function fenceCountsOf(history: readonly FenceEvent[]): Record<string, FenceCount> {
  return history.reduce<Record<string, FenceCount>>(countFence, {});
}
