import {
  createCipheriv,
  createDecipheriv,
  type KeyObject,
  randomFillSync,
  timingSafeEqual,
} from "node:crypto";
import { isNodeId, isSafeU64, isU32, readSafeU64, requireField, writeU64 } from "./ints.js";
import type { Keyring } from "./keyring.js";
import {
  type DecodeResult,
  FLAG_ENCRYPTED,
  HEADER_BYTES,
  MAC_BYTES,
  MAX_FRAME_BYTES,
  MAX_PAYLOAD_BYTES,
  type MessageHeader,
  MessageType,
  REJECT_REASONS,
  type RejectReason,
  WIRE_MAGIC,
  WIRE_VERSION,
} from "./message.js";

export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;
/** What encryption adds to a payload on the wire: nonce in front, tag behind. */
export const ENCRYPTION_OVERHEAD_BYTES = GCM_NONCE_BYTES + GCM_TAG_BYTES;
/** The largest plaintext payload that fits a frame when it travels encrypted. */
export const MAX_ENCRYPTED_PLAINTEXT_BYTES = MAX_PAYLOAD_BYTES - ENCRYPTION_OVERHEAD_BYTES;

// Byte offsets of the header fields (see the layout in message.ts).
const OFF_MAGIC = 0;
const OFF_VERSION = 2;
const OFF_TYPE = 3;
const OFF_FLAGS = 4;
const OFF_KEY_ID = 5;
const OFF_CLUSTER = 6;
const OFF_SENDER = 10;
const OFF_INCARNATION = 12;
const OFF_SEQ = 20;
const OFF_SENT_AT = 28;
const OFF_PAYLOAD_LENGTH = 36;
const MIN_FRAME_BYTES = HEADER_BYTES + MAC_BYTES;
const KNOWN_FLAGS = FLAG_ENCRYPTED;

/** What a receiver knows about its cluster, used to refuse frames before and after the MAC. */
export interface DecodeContext {
  clusterId: number;
  localNodeId: number;
  isKnownNode(id: number): boolean;
  keyring: Keyring;
}

export interface EncodeOptions {
  /** Encrypt the payload with AES-256-GCM; the header stays readable but is authenticated. */
  encrypt: boolean;
}

function isMessageType(type: number): type is MessageType {
  return (
    type === MessageType.Heartbeat || type === MessageType.Leave || type === MessageType.Cluster
  );
}

/**
 * Builds one signed (and optionally encrypted) frame with the keyring's signing key. Throws
 * RangeError for a caller's bug: a field out of range or a payload that does not fit a frame.
 */
export function encodeMessage(
  header: MessageHeader,
  payload: Uint8Array,
  keyring: Keyring,
  options: EncodeOptions,
): Buffer {
  requireField(isU32(header.clusterId), "clusterId", header.clusterId, "a u32");
  requireField(isNodeId(header.senderId), "senderId", header.senderId, "a node id 1..65535");
  requireField(isSafeU64(header.incarnation), "incarnation", header.incarnation, "a safe u64");
  requireField(isSafeU64(header.seq), "seq", header.seq, "a safe u64");
  requireField(isSafeU64(header.sentAtUs), "sentAtUs", header.sentAtUs, "a safe u64");
  requireField(isMessageType(header.type), "type", header.type, "a MessageType");
  const limit = options.encrypt ? MAX_ENCRYPTED_PLAINTEXT_BYTES : MAX_PAYLOAD_BYTES;
  if (payload.length > limit) {
    throw new RangeError(
      `payload of ${payload.length} bytes does not fit one frame (at most ${limit} bytes${options.encrypt ? " when encrypted" : ""})`,
    );
  }

  const wireLength = options.encrypt ? payload.length + ENCRYPTION_OVERHEAD_BYTES : payload.length;
  const macOffset = HEADER_BYTES + wireLength;
  const frame = Buffer.allocUnsafe(macOffset + MAC_BYTES);
  frame.writeUInt16BE(WIRE_MAGIC, OFF_MAGIC);
  frame[OFF_VERSION] = WIRE_VERSION;
  frame[OFF_TYPE] = header.type;
  frame[OFF_FLAGS] = options.encrypt ? FLAG_ENCRYPTED : 0;
  frame[OFF_KEY_ID] = keyring.signKeyId;
  frame.writeUInt32BE(header.clusterId, OFF_CLUSTER);
  frame.writeUInt16BE(header.senderId, OFF_SENDER);
  writeU64(frame, header.incarnation, OFF_INCARNATION);
  writeU64(frame, header.seq, OFF_SEQ);
  writeU64(frame, header.sentAtUs, OFF_SENT_AT);
  frame.writeUInt16BE(wireLength, OFF_PAYLOAD_LENGTH);

  const keys = keyring.signingKeys();
  if (options.encrypt) {
    // Random nonces: the sender keeps no nonce state across restarts, and 2^32 frames per key
    // (the safe limit for random 96-bit GCM nonces) is centuries of heartbeats.
    const nonce = frame.subarray(HEADER_BYTES, HEADER_BYTES + GCM_NONCE_BYTES);
    randomFillSync(nonce);
    const cipher = createCipheriv("aes-256-gcm", keys.cipher, nonce, {
      authTagLength: GCM_TAG_BYTES,
    });
    cipher.setAAD(frame.subarray(0, HEADER_BYTES));
    const body = cipher.update(payload);
    const tail = cipher.final();
    let offset = HEADER_BYTES + GCM_NONCE_BYTES;
    offset += body.copy(frame, offset);
    offset += tail.copy(frame, offset);
    cipher.getAuthTag().copy(frame, offset);
  } else {
    frame.set(payload, HEADER_BYTES);
  }
  keys.frameMac.digest(frame.subarray(0, macOffset)).copy(frame, macOffset);
  return frame;
}

/**
 * Checks and opens one frame. Never throws: every refusal is a reason. The checks run cheapest
 * and least trusting first, so garbage and foreign traffic cost no cryptography. A plaintext
 * payload is returned as a view of `bytes` (no copy): the caller must not reuse that buffer.
 */
export function decodeMessage(bytes: Uint8Array, context: DecodeContext): DecodeResult {
  if (bytes.length < MIN_FRAME_BYTES) return reject("truncated");
  if (bytes.length > MAX_FRAME_BYTES) return reject("oversized");
  const frame = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (frame.readUInt16BE(OFF_MAGIC) !== WIRE_MAGIC) return reject("bad_magic");
  if (frame[OFF_VERSION] !== WIRE_VERSION) return reject("unsupported_version");
  const wireLength = frame.readUInt16BE(OFF_PAYLOAD_LENGTH);
  // Shorter than the header says: cut off on the way. Longer: trailing bytes nobody signed.
  if (MIN_FRAME_BYTES + wireLength > frame.length) return reject("truncated");
  if (MIN_FRAME_BYTES + wireLength < frame.length) return reject("malformed");
  const senderId = frame.readUInt16BE(OFF_SENDER);
  // Node id 0 does not exist: refusing it here keeps every later stage on valid ids.
  if (senderId === 0) return reject("malformed");

  if (frame.readUInt32BE(OFF_CLUSTER) !== context.clusterId) return reject("wrong_cluster");
  if (senderId === context.localNodeId) return reject("from_self");
  if (!context.isKnownNode(senderId)) return reject("unknown_node");
  const keys = context.keyring.keysFor(frame[OFF_KEY_ID]!);
  if (keys === undefined) return reject("unknown_key");

  const macOffset = HEADER_BYTES + wireLength;
  const expected = keys.frameMac.digest(frame.subarray(0, macOffset));
  if (!timingSafeEqual(expected, frame.subarray(macOffset))) return reject("bad_mac");

  // Authentic from here on: anything odd is a peer's bug or a newer version, not an attack.
  const type = frame[OFF_TYPE]!;
  const flags = frame[OFF_FLAGS]!;
  const incarnation = readSafeU64(frame, OFF_INCARNATION);
  const seq = readSafeU64(frame, OFF_SEQ);
  const sentAtUs = readSafeU64(frame, OFF_SENT_AT);
  if (!isMessageType(type) || (flags & ~KNOWN_FLAGS) !== 0) return reject("malformed");
  if (incarnation < 0 || seq < 0 || sentAtUs < 0) return reject("malformed");

  let payload: Uint8Array = frame.subarray(HEADER_BYTES, macOffset);
  if ((flags & FLAG_ENCRYPTED) !== 0) {
    if (wireLength < ENCRYPTION_OVERHEAD_BYTES) return reject("malformed");
    const opened = decrypt(frame, macOffset, keys.cipher);
    if (opened === null) return reject("decrypt_failed");
    payload = opened;
  }
  return {
    ok: true,
    message: {
      header: { clusterId: context.clusterId, senderId, incarnation, seq, sentAtUs, type },
      payload,
    },
  };
}

function decrypt(frame: Buffer, macOffset: number, key: KeyObject): Buffer | null {
  const nonce = frame.subarray(HEADER_BYTES, HEADER_BYTES + GCM_NONCE_BYTES);
  const tagOffset = macOffset - GCM_TAG_BYTES;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: GCM_TAG_BYTES });
    decipher.setAAD(frame.subarray(0, HEADER_BYTES));
    decipher.setAuthTag(frame.subarray(tagOffset, macOffset));
    const body = decipher.update(frame.subarray(HEADER_BYTES + GCM_NONCE_BYTES, tagOffset));
    const tail = decipher.final();
    return tail.length === 0 ? body : Buffer.concat([body, tail]);
  } catch {
    // GCM's only failure signal is an exception from final(): a tag that does not verify.
    return null;
  }
}

// One frozen result per reason: a flood of refused frames allocates nothing.
const REJECTIONS = Object.fromEntries(
  REJECT_REASONS.map((reason) => [reason, Object.freeze({ ok: false, reason })]),
) as Record<RejectReason, DecodeResult>;

function reject(reason: RejectReason): DecodeResult {
  return REJECTIONS[reason];
}
