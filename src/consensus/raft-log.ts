import { InvariantError } from "../invariant/invariant-error.js";
import type { LogEntry, Membership, SnapshotMeta } from "./types.js";

/**
 * The in-memory view of a node's log: the entries after the snapshot, addressed by their Raft
 * index. Index 0 (term 0) is the empty prefix every log shares; the snapshot's last index stands
 * in for the entries it replaced, with only its term known.
 */
export class RaftLog {
  private snapshotLastIndex: number;
  private snapshotLastTerm: number;
  private snapshotMembership: Membership | null;
  private entries: LogEntry[];

  constructor(snapshot: SnapshotMeta | null, entries: readonly LogEntry[]) {
    this.snapshotLastIndex = snapshot?.lastIncludedIndex ?? 0;
    this.snapshotLastTerm = snapshot?.lastIncludedTerm ?? 0;
    this.snapshotMembership = snapshot?.membership ?? null;
    const problem = describeContiguityProblem(
      this.snapshotLastIndex,
      this.snapshotLastTerm,
      entries,
    );
    if (problem !== null)
      throw new InvariantError(`persisted raft log is inconsistent: ${problem}`);
    this.entries = [...entries];
  }

  snapshotIndex(): number {
    return this.snapshotLastIndex;
  }

  snapshotTerm(): number {
    return this.snapshotLastTerm;
  }

  firstIndex(): number {
    return this.snapshotLastIndex + 1;
  }

  lastIndex(): number {
    return this.snapshotLastIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.entries.at(-1)?.term ?? this.snapshotLastTerm;
  }

  /** The term at `index`, or undefined when the index is compacted away or beyond the end. */
  termAt(index: number): number | undefined {
    if (index === this.snapshotLastIndex) return this.snapshotLastTerm;
    return this.entryAt(index)?.term;
  }

  entryAt(index: number): LogEntry | undefined {
    if (index <= this.snapshotLastIndex) return undefined;
    return this.entries[index - this.snapshotLastIndex - 1];
  }

  /** Up to `maxCount` entries from `fromIndex` (which must not be compacted away). */
  slice(fromIndex: number, maxCount: number): LogEntry[] {
    if (fromIndex <= this.snapshotLastIndex) {
      throw new InvariantError(
        `log slice from ${fromIndex} is inside the snapshot (${this.snapshotLastIndex})`,
      );
    }
    const start = fromIndex - this.snapshotLastIndex - 1;
    return this.entries.slice(start, start + maxCount);
  }

  /** Entries in (afterIndex, throughIndex], for applying committed entries. */
  between(afterIndex: number, throughIndex: number): LogEntry[] {
    const start = Math.max(afterIndex, this.snapshotLastIndex) - this.snapshotLastIndex;
    return this.entries.slice(start, throughIndex - this.snapshotLastIndex);
  }

  append(entry: LogEntry): void {
    if (entry.index !== this.lastIndex() + 1) {
      throw new InvariantError(
        `log append at ${entry.index} does not follow last index ${this.lastIndex()}`,
      );
    }
    this.entries.push(entry);
  }

  /** Drops every entry with index >= `fromIndex`. */
  truncateFrom(fromIndex: number): void {
    if (fromIndex <= this.snapshotLastIndex) {
      throw new InvariantError(`log truncation at ${fromIndex} would cut into the snapshot`);
    }
    this.entries.length = Math.max(0, fromIndex - this.snapshotLastIndex - 1);
  }

  /** Replaces the prefix through `meta.lastIncludedIndex` by a snapshot; keeps what follows. */
  compactTo(meta: SnapshotMeta): void {
    const drop = meta.lastIncludedIndex - this.snapshotLastIndex;
    this.entries = this.entries.slice(Math.max(0, drop));
    this.setSnapshot(meta);
  }

  /** Discards the whole log in favour of a snapshot (a follower's log diverged or was short). */
  resetTo(meta: SnapshotMeta): void {
    this.entries = [];
    this.setSnapshot(meta);
  }

  /** Raft §5.4.1: is a log ending at (lastIndex, lastTerm) at least as up to date as this one? */
  isAtLeastAsUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ownTerm = this.lastTerm();
    return lastTerm > ownTerm || (lastTerm === ownTerm && lastIndex >= this.lastIndex());
  }

  /**
   * The membership in force at `atIndex`: the last membership entry at or before it, else the
   * snapshot's, else null (the caller falls back to the initial membership).
   */
  membershipAt(atIndex: number): { membership: Membership; index: number } | null {
    for (let index = Math.min(atIndex, this.lastIndex()); index > this.snapshotLastIndex; index--) {
      const body = this.entryAt(index)?.body;
      if (body?.kind === "membership") return { membership: body.membership, index };
    }
    if (this.snapshotMembership !== null) {
      return { membership: this.snapshotMembership, index: this.snapshotLastIndex };
    }
    return null;
  }

  /**
   * Where a leader should retry after `prevLogIndex`/`prevLogTerm` did not match: the highest
   * index at or below both prevLogIndex - 1 and our last index whose term is no greater than
   * prevLogTerm. Entries with a greater term cannot match the leader there, so a whole
   * divergent term is skipped per round trip instead of one entry.
   */
  conflictHint(prevLogIndex: number, prevLogTerm: number): number {
    let index = Math.min(prevLogIndex - 1, this.lastIndex());
    while (index > this.snapshotLastIndex && (this.termAt(index) ?? 0) > prevLogTerm) index--;
    return Math.max(index, this.snapshotLastIndex);
  }

  private setSnapshot(meta: SnapshotMeta): void {
    this.snapshotLastIndex = meta.lastIncludedIndex;
    this.snapshotLastTerm = meta.lastIncludedTerm;
    this.snapshotMembership = meta.membership;
  }
}

/** Null when `entries` continue contiguously after (afterIndex, afterTerm) with sane terms. */
export function describeContiguityProblem(
  afterIndex: number,
  afterTerm: number,
  entries: readonly LogEntry[],
): string | null {
  let expectedIndex = afterIndex + 1;
  let previousTerm = afterTerm;
  for (const entry of entries) {
    if (entry.index !== expectedIndex) {
      return `entry index ${entry.index} where ${expectedIndex} was expected`;
    }
    if (!Number.isInteger(entry.term) || entry.term < previousTerm) {
      return `entry ${entry.index} has term ${entry.term} below the preceding term ${previousTerm}`;
    }
    previousTerm = entry.term;
    expectedIndex++;
  }
  return null;
}
