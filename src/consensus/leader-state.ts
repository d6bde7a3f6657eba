import {
  followerLeaseSurelyEndedAtMs,
  leaderLeaseUntilMs,
  predecessorLeaseSurelyEndedAtMs,
} from "./lease.js";
import { Progress } from "./progress.js";
import { quorumValue, votesOf } from "./quorum.js";
import type { Membership, NodeId, RaftTiming } from "./types.js";

/** What only a leader tracks, for one term: per-follower progress, check-quorum and its lease. */
export class LeaderState {
  readonly progress = new Map<NodeId, Progress>();
  /** Latest answer per node this term, kept after a node leaves: its lease may still run. */
  private readonly answerReceivedAtMs = new Map<NodeId, number>();
  nextHeartbeatAtMs: number;
  lastBroadcastAtMs = Number.NEGATIVE_INFINITY;
  leaseUntilMs: number | null = null;
  /** Given up for the rest of the term (a leadership transfer): never renewed again. */
  private leaseRelinquished = false;

  constructor(
    private readonly selfId: NodeId,
    private readonly timing: RaftTiming,
    readonly electedAtMs: number,
    /** The leader of the previous term, as this node followed it (lease.ts (5)). */
    private readonly predecessor: { id: NodeId; heardSinceMs: number } | null = null,
    /** Two-node mode: fenced peers, counted as answering everything (two-node.ts). Live view. */
    private readonly standIns: ReadonlySet<NodeId> = new Set(),
  ) {
    this.nextHeartbeatAtMs = electedAtMs;
  }

  /** Tracks exactly the members of `membership` other than the leader itself. */
  syncMembers(membership: Membership, nextIndex: number, nowMs: number): void {
    const ids = new Set(membership.members.map((member) => member.id));
    for (const id of this.progress.keys()) if (!ids.has(id)) this.progress.delete(id);
    for (const id of ids) {
      if (id !== this.selfId && !this.progress.has(id)) {
        this.progress.set(id, new Progress(nextIndex, nowMs));
      }
    }
  }

  /** The highest index stored by a quorum of votes (the leader's own log counts if a member). */
  quorumMatchIndex(membership: Membership, leaderLastIndex: number): number {
    return quorumValue(membership, (id) =>
      id === this.selfId || this.standIns.has(id)
        ? leaderLastIndex
        : (this.progress.get(id)?.matchIndex ?? 0),
    );
  }

  /**
   * Check-quorum: the leader steps down once a quorum of votes has not answered for
   * electionTimeoutMinMs. That is the silence after which those followers start granting votes
   * to others, so beyond it this leader can no longer assume it is the only one; a healthy
   * leader, answered every heartbeat interval (well below the minimum), never gets near it.
   * Using the maximum would only keep a deposed leader claiming leadership longer.
   */
  quorumContactDeadlineMs(membership: Membership): number {
    const quorumHeardAtMs = quorumValue(membership, (id) =>
      id === this.selfId || this.standIns.has(id)
        ? Number.POSITIVE_INFINITY
        : (this.progress.get(id)?.contactAtMs() ?? this.electedAtMs),
    );
    return quorumHeardAtMs + this.timing.electionTimeoutMinMs;
  }

  /** Votes of members heard from within electionTimeoutMinMs, the leader included. */
  votesInContact(membership: Membership, nowMs: number): number {
    return votesOf(membership, (id) => {
      if (id === this.selfId || this.standIns.has(id)) return true;
      const heardAtMs = this.progress.get(id)?.lastAnswerReceivedAtMs;
      return heardAtMs !== undefined && nowMs - heardAtMs < this.timing.electionTimeoutMinMs;
    });
  }

  /**
   * The peer's run is over (a stand-in began): never echo its old answers to the next run, whose
   * lease would be anchored in the previous one's time while we call that lease ended.
   */
  forgetAnswersOf(peer: NodeId): void {
    const progress = this.progress.get(peer);
    if (progress !== undefined) progress.lastAnswerFollowerSentAtMs = null;
  }

  /** A stand-in's peer was heard again: check-quorum counts it from this contact on. */
  noteContact(from: NodeId, receivedAtMs: number): void {
    this.progress.get(from)?.noteContact(receivedAtMs);
  }

  recordAnswer(from: NodeId, receivedAtMs: number): void {
    this.answerReceivedAtMs.set(
      from,
      Math.max(this.answerReceivedAtMs.get(from) ?? receivedAtMs, receivedAtMs),
    );
  }

  /** A leadership transfer: the voters' promise backing the lease is about to be broken. */
  relinquishLease(): void {
    this.leaseRelinquished = true;
    this.leaseUntilMs = null;
  }

  /** Recomputes the lease from the answers so far; it only ever grows within a term. */
  refreshLease(membership: Membership, nowMs: number): void {
    if (this.leaseRelinquished) return;
    const untilMs = leaderLeaseUntilMs(
      membership,
      this.selfId,
      nowMs,
      (id) =>
        this.standIns.has(id)
          ? nowMs
          : (this.progress.get(id)?.lastAnsweredSentAtMs ?? Number.NEGATIVE_INFINITY),
      this.timing.leaseMs,
    );
    if (untilMs !== null) this.leaseUntilMs = Math.max(this.leaseUntilMs ?? untilMs, untilMs);
  }

  holdsLease(nowMs: number): boolean {
    return this.leaseUntilMs !== null && nowMs < this.leaseUntilMs;
  }

  leaseSurelyExpired(nodeId: NodeId, nowMs: number): boolean {
    if (nodeId === this.selfId) return !this.holdsLease(nowMs);
    if (this.standIns.has(nodeId)) return true; // fenced, or left: it holds nothing
    const answeredAtMs = this.answerReceivedAtMs.get(nodeId);
    const endedAtMs =
      nodeId === this.predecessor?.id
        ? predecessorLeaseSurelyEndedAtMs(
            answeredAtMs,
            this.predecessor.heardSinceMs,
            this.electedAtMs,
            this.timing,
          )
        : followerLeaseSurelyEndedAtMs(answeredAtMs, this.electedAtMs, this.timing);
    return nowMs > endedAtMs;
  }
}
