import { hasQuorum, votesOf } from "./quorum.js";
import type { Membership, NodeId, RaftTiming } from "./types.js";

/** A randomized election timeout in [min, max), from the injected uniform `random`. */
export function randomElectionTimeoutMs(timing: RaftTiming, random: () => number): number {
  const spreadMs = timing.electionTimeoutMaxMs - timing.electionTimeoutMinMs;
  const draw = random();
  const unit = Number.isFinite(draw) ? Math.min(Math.max(draw, 0), 1 - Number.EPSILON) : 0;
  return timing.electionTimeoutMinMs + Math.floor(unit * spreadMs);
}

/** The votes a (pre-)candidate has received in one campaign. */
export class VoteTally {
  private readonly granted = new Set<NodeId>();
  private readonly refused = new Set<NodeId>();

  record(from: NodeId, granted: boolean): void {
    if (this.granted.has(from) || this.refused.has(from)) return;
    (granted ? this.granted : this.refused).add(from);
  }

  won(membership: Membership): boolean {
    return hasQuorum(membership, (id) => this.granted.has(id));
  }

  grantedVotes(membership: Membership): number {
    return votesOf(membership, (id) => this.granted.has(id));
  }
}

export interface VoteRequestView {
  /** The voter's current term. */
  term: number;
  votedFor: NodeId | null;
  candidateLogIsUpToDate: boolean;
  /** The voter heard from a live leader less than electionTimeoutMinMs ago (or is the leader). */
  heardFromLeaderRecently: boolean;
}

/**
 * Pre-vote (Raft thesis §9.6): "would you vote for me in `requestTerm`?" Nothing changes on
 * either side, so a node cut off from the cluster can ask forever without inflating terms.
 */
export function wouldGrantPreVote(view: VoteRequestView, requestTerm: number): boolean {
  return requestTerm > view.term && view.candidateLogIsUpToDate && !view.heardFromLeaderRecently;
}

/**
 * A real vote, once the voter has moved to the request's term if it was newer. Refused while a
 * leader is live: besides stopping disruption, that is what bounds leases (see lease.ts).
 */
export function wouldGrantVote(
  view: VoteRequestView,
  requestTerm: number,
  candidate: NodeId,
): boolean {
  return (
    requestTerm === view.term &&
    (view.votedFor === null || view.votedFor === candidate) &&
    view.candidateLogIsUpToDate &&
    !view.heardFromLeaderRecently
  );
}
