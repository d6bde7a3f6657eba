import type { NodeConfig } from "../config/schema.js";
import { RequestError } from "./route.js";

/** A 404 unless `name` is a configured node that runs resources (not a witness). */
export function checkNodeName(nodes: readonly NodeConfig[], name: string): void {
  const runners = nodes.filter((node) => !node.witness);
  if (runners.some((node) => node.name === name)) return;
  throw new RequestError(
    404,
    `no node named ${name} that runs resources in the configuration (nodes: ${runners.map((n) => n.name).join(", ")})`,
  );
}

/** Moves, bans and stops name a primitive, group or clone of the committed configuration. */
export function checkResourceName(resourceIds: readonly string[], name: string): void {
  if (resourceIds.includes(name)) return;
  throw new RequestError(
    404,
    `no resource named ${name} in the committed configuration (resources: ${[...resourceIds].sort().join(", ") || "none"})`,
  );
}
