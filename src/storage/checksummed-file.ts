import type { z } from "zod";
import { checkSchema } from "./raft-store-schema.js";
import {
  encodeJsonRecord,
  FILE_MAGIC_BYTES,
  parseJsonPayload,
  readRecordAt,
} from "./record-codec.js";
import { StoreCorruptError } from "./store-corrupt-error.js";

/**
 * A small file holding one checksummed JSON value: magic, then one record. Such files are only
 * ever replaced by an atomic rename, so any damage — even a short file — is real corruption.
 */

export function encodeChecksummedFile(magic: Buffer, value: unknown): Buffer {
  return Buffer.concat([magic, encodeJsonRecord(value)]);
}

export function decodeChecksummedFile<T>(
  bytes: Buffer,
  magic: Buffer,
  schema: z.ZodType<T>,
  file: string,
): T {
  if (bytes.length < FILE_MAGIC_BYTES || !bytes.subarray(0, FILE_MAGIC_BYTES).equals(magic)) {
    throw new StoreCorruptError(
      file,
      "offset 0",
      `the file magic is not ${magic.toString("latin1")}`,
    );
  }
  const read = readRecordAt(bytes, FILE_MAGIC_BYTES);
  if (!read.ok) {
    throw new StoreCorruptError(file, `offset ${FILE_MAGIC_BYTES}`, read.reason);
  }
  if (read.end !== bytes.length) {
    throw new StoreCorruptError(
      file,
      `offset ${read.end}`,
      `${bytes.length - read.end} unexpected bytes after the record`,
    );
  }
  const parsed = parseJsonPayload(read.payload);
  const checked = parsed.ok
    ? checkSchema(schema, parsed.value)
    : { ok: false as const, problem: parsed.reason };
  if (!checked.ok) {
    throw new StoreCorruptError(
      file,
      `offset ${FILE_MAGIC_BYTES}`,
      `passes its checksum but does not decode (${checked.problem}); was it written by another version?`,
    );
  }
  return checked.value;
}
