import type { RaftLog } from "./raft-log.js";
import type { RaftMessage, Snapshot } from "./types.js";

type VoteRequest = Extract<RaftMessage, { type: "request_vote" }>;
export type LogOffer = Extract<RaftMessage, { type: "log_offer" }>;

/**
 * A witness votes and keeps the log but never leads. When the leader dies right after an entry
 * reached only the witness, that entry may be committed (leader and witness are a majority), and
 * the witness rightly refuses every candidate whose log lacks it: with nobody else able to lead,
 * no election could ever succeed. So the witness hands the candidate what it lacks, and the
 * candidate asks again.
 *
 * Why taking it is safe: the receiver takes an offer only from a log strictly more up to date
 * than its own (Raft §5.4.1). Such a log holds every entry the receiver has committed, at the
 * same index and term: an entry committed in a term before the offering log's last term is in
 * the log of that term's leader, which the offering log follows up to its end (Leader
 * Completeness, Log Matching); one committed in that term or later puts an entry of that term on
 * the receiver, which would then be at least as up to date. So the entries the receiver drops for
 * the offer's are never committed ones, and every entry it takes was written by a leader.
 */
export function buildLogOffer(
  log: RaftLog,
  snapshot: Snapshot | null,
  request: VoteRequest,
  term: number,
  maxEntries: number,
): LogOffer {
  const base = {
    type: "log_offer",
    term,
    lastLogIndex: log.lastIndex(),
    lastLogTerm: log.lastTerm(),
  } as const;
  const prevLogIndex = offerStart(log, request);
  if (prevLogIndex === null) {
    // The candidate may lack what this log compacted: the snapshot first, the entries after it
    // in the next round (a snapshot and entries never share one Ready, types.ts).
    const meta = snapshot?.meta;
    if (snapshot === null || meta === undefined || meta.lastIncludedIndex === 0) {
      return { ...base, prevLogIndex: 0, prevLogTerm: 0, entries: log.slice(1, maxEntries) };
    }
    return {
      ...base,
      prevLogIndex: meta.lastIncludedIndex,
      prevLogTerm: meta.lastIncludedTerm,
      entries: [],
      snapshot,
    };
  }
  return {
    ...base,
    prevLogIndex,
    prevLogTerm: log.termAt(prevLogIndex)!,
    entries: log.slice(prevLogIndex + 1, maxEntries),
  };
}

/**
 * Where the candidate's log surely matches this one, the furthest of: its last entry, if this log
 * holds it (then the whole candidate log is a prefix of this one, by Log Matching); the entry it
 * matched our last offer at, if this log still holds it; its commit index (its committed entries
 * are in this log, see above). Null when none is in this log's entries.
 */
function offerStart(log: RaftLog, request: VoteRequest): number | null {
  const held = (index: number | undefined, term: number | undefined) =>
    index !== undefined &&
    index >= log.snapshotIndex() &&
    index <= log.lastIndex() &&
    (term === undefined || log.termAt(index) === term);
  if (held(request.lastLogIndex, request.lastLogTerm)) return request.lastLogIndex;
  const starts = [
    held(request.offerMatchIndex, request.offerMatchTerm) ? request.offerMatchIndex! : -1,
    held(request.commitIndex, undefined) ? request.commitIndex! : -1,
  ];
  const start = Math.max(...starts);
  return start < 0 ? null : start;
}
