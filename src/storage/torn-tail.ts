import {
  findValidRecordFrom,
  MAX_PAYLOAD_BYTES,
  MIN_PAYLOAD_BYTES,
  RECORD_HEADER_BYTES,
} from "./record-codec.js";

/** The lowest byte JSON text holds as it is: JSON.stringify escapes every control character. */
const FIRST_TEXT_BYTE = 0x20;

/**
 * Tells a torn final record from damage, for the bytes of a log file from `offset` (where the
 * first record that does not read starts) to its end.
 *
 * The log only grows by one record per append, written in one write() and fdatasync'd before
 * the append is acknowledged to anyone, one append at a time. A crash (power loss; a killed
 * process leaves whole writes in the page cache) can therefore tear only the record being
 * appended, which nobody was told about, and leaves of it only a prefix of what was written, in
 * which blocks the disk did not reach read as zeros. So the tail is a torn final record when:
 *   - no valid record starts anywhere in it;
 *   - its header is cut short, or its length field is one a record can have (or zero: not
 *     written), and then the tail is no longer than that record;
 *   - every byte after the header is JSON text or zero.
 * Anything else (a valid record after the damage, bytes past the declared record, a length no
 * record has, control bytes in a payload) is something no crash writes: a bad disk, a stray
 * write, a truncated copy. Dropping it could lose acknowledged entries, so it is refused.
 *
 * Returns null for a torn final record, otherwise why the tail is not one.
 */
export function whyNotTornTail(bytes: Buffer, offset: number): string | null {
  const later = findValidRecordFrom(bytes, offset + 1);
  if (later !== null) return `a valid record follows at offset ${later}`;
  const tailBytes = bytes.length - offset;
  if (tailBytes < RECORD_HEADER_BYTES) return null;
  const length = bytes.readUInt32LE(offset);
  if (length !== 0) {
    if (length < MIN_PAYLOAD_BYTES || length > MAX_PAYLOAD_BYTES) {
      return `its length field reads ${length}, which no record has`;
    }
    const recordEnd = offset + RECORD_HEADER_BYTES + length;
    if (recordEnd < bytes.length) {
      return `${bytes.length - recordEnd} bytes follow the end of the record its header declares, at offset ${recordEnd}`;
    }
  }
  for (let at = offset + RECORD_HEADER_BYTES; at < bytes.length; at++) {
    const byte = bytes[at]!;
    if (byte !== 0 && byte < FIRST_TEXT_BYTE) {
      return `byte 0x${byte.toString(16).padStart(2, "0")} at offset ${at} is neither payload text nor an unwritten (zero) byte`;
    }
  }
  return null;
}
