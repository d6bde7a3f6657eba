import type { Membership, NodeId } from "./types.js";

/**
 * Two-node mode: two voters and no witness. Neither is a majority alone, so without help the
 * survivor of a failure could never commit, elect or hold a lease. The help is fencing: once the
 * peer is known to be off (a fence succeeded, or it left cleanly, its resources handed over), its
 * vote *stands in* for it — it counts as granted in elections, as matching every index, and as
 * answering every heartbeat — until anything is heard from it again.
 *
 * Why this keeps Raft's guarantees:
 *
 * 1. A stand-in needs a peer that cannot act: fenced means powered off (power fencing; a fabric
 *    fence that leaves the agent running is not enough), left means its agent exited after
 *    handing its resources over. Either way its run is over, and a new run must catch up first.
 * 2. Only a node that has every committed entry may stand in for its peer, or it would commit
 *    over a log missing what the peer committed alone. A run is *caught up* once it was elected
 *    by the real vote of its peer (Raft's election restriction), or once, as a follower, it
 *    matched the leader's commit index from a message the leader sent *after hearing from this
 *    run* (it echoes one of the run's answers, `echoResponseSentAtMs` no older than the run's
 *    start), that commit index being of the leader's own term (only then is it exact: a
 *    restarted leader knows less than it committed). A leader stops standing in the moment it
 *    hears from the peer, so such a message comes after every entry it committed alone: the
 *    follower has them. A message merely sent while the leader did not stand in proves nothing:
 *    one sent before the fence may reach the next run (a fence that reboots is quick), and the
 *    leader committed alone after sending it (the simulator found this).
 *    From then on nothing commits without its acknowledgement until it is fenced again, which
 *    ends its run. A run that is not caught up never stands in: a node that starts while its
 *    peer is down waits for it (corosync's wait_for_all), rather than acting on a stale log.
 * 3. Both nodes may fence each other at once after a partition; the fence delay of one of them
 *    (fencing.delay_ms) makes sure only one survives the race.
 */

/** The other voter, when `membership` is exactly two full voters of equal weight; else null. */
export function twoNodePeerOf(membership: Membership, selfId: NodeId): NodeId | null {
  const { members } = membership;
  if (members.length !== 2) return null;
  const [a, b] = members as [Membership["members"][0], Membership["members"][0]];
  if (a.witness || b.witness || a.votes !== b.votes) return null;
  if (a.id === selfId) return b.id;
  if (b.id === selfId) return a.id;
  return null;
}
