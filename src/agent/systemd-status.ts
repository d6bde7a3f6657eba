import type { AgentStatus } from "../control/status-reply.js";

/**
 * The line `systemctl status vigil` shows (STATUS=): what an operator looks for first on a
 * node: its Raft role and leader, how many peers it hears, and whether it holds a lease (may
 * keep resources). E.g. "follower of db1, term 4; peers up 2/2; lease held". Pure.
 */
export function systemdStatusText(status: AgentStatus): string {
  const peers = status.nodes;
  const up = peers.filter((peer) => peer.state === "up").length;
  const peersText = `peers up ${up}/${peers.length}`;
  const raft = status.coordination;
  if (raft === null) return `starting; ${peersText}`;
  const nameOf = (id: number): string =>
    id === status.node.id
      ? status.node.name
      : (peers.find((peer) => peer.id === id)?.name ?? `node ${id}`);
  let role: string;
  if (raft.role === "leader") role = "leader";
  else if (raft.leaderId !== null) role = `${raft.role} of ${nameOf(raft.leaderId)}`;
  else role = `${raft.role}, no leader`;
  const lease =
    raft.leaseUntilMs !== null && raft.leaseUntilMs > status.nowMs ? "lease held" : "no lease";
  const waiting = raft.waitingForAll ? "; waiting to hear every node once" : "";
  return `${role.replace("_", "-")}, term ${raft.term}; ${peersText}; ${lease}${waiting}`;
}
