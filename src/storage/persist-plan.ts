import type { LogEntry, PersistedState, PersistOps } from "../consensus/types.js";
import {
  checkSchema,
  hardStateSchema,
  type LogRecord,
  logEntrySchema,
  snapshotSchema,
} from "./raft-store-schema.js";

/** The core asked for something that would leave the log non-contiguous or unreadable. */
export class InvalidPersistOpsError extends Error {
  override readonly name = "InvalidPersistOpsError";
}

export interface PersistPlan {
  next: PersistedState;
  /** A snapshot replaces the old one: write it, then rewrite the log from `next.entries`. */
  snapshotChanged: boolean;
  /** Without a snapshot: the one record to append for the log change, if the log changes. */
  logRecord: LogRecord | null;
  hardStateChanged: boolean;
}

/**
 * Works out, without touching the disk, what `ops` does to `current` — in the order snapshot,
 * truncateFrom, append, hardState — and refuses ops that would break the log's contiguity, so
 * nothing invalid ever reaches the disk.
 */
export function planPersist(current: PersistedState, ops: PersistOps): PersistPlan {
  let snapshot = current.snapshot;
  let entries: LogEntry[] = current.entries;
  if (ops.snapshot !== undefined) {
    const checked = checkSchema(snapshotSchema, ops.snapshot);
    if (!checked.ok) throw new InvalidPersistOpsError(`snapshot: ${checked.problem}`);
    const previousIndex = snapshot?.meta.lastIncludedIndex ?? 0;
    if (checked.value.meta.lastIncludedIndex < previousIndex) {
      throw new InvalidPersistOpsError(
        `snapshot at index ${checked.value.meta.lastIncludedIndex} is older than the stored one at ${previousIndex}`,
      );
    }
    snapshot = checked.value;
    const coveredIndex = snapshot.meta.lastIncludedIndex;
    entries = entries.filter((entry) => entry.index > coveredIndex);
  }
  const snapshotIndex = snapshot?.meta.lastIncludedIndex ?? 0;

  let truncateFrom: number | undefined;
  if (ops.truncateFrom !== undefined) {
    if (!Number.isSafeInteger(ops.truncateFrom) || ops.truncateFrom <= snapshotIndex) {
      throw new InvalidPersistOpsError(
        `truncateFrom ${ops.truncateFrom} must be an integer above the snapshot index ${snapshotIndex}`,
      );
    }
    const kept = ops.truncateFrom - snapshotIndex - 1;
    if (kept < entries.length) {
      entries = entries.slice(0, kept);
      truncateFrom = ops.truncateFrom;
    }
  }

  const appended: LogEntry[] = [];
  for (const [position, entry] of (ops.append ?? []).entries()) {
    const checked = checkSchema(logEntrySchema, entry);
    if (!checked.ok) throw new InvalidPersistOpsError(`append[${position}]: ${checked.problem}`);
    const expected = snapshotIndex + entries.length + appended.length + 1;
    if (checked.value.index !== expected) {
      throw new InvalidPersistOpsError(
        `append[${position}] has index ${checked.value.index} but the log continues at ${expected}; truncate first or send contiguous entries`,
      );
    }
    appended.push(checked.value);
  }
  if (appended.length > 0) entries = [...entries, ...appended];

  let hardState = current.hardState;
  if (ops.hardState !== undefined) {
    const checked = checkSchema(hardStateSchema, ops.hardState);
    if (!checked.ok) throw new InvalidPersistOpsError(`hardState: ${checked.problem}`);
    hardState = checked.value;
  }

  // Raft never holds an entry of a term it has not entered: such ops come from a broken core.
  const newestTerm = entries.at(-1)?.term ?? snapshot?.meta.lastIncludedTerm ?? 0;
  if (newestTerm > hardState.term) {
    throw new InvalidPersistOpsError(
      `the log would hold an entry of term ${newestTerm} while the term is ${hardState.term}; a term is stored before (or with) its first entry`,
    );
  }

  const logChanged = truncateFrom !== undefined || appended.length > 0;
  return {
    next: { hardState, snapshot, entries },
    snapshotChanged: ops.snapshot !== undefined,
    logRecord: logChanged
      ? { ...(truncateFrom === undefined ? {} : { truncateFrom }), entries: appended }
      : null,
    hardStateChanged: ops.hardState !== undefined,
  };
}
