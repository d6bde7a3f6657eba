import type { Member, Membership } from "./types.js";

/** Null when `membership` is well formed; otherwise what is wrong with it. */
export function describeMembershipProblem(membership: Membership): string | null {
  if (typeof membership !== "object" || membership === null || !Array.isArray(membership.members)) {
    return "membership must be an object with a members array";
  }
  const seen = new Set<number>();
  for (const [position, member] of membership.members.entries()) {
    const where = `members[${position}]`;
    if (typeof member !== "object" || member === null) return `${where} is not an object`;
    if (!Number.isInteger(member.id) || member.id < 0) {
      return `${where}.id must be a non-negative integer, got ${String(member.id)}`;
    }
    if (seen.has(member.id)) return `${where}: node ${member.id} is listed twice`;
    seen.add(member.id);
    if (!Number.isInteger(member.votes) || member.votes < 1) {
      return `${where} (node ${member.id}): votes must be a positive integer, got ${String(member.votes)}`;
    }
    if (typeof member.witness !== "boolean")
      return `${where} (node ${member.id}): witness must be a boolean`;
  }
  if (!membership.members.some((member) => !member.witness)) {
    return "membership needs at least one member that is not a witness (someone must be able to lead)";
  }
  return null;
}

/**
 * Null when `next` differs from `current` by exactly one member added, removed, or changed
 * (votes or witness flag) — the single-server change of the Raft thesis §4.1, whose old and new
 * majorities always overlap. Otherwise why the change is refused.
 */
export function describeSingleServerChangeProblem(
  current: Membership,
  next: Membership,
): string | null {
  const wellFormed = describeMembershipProblem(next);
  if (wellFormed !== null) return `invalid membership: ${wellFormed}`;
  const before = byId(current.members);
  const after = byId(next.members);
  const added = [...after.keys()].filter((id) => !before.has(id));
  const removed = [...before.keys()].filter((id) => !after.has(id));
  const changed = [...after.values()].filter((member) => {
    const old = before.get(member.id);
    return old !== undefined && (old.votes !== member.votes || old.witness !== member.witness);
  });
  const electable = next.members.filter((member) => !member.witness).length;
  if (electable < 2 && next.members.some((member) => member.witness)) {
    // A witness never leads: with one member left that can, losing it leaves nobody who can be
    // elected, so not even a membership change could bring the cluster back.
    return `a membership with a witness needs at least two members that can lead; this one would have ${electable}`;
  }
  const differences = added.length + removed.length + changed.length;
  if (differences === 0) return "the proposed membership is identical to the current one";
  if (differences > 1) {
    return (
      `a membership change may touch one member at a time; this one adds [${added.join(", ")}], ` +
      `removes [${removed.join(", ")}] and changes [${changed.map((m) => m.id).join(", ")}]`
    );
  }
  for (const member of changed) {
    const old = before.get(member.id)!;
    // Votes move by one at a time for the same reason members do: a jump of k votes is k changes.
    if (Math.abs(old.votes - member.votes) > 1) {
      return `node ${member.id}: votes may change by one per membership change (${old.votes} → ${member.votes})`;
    }
  }
  for (const id of added) {
    const member = after.get(id)!;
    if (member.votes !== 1) {
      return `node ${id} must join with 1 vote (got ${member.votes}); raise it in later changes`;
    }
  }
  for (const id of removed) {
    const member = before.get(id)!;
    if (member.votes !== 1) {
      return `node ${id} holds ${member.votes} votes; lower it to 1 before removing it`;
    }
  }
  return null;
}

export function sameMembership(a: Membership, b: Membership): boolean {
  if (a.members.length !== b.members.length) return false;
  const other = byId(b.members);
  return a.members.every((member) => {
    const match = other.get(member.id);
    return match !== undefined && match.votes === member.votes && match.witness === member.witness;
  });
}

function byId(members: readonly Member[]): Map<number, Member> {
  return new Map(members.map((member) => [member.id, member]));
}
