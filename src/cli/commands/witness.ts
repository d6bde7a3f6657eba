import { hostname } from "node:os";
import { join } from "node:path";
import { Agent } from "../../agent/agent.js";
import { loadConfigFile } from "../../config/load.js";
import { findLocalNode } from "../../config/resolve.js";
import type { NodeConfig, VigilConfig } from "../../config/schema.js";
import { createLogger, type LogLevel } from "../../log/logger.js";
import { tuneV8ForDaemon } from "../daemon-v8.js";
import { UsageError } from "../errors.js";
import { containUncaught } from "./contain-uncaught.js";

export interface WitnessOptions {
  config: string[];
  node?: string;
  logLevel?: LogLevel;
}

/**
 * `vigil witness`: the tie-breaking vote of one or more clusters (like corosync-qnetd). For each
 * configuration it runs that cluster's witness node: heartbeats and the replicated log, a vote,
 * never a leader and never a resource. Each cluster gets its own state directory and control
 * socket, named after the cluster.
 */
export async function runWitness(options: WitnessOptions): Promise<void> {
  tuneV8ForDaemon();
  if (options.config.length === 0) {
    throw new UsageError(
      "vigil witness needs at least one --config FILE (one per cluster it serves)",
    );
  }
  const logger = createLogger({ level: options.logLevel ?? "info", node: "witness" });
  const agents: Agent[] = [];
  try {
    for (const path of options.config) {
      const config = await loadConfigFile(path);
      const localNode = witnessNode(config, path, options.node);
      const cluster = config.cluster.name;
      agents.push(
        await Agent.start({
          config,
          localNode,
          logger: logger.child({ cluster }),
          socketPath: join(config.control.socket, "..", `witness-${cluster}.sock`),
          stateDir: join(config.state_dir, `witness-${cluster}`),
        }),
      );
    }
  } catch (error) {
    await Promise.allSettled(agents.map((agent) => agent.stop("startup failed")));
    throw error;
  }
  // Counted on the first cluster's status: an exception there cannot tell which cluster it is.
  containUncaught(agents[0]!.guard);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    Promise.allSettled(agents.map((agent) => agent.stop(`received ${signal}`))).then(() =>
      process.exit(0),
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  await new Promise<never>(() => {});
}

function witnessNode(config: VigilConfig, path: string, requested: string | undefined): NodeConfig {
  const witnesses = config.nodes.filter((node) => node.witness);
  if (requested !== undefined || witnesses.length !== 1) {
    const node = findLocalNode(config, requested, hostname());
    if (!node.witness) {
      throw new UsageError(
        `${path}: node ${node.name} is not a witness (set witness: true on it, or run vigil agent there)`,
      );
    }
    return node;
  }
  return witnesses[0]!;
}
