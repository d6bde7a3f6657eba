import { createHmac } from "node:crypto";
import fc from "fast-check";
import { encodeMessage } from "../../src/wire/codec.js";
import { type ClusterKey, Keyring } from "../../src/wire/keyring.js";
import { MAC_BYTES, type MessageHeader, MessageType } from "../../src/wire/message.js";

export const CLUSTER_ID = 7;
export const LOCAL_NODE_ID = 1;
export const PEER_NODE_ID = 2;
export const KNOWN_NODE_IDS = new Set([1, 2, 3]);

/** Deterministic test secrets: each id gets its own 32 bytes. */
export function clusterKey(id: number): ClusterKey {
  return { id, secret: Buffer.alloc(32, id) };
}

export function keyring(ids: number[], signKeyId?: number): Keyring {
  return new Keyring(ids.map(clusterKey), signKeyId);
}

export function peerHeader(overrides: Partial<MessageHeader> = {}): MessageHeader {
  return {
    clusterId: CLUSTER_ID,
    senderId: PEER_NODE_ID,
    incarnation: 1_700_000_000_000,
    seq: 1,
    sentAtUs: 1_700_000_000_000_000,
    type: MessageType.Heartbeat,
    ...overrides,
  };
}

export function peerFrame(
  ring: Keyring,
  overrides: Partial<MessageHeader> = {},
  payload: Uint8Array = new Uint8Array(0),
  encrypt = false,
): Buffer {
  const header = peerHeader(overrides);
  return encodeMessage(header, payload, ring, { encrypt });
}

/**
 * Recomputes a frame's MAC with the real key named in its header, as only a key holder could:
 * how a test builds frames that are authentic yet wrong inside (a peer's bug, a newer version).
 */
export function resign(frame: Buffer, ring: Keyring): Buffer {
  const keys = ring.keysFor(frame[5]!);
  if (keys === undefined) throw new Error(`test ring lacks key ${frame[5]}`);
  const macOffset = frame.length - MAC_BYTES;
  createHmac("sha256", keys.mac)
    .update(frame.subarray(0, macOffset))
    .digest()
    .copy(frame, macOffset);
  return frame;
}

export const arbHeader: fc.Arbitrary<MessageHeader> = fc.record({
  clusterId: fc.integer({ min: 0, max: 0xffff_ffff }),
  senderId: fc.integer({ min: 1, max: 0xffff }),
  incarnation: fc.maxSafeNat(),
  seq: fc.maxSafeNat(),
  sentAtUs: fc.maxSafeNat(),
  type: fc.constantFrom(MessageType.Heartbeat, MessageType.Leave),
});
