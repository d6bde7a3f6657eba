import { describeMembershipProblem } from "./membership-change.js";
import { describeContiguityProblem } from "./raft-log.js";
import type { EntryBody, LogEntry, RaftMessage, Snapshot } from "./types.js";

/**
 * Null when a received message is internally consistent; otherwise what is wrong. The node
 * ignores (and counts) bad messages: a peer's bug or a corrupted frame must not crash it.
 */
export function describeMessageProblem(message: RaftMessage): string | null {
  if (typeof message !== "object" || message === null) return "message is not an object";
  if (!isCount(message.term))
    return `term must be a non-negative integer, got ${show(message.term)}`;
  switch (message.type) {
    case "request_vote":
      if (typeof message.preVote !== "boolean") return "request_vote.preVote must be a boolean";
      if (!isCount(message.lastLogIndex)) return "request_vote.lastLogIndex must be a count";
      if (!isCount(message.lastLogTerm) || message.lastLogTerm > message.term) {
        return "request_vote.lastLogTerm must be a count no greater than term";
      }
      if (message.commitIndex !== undefined && !isCount(message.commitIndex)) {
        return "request_vote.commitIndex must be a count";
      }
      if ((message.offerMatchIndex === undefined) !== (message.offerMatchTerm === undefined)) {
        return "request_vote.offerMatchIndex and offerMatchTerm come together";
      }
      if (
        message.offerMatchIndex !== undefined &&
        (!isCount(message.offerMatchIndex) || !isCount(message.offerMatchTerm))
      ) {
        return "request_vote.offerMatchIndex and offerMatchTerm must be counts";
      }
      return null;
    case "timeout_now":
      return null;
    case "vote":
      if (typeof message.preVote !== "boolean" || typeof message.granted !== "boolean") {
        return "vote.preVote and vote.granted must be booleans";
      }
      return null;
    case "append_entries":
      return describeAppendProblem(message);
    case "log_offer":
      return describeOfferProblem(message);
    case "append_response":
      if (typeof message.success !== "boolean") return "append_response.success must be a boolean";
      if (!isCount(message.matchIndex)) return "append_response.matchIndex must be a count";
      return describeTimesProblem(message.echoSentAtMs, message.sentAtMs);
    case "install_snapshot":
      if (!Number.isFinite(message.sentAtMs)) return "install_snapshot.sentAtMs must be a number";
      return describeSnapshotProblem(message.snapshot, message.term);
    case "snapshot_response":
      if (!isCount(message.matchIndex)) return "snapshot_response.matchIndex must be a count";
      return describeTimesProblem(message.echoSentAtMs, message.sentAtMs);
    default:
      return `unknown message type ${show((message as { type?: unknown }).type)}`;
  }
}

function describeAppendProblem(message: Extract<RaftMessage, { type: "append_entries" }>) {
  if (!isCount(message.prevLogIndex)) return "append_entries.prevLogIndex must be a count";
  if (!isCount(message.prevLogTerm) || message.prevLogTerm > message.term) {
    return "append_entries.prevLogTerm must be a count no greater than term";
  }
  if (!isCount(message.leaderCommit)) return "append_entries.leaderCommit must be a count";
  if (!Number.isFinite(message.sentAtMs)) return "append_entries.sentAtMs must be a number";
  if (!Array.isArray(message.entries)) return "append_entries.entries must be an array";
  for (const entry of message.entries) {
    const problem = describeEntryProblem(entry);
    if (problem !== null) return problem;
    if (entry.term > message.term) {
      return `entry ${entry.index} has term ${entry.term} above the message term ${message.term}`;
    }
  }
  const contiguity = describeContiguityProblem(
    message.prevLogIndex,
    message.prevLogTerm,
    message.entries,
  );
  return contiguity === null ? null : `append_entries: ${contiguity}`;
}

function describeOfferProblem(offer: Extract<RaftMessage, { type: "log_offer" }>) {
  if (
    !isCount(offer.lastLogIndex) ||
    !isCount(offer.lastLogTerm) ||
    offer.lastLogTerm > offer.term
  ) {
    return "log_offer.lastLogIndex and lastLogTerm must be counts, the term no greater than the message's";
  }
  if (!isCount(offer.prevLogIndex) || !isCount(offer.prevLogTerm)) {
    return "log_offer.prevLogIndex and prevLogTerm must be counts";
  }
  if (!Array.isArray(offer.entries)) return "log_offer.entries must be an array";
  for (const entry of offer.entries) {
    const problem = describeEntryProblem(entry);
    if (problem !== null) return `log_offer: ${problem}`;
  }
  const contiguity = describeContiguityProblem(
    offer.prevLogIndex,
    offer.prevLogTerm,
    offer.entries,
  );
  if (contiguity !== null) return `log_offer: ${contiguity}`;
  // The offered log ends where it says: what it sends is a prefix of it.
  const end = offer.entries.at(-1) ?? { index: offer.prevLogIndex, term: offer.prevLogTerm };
  if (end.index > offer.lastLogIndex || end.term > offer.lastLogTerm) {
    return `log_offer: entries reach ${end.index}/t${end.term}, beyond the log's end ${offer.lastLogIndex}/t${offer.lastLogTerm}`;
  }
  if (offer.snapshot === undefined) return null;
  const snapshot = describeSnapshotProblem(offer.snapshot, offer.term);
  if (snapshot !== null) return `log_offer: ${snapshot}`;
  const meta = offer.snapshot.meta;
  if (
    meta.lastIncludedIndex !== offer.prevLogIndex ||
    meta.lastIncludedTerm !== offer.prevLogTerm ||
    offer.entries.length > 0
  ) {
    return "log_offer: a snapshot comes alone, ending at prevLogIndex/prevLogTerm";
  }
  return null;
}

function describeEntryProblem(entry: LogEntry): string | null {
  if (typeof entry !== "object" || entry === null) return "log entry is not an object";
  if (!isCount(entry.index) || entry.index === 0)
    return "log entry index must be a positive integer";
  if (!isCount(entry.term)) return `entry ${entry.index}: term must be a count`;
  const body = entry.body as EntryBody | undefined;
  switch (body?.kind) {
    case "noop":
      return null;
    case "command":
      return typeof body.payload === "string" ? null : `entry ${entry.index}: payload must be text`;
    case "membership": {
      const problem = describeMembershipProblem(body.membership);
      return problem === null ? null : `entry ${entry.index}: ${problem}`;
    }
    default:
      return `entry ${entry.index}: unknown body kind ${show((body as { kind?: unknown } | undefined)?.kind)}`;
  }
}

function describeSnapshotProblem(snapshot: Snapshot, messageTerm: number): string | null {
  if (typeof snapshot !== "object" || snapshot === null) return "snapshot is not an object";
  const meta = snapshot.meta;
  if (typeof meta !== "object" || meta === null) return "snapshot.meta is not an object";
  if (!isCount(meta.lastIncludedIndex)) return "snapshot.meta.lastIncludedIndex must be a count";
  if (!isCount(meta.lastIncludedTerm) || meta.lastIncludedTerm > messageTerm) {
    return "snapshot.meta.lastIncludedTerm must be a count no greater than the message term";
  }
  const membership = describeMembershipProblem(meta.membership);
  if (membership !== null) return `snapshot.meta.membership: ${membership}`;
  return typeof snapshot.data === "string" ? null : "snapshot.data must be text";
}

function describeTimesProblem(echoSentAtMs: number, sentAtMs: number | undefined): string | null {
  if (!Number.isFinite(echoSentAtMs)) return "echoSentAtMs must be a number";
  if (sentAtMs !== undefined && !Number.isFinite(sentAtMs)) return "sentAtMs must be a number";
  return null;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
