import type { ConfigPath } from "../config/errors.js";
import type { ResourceDocument } from "./model-schema.js";
import type { MonitorRole, OperationName, OperationSpec, Primitive } from "./types.js";

/** Pacemaker's default for every operation. */
export const DEFAULT_OPERATION_TIMEOUT_MS = 20_000;
/** A monitor every 10 s unless one is written (Heartbeat had none; Pacemaker's common choice). */
export const DEFAULT_MONITOR_INTERVAL_MS = 10_000;

type WrittenOperations = ResourceDocument["resources"][string]["operations"];
type WrittenOperation = NonNullable<WrittenOperations["start"]>;

function specOf(written: WrittenOperation): OperationSpec {
  return {
    timeoutMs: written.timeout_ms ?? DEFAULT_OPERATION_TIMEOUT_MS,
    intervalMs: written.interval_ms ?? 0,
  };
}

/**
 * A resource's operations as written. `monitor` is one entry, or (Pacemaker's per-role monitors)
 * one per role of a promotable clone's copies, each run only while the copy is in that role.
 * Whether the resource is such a copy is known once the clones are read: `roles` says which
 * roles its monitors name, for the caller to check then.
 */
export function parseOperations(
  written: WrittenOperations,
  path: ConfigPath,
  problem: (path: ConfigPath, message: string) => void,
): Pick<Primitive, "operations" | "monitorsByRole"> & { roles: MonitorRole[] } {
  const operations: Partial<Record<OperationName, OperationSpec>> = {};
  for (const name of ["start", "stop", "promote", "demote", "notify"] as const) {
    const op = written[name];
    if (op === undefined) continue;
    if (op.role !== undefined)
      problem(
        [...path, name, "role"],
        `role picks which monitor runs while a copy is promoted or unpromoted; ${name} has none`,
      );
    operations[name] = specOf(op);
  }
  const monitor = written.monitor;
  if (monitor === undefined) {
    operations.monitor = {
      timeoutMs: DEFAULT_OPERATION_TIMEOUT_MS,
      intervalMs: DEFAULT_MONITOR_INTERVAL_MS,
    };
    return { operations, roles: [] };
  }
  if (!Array.isArray(monitor)) {
    operations.monitor = specOf(monitor);
    if (monitor.role === undefined) return { operations, roles: [] };
    // Only that role is monitored, as in Pacemaker; a probe still looks for either.
    operations.monitor = { ...specOf(monitor), intervalMs: 0 };
    return {
      operations,
      monitorsByRole: { [monitor.role]: specOf(monitor) },
      roles: [monitor.role],
    };
  }
  const monitorsByRole: Partial<Record<MonitorRole, OperationSpec>> = {};
  monitor.forEach((entry, index) => {
    const at = [...path, "monitor", index];
    if (index >= 2) problem(at, "at most two monitors: one per role (promoted, unpromoted)");
    else if (entry.role === undefined)
      problem(at, "in a list of monitors each names its role: promoted or unpromoted");
    else if (monitorsByRole[entry.role] !== undefined)
      problem([...at, "role"], `a second monitor for role ${entry.role}: one per role`);
    else monitorsByRole[entry.role] = specOf(entry);
  });
  const timeouts = Object.values(monitorsByRole).map((spec) => spec.timeoutMs);
  // The probe (a monitor before anything runs here) finds either role: it may take the longest.
  operations.monitor = {
    timeoutMs: timeouts.length === 0 ? DEFAULT_OPERATION_TIMEOUT_MS : Math.max(...timeouts),
    intervalMs: 0,
  };
  return {
    operations,
    monitorsByRole,
    roles: Object.keys(monitorsByRole) as MonitorRole[],
  };
}

/**
 * The recurring monitor of a copy running in `role` (a promotable clone's copies may have one per
 * role); undefined when none runs in that role.
 */
export function recurringMonitor(
  primitive: Pick<Primitive, "operations" | "monitorsByRole">,
  role: "started" | MonitorRole,
): OperationSpec | undefined {
  const byRole = primitive.monitorsByRole;
  if (byRole === undefined) return primitive.operations.monitor;
  return byRole[role === "promoted" ? "promoted" : "unpromoted"];
}
