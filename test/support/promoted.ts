import type { ClusterState } from "../../src/state/types.js";

/** The node whose copy of the promotable clone is promoted and reported so, once only one is. */
export function onePromoted(state: ClusterState, clone = "redis-ha"): string | undefined {
  const promoted = Object.entries(state.resources)
    .filter(([key]) => key.startsWith(`${clone}:`))
    .flatMap(([, byNode]) =>
      Object.entries(byNode).filter(([, cell]) => cell.active === "promoted"),
    )
    .map(([node]) => node);
  return promoted.length === 1 ? promoted[0] : undefined;
}
