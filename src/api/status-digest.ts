import type { StatusReply } from "../control/status-reply.js";

/**
 * What of a status reply is worth pushing to a dashboard at once: everything but the figures
 * that move on every heartbeat (clocks, RTT, loss, suspicion, frame counters, the lease's end),
 * which the stream sends at its steady pace anyway. Two replies with the same digest differ only
 * in those. Pure.
 */
export function statusDigest(status: StatusReply): string {
  const raft = status.coordination;
  return JSON.stringify({
    nodes: status.nodes.map((node) => [
      node.name,
      node.state,
      node.incarnation,
      node.links.map((link) => [link.link, link.state]),
    ]),
    raft:
      raft === null
        ? null
        : [
            raft.role,
            raft.term,
            raft.leaderId,
            raft.votesPresent,
            raft.votesNeeded,
            raft.waitingForAll,
            raft.stateVersion,
            raft.leaseLosses,
            raft.leaseUntilMs === null,
          ],
    events: [status.recentEvents.length, status.recentEvents.at(-1)?.atMs ?? null],
    callbackFailures: status.callbackFailures,
    resources: status.resources,
  });
}
