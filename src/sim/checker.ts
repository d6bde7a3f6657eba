import type { LogEntry, NodeId, Snapshot } from "../consensus/types.js";
import { bodyKey, snapshotDigest } from "./state-machine.js";
import { SimViolation } from "./violation.js";

interface CommittedRecord {
  term: number;
  bodyKey: string;
  /** State-machine digest right after applying this index: pins the whole prefix. */
  digestAfter: string;
  firstAppliedBy: string;
  atMs: number;
}

/** What the lease checks need to know about one running node at one instant. */
export interface LeaseView {
  id: NodeId;
  isLeader: boolean;
  term: number;
  /**
   * Holds a lease of any kind, so may run its resources: a follower's, the follower lease a new
   * leader keeps until its own takes over (RaftNode.becomeLeader), or a leader's.
   */
  holdsLease: boolean;
  /** Leads and holds its quorum-backed leader lease (lease.ts (2)). */
  holdsLeaderLease: boolean;
  /** Meaningful only for leaders: does this node judge `other`'s lease surely over? */
  leaseSurelyExpired: (other: NodeId) => boolean;
}

/**
 * The global invariants, fed by the simulation after every step. Each check throws a
 * SimViolation naming the nodes, terms and indexes involved.
 */
export class SafetyChecker {
  private readonly leaderByTerm = new Map<number, NodeId>();
  private readonly committed = new Map<number, CommittedRecord>();
  private highestCommittedIndex = 0;

  highestCommitted(): number {
    return this.highestCommittedIndex;
  }

  committedCount(): number {
    return this.committed.size;
  }

  /** Election safety: at most one leader per term. */
  observeLeader(nodeId: NodeId, term: number): void {
    const known = this.leaderByTerm.get(term);
    if (known === undefined) {
      this.leaderByTerm.set(term, nodeId);
    } else if (known !== nodeId) {
      throw new SimViolation(
        "election_safety",
        `nodes ${known} and ${nodeId} were both leader in term ${term}`,
      );
    }
  }

  /** Committed entries never change: the first node to apply an index fixes it for everyone. */
  observeApplied(nodeLabel: string, entry: LogEntry, digestAfter: string, atMs: number): void {
    const key = bodyKey(entry.body);
    const known = this.committed.get(entry.index);
    if (known === undefined) {
      this.committed.set(entry.index, {
        term: entry.term,
        bodyKey: key,
        digestAfter,
        firstAppliedBy: nodeLabel,
        atMs,
      });
      if (entry.index > this.highestCommittedIndex) this.highestCommittedIndex = entry.index;
      return;
    }
    if (known.term !== entry.term || known.bodyKey !== key) {
      throw new SimViolation(
        "committed_entry_changed",
        `${nodeLabel} applied index ${entry.index} as (term ${entry.term}, ${key}) but ${known.firstAppliedBy} applied it as (term ${known.term}, ${known.bodyKey}) at ${known.atMs} ms`,
      );
    }
    if (known.digestAfter !== digestAfter) {
      throw new SimViolation(
        "committed_entry_changed",
        `${nodeLabel} reached index ${entry.index} through a different sequence of entries than ${known.firstAppliedBy}`,
      );
    }
  }

  /** A snapshot loaded into a state machine must be the committed prefix up to its index. */
  observeSnapshotRestored(nodeLabel: string, snapshot: Snapshot): void {
    const index = snapshot.meta.lastIncludedIndex;
    const known = this.committed.get(index);
    if (known === undefined) return;
    if (known.term !== snapshot.meta.lastIncludedTerm) {
      throw new SimViolation(
        "committed_entry_changed",
        `${nodeLabel} loaded a snapshot at index ${index} with term ${snapshot.meta.lastIncludedTerm}, but that index was committed in term ${known.term}`,
      );
    }
    if (snapshotDigest(snapshot, nodeLabel) !== known.digestAfter) {
      throw new SimViolation(
        "committed_entry_changed",
        `${nodeLabel} loaded a snapshot at index ${index} whose state differs from the committed prefix`,
      );
    }
  }

  /**
   * Lease exclusivity (lease.ts (2)): two nodes never both hold a leader lease at the same
   * instant. Follower leases are not exclusive: every follower of a leader holds one, they may
   * outlast an election, and a node elected keeps its own until its leader lease takes over, so
   * two leaders of different terms may each still hold one from the leader they followed (seed
   * 394939875 at 5 nodes). Every lease, of either kind, is bounded instead by the leaders'
   * judgement: a node a leader judges `leaseSurelyExpired` does not in fact still hold one.
   */
  checkLeases(views: readonly LeaseView[], nowMs: number): void {
    let holder: LeaseView | undefined;
    for (const view of views) {
      if (!view.holdsLeaderLease) continue;
      if (!view.isLeader || !view.holdsLease) {
        throw new SimViolation(
          "lease_exclusivity",
          `at ${nowMs} ms node ${view.id} (term ${view.term}) claims a leader lease ${view.isLeader ? "but holds no lease" : "but does not lead"}`,
        );
      }
      if (holder !== undefined) {
        throw new SimViolation(
          "lease_exclusivity",
          `at ${nowMs} ms node ${holder.id} (term ${holder.term}) and node ${view.id} (term ${view.term}) are both leaders holding a leader lease`,
        );
      }
      holder = view;
    }
    for (const leader of views) {
      if (!leader.isLeader) continue;
      for (const other of views) {
        if (other.id === leader.id || !other.holdsLease) continue;
        if (leader.leaseSurelyExpired(other.id)) {
          throw new SimViolation(
            "lease_expiry",
            `at ${nowMs} ms leader ${leader.id} (term ${leader.term}) judges node ${other.id}'s lease surely expired, but node ${other.id} (term ${other.term}) still holds it`,
          );
        }
      }
    }
  }
}
