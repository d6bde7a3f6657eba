/**
 * Coordination messages (Raft log entries, snapshots, forwarded commands) can be far larger than
 * one frame, so they travel as fragments. Pure: time comes in as an argument.
 *
 * Payload of one MessageType.Cluster frame:
 *   off size field
 *    0   2   destination node id (shared media carry it to everyone; others drop it)
 *    2   4   message id (per sender incarnation; increasing)
 *    6   2   fragment index (0-based)
 *    8   2   fragment count (1..MAX_FRAGMENTS)
 *   10   n   fragment bytes
 */
import { MAX_ENCRYPTED_PLAINTEXT_BYTES } from "../wire/codec.js";
import { DeliveredMessages } from "./delivered-messages.js";

export const FRAGMENT_HEADER_BYTES = 10;
/** Sized for an encrypted frame, so the same fragments fit whether or not encryption is on. */
export const MAX_FRAGMENT_DATA_BYTES = MAX_ENCRYPTED_PLAINTEXT_BYTES - FRAGMENT_HEADER_BYTES;
/** 16 MiB of message at most: far beyond any configuration, bounded against a flood. */
export const MAX_FRAGMENTS = Math.ceil((16 * 1024 * 1024) / MAX_FRAGMENT_DATA_BYTES);
/** Partial messages kept per sender at once: Raft has few in flight; more is a peer's bug. */
const MAX_PARTIAL_PER_SENDER = 64;

export interface FragmentHeader {
  to: number;
  messageId: number;
  index: number;
  count: number;
}

export function fragmentMessage(to: number, messageId: number, bytes: Uint8Array): Buffer[] {
  const count = Math.max(1, Math.ceil(bytes.length / MAX_FRAGMENT_DATA_BYTES));
  if (count > MAX_FRAGMENTS) {
    throw new RangeError(
      `message of ${bytes.length} bytes is too large for the cluster transport (at most ${MAX_FRAGMENTS * MAX_FRAGMENT_DATA_BYTES})`,
    );
  }
  const fragments: Buffer[] = [];
  for (let index = 0; index < count; index++) {
    const data = bytes.subarray(
      index * MAX_FRAGMENT_DATA_BYTES,
      (index + 1) * MAX_FRAGMENT_DATA_BYTES,
    );
    const fragment = Buffer.allocUnsafe(FRAGMENT_HEADER_BYTES + data.length);
    fragment.writeUInt16BE(to, 0);
    fragment.writeUInt32BE(messageId >>> 0, 2);
    fragment.writeUInt16BE(index, 6);
    fragment.writeUInt16BE(count, 8);
    fragment.set(data, FRAGMENT_HEADER_BYTES);
    fragments.push(fragment);
  }
  return fragments;
}

export function readFragmentHeader(payload: Uint8Array): FragmentHeader | null {
  if (payload.length < FRAGMENT_HEADER_BYTES) return null;
  const view = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const header = {
    to: view.readUInt16BE(0),
    messageId: view.readUInt32BE(2),
    index: view.readUInt16BE(6),
    count: view.readUInt16BE(8),
  };
  if (header.count === 0 || header.count > MAX_FRAGMENTS || header.index >= header.count)
    return null;
  return header;
}

const DUPLICATE: ReassemblyResult = Object.freeze({ kind: "duplicate" });

interface Partial {
  parts: Array<Uint8Array | undefined>;
  received: number;
  startedAtMs: number;
}

export type ReassemblyResult =
  | { kind: "complete"; bytes: Buffer }
  | { kind: "pending" }
  /** Delivered already: another copy, from another link. */
  | { kind: "duplicate" }
  | { kind: "not_for_us" }
  | { kind: "malformed" };

/**
 * Puts fragments back together. Fragments may arrive in any order and twice (several links);
 * each message is delivered once; an incomplete one is dropped after `timeoutMs` (Raft resends
 * what matters).
 */
export class Reassembler {
  private readonly partials = new Map<string, Partial>();
  private readonly delivered = new DeliveredMessages();

  constructor(
    private readonly localNodeId: number,
    private readonly timeoutMs: number,
  ) {}

  accept(
    nowMs: number,
    senderId: number,
    incarnation: number,
    payload: Uint8Array,
  ): ReassemblyResult {
    const header = readFragmentHeader(payload);
    if (header === null) return { kind: "malformed" };
    if (header.to !== this.localNodeId) return { kind: "not_for_us" };
    if (this.delivered.has(senderId, incarnation, header.messageId)) return DUPLICATE;
    const data = payload.subarray(FRAGMENT_HEADER_BYTES);
    if (header.count === 1) {
      this.delivered.delivered(senderId, incarnation, header.messageId);
      return { kind: "complete", bytes: Buffer.from(data) };
    }
    if (header.index < header.count - 1 && data.length !== MAX_FRAGMENT_DATA_BYTES) {
      return { kind: "malformed" };
    }
    const key = `${senderId}/${incarnation}/${header.messageId}`;
    let partial = this.partials.get(key);
    if (partial === undefined) {
      this.expire(nowMs);
      if (this.countFor(senderId) >= MAX_PARTIAL_PER_SENDER) return { kind: "malformed" };
      partial = { parts: new Array(header.count).fill(undefined), received: 0, startedAtMs: nowMs };
      this.partials.set(key, partial);
    }
    if (partial.parts.length !== header.count) return { kind: "malformed" };
    if (partial.parts[header.index] === undefined) {
      partial.parts[header.index] = Buffer.from(data);
      partial.received++;
    }
    if (partial.received < header.count) return { kind: "pending" };
    this.partials.delete(key);
    this.delivered.delivered(senderId, incarnation, header.messageId);
    return { kind: "complete", bytes: Buffer.concat(partial.parts as Uint8Array[]) };
  }

  /** Drops partial messages older than the timeout. */
  expire(nowMs: number): void {
    for (const [key, partial] of this.partials) {
      if (nowMs - partial.startedAtMs > this.timeoutMs) this.partials.delete(key);
    }
  }

  pendingCount(): number {
    return this.partials.size;
  }

  private countFor(senderId: number): number {
    let count = 0;
    const prefix = `${senderId}/`;
    for (const key of this.partials.keys()) if (key.startsWith(prefix)) count++;
    return count;
  }
}
