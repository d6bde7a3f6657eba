import { type DecodeContext, decodeMessage } from "./codec.js";
import { decodeHeartbeatPayload, isLeavePayload } from "./heartbeat.js";
import { isNodeId, isU32, requireField } from "./ints.js";
import type { Keyring } from "./keyring.js";
import {
  type HeartbeatPayload,
  type Message,
  MessageType,
  REJECT_REASONS,
  type RejectReason,
} from "./message.js";
import { type CarriedOverIncarnations, ReplayGuard } from "./replay-guard.js";

export interface InboundFilterOptions {
  clusterId: number;
  localNodeId: number;
  isKnownNode(id: number): boolean;
  keyring: Keyring;
  /** What earlier runs of this node accepted (src/storage/peer-incarnations.ts); none if absent. */
  carriedOver?: CarriedOverIncarnations;
  /**
   * Whether this run sent a heartbeat with this seq and send time (OutboundSequencer): a peer's
   * heartbeat echoing one proves that it was sent after this run began.
   */
  sentHeartbeat?(seq: number, sentAtUs: number): boolean;
}

export type InboundResult =
  | {
      ok: true;
      /** A plaintext payload is a view of the received bytes: do not reuse that buffer. */
      message: Message;
      /** The decoded payload of a Heartbeat; null for every other type. */
      heartbeat: HeartbeatPayload | null;
    }
  | { ok: false; reason: RejectReason };

// One frozen result per reason: a flood of refused frames allocates nothing.
const REJECTIONS = Object.fromEntries(
  REJECT_REASONS.map((reason) => [reason, Object.freeze({ ok: false, reason })]),
) as Record<RejectReason, InboundResult>;

/**
 * Everything a received frame goes through before the agent believes it: the codec's checks
 * (cluster, sender, key, MAC, decryption), anti-replay, and the payload's shape. Never throws;
 * every refusal is counted by reason so an operator can see misconfiguration or an attack.
 */
export class InboundFilter {
  private readonly context: DecodeContext;
  private readonly replayGuard: ReplayGuard;
  private readonly sentHeartbeat: (seq: number, sentAtUs: number) => boolean;
  private readonly rejects = Object.fromEntries(
    REJECT_REASONS.map((reason) => [reason, 0]),
  ) as Record<RejectReason, number>;
  private accepted = 0;

  constructor(options: InboundFilterOptions) {
    requireField(isU32(options.clusterId), "clusterId", options.clusterId, "a u32");
    requireField(
      isNodeId(options.localNodeId),
      "localNodeId",
      options.localNodeId,
      "a node id 1..65535",
    );
    this.context = {
      clusterId: options.clusterId,
      localNodeId: options.localNodeId,
      isKnownNode: options.isKnownNode,
      keyring: options.keyring,
    };
    this.replayGuard = new ReplayGuard(options.carriedOver);
    this.sentHeartbeat = options.sentHeartbeat ?? (() => false);
  }

  accept(bytes: Uint8Array): InboundResult {
    let result: InboundResult;
    try {
      result = this.screen(bytes);
    } catch {
      // Nothing a peer sends may take the receive path down; an unforeseen failure (a bug
      // here or in the isKnownNode callback) is still a refused frame, and still counted.
      result = REJECTIONS.malformed;
    }
    if (result.ok) this.accepted++;
    else this.rejects[result.reason]++;
    return result;
  }

  /** Refusals so far per reason; every reason is present, zero when it never happened. */
  rejectCounts(): Record<RejectReason, number> {
    return { ...this.rejects };
  }

  acceptedCount(): number {
    return this.accepted;
  }

  /** Takes effect for the next frame: the replay state carries over, keys do not matter to it. */
  setKeyring(keyring: Keyring): void {
    this.context.keyring = keyring;
  }

  private screen(bytes: Uint8Array): InboundResult {
    const decoded = decodeMessage(bytes, this.context);
    if (!decoded.ok) return REJECTIONS[decoded.reason];
    const { message } = decoded;
    const { senderId, incarnation, seq } = message.header;
    const verdict = this.replayGuard.check(senderId, incarnation, seq);
    if (verdict !== "ok" && verdict !== "unproven_fresh") return REJECTIONS[verdict];

    let heartbeat: HeartbeatPayload | null = null;
    if (message.header.type === MessageType.Heartbeat) {
      heartbeat = decodeHeartbeatPayload(message.payload);
      if (heartbeat === null) return REJECTIONS.malformed;
    } else if (message.header.type === MessageType.Leave) {
      if (!isLeavePayload(message.payload)) return REJECTIONS.malformed;
    }
    // Recorded only now, for an authentic and well-formed frame: a refused frame never moves
    // the window, so it cannot shadow a good copy that arrives later.
    const provenFresh = verdict === "unproven_fresh" && this.echoesThisRun(heartbeat);
    const committed = this.replayGuard.commit(senderId, incarnation, seq, provenFresh);
    if (committed !== "ok") return REJECTIONS[committed];
    return { ok: true, message, heartbeat };
  }

  /** A heartbeat echoing one of this run's heartbeats was written after this run began. */
  private echoesThisRun(heartbeat: HeartbeatPayload | null): boolean {
    if (heartbeat === null) return false;
    const localNodeId = this.context.localNodeId;
    return heartbeat.echoes.some(
      (echo) => echo.peerId === localNodeId && this.sentHeartbeat(echo.seq, echo.sentAtUs),
    );
  }
}
