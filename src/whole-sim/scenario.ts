import { parseConfigText } from "../config/load.js";
import type { VigilConfig } from "../config/schema.js";
import type { JsonObject } from "../state/json.js";

/** Node names of simulated clusters, in id order. */
export const HOST_NAMES = ["alpha", "beta", "gamma", "delta", "epsilon"] as const;

/** A cluster of `count` nodes on one unicast link, default timing, the node guard on. */
export function simulatedConfig(count: number, options: { leaseGuard: boolean }): VigilConfig {
  const nodes = HOST_NAMES.slice(0, count)
    .map(
      (name, index) =>
        `  - id: ${index + 1}\n    name: ${name}\n    links:\n      ring0: { address: 198.18.0.${index + 1} }\n`,
    )
    .join("");
  return parseConfigText(
    `cluster:\n  name: sim\nnodes:\n${nodes}links:\n  - name: ring0\n    type: ucast\nwatchdog:\n  lease_guard: ${options.leaseGuard}\n`,
    "whole-sim.yaml",
  );
}

const OPERATIONS = {
  start: { timeout_ms: 2000 },
  stop: { timeout_ms: 2000 },
  monitor: { interval_ms: 1000, timeout_ms: 2000 },
};

/**
 * The resources every simulated cluster runs: a group (an address and a service, in order), a
 * service of its own, and a clone with a copy on every node. The simulated agents ignore what
 * the agents are; placement, ordering, monitoring and recovery are the real ones.
 */
export const SIMULATED_RESOURCES: JsonObject = {
  resources: {
    ip: { agent: "vip", params: { address: "198.18.0.100/24" }, operations: OPERATIONS },
    web: { agent: "exec:/usr/bin/true", operations: OPERATIONS },
    worker: { agent: "exec:/usr/bin/true", operations: OPERATIONS },
    ping: { agent: "exec:/usr/bin/true", operations: OPERATIONS },
  },
  groups: { site: { members: ["ip", "web"] } },
  clones: { pings: { of: "ping" } },
};

/** Resources an operator may move. */
export const MOVABLE = ["site", "worker"] as const;
