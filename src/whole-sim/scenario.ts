import { parseConfigText } from "../config/load.js";
import type { VigilConfig } from "../config/schema.js";
import type { JsonObject } from "../state/json.js";
import { deepFreeze } from "./deep-freeze.js";

/** Node names of simulated clusters, in id order. */
export const HOST_NAMES = ["alpha", "beta", "gamma", "delta", "epsilon"] as const;

export interface SimulatedClusterShape {
  /** The node guard beside every agent (watchdog.lease_guard). */
  leaseGuard: boolean;
  /** A fence device per node (simulated: it powers the node off and on again). */
  fencing: boolean;
  /** The last node is a witness (`vigil witness`): it votes and keeps the log, runs nothing. */
  witness: boolean;
}

/**
 * A cluster of `count` nodes on one unicast link, default timing. With fencing, one device per
 * node; two nodes with fencing are two-node mode, where the first node's fence delay decides a
 * fence race (as docs/configuration.md asks). With a witness, the last node is one.
 */
export function simulatedConfig(count: number, shape: SimulatedClusterShape): VigilConfig {
  // Parsed once per shape: every seed runs the same configuration, and reading it (YAML, schema,
  // checks) costs more than some seeds. Frozen, as nothing may change one seed's for the next.
  const key = `${count} ${shape.leaseGuard} ${shape.fencing} ${shape.witness}`;
  let config = parsedConfigs.get(key);
  if (config === undefined) {
    config = deepFreeze(parseSimulatedConfig(count, shape));
    parsedConfigs.set(key, config);
  }
  return config;
}

const parsedConfigs = new Map<string, VigilConfig>();

function parseSimulatedConfig(count: number, shape: SimulatedClusterShape): VigilConfig {
  const names = HOST_NAMES.slice(0, count);
  const nodes = names
    .map(
      (name, index) =>
        `  - id: ${index + 1}\n    name: ${name}\n${shape.witness && index === count - 1 ? "    witness: true\n" : ""}    links:\n      ring0: { address: 198.18.0.${index + 1} }\n`,
    )
    .join("");
  const devices = names
    .map((name) => `    power-${name}: { agent: "exec:/usr/bin/true", targets: { ${name}: "" } }\n`)
    .join("");
  const fencing = shape.fencing
    ? `fencing:\n  devices:\n${devices}${count === 2 ? `  delay_ms: { ${names[0]}: 2000 }\n` : ""}`
    : "";
  return parseConfigText(
    `cluster:\n  name: sim\nnodes:\n${nodes}links:\n  - name: ring0\n    type: ucast\nwatchdog:\n  lease_guard: ${shape.leaseGuard}\n${fencing}`,
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

/**
 * Scenario 2 adds a promotable clone: a simulated replicated database whose copies have
 * replication offsets (sim-database.ts), its monitor reporting them as the promotion score.
 */
export const SIMULATED_RESOURCES_V2: JsonObject = {
  ...SIMULATED_RESOURCES,
  resources: {
    ...(SIMULATED_RESOURCES.resources as JsonObject),
    store: { agent: "exec:/usr/bin/true", operations: OPERATIONS },
  },
  clones: {
    ...(SIMULATED_RESOURCES.clones as JsonObject),
    db: { of: "store", promotable: true, promoted_max: 1 },
  },
};

/**
 * Scenario 3 has the promotable clone send Pacemaker's clone notifications (notify: true): every
 * operation on its copies goes through a round (takeover/notify-round.ts), under every fault.
 */
export const SIMULATED_RESOURCES_V3: JsonObject = {
  ...SIMULATED_RESOURCES_V2,
  resources: {
    ...(SIMULATED_RESOURCES_V2.resources as JsonObject),
    store: {
      agent: "exec:/usr/bin/true",
      operations: { ...OPERATIONS, notify: { timeout_ms: 2000 } },
    },
  },
  clones: {
    ...(SIMULATED_RESOURCES_V2.clones as JsonObject),
    db: { of: "store", promotable: true, promoted_max: 1, notify: true },
  },
};

/**
 * Scenario 4 reads the promotable clone's replication offsets apart (replication_offset), its
 * agent scoring copies by something else than data, as ocf:heartbeat:redis does: the copy
 * holding the most must be promoted whatever its score.
 */
export const SIMULATED_RESOURCES_V4: JsonObject = {
  ...SIMULATED_RESOURCES_V3,
  clones: {
    ...(SIMULATED_RESOURCES_V3.clones as JsonObject),
    db: {
      of: "store",
      promotable: true,
      promoted_max: 1,
      notify: true,
      replication_offset: { command: "store-offset", timeout_ms: 1000 },
    },
  },
};

/** The promotable clone of scenario 2 (its instance keys are db:0, db:1, …). */
export const PROMOTABLE_CLONE = "db";

/**
 * What a seed runs. Scenario 1 is the simulator as its regression seeds were found with: their
 * runs stay exactly as they were. Scenario 2 adds torn writes at crashes, clock drift and the
 * promotable clone with replication offsets; scenario 3 has that clone notify; scenario 4 reads
 * its offsets apart from its agent's scores (replication_offset). New faults go
 * into a new version, so that no seed of an older one changes.
 */
export const SCENARIO_VERSIONS = [1, 2, 3, 4] as const;
export type ScenarioVersion = (typeof SCENARIO_VERSIONS)[number];
export const LATEST_SCENARIO: ScenarioVersion = 4;

export interface ScenarioFeatures {
  /** An agent's crash may leave the Raft log's last, unacknowledged record torn or whole. */
  tornWrites: boolean;
  /** Each host's clock runs at its own rate (within clock_drift_ratio), from its own offset. */
  clockDrift: boolean;
  /** The promotable clone `db` with replication offsets. */
  promotableClone: boolean;
  resources: JsonObject;
}

export function scenarioFeatures(version: ScenarioVersion): ScenarioFeatures {
  return version === 1
    ? {
        tornWrites: false,
        clockDrift: false,
        promotableClone: false,
        resources: SIMULATED_RESOURCES,
      }
    : {
        tornWrites: true,
        clockDrift: true,
        promotableClone: true,
        resources:
          version === 2
            ? SIMULATED_RESOURCES_V2
            : version === 3
              ? SIMULATED_RESOURCES_V3
              : SIMULATED_RESOURCES_V4,
      };
}

/** Resources an operator may move. */
export const MOVABLE = ["site", "worker"] as const;
