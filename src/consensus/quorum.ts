import type { Member, Membership, NodeId } from "./types.js";

/** Weighted quorums: a quorum is a strict majority of the sum of the members' votes. */

export function totalVotes(membership: Membership): number {
  return membership.members.reduce((sum, member) => sum + member.votes, 0);
}

export function votesNeeded(membership: Membership): number {
  return Math.floor(totalVotes(membership) / 2) + 1;
}

export function findMember(membership: Membership, id: NodeId): Member | undefined {
  return membership.members.find((member) => member.id === id);
}

/** The votes held by the members for which `counts` is true. */
export function votesOf(membership: Membership, counts: (id: NodeId) => boolean): number {
  let votes = 0;
  for (const member of membership.members) if (counts(member.id)) votes += member.votes;
  return votes;
}

export function hasQuorum(membership: Membership, counts: (id: NodeId) => boolean): boolean {
  return votesOf(membership, counts) >= votesNeeded(membership);
}

/**
 * The largest value v such that members holding a quorum of votes each have a value >= v:
 * the commit index over match indexes, or the oldest time a quorum has all been heard from
 * since. -Infinity when no quorum exists at all.
 */
export function quorumValue(membership: Membership, valueFor: (id: NodeId) => number): number {
  const needed = votesNeeded(membership);
  const { members } = membership;
  const values = members.map((member) => valueFor(member.id));
  // Each member's value, tried as v: the votes of the members at v or above. Quadratic in the
  // members, of whom there are a handful, and free of the sort and the objects a ranking needs:
  // the leader asks this on every answer it gets.
  let best = Number.NEGATIVE_INFINITY;
  for (const candidate of values) {
    if (!(candidate > best)) continue;
    let votes = 0;
    for (let i = 0; i < members.length; i++) {
      if ((values[i] as number) >= candidate) votes += (members[i] as Member).votes;
    }
    if (votes >= needed) best = candidate;
  }
  return best;
}
