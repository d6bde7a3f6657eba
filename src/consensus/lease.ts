import { quorumValue } from "./quorum.js";
import type { Membership, NodeId, RaftTiming } from "./types.js";

/**
 * Leases: how long a node may keep acting (running resources) on the strength of its last
 * quorum-backed contact, and how long a leader must wait before it may assume a node stopped.
 *
 * Clocks are not synchronized; `driftRatio` bounds how much faster one node's clock may run than
 * another's, so an interval one clock measures as d another measures as at most d·(1+ρ).
 * All times below are each node's own clock; "before" is real-time order.
 *
 * 1. Voters promise. A node grants a vote (real or pre-) only when it has not heard from a live
 *    leader for electionTimeoutMinMs (election.ts), and it treats its own start-up as such
 *    contact, so a restart cannot erase the promise.
 *
 * 2. Leader lease. A leader that sent append_entries at t and has answers to it (or to later
 *    sends) from a quorum of votes, itself included, holds its lease until t + leaseMs. Any
 *    later leader needs votes from a quorum, which shares a voter V with that quorum. V received
 *    the message after t and refuses votes for electionTimeoutMinMs (its clock) after that,
 *    which the old leader measures as at least electionTimeoutMinMs/(1+ρ) >= leaseMs. So the
 *    old lease has ended before anyone else can win an election: at most one leader holds a
 *    leader lease at any moment. A new leader need not wait: the vote rule already waited.
 *    (A new leader also keeps the follower lease (3) it may still hold until its leader lease
 *    takes over; that one is not exclusive, and it vouches and renews only on the leader lease.)
 *
 * 3. Follower lease. A follower never anchors its lease at the time it receives a message: a
 *    message can be delayed without bound, and an answer can be lost, so the leader could not
 *    bound such a lease. Instead every append_entries/install_snapshot echoes the follower's
 *    own send time `a` of its newest answer that reached the leader (`echoResponseSentAtMs`);
 *    the follower's lease runs until a + leaseMs on its own clock, and only when the leader's
 *    lease was valid as it sent the message (`leaderLeaseValid`), so a leader cut off from the
 *    quorum cannot keep its followers' leases alive.
 *
 * 4. The leader's bound on a follower F. F's newest lease anchor `a` is the send time of an
 *    answer that reached the leader, so it precedes the leader's latest receipt R of an answer
 *    from F; F's lease ends by R + leaseMs·(1+ρ) on the leader's clock. A lease F holds from an
 *    older leader L1 was anchored before an L1 send s at which L1's lease was valid, and by (2)
 *    s precedes this leader's election at E; so it ends by E + leaseMs·(1+ρ). Hence
 *    `leaseSurelyExpired(F, now)` ⇔ now > max(R, E) + leaseMs·(1+ρ).
 *
 * 5. The previous leader. If this node was elected in term T and followed node P as the leader of
 *    term T−1, first hearing from it at h, P's leases end sooner than (4) says. P's leader lease
 *    ended before this election (2). A follower lease P still held when it became leader was
 *    anchored before P's election, which precedes h, so it ends by h + followerLeaseMs·(1+ρ).
 *    P cannot have followed anyone else since: it led T−1 until it saw a higher term, and the
 *    only leader of T is this node, whose answers from P are counted as in (4). So P's lease has
 *    surely ended at max(h + followerLeaseMs·(1+ρ), R + followerLeaseMs·(1+ρ)), without waiting
 *    from the election: after the leader itself is lost, its resources move right after the
 *    election. (With a term in between, another leader may have existed: (4) applies.)
 *
 * 6. The node guard. A node whose agent died or hung is released by its guard, whose stops may
 *    run releaseGraceMs past the lease's end (on that node's clock) before it fences. Every bound
 *    in (4) and (5) is extended by releaseGraceMs·(1+ρ); for the previous leader also from this
 *    election, since its own leader lease may have ended just before it.
 *
 * Followers' leases last followerLeaseMs (default leaseMs) instead of leaseMs in (3) and (4);
 * nothing in (3) or (4) depends on its length. Only the leader's lease (2) must end before
 * another election: leaseMs·(1+ρ) <= electionTimeoutMinMs, checked by `assertLeaseTiming`.
 * A follower lease longer than an election lets followers keep their resources while a new
 * leader is elected after the old one died, at the price of a longer wait before a lost
 * follower's resources are started elsewhere.
 */

export function assertLeaseTiming(timing: RaftTiming): void {
  const where = "raft timing";
  const positive = (name: keyof RaftTiming) => {
    const value = timing[name];
    if (value === undefined || !Number.isFinite(value) || value <= 0) {
      throw new Error(`${where}: ${name} must be a positive number, got ${String(value)}`);
    }
  };
  positive("heartbeatIntervalMs");
  positive("electionTimeoutMinMs");
  positive("electionTimeoutMaxMs");
  positive("leaseMs");
  if (timing.followerLeaseMs !== undefined && !(timing.followerLeaseMs >= timing.leaseMs)) {
    throw new Error(
      `${where}: followerLeaseMs (${String(timing.followerLeaseMs)}) must be at least leaseMs (${timing.leaseMs})`,
    );
  }
  const grace = timing.releaseGraceMs ?? 0;
  if (!Number.isFinite(grace) || grace < 0) {
    throw new Error(`${where}: releaseGraceMs must be >= 0, got ${String(grace)}`);
  }
  if (!Number.isFinite(timing.driftRatio) || timing.driftRatio < 0) {
    throw new Error(`${where}: driftRatio must be >= 0, got ${String(timing.driftRatio)}`);
  }
  if (timing.electionTimeoutMaxMs <= timing.electionTimeoutMinMs) {
    throw new Error(
      `${where}: electionTimeoutMaxMs (${timing.electionTimeoutMaxMs}) must exceed ` +
        `electionTimeoutMinMs (${timing.electionTimeoutMinMs}) so that timeouts are randomized`,
    );
  }
  if (timing.heartbeatIntervalMs >= timing.electionTimeoutMinMs) {
    throw new Error(
      `${where}: heartbeatIntervalMs (${timing.heartbeatIntervalMs}) must be below ` +
        `electionTimeoutMinMs (${timing.electionTimeoutMinMs}) or followers time out between heartbeats`,
    );
  }
  const leaseWithDriftMs = timing.leaseMs * (1 + timing.driftRatio);
  if (leaseWithDriftMs > timing.electionTimeoutMinMs) {
    throw new Error(
      `${where}: leaseMs × (1 + driftRatio) = ${timing.leaseMs} × ${1 + timing.driftRatio} = ` +
        `${leaseWithDriftMs} exceeds electionTimeoutMinMs (${timing.electionTimeoutMinMs}); a lease ` +
        `could outlive the next election. Lower leaseMs to at most ` +
        `${Math.floor(timing.electionTimeoutMinMs / (1 + timing.driftRatio))} ms`,
    );
  }
}

/**
 * Until when the leader holds its lease: the newest send time t answered by a quorum of votes
 * (the leader itself, if a member, answers everything at once) plus leaseMs. Null if no quorum.
 */
export function leaderLeaseUntilMs(
  membership: Membership,
  selfId: NodeId,
  nowMs: number,
  answeredSentAtMs: (id: NodeId) => number,
  leaseMs: number,
): number | null {
  const quorumSentAtMs = quorumValue(membership, (id) =>
    id === selfId ? nowMs : answeredSentAtMs(id),
  );
  return Number.isFinite(quorumSentAtMs) ? quorumSentAtMs + leaseMs : null;
}

/** Point (5) above: for the leader of the term before this leader's. */
export function predecessorLeaseSurelyEndedAtMs(
  lastAnswerReceivedAtMs: number | undefined,
  heardSinceMs: number,
  electedAtMs: number,
  timing: RaftTiming,
): number {
  const anchorMs = Math.max(lastAnswerReceivedAtMs ?? Number.NEGATIVE_INFINITY, heardSinceMs);
  const followerLeaseEndMs =
    anchorMs + (timing.followerLeaseMs ?? timing.leaseMs) * (1 + timing.driftRatio);
  const graceMs = releaseGraceWithDriftMs(timing);
  // Its leader lease ended before this election: with no grace, nothing of it is left.
  const leaderLeaseGraceEndMs = graceMs > 0 ? electedAtMs + graceMs : Number.NEGATIVE_INFINITY;
  return Math.max(followerLeaseEndMs + graceMs, leaderLeaseGraceEndMs);
}

/** Point (4) above: the leader's clock time after which node's lease has surely ended. */
export function followerLeaseSurelyEndedAtMs(
  lastAnswerReceivedAtMs: number | undefined,
  electedAtMs: number,
  timing: RaftTiming,
): number {
  const anchorMs = Math.max(lastAnswerReceivedAtMs ?? Number.NEGATIVE_INFINITY, electedAtMs);
  return (
    anchorMs +
    (timing.followerLeaseMs ?? timing.leaseMs) * (1 + timing.driftRatio) +
    releaseGraceWithDriftMs(timing)
  );
}

/** Point (6) above: the node guard's grace past a lease, as another clock may measure it. */
function releaseGraceWithDriftMs(timing: RaftTiming): number {
  return (timing.releaseGraceMs ?? 0) * (1 + timing.driftRatio);
}
