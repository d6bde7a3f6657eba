import { keysNamedBy } from "../state/resource-keys.js";
import type { ClusterState } from "../state/types.js";

/**
 * Where a resource's primary runs in the committed state: the node of its promoted copy, else
 * (a resource with no roles) the node where its one copy is started; null while nowhere, or
 * while more than one node would answer (a clone without roles has no primary).
 */
export function primaryNode(state: ClusterState, resource: string): string | null {
  const keys = keysNamedBy(resource, Object.keys(state.resources), state.config.document);
  const promoted = new Set<string>();
  const started = new Set<string>();
  for (const key of keys) {
    for (const [node, cell] of Object.entries(state.resources[key] ?? {})) {
      if (cell.active === "promoted") promoted.add(node);
      else if (cell.active === "started") started.add(node);
    }
  }
  const where = promoted.size > 0 ? promoted : started;
  return where.size === 1 ? ([...where][0] ?? null) : null;
}
