import type { Link } from "../links/link.js";
import { attachmentCost } from "../wire/heartbeat.js";
import { MessageType } from "../wire/message.js";
import type { OutboundSequencer } from "../wire/outbound.js";
import { fragmentMessage, Reassembler, type ReassemblyResult } from "./fragments.js";

/** Incomplete messages are dropped after this: Raft resends whatever still matters. */
const REASSEMBLY_TIMEOUT_MS = 5_000;

/** Coordination messages (not frames) since start: `vigil status --json` shows them. */
export interface ClusterTransportCounters {
  /** Sent in frames of their own. */
  sent: number;
  /** Sent attached to heartbeats (the leader's idle appends): no datagram of their own. */
  attached: number;
  /** Whole messages delivered. */
  received: number;
  /** Second copies dropped on arrival (a message travels on every link). */
  duplicates: number;
}

export interface ClusterTransportOptions {
  localNodeId: number;
  links: readonly Link[];
  outbound: OutboundSequencer;
  /** Names of the links on which `peerId` is currently heard, best first. */
  liveLinksTo(peerId: number): readonly string[];
  nowMs(): number;
  /** Attachment bytes one heartbeat has room for (its length fields included). */
  attachmentRoomBytes: number;
  /**
   * A message that may ride (send's `mayRide`) is being held: the agent answers, before this
   * turn of the event loop ends, with collect() (it sends its heartbeats early) or releaseHeld().
   */
  onHeld(): void;
}

export interface SendOptions {
  /**
   * A message that may arrive twice (Raft's are idempotent) and that renews leases goes on every
   * live link when it fits in one fragment, so one lossy link cannot cost a node its lease.
   * Anything else, and bulk, goes on one live link; Raft resends what is lost.
   */
  everyLink?: boolean;
  /** An every-link message that may wait for the heartbeats of this event-loop turn (onHeld). */
  mayRide?: boolean;
}

/**
 * Carries coordination messages (opaque bytes here) to one node over the heartbeat links, with the
 * same authentication and encryption. A message goes out on one link that currently hears the
 * peer; when none does, on every link, so that whichever path comes back first carries it.
 * Raft's own retransmissions then land on whatever link is alive at the time.
 *
 * Small every-link messages can also ride on the heartbeats, which go on every link anyway: the
 * leader's idle appends (collect(), as its heartbeats leave) and a follower's answers (held, then
 * collected by heartbeats the agent sends early for them).
 */
export class ClusterTransport {
  private nextMessageId = 1;
  private readonly reassembler: Reassembler;
  private readonly linkByName: ReadonlyMap<string, Link>;
  /** While collect() runs: the room left on the heartbeats being built, and what fills it. */
  private collecting: { roomBytes: number; attachments: Uint8Array[] } | null = null;
  private held: Array<{ to: number; fragment: Buffer }> = [];
  private heldBytes = 0;
  private readonly tally: ClusterTransportCounters = {
    sent: 0,
    attached: 0,
    received: 0,
    duplicates: 0,
  };

  constructor(private readonly options: ClusterTransportOptions) {
    this.reassembler = new Reassembler(options.localNodeId, REASSEMBLY_TIMEOUT_MS);
    this.linkByName = new Map(options.links.map((link) => [link.name, link]));
  }

  send(to: number, bytes: Uint8Array, options: SendOptions = {}): void {
    const messageId = this.nextMessageId;
    this.nextMessageId = (this.nextMessageId + 1) >>> 0 || 1;
    const fragments = fragmentMessage(to, messageId, bytes);
    const everyLink = options.everyLink === true && fragments.length === 1;
    if (everyLink) {
      const fragment = fragments[0]!;
      const cost = attachmentCost(fragment);
      if (this.collecting !== null && cost <= this.collecting.roomBytes) {
        this.collecting.roomBytes -= cost;
        this.collecting.attachments.push(fragment);
        this.tally.attached++;
        return;
      }
      if (
        options.mayRide === true &&
        this.collecting === null &&
        this.heldBytes + cost <= this.options.attachmentRoomBytes
      ) {
        this.held.push({ to, fragment });
        this.heldBytes += cost;
        if (this.held.length === 1) this.options.onHeld();
        return;
      }
    }
    this.transmit(to, fragments, everyLink);
  }

  /**
   * Runs `produce` and returns what is held plus the every-link messages `produce` sent (as
   * Cluster frame payloads, within the heartbeat's room) instead of sending them: the caller puts
   * them on the heartbeats it sends on every link next. What does not fit goes out on its own.
   */
  collect(produce: () => void): Uint8Array[] {
    const attachments = this.held.map((entry) => entry.fragment);
    this.tally.attached += attachments.length;
    const collecting = {
      roomBytes: this.options.attachmentRoomBytes - this.heldBytes,
      attachments,
    };
    this.held = [];
    this.heldBytes = 0;
    this.collecting = collecting;
    try {
      produce();
    } finally {
      this.collecting = null;
    }
    return collecting.attachments;
  }

  /** No heartbeat leaves now: what was held for one goes out on its own. */
  releaseHeld(): void {
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const { to, fragment } of held) this.transmit(to, [fragment], true);
  }

  /** A Cluster frame's payload, authenticated by the wire filter: returns a whole message when complete. */
  receive(senderId: number, incarnation: number, payload: Uint8Array): ReassemblyResult {
    const result = this.reassembler.accept(this.options.nowMs(), senderId, incarnation, payload);
    if (result.kind === "complete") this.tally.received++;
    else if (result.kind === "duplicate") this.tally.duplicates++;
    return result;
  }

  counters(): ClusterTransportCounters {
    return { ...this.tally };
  }

  private transmit(to: number, fragments: readonly Buffer[], everyLink: boolean): void {
    const live = this.options
      .liveLinksTo(to)
      .map((name) => this.linkByName.get(name))
      .filter((link): link is Link => link !== undefined);
    const via = live.length === 0 ? this.options.links : everyLink ? live : [live[0]!];
    this.tally.sent++;
    const sentAtUs = Math.round(this.options.nowMs() * 1000);
    for (const fragment of fragments) {
      for (const link of via)
        link.sendTo(to, this.options.outbound.next(MessageType.Cluster, fragment, sentAtUs));
    }
  }
}
