import { controlPost } from "../../control/client.js";
import type { QuorumUnblockReply } from "../../control/quorum-routes.js";
import { controlSocketPath } from "../paths.js";

export interface QuorumUnblockOptions {
  socket?: string;
  config?: string;
}

/**
 * `vigil quorum unblock`: the local agent stops waiting for nodes it has not seen since it
 * started (wait_for_all), so it may stand for election without a node that is lost for good.
 */
export async function quorumUnblock(options: QuorumUnblockOptions): Promise<void> {
  const reply = await controlPost<QuorumUnblockReply>(
    await controlSocketPath(options),
    "/v1/quorum/unblock",
    {},
  );
  process.stdout.write(
    reply.waited
      ? `this node no longer waits for ${reply.unseen.join(", ")} (not seen since it started): it may stand for election with the votes present\n`
      : "this node was not waiting for any node: nothing to unblock\n",
  );
}
