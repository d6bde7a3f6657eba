import type {
  HardState,
  LogEntry,
  PersistedState,
  PersistOps,
  Snapshot,
} from "../consensus/types.js";
import { SimViolation } from "./violation.js";

/**
 * One node's durable storage. `apply` is the fsync point: whatever it accepted survives a crash,
 * and nothing else does. It also guards the invariants a durable Raft log must keep (contiguous
 * log, term never going back, one vote per term), so a core that breaks them fails loudly here.
 */
export class SimDisk {
  private hardState: HardState = { term: 0, votedFor: null };
  private snapshot: Snapshot | null = null;
  private entries: LogEntry[] = [];

  constructor(private readonly nodeLabel: string) {}

  load(): PersistedState {
    return {
      hardState: { ...this.hardState },
      snapshot: this.snapshot,
      entries: [...this.entries],
    };
  }

  snapshotOnDisk(): Snapshot | null {
    return this.snapshot;
  }

  lastIndex(): number {
    const last = this.entries[this.entries.length - 1];
    if (last !== undefined) return last.index;
    return this.snapshot?.meta.lastIncludedIndex ?? 0;
  }

  apply(ops: PersistOps): void {
    if (ops.hardState !== undefined) this.writeHardState(ops.hardState);
    if (ops.snapshot !== undefined) this.writeSnapshot(ops.snapshot);
    if (ops.truncateFrom !== undefined) this.truncateFrom(ops.truncateFrom);
    if (ops.append !== undefined && ops.append.length > 0) this.append(ops.append);
  }

  private writeHardState(next: HardState): void {
    const previous = this.hardState;
    if (next.term < previous.term) {
      throw new SimViolation(
        "durable_vote",
        `${this.nodeLabel} persisted term ${next.term} after term ${previous.term}`,
      );
    }
    if (
      next.term === previous.term &&
      previous.votedFor !== null &&
      next.votedFor !== previous.votedFor
    ) {
      throw new SimViolation(
        "durable_vote",
        `${this.nodeLabel} changed its vote in term ${next.term} from ${previous.votedFor} to ${next.votedFor}`,
      );
    }
    this.hardState = { ...next };
  }

  private writeSnapshot(snapshot: Snapshot): void {
    const current = this.snapshot?.meta.lastIncludedIndex ?? 0;
    const next = snapshot.meta.lastIncludedIndex;
    if (next < current) {
      throw new SimViolation(
        "contract",
        `${this.nodeLabel} persisted snapshot at ${next} over a newer one at ${current}`,
      );
    }
    this.snapshot = snapshot;
    this.entries = this.entries.filter((entry) => entry.index > next);
    if (this.entries.length > 0 && this.entries[0]!.index !== next + 1) this.entries = [];
  }

  private truncateFrom(index: number): void {
    const snapshotIndex = this.snapshot?.meta.lastIncludedIndex ?? 0;
    if (index <= snapshotIndex) {
      throw new SimViolation(
        "contract",
        `${this.nodeLabel} truncateFrom ${index} reaches into its snapshot (up to ${snapshotIndex})`,
      );
    }
    const keep = this.entries.findIndex((entry) => entry.index >= index);
    if (keep >= 0) this.entries.length = keep;
  }

  private append(entries: readonly LogEntry[]): void {
    let expected = this.lastIndex() + 1;
    for (const entry of entries) {
      if (entry.index !== expected) {
        throw new SimViolation(
          "contract",
          `${this.nodeLabel} appended index ${entry.index} where ${expected} was next (log must stay contiguous)`,
        );
      }
      expected++;
    }
    this.entries.push(...entries);
  }
}
