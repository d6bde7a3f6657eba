import type { NodeConfig } from "../config/schema.js";
import type { Placed, PolicyInput } from "../policy/types.js";
import { checkResourceDocument, describeProblems } from "../resources/check-document.js";
import type { ResourceModel } from "../resources/types.js";
import type { ClusterState } from "../state/types.js";

const EMPTY_MODEL: ResourceModel = { primitives: {}, groups: {}, clones: {}, constraints: [] };

/**
 * The policy engine's input as this node sees the cluster: the committed configuration and
 * state, and which nodes are alive right now. Read-only: `vigil explain` and `vigil simulate`
 * compute from it without changing anything.
 */
export function policyInputOf(options: {
  state: ClusterState;
  nodes: readonly NodeConfig[];
  isOnline(nodeId: number): boolean;
  nowMs: number;
}): PolicyInput {
  const { state } = options;
  const full = options.nodes.filter((node) => !node.witness);
  const names = full.map((node) => node.name);
  let model = EMPTY_MODEL;
  if (state.config.version > 0) {
    const checked = checkResourceDocument(state.config.document, names);
    if (checked.model === null) {
      throw new Error(
        `the committed configuration (version ${state.config.version}) does not check out here: ${describeProblems(checked.problems)}`,
      );
    }
    model = checked.model;
  }
  const current: Record<string, Placed[]> = {};
  for (const [resource, nodes] of Object.entries(state.placement)) {
    const promotable = Object.values(model.clones).some(
      (clone) => clone.promotable && resource.startsWith(`${clone.id}:`),
    );
    current[resource] = nodes.map((node, index) => ({
      node,
      role: promotable ? (index === 0 ? "promoted" : "unpromoted") : "started",
    }));
  }
  return {
    model,
    nodes: full.map((node) => ({
      name: node.name,
      online: options.isOnline(node.id),
      standby: state.nodes[node.name]?.standby ?? false,
      attributes: state.nodes[node.name]?.attributes ?? {},
    })),
    current,
    failCounts: state.failCounts,
    nowMs: options.nowMs,
    maintenance: state.maintenance,
  };
}
