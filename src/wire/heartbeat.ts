import { MAX_ENCRYPTED_PLAINTEXT_BYTES } from "./codec.js";
import {
  isNodeId,
  isSafeU64,
  isU16,
  readSafeU64,
  requireField,
  U32_MAX,
  writeU64,
} from "./ints.js";
import type { Echo, HeartbeatPayload } from "./message.js";

/**
 * Heartbeat payload layout (big-endian):
 *   u32 linkSeq, u16 keepaliveMs, u8 echo count,
 *   then per echo: u16 peerId, u64 seq, u64 sentAtUs, u32 heldUs,
 *   then, only when the heartbeat carries attachments: u8 attachment count (1..255),
 *   then per attachment: u16 length (>= 1), that many bytes.
 * An attachment is the payload of a Cluster frame (src/transport/fragments.ts) riding along:
 * the leader's idle Raft appends leave with the heartbeats instead of in datagrams of their own.
 * A Leave payload is empty.
 */
const FIXED_BYTES = 7;
const ECHO_BYTES = 22;
const ATTACHMENTS_COUNT_BYTES = 1;
const ATTACHMENT_LENGTH_BYTES = 2;
const MAX_ATTACHMENTS = 255;

/**
 * Echoes one heartbeat can carry, sized so the payload fits a frame even when encrypted: the
 * sender never has to know whether a heartbeat will be encrypted to decide what fits. Larger
 * clusters must spread their echoes over successive heartbeats.
 */
export const MAX_ECHOES = Math.floor((MAX_ENCRYPTED_PLAINTEXT_BYTES - FIXED_BYTES) / ECHO_BYTES);

const LINK_SEQ_MODULUS = U32_MAX + 1;

export function heartbeatPayloadBytes(
  echoCount: number,
  attachments: readonly Uint8Array[] = [],
): number {
  const base = FIXED_BYTES + echoCount * ECHO_BYTES;
  if (attachments.length === 0) return base;
  let bytes = base + ATTACHMENTS_COUNT_BYTES;
  for (const attachment of attachments) bytes += ATTACHMENT_LENGTH_BYTES + attachment.length;
  return bytes;
}

/** What attaching `bytes` to a heartbeat costs, its length field included. */
export function attachmentCost(bytes: Uint8Array): number {
  return ATTACHMENT_LENGTH_BYTES + bytes.length;
}

/** Room for attachments (their length fields included) in a heartbeat with `echoCount` echoes. */
export function attachmentRoom(echoCount: number): number {
  return Math.max(
    0,
    MAX_ENCRYPTED_PLAINTEXT_BYTES - heartbeatPayloadBytes(echoCount) - ATTACHMENTS_COUNT_BYTES,
  );
}

/**
 * Throws RangeError for a caller's bug (a field out of range, more than MAX_ECHOES echoes,
 * attachments that are empty or do not fit an encrypted frame).
 * linkSeq is a modular u32 counter (it wraps after 2^32 heartbeats, years on a fast link), so
 * it is sent modulo 2^32; heldUs is clamped into 0..u32 max, because a held time is a measured
 * duration and a clock hiccup must not stop the heartbeats.
 */
export function encodeHeartbeatPayload(p: HeartbeatPayload): Uint8Array {
  requireField(isSafeU64(p.linkSeq), "linkSeq", p.linkSeq, "a non-negative safe integer");
  requireField(isU16(p.keepaliveMs), "keepaliveMs", p.keepaliveMs, "a u16");
  if (p.echoes.length > MAX_ECHOES) {
    throw new RangeError(
      `a heartbeat carries at most ${MAX_ECHOES} echoes (to fit one frame), got ${p.echoes.length}`,
    );
  }
  const attachments = p.attachments ?? [];
  const size = heartbeatPayloadBytes(p.echoes.length, attachments);
  if (attachments.length > 0) {
    if (attachments.length > MAX_ATTACHMENTS || size > MAX_ENCRYPTED_PLAINTEXT_BYTES) {
      throw new RangeError(
        `a heartbeat's attachments must fit one encrypted frame (${MAX_ENCRYPTED_PLAINTEXT_BYTES} bytes, at most ${MAX_ATTACHMENTS}), got ${attachments.length} making ${size} bytes`,
      );
    }
    if (attachments.some((attachment) => attachment.length === 0))
      throw new RangeError("a heartbeat attachment must not be empty");
  }
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32BE(p.linkSeq % LINK_SEQ_MODULUS, 0);
  out.writeUInt16BE(p.keepaliveMs, 4);
  out[6] = p.echoes.length;
  let offset = FIXED_BYTES;
  for (const echo of p.echoes) {
    requireField(isNodeId(echo.peerId), "echo peerId", echo.peerId, "a node id 1..65535");
    requireField(isSafeU64(echo.seq), "echo seq", echo.seq, "a safe u64");
    requireField(isSafeU64(echo.sentAtUs), "echo sentAtUs", echo.sentAtUs, "a safe u64");
    if (Number.isNaN(echo.heldUs)) throw new RangeError("echo heldUs must be a number, got NaN");
    out.writeUInt16BE(echo.peerId, offset);
    writeU64(out, echo.seq, offset + 2);
    writeU64(out, echo.sentAtUs, offset + 10);
    out.writeUInt32BE(Math.min(U32_MAX, Math.max(0, Math.round(echo.heldUs))), offset + 18);
    offset += ECHO_BYTES;
  }
  if (attachments.length > 0) {
    out[offset++] = attachments.length;
    for (const attachment of attachments) {
      out.writeUInt16BE(attachment.length, offset);
      out.set(attachment, offset + ATTACHMENT_LENGTH_BYTES);
      offset += ATTACHMENT_LENGTH_BYTES + attachment.length;
    }
  }
  return out;
}

/** Returns null when the bytes are not exactly one well-formed heartbeat payload. */
export function decodeHeartbeatPayload(bytes: Uint8Array): HeartbeatPayload | null {
  if (bytes.length < FIXED_BYTES) return null;
  const buf = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = buf[6]!;
  const echoesEnd = heartbeatPayloadBytes(count);
  if (buf.length < echoesEnd) return null;
  const echoes: Echo[] = new Array(count);
  let offset = FIXED_BYTES;
  for (let index = 0; index < count; index++) {
    const peerId = buf.readUInt16BE(offset);
    const seq = readSafeU64(buf, offset + 2);
    const sentAtUs = readSafeU64(buf, offset + 10);
    if (peerId === 0 || seq < 0 || sentAtUs < 0) return null;
    echoes[index] = { peerId, seq, sentAtUs, heldUs: buf.readUInt32BE(offset + 18) };
    offset += ECHO_BYTES;
  }
  const payload: HeartbeatPayload = {
    linkSeq: buf.readUInt32BE(0),
    keepaliveMs: buf.readUInt16BE(4),
    echoes,
  };
  if (buf.length === echoesEnd) return payload;
  const attachments = decodeAttachments(buf, echoesEnd);
  if (attachments === null) return null;
  payload.attachments = attachments;
  return payload;
}

/** The attachment section from `offset` to the end; null unless it is exactly well formed. */
function decodeAttachments(buf: Buffer, offset: number): Uint8Array[] | null {
  const count = buf[offset]!;
  if (count === 0) return null;
  let at = offset + ATTACHMENTS_COUNT_BYTES;
  const attachments: Uint8Array[] = new Array(count);
  for (let index = 0; index < count; index++) {
    if (at + ATTACHMENT_LENGTH_BYTES > buf.length) return null;
    const length = buf.readUInt16BE(at);
    at += ATTACHMENT_LENGTH_BYTES;
    if (length === 0 || at + length > buf.length) return null;
    attachments[index] = buf.subarray(at, at + length);
    at += length;
  }
  return at === buf.length ? attachments : null;
}

/** A Leave says everything with its type: its payload is empty. */
export function encodeLeavePayload(): Uint8Array {
  return new Uint8Array(0);
}

/** False for a Leave with a payload: a newer or broken sender, refused as malformed. */
export function isLeavePayload(bytes: Uint8Array): boolean {
  return bytes.length === 0;
}
