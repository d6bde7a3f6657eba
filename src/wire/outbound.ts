import { encodeMessage } from "./codec.js";
import { isNodeId, isSafeU64, isU32, requireField } from "./ints.js";
import type { Keyring } from "./keyring.js";
import type { MessageType } from "./message.js";
import { SentHeartbeats } from "./sent-heartbeats.js";

export interface OutboundSequencerOptions {
  clusterId: number;
  senderId: number;
  incarnation: number;
  keyring: Keyring;
  /** Encrypt payloads with AES-256-GCM (headers are always authenticated, never hidden). */
  encrypt: boolean;
}

/**
 * Stamps every outgoing frame of this agent's incarnation with its own sequence number, so
 * receivers can refuse replays. One frame per link per heartbeat, each from its own next()
 * call: the same seq never leaves twice, and copies on different links are distinct frames.
 */
export class OutboundSequencer {
  private readonly clusterId: number;
  private readonly senderId: number;
  private readonly incarnation: number;
  private readonly encrypt: boolean;
  private keyring: Keyring;
  private nextSeq = 1;
  private readonly sentHeartbeats = new SentHeartbeats();

  constructor(options: OutboundSequencerOptions) {
    requireField(isU32(options.clusterId), "clusterId", options.clusterId, "a u32");
    requireField(isNodeId(options.senderId), "senderId", options.senderId, "a node id 1..65535");
    requireField(isSafeU64(options.incarnation), "incarnation", options.incarnation, "a safe u64");
    this.clusterId = options.clusterId;
    this.senderId = options.senderId;
    this.incarnation = options.incarnation;
    this.encrypt = options.encrypt;
    this.keyring = options.keyring;
  }

  /**
   * Encodes one signed frame with the next sequence number. Throws RangeError for a caller's
   * bug (a payload too large, a bad timestamp); such a call uses up no sequence number.
   */
  next(type: MessageType, payload: Uint8Array, sentAtUs: number): Buffer {
    const frame = encodeMessage(
      {
        clusterId: this.clusterId,
        senderId: this.senderId,
        incarnation: this.incarnation,
        seq: this.nextSeq,
        sentAtUs,
        type,
      },
      payload,
      this.keyring,
      { encrypt: this.encrypt },
    );
    this.sentHeartbeats.record(type, this.nextSeq, sentAtUs);
    this.nextSeq++;
    return frame;
  }

  /** Whether one of this run's recent heartbeats had this seq and send time (an echo of it). */
  sentHeartbeat(seq: number, sentAtUs: number): boolean {
    return this.sentHeartbeats.includes(seq, sentAtUs);
  }

  /** Frames from the next call on are signed with the new ring's signing key. */
  setKeyring(keyring: Keyring): void {
    this.keyring = keyring;
  }
}
