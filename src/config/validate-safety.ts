import type { ConfigProblem } from "./errors.js";
import { fencingEnabled, noQuorumPolicyOf } from "./safety-modes.js";
import type { ParsedConfig } from "./schema.js";

/**
 * The parameters fence agents are given by Vigil itself (src/fencing/agent-input.ts), which a
 * device's params must not set, and where each comes from.
 */
export const PARAMETERS_SET_BY_VIGIL: Readonly<Record<string, string>> = {
  action:
    "Vigil asks each device for fencing.action, or for the device's own `action:` (e.g. action: off for fence_kdump)",
  nodename: "Vigil sends the name of the node being fenced",
  plug: 'the plug comes from the device\'s targets, per node (targets: { db1: "3" })',
  port: 'the plug comes from the device\'s targets, per node (targets: { db1: "3" })',
};

/**
 * Fence devices, levels and delays name real nodes and devices; a node that may lose quorum
 * without stopping its resources (freeze, suicide) is only safe when the others fence it.
 */
export function validateSafety(parsed: ParsedConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const nodes = new Set(parsed.nodes.map((node) => node.name));
  const full = parsed.nodes.filter((node) => !node.witness).map((node) => node.name);
  const nodeList = [...nodes].join(", ");
  const { devices, levels, delay_ms: delays } = parsed.fencing;
  for (const [name, device] of Object.entries(devices)) {
    for (const param of Object.keys(device.params)) {
      if (Object.hasOwn(PARAMETERS_SET_BY_VIGIL, param)) {
        problems.push({
          path: ["fencing", "devices", name, "params"],
          key: param,
          message: `${param} is not a parameter to set: ${PARAMETERS_SET_BY_VIGIL[param]}`,
        });
      }
    }
    for (const target of Object.keys(device.targets)) {
      if (!nodes.has(target)) {
        problems.push({
          path: ["fencing", "devices", name, "targets", target],
          message: `no node named ${target} (nodes: ${nodeList})`,
        });
      }
    }
  }
  for (const [node, nodeLevels] of Object.entries(levels)) {
    if (!nodes.has(node)) {
      problems.push({
        path: ["fencing", "levels", node],
        message: `no node named ${node} (nodes: ${nodeList})`,
      });
      continue;
    }
    for (const [levelIndex, level] of nodeLevels.entries()) {
      for (const [deviceIndex, device] of level.entries()) {
        const where = ["fencing", "levels", node, levelIndex, deviceIndex];
        const known = devices[device];
        if (known === undefined) {
          problems.push({
            path: where,
            message: `no fence device named ${device} (devices: ${Object.keys(devices).join(", ") || "none"})`,
          });
        } else if (known.targets[node] === undefined) {
          problems.push({
            path: where,
            message: `fence device ${device} has no target for ${node}`,
          });
        }
      }
    }
  }
  for (const node of Object.keys(delays)) {
    if (!nodes.has(node)) {
      problems.push({
        path: ["fencing", "delay_ms", node],
        message: `no node named ${node} (nodes: ${nodeList})`,
      });
    }
  }
  const enabled = fencingEnabled(parsed);
  if (enabled) {
    for (const node of full) {
      const fencedBy = Object.values(devices).some((device) => device.targets[node] !== undefined);
      if (!fencedBy) {
        problems.push({
          path: ["fencing", "devices"],
          message: `fencing is enabled but no device can fence ${node}: add it to a device's targets (or use \`vigil fence confirm ${node}\` by hand, with fencing.enabled: false)`,
        });
      }
    }
  }
  const policy = noQuorumPolicyOf(parsed);
  if ((policy === "freeze" || policy === "suicide") && !enabled) {
    problems.push({
      path: ["no_quorum_policy"],
      message: `no_quorum_policy ${policy} keeps resources running after quorum is lost, which is only safe when the other nodes fence this one: configure fencing, or use stop`,
    });
  }
  return problems;
}
