import type { RunRole } from "../policy/types.js";
import type { ResourceCell } from "../state/types.js";

export type LocalOperation = "start" | "stop" | "promote" | "demote";

/** What a node does about one resource key, given its cell and what runs locally. */
export type KeyDecision =
  /** Nothing to do: it runs as told and the cell says so. */
  | { kind: "none" }
  /** It runs as told, but the cell does not say so yet (or a stopped cell is still there). */
  | { kind: "report"; active: RunRole | null }
  /** Operations, in order, that bring it from what runs to what was told. */
  | { kind: "operate"; operations: LocalOperation[]; wanted: RunRole | undefined }
  /** Its definition changed while it runs: stop it; the standing instruction starts it again. */
  | { kind: "restart" }
  /** Its definition changed, but this node's probe of that configuration has not committed. */
  | { kind: "wait" };

/**
 * The node's side of takeover for one key. Pure. `actual` is what this agent run knows runs here
 * (probe, its own operations, monitors). A cell without a target (a probe just reported it) is
 * left running until the leader decides; a cell whose stop failed is left alone until cleanup.
 */
export function decideForKey(input: {
  cell: ResourceCell | undefined;
  actual: RunRole | undefined;
  definitionChanged: boolean;
  /**
   * This node's probe of the current configuration has not committed yet, so the leader does
   * not count it as online. A restart then waits: a stop reported now would have the leader
   * place the resource on another node that has probed, instead of starting it again here.
   */
  probePending?: boolean;
}): KeyDecision {
  const { cell, actual } = input;
  if (cell?.stopFailed) return { kind: "none" };
  // The cell says it runs here, but it stopped (a failure, and the report of that stop did not
  // commit): the cluster learns that first, and the instruction that stands then is the one to
  // follow. A primary's stays promoted only until its stop is recorded (see applyReport).
  if (actual === undefined && cell?.active !== undefined) return { kind: "report", active: null };
  const target = cell?.target;
  if (
    actual !== undefined &&
    target !== undefined &&
    target !== "stopped" &&
    input.definitionChanged
  ) {
    return input.probePending === true ? { kind: "wait" } : { kind: "restart" };
  }
  const wanted = target === undefined ? actual : target === "stopped" ? undefined : target;
  if (sameRole(wanted, actual)) {
    // A cell told to stop that is already stopped here goes away with a report.
    const stoppedCellLeft = cell !== undefined && actual === undefined && target === "stopped";
    if (!sameRole(cell?.active, actual) || stoppedCellLeft) {
      return { kind: "report", active: actual ?? null };
    }
    return { kind: "none" };
  }
  return { kind: "operate", operations: operationsBetween(actual, wanted), wanted };
}

/** Demote before stop, start before promote; a plain and an unpromoted copy run the same way. */
export function operationsBetween(
  actual: RunRole | undefined,
  wanted: RunRole | undefined,
): LocalOperation[] {
  if (wanted === undefined) return actual === "promoted" ? ["demote", "stop"] : ["stop"];
  const operations: LocalOperation[] = [];
  if (actual === undefined) operations.push("start");
  if (wanted === "promoted" && actual !== "promoted") operations.push("promote");
  if (wanted !== "promoted" && actual === "promoted") operations.push("demote");
  return operations;
}

export function sameRole(a: RunRole | undefined, b: RunRole | undefined): boolean {
  const plain = (role: RunRole | undefined) => (role === "unpromoted" ? "started" : role);
  return plain(a) === plain(b);
}
