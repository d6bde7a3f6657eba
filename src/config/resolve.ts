import { ConfigError } from "./errors.js";
import type { NodeConfig, VigilConfig } from "./schema.js";

/**
 * Which node of the cluster this agent is: the one named on the command line, else the one
 * named like this host (full host name first, then the part before the first dot).
 */
export function findLocalNode(
  config: VigilConfig,
  requestedName: string | undefined,
  hostname: string,
): NodeConfig {
  const names = config.nodes.map((node) => node.name).join(", ");
  if (requestedName !== undefined) {
    const node = config.nodes.find((candidate) => candidate.name === requestedName);
    if (node !== undefined) return node;
    throw new ConfigError(
      `--node ${requestedName}: no node named ${requestedName} in the config (nodes: ${names}); use --node NAME with one of those`,
    );
  }
  const shortName = hostname.split(".")[0]!;
  const node =
    config.nodes.find((candidate) => candidate.name === hostname) ??
    config.nodes.find((candidate) => candidate.name === shortName);
  if (node !== undefined) return node;
  const tried = shortName === hostname ? `"${hostname}"` : `"${hostname}" or "${shortName}"`;
  throw new ConfigError(
    `this host is called ${tried}, which is not a node in the config (nodes: ${names}); name the node with --node NAME`,
  );
}
