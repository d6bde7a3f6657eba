import type { HookStatus } from "../notify/notifier.js";
import { renderTable } from "./table.js";

/** The "Hooks:" section of `vigil status`: each queue on this node, and why it last failed. */
export function renderHooks(hooks: readonly HookStatus[]): string[] {
  const rows = [["HOOK", "WHERE", "WAITING", "DELIVERED", "FAILED TRIES", "DROPPED", "LAST ERROR"]];
  for (const hook of hooks) {
    rows.push([
      hook.hook,
      hook.where,
      String(hook.waiting),
      String(hook.delivered),
      String(hook.failedAttempts + hook.givenUp),
      String(hook.dropped + (hook.droppedByCluster ?? 0)),
      hook.lastError ?? "-",
    ]);
  }
  return ["Hooks (on this node; cluster-wide ones deliver on the leader):", ...renderTable(rows)];
}
