import { controlPost } from "../../control/client.js";
import type { SubmitResult } from "../../coordination/cluster-message.js";
import { controlSocketPath } from "../paths.js";

export interface NodeMembershipOptions {
  socket?: string;
  config?: string;
}

/**
 * `vigil node add|remove NAME`: a single-server change of the voting membership, committed
 * through Raft from any node. The node must be in vigil.yaml on every node (its links and
 * addresses live there); this only changes whether it votes.
 */
export function nodeMembershipCommand(action: "add" | "remove") {
  return async (name: string, options: NodeMembershipOptions): Promise<void> => {
    const result = await controlPost<SubmitResult>(
      await controlSocketPath(options),
      "/v1/membership",
      { action, node: name },
    );
    if (!result.ok) {
      process.stderr.write(
        `vigil: node ${name} not ${action === "add" ? "added" : "removed"}: ${result.error}\n`,
      );
      process.exitCode = 1;
      return;
    }
    process.stdout.write(
      `node ${name} ${action === "add" ? "is now a voting member" : "no longer votes"} (log index ${result.index})\n`,
    );
  };
}
