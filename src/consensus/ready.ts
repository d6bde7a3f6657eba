import type {
  Envelope,
  HardState,
  LogEntry,
  NodeId,
  PersistOps,
  RaftEvent,
  RaftMessage,
  Ready,
  Snapshot,
} from "./types.js";

/** Collects what one step of the node wants done, in the order the caller must do it. */
export class ReadyBuilder {
  private readonly persist: PersistOps = {};
  private readonly messages: Envelope[] = [];
  private readonly events: RaftEvent[] = [];
  private committed: LogEntry[] = [];
  private restoreSnapshot: Snapshot | null = null;

  constructor(private readonly from: NodeId) {}

  hardState(state: HardState): void {
    this.persist.hardState = { ...state };
  }

  append(entry: LogEntry): void {
    this.persist.append = [...(this.persist.append ?? []), entry];
  }

  /** Entries appended earlier in this step and now cut are simply not written. */
  truncateFrom(index: number): void {
    this.persist.truncateFrom = Math.min(this.persist.truncateFrom ?? index, index);
    if (this.persist.append !== undefined) {
      this.persist.append = this.persist.append.filter((entry) => entry.index < index);
      if (this.persist.append.length === 0) delete this.persist.append;
    }
  }

  snapshot(snapshot: Snapshot): void {
    this.persist.snapshot = snapshot;
  }

  restore(snapshot: Snapshot): void {
    this.restoreSnapshot = snapshot;
    this.committed = [];
  }

  commit(entries: LogEntry[]): void {
    this.committed.push(...entries);
  }

  send(to: NodeId, message: RaftMessage): void {
    this.messages.push({ from: this.from, to, message });
  }

  event(event: RaftEvent): void {
    this.events.push(event);
  }

  build(): Ready {
    return {
      persist: this.persist,
      messages: this.messages,
      committed: this.committed,
      restoreSnapshot: this.restoreSnapshot,
      events: this.events,
    };
  }
}
