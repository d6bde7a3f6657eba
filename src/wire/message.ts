/**
 * Vigil's wire format, version 1. Every datagram (or serial frame) is one message:
 *
 *   off size field
 *    0   2   magic "VG"
 *    2   1   version (1)
 *    3   1   type (MessageType)
 *    4   1   flags (bit 0: payload encrypted with AES-256-GCM)
 *    5   1   key id (which cluster key signed it)
 *    6   4   cluster id (u32)
 *   10   2   sender node id (u16, 1..65535)
 *   12   8   incarnation (u64; new at every agent start, strictly increasing per node)
 *   20   8   sequence number (u64; per sender and incarnation, +1 per message sent)
 *   28   8   send timestamp (u64; sender's clock, microseconds since the Unix epoch)
 *   36   2   payload length (u16)
 *   38   n   payload (encrypted: 12-byte nonce, ciphertext, 16-byte tag)
 * 38+n  32   HMAC-SHA256 over bytes 0 .. 38+n
 *
 * All integers are big-endian. u64 fields hold safe JavaScript integers (< 2^53).
 */

export const WIRE_MAGIC = 0x5647; // "VG"
export const WIRE_VERSION = 1;
export const HEADER_BYTES = 38;
export const MAC_BYTES = 32;
/** Fits one Ethernet frame with IP/UDP headers, so no message is ever fragmented. */
export const MAX_FRAME_BYTES = 1400;
export const MAX_PAYLOAD_BYTES = MAX_FRAME_BYTES - HEADER_BYTES - MAC_BYTES;
export const FLAG_ENCRYPTED = 0x01;

export const MessageType = {
  /** "I am alive", with echoes of what this sender last heard from each peer (RTT). */
  Heartbeat: 1,
  /** The sender is shutting down on purpose: peers mark it left at once. */
  Leave: 2,
  /**
   * Coordination traffic (Raft, requests forwarded to the leader): one fragment of a message
   * addressed to one node. The payload layout is in src/transport/fragments.ts.
   */
  Cluster: 3,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export interface MessageHeader {
  clusterId: number;
  senderId: number;
  incarnation: number;
  seq: number;
  sentAtUs: number;
  type: MessageType;
}

export interface Message {
  header: MessageHeader;
  /** Plaintext payload (decrypted when it travelled encrypted). */
  payload: Uint8Array;
}

/** What a heartbeat echoes back for one peer: that peer's last message as we received it. */
export interface Echo {
  peerId: number;
  /** Sequence number of the last message we received from that peer on this link. */
  seq: number;
  /** That message's send timestamp (the peer's own clock, microseconds). */
  sentAtUs: number;
  /** How long we held it before this echo left: the peer subtracts it to get the RTT. */
  heldUs: number;
}

export interface HeartbeatPayload {
  /** Per-link counter of heartbeats this sender sent on this link: the receiver derives loss. */
  linkSeq: number;
  /** The sender's keepalive interval, so peers can check timing agreement. */
  keepaliveMs: number;
  echoes: Echo[];
  /**
   * Cluster frame payloads riding along (the leader's idle Raft appends); absent when none.
   * Each is a view of the received bytes.
   */
  attachments?: Uint8Array[];
}

/** Why a frame was refused. Every refusal is counted per reason and never throws. */
export const REJECT_REASONS = [
  "truncated",
  "oversized",
  "bad_magic",
  "unsupported_version",
  "malformed",
  "wrong_cluster",
  "unknown_node",
  "from_self",
  "unknown_key",
  "bad_mac",
  "decrypt_failed",
  "replayed",
  "stale_sequence",
  "stale_incarnation",
  /**
   * Of a sender's run that an earlier run of this node heard, before a frame of it proved that
   * it was sent after this run began: it may be a capture replayed at a restarted node.
   */
  "unproven_fresh",
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export type DecodeResult = { ok: true; message: Message } | { ok: false; reason: RejectReason };
