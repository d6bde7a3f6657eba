import type { LogEntry } from "../consensus/types.js";
import {
  checkSchema,
  type LogHeader,
  type LogRecord,
  logHeaderSchema,
  logRecordSchema,
} from "./raft-store-schema.js";
import {
  encodeJsonRecord,
  FILE_MAGIC_BYTES,
  fileMagic,
  parseJsonPayload,
  readRecordAt,
} from "./record-codec.js";
import { StoreCorruptError } from "./store-corrupt-error.js";
import { whyNotTornTail } from "./torn-tail.js";

/**
 * The Raft log file: magic, a header record naming the index the file starts after, then one
 * record per apply() — so every append is a single write followed by a single fdatasync, and a
 * crash can only ever tear the final record, which was never acknowledged (torn-tail.ts).
 */

export const LOG_MAGIC = fileMagic("VIGRLOG1");

/** Entries per record when rewriting the whole log, to keep each record far below the size cap. */
const ENTRIES_PER_COMPACTED_RECORD = 1024;

export function encodeLogRecord(record: LogRecord): Buffer {
  return encodeJsonRecord(record);
}

/** A complete log file holding `entries`, which must start at baseIndex + 1. */
export function encodeLogFile(baseIndex: number, entries: readonly LogEntry[]): Buffer {
  const parts = [LOG_MAGIC, encodeJsonRecord({ baseIndex } satisfies LogHeader)];
  for (let start = 0; start < entries.length; start += ENTRIES_PER_COMPACTED_RECORD) {
    parts.push(
      encodeLogRecord({ entries: entries.slice(start, start + ENTRIES_PER_COMPACTED_RECORD) }),
    );
  }
  return Buffer.concat(parts);
}

export interface ReplayedLog {
  baseIndex: number;
  /** Contiguous from baseIndex + 1. */
  entries: LogEntry[];
  /** Bytes holding valid records; anything after them is a torn final write to cut off. */
  validBytes: number;
  /** The torn final record found after them, if any (see torn-tail.ts). */
  tornTail: TornTail | null;
}

export interface TornTail {
  /** Where the torn record starts: the bytes from here on are dropped. */
  offset: number;
  droppedBytes: number;
  /** Why the record does not read. */
  reason: string;
}

/** Rebuilds the log from the bytes of the log file `file` (the path, for error messages). */
export function replayLog(bytes: Buffer, file: string): ReplayedLog {
  if (bytes.length < FILE_MAGIC_BYTES || !bytes.subarray(0, FILE_MAGIC_BYTES).equals(LOG_MAGIC)) {
    throw new StoreCorruptError(file, "offset 0", "not a Vigil Raft log: the file magic is wrong");
  }
  // The file is only ever created by an atomic rename, so even its header cannot be torn.
  const headerRead = readRecordAt(bytes, FILE_MAGIC_BYTES);
  if (!headerRead.ok) {
    throw new StoreCorruptError(
      file,
      `offset ${FILE_MAGIC_BYTES}`,
      `header record: ${headerRead.reason}`,
    );
  }
  const header = decodePayload(
    headerRead.payload,
    logHeaderSchema,
    file,
    FILE_MAGIC_BYTES,
    "header",
  );
  const baseIndex = header.baseIndex;
  const entries: LogEntry[] = [];
  let offset = headerRead.end;
  let recordNumber = 0;
  while (offset < bytes.length) {
    recordNumber++;
    const where = `record ${recordNumber} at offset ${offset}`;
    const read = readRecordAt(bytes, offset);
    if (!read.ok) {
      const notTorn = whyNotTornTail(bytes, offset);
      if (notTorn !== null) {
        throw new StoreCorruptError(
          file,
          where,
          `${read.reason}, and this is not a torn final write: ${notTorn}`,
        );
      }
      const tornTail = { offset, droppedBytes: bytes.length - offset, reason: read.reason };
      return { baseIndex, entries, validBytes: offset, tornTail };
    }
    const record = decodePayload(
      read.payload,
      logRecordSchema,
      file,
      offset,
      `record ${recordNumber}`,
    );
    applyRecord(entries, baseIndex, record, file, where);
    offset = read.end;
  }
  return { baseIndex, entries, validBytes: bytes.length, tornTail: null };
}

function applyRecord(
  entries: LogEntry[],
  baseIndex: number,
  record: LogRecord,
  file: string,
  where: string,
): void {
  if (record.truncateFrom !== undefined) {
    if (record.truncateFrom <= baseIndex) {
      throw new StoreCorruptError(
        file,
        where,
        `truncates from index ${record.truncateFrom}, at or below the log's start index ${baseIndex + 1}`,
      );
    }
    entries.length = Math.min(entries.length, record.truncateFrom - baseIndex - 1);
  }
  for (const entry of record.entries) {
    const expected = baseIndex + entries.length + 1;
    if (entry.index !== expected) {
      const kind = entry.index > expected ? "a gap" : "a non-increasing index";
      throw new StoreCorruptError(
        file,
        where,
        `holds entry ${entry.index} where ${expected} was expected (${kind})`,
      );
    }
    entries.push(entry);
  }
}

function decodePayload<T>(
  payload: Buffer,
  schema: Parameters<typeof checkSchema<T>>[0],
  file: string,
  offset: number,
  what: string,
): T {
  const parsed = parseJsonPayload(payload);
  const checked = parsed.ok
    ? checkSchema(schema, parsed.value)
    : { ok: false as const, problem: parsed.reason };
  if (!checked.ok) {
    throw new StoreCorruptError(
      file,
      `${what} at offset ${offset}`,
      `passes its checksum but does not decode (${checked.problem}); was it written by another version?`,
    );
  }
  return checked.value;
}
