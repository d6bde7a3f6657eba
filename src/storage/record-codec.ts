import { crc32c } from "./crc32c.js";

/**
 * Framing shared by the Raft store's files: an 8-byte file magic, then records of
 *
 *   [u32 LE payload length][u32 LE CRC-32C of (length bytes ‖ payload)][payload]
 *
 * Payloads are JSON text. The checksum covers the length too, so a damaged length is caught
 * rather than trusted to find the next record.
 */

export const FILE_MAGIC_BYTES = 8;
export const RECORD_HEADER_BYTES = 8;
/** The shortest payload ever written is `{}`; a zero length is what a zero-filled tail reads as. */
export const MIN_PAYLOAD_BYTES = 2;
/**
 * 256 MiB bounds memory on recovery. It is also below 0x20202020, the smallest length whose four
 * bytes are all printable: JSON text never holds bytes under 0x20, so no plausible record header
 * can start inside a payload — which is what lets recovery tell a torn tail (no valid record
 * after the damage) from corruption (valid records after it).
 */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

export function fileMagic(text: string): Buffer {
  const magic = Buffer.from(text, "latin1");
  if (magic.length !== FILE_MAGIC_BYTES)
    throw new RangeError(`file magic "${text}" is not 8 bytes`);
  return magic;
}

export function encodeRecord(payload: Buffer): Buffer {
  if (payload.length < MIN_PAYLOAD_BYTES || payload.length > MAX_PAYLOAD_BYTES) {
    throw new RangeError(
      `record payload of ${payload.length} bytes is outside ${MIN_PAYLOAD_BYTES}..${MAX_PAYLOAD_BYTES}; split the batch`,
    );
  }
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  record.writeUInt32LE(payload.length, 0);
  record.writeUInt32LE(crc32c(payload, crc32c(record.subarray(0, 4))), 4);
  payload.copy(record, RECORD_HEADER_BYTES);
  return record;
}

export function encodeJsonRecord(value: unknown): Buffer {
  return encodeRecord(Buffer.from(JSON.stringify(value), "utf8"));
}

export type RecordRead = { ok: true; payload: Buffer; end: number } | { ok: false; reason: string };

/** Reads the record starting at `offset` of `bytes`, checking its bounds and checksum. */
export function readRecordAt(bytes: Buffer, offset: number): RecordRead {
  if (offset + RECORD_HEADER_BYTES > bytes.length) {
    return { ok: false, reason: "record header cut short by the end of the file" };
  }
  const length = bytes.readUInt32LE(offset);
  if (length < MIN_PAYLOAD_BYTES || length > MAX_PAYLOAD_BYTES) {
    return { ok: false, reason: `implausible record length ${length}` };
  }
  const end = offset + RECORD_HEADER_BYTES + length;
  if (end > bytes.length) {
    return { ok: false, reason: `record of ${length} bytes runs past the end of the file` };
  }
  const expected = bytes.readUInt32LE(offset + 4);
  const payload = bytes.subarray(offset + RECORD_HEADER_BYTES, end);
  const actual = crc32c(payload, crc32c(bytes.subarray(offset, offset + 4)));
  if (actual !== expected) {
    return { ok: false, reason: "record checksum mismatch" };
  }
  return { ok: true, payload, end };
}

/** The first offset at or after `from` where a valid record starts, or null if there is none. */
export function findValidRecordFrom(bytes: Buffer, from: number): number | null {
  for (let offset = from; offset + RECORD_HEADER_BYTES <= bytes.length; offset++) {
    if (readRecordAt(bytes, offset).ok) return offset;
  }
  return null;
}

/** Parses a checksummed payload as JSON; a failure here is a bug or a format mismatch. */
export function parseJsonPayload(
  payload: Buffer,
): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(payload.toString("utf8")) };
  } catch (error) {
    return { ok: false, reason: `payload is not JSON: ${(error as Error).message}` };
  }
}
