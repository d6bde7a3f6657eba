import type { NodeId, RaftMessage } from "../consensus/types.js";

export interface TraceEntry {
  atMs: number;
  /** The node the event happened on, or null for the network, faults and clients. */
  nodeId: NodeId | null;
  what: string;
}

/**
 * What happened, for a failure report: the last `tailLength` entries verbatim, plus a digest
 * of every entry ever recorded, so two runs can be compared for exact determinism cheaply.
 */
export class Trace {
  private readonly ring: TraceEntry[] = [];
  private next = 0;
  private hashA = 0x811c9dc5;
  private hashB = 0x01000193;
  count = 0;

  constructor(
    private readonly tailLength: number,
    private readonly onEntry?: (entry: TraceEntry) => void,
  ) {
    if (!Number.isInteger(tailLength) || tailLength < 1) {
      throw new Error(`Trace: tailLength must be a positive integer, got ${tailLength}`);
    }
  }

  record(atMs: number, nodeId: NodeId | null, what: string): void {
    const entry: TraceEntry = { atMs, nodeId, what };
    if (this.ring.length < this.tailLength) this.ring.push(entry);
    else this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.tailLength;
    this.count++;
    this.mix(`${atMs}|${nodeId ?? "-"}|${what}\n`);
    this.onEntry?.(entry);
  }

  /** The most recent entries, oldest first. */
  tail(): TraceEntry[] {
    if (this.ring.length < this.tailLength) return [...this.ring];
    return [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }

  digest(): string {
    return `${(this.hashA >>> 0).toString(16).padStart(8, "0")}${(this.hashB >>> 0).toString(16).padStart(8, "0")}`;
  }

  private mix(text: string): void {
    let a = this.hashA;
    let b = this.hashB;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
    }
    this.hashA = a;
    this.hashB = b;
  }
}

export function formatTraceEntry(entry: TraceEntry): string {
  const node = entry.nodeId === null ? "  -" : `n${entry.nodeId}`.padStart(3);
  return `${String(entry.atMs).padStart(7)} ms ${node}  ${entry.what}`;
}

/** One line per message, enough to follow a protocol exchange in a trace. */
export function describeMessage(message: RaftMessage): string {
  switch (message.type) {
    case "request_vote":
      return `${message.preVote ? "pre" : ""}vote? t${message.term} last=${message.lastLogIndex}/t${message.lastLogTerm}${message.transfer === true ? " (transfer)" : ""}`;
    case "timeout_now":
      return `timeout_now t${message.term}`;
    case "vote":
      return `${message.preVote ? "pre" : ""}vote t${message.term} ${message.granted ? "granted" : "denied"}`;
    case "append_entries": {
      const entries = message.entries;
      const range =
        entries.length === 0
          ? ""
          : ` [${entries[0]!.index}..${entries[entries.length - 1]!.index}]`;
      return `append t${message.term} prev=${message.prevLogIndex}/t${message.prevLogTerm}${range} commit=${message.leaderCommit}`;
    }
    case "append_response":
      return `append_resp t${message.term} ${message.success ? "ok" : "fail"} match=${message.matchIndex}`;
    case "install_snapshot":
      return `snapshot t${message.term} at ${message.snapshot.meta.lastIncludedIndex}/t${message.snapshot.meta.lastIncludedTerm}`;
    case "snapshot_response":
      return `snapshot_resp t${message.term} match=${message.matchIndex}`;
    case "log_offer": {
      const what =
        message.snapshot === undefined
          ? `prev=${message.prevLogIndex}/t${message.prevLogTerm} ${message.entries.length} entries`
          : `snapshot at ${message.snapshot.meta.lastIncludedIndex}/t${message.snapshot.meta.lastIncludedTerm}`;
      return `log_offer t${message.term} ${what} (log ends ${message.lastLogIndex}/t${message.lastLogTerm})`;
    }
  }
}
