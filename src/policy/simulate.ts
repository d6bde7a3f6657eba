import { computePlacement } from "./engine.js";
import type { NodeView, PolicyInput, PolicyOutput } from "./types.js";

/** A what-if for `vigil simulate`. */
export interface SimulatedChange {
  /** The node dies and is fenced: offline, and nothing is running on it any more. */
  failNode?: string;
  /** The operator puts the node in standby: it gets drained. */
  standbyNode?: string;
  /**
   * The resource fails on the node: its fail count there goes up by one (last failure now) and
   * it no longer runs there, so the result shows the recovery (restart in place, or move once
   * the migration threshold is reached).
   */
  failResource?: { resource: string; node: string };
}

function requireNode(input: PolicyInput, name: string, field: string): void {
  if (!input.nodes.some((node) => node.name === name)) {
    throw new Error(`simulate: ${field} names "${name}", which is not a cluster node`);
  }
}

/** Applies `change` to a copy of `input` (the input is not modified) and computes the result. */
export function applySimulatedChange(input: PolicyInput, change: SimulatedChange): PolicyInput {
  let nodes: NodeView[] = input.nodes.map((node) => ({
    ...node,
    attributes: { ...node.attributes },
  }));
  let current = Object.fromEntries(
    Object.entries(input.current).map(([key, list]) => [key, list.map((p) => ({ ...p }))]),
  );
  const failCounts = Object.fromEntries(
    Object.entries(input.failCounts).map(([key, perNode]) => [key, { ...perNode }]),
  );
  if (change.failNode !== undefined) {
    const failed = change.failNode;
    requireNode(input, failed, "failNode");
    nodes = nodes.map((node) => (node.name === failed ? { ...node, online: false } : node));
    current = Object.fromEntries(
      Object.entries(current).map(([key, list]) => [key, list.filter((p) => p.node !== failed)]),
    );
  }
  if (change.standbyNode !== undefined) {
    const drained = change.standbyNode;
    requireNode(input, drained, "standbyNode");
    nodes = nodes.map((node) => (node.name === drained ? { ...node, standby: true } : node));
  }
  if (change.failResource !== undefined) {
    const { resource, node } = change.failResource;
    requireNode(input, node, "failResource.node");
    const running = current[resource] ?? [];
    if (!running.some((p) => p.node === node)) {
      throw new Error(`simulate: failResource: "${resource}" is not running on "${node}"`);
    }
    current[resource] = running.filter((p) => p.node !== node);
    const perNode = failCounts[resource] ?? {};
    const before = perNode[node]?.count ?? 0;
    perNode[node] = { count: before + 1, lastFailureAtMs: input.nowMs };
    failCounts[resource] = perNode;
  }
  return { ...input, nodes, current, failCounts };
}

export function simulate(input: PolicyInput, change: SimulatedChange): PolicyOutput {
  return computePlacement(applySimulatedChange(input, change));
}
