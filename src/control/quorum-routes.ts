import { z } from "zod";
import type { NodeConfig } from "../config/schema.js";
import { parseRequest } from "./request-schemas.js";
import type { Route } from "./route.js";

/** It takes no parameters: `{}`. */
const unblockRequestSchema = z.strictObject({});

export interface QuorumRouteDeps {
  nodes: readonly NodeConfig[];
  /** Ends wait_for_all on this node; the ids of the nodes it had not seen (none: it did not wait). */
  stopWaitingForAll(): number[];
}

/** What POST /v1/quorum/unblock answers. */
export interface QuorumUnblockReply {
  /** This node was waiting for every node to be seen once (wait_for_all) until now. */
  waited: boolean;
  /** The nodes it had not seen since it started. */
  unseen: string[];
}

/** POST /v1/quorum/unblock: this node stops waiting for nodes it has not seen (`vigil quorum unblock`). */
export function quorumRoutes(deps: QuorumRouteDeps): Record<string, Route> {
  return {
    "POST /v1/quorum/unblock": (body): QuorumUnblockReply => {
      parseRequest(unblockRequestSchema, body, "quorum unblock");
      const unseen = deps.stopWaitingForAll();
      const names = unseen.map((id) => deps.nodes.find((node) => node.id === id)?.name ?? `#${id}`);
      return { waited: unseen.length > 0, unseen: names };
    },
  };
}
