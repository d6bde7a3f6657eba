import type { NoQuorumPolicy } from "./safety-schema.js";
import type { ParsedConfig } from "./schema.js";

/**
 * The nodes that may run resources: every node but the witnesses. What a resource document is
 * checked against (a clone's copies default to one per such node) must be what it runs on.
 */
export function resourceNodeNames(
  nodes: ReadonlyArray<{ name: string; witness: boolean }>,
): string[] {
  return nodes.filter((node) => !node.witness).map((node) => node.name);
}

/** Fencing is on when asked for, or by default when a device is configured. */
export function fencingEnabled(parsed: Pick<ParsedConfig, "fencing">): boolean {
  return parsed.fencing.enabled ?? Object.keys(parsed.fencing.devices).length > 0;
}

/**
 * Two-node mode: two nodes that run resources and no witness. Neither is a majority alone, so a
 * survivor goes on only after fencing its peer (src/consensus/two-node.ts); validate-quorum.ts
 * refuses the shape without fencing.
 */
export function isTwoNodeMode(config: Pick<ParsedConfig, "nodes" | "fencing">): boolean {
  const full = config.nodes.filter((node) => !node.witness);
  return full.length === 2 && full.length === config.nodes.length && fencingEnabled(config);
}

/**
 * The no-quorum policy in force. Unset, it is `stop`, except in two-node mode: there every loss
 * of the peer is a loss of quorum until the fence completes, and stopping would take the
 * survivor's own resources down with it each time; `freeze` keeps them, and is safe because the
 * peer fences this node before it runs anything of ours.
 */
export function noQuorumPolicyOf(
  config: Pick<ParsedConfig, "nodes" | "fencing" | "no_quorum_policy">,
): NoQuorumPolicy {
  return config.no_quorum_policy ?? (isTwoNodeMode(config) ? "freeze" : "stop");
}

/**
 * Whether a node must have stopped its resources by the time its lease ends. Under freeze and
 * ignore a node keeps them without a lease, by design (the others fence it before they take
 * over): its guard then acts only when the agent dies or hangs, never because a lease ended.
 */
export function leaseBindsResources(policy: NoQuorumPolicy): boolean {
  return policy === "stop" || policy === "suicide";
}
