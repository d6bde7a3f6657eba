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
}

/**
 * Carries coordination messages (opaque bytes here) to one node over the heartbeat links, with the
 * same authentication and encryption. A message goes out on one link that currently hears the
 * peer; when none does, on every link, so that whichever path comes back first carries it.
 * Raft's own retransmissions then land on whatever link is alive at the time.
 */
export class ClusterTransport {
  private nextMessageId = 1;
  private readonly reassembler: Reassembler;
  private readonly linkByName: ReadonlyMap<string, Link>;
  /** While collect() runs: where the one-fragment Raft messages go instead of the links. */
  private collecting: { roomBytes: number; attachments: Uint8Array[] } | null = null;
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

  /**
   * `everyLink`: a message that may arrive twice (Raft's are idempotent) and that renews leases
   * goes on every live link when it fits in one fragment, so one lossy link cannot cost a node
   * its lease. Anything else, and bulk, goes on one live link; Raft resends what is lost.
   */
  send(to: number, bytes: Uint8Array, options: { everyLink?: boolean } = {}): void {
    const messageId = this.nextMessageId;
    this.nextMessageId = (this.nextMessageId + 1) >>> 0 || 1;
    const live = this.options
      .liveLinksTo(to)
      .map((name) => this.linkByName.get(name))
      .filter((link): link is Link => link !== undefined);
    const fragments = fragmentMessage(to, messageId, bytes);
    const everyLive = options.everyLink === true && fragments.length === 1;
    if (everyLive && this.collecting !== null) {
      const cost = attachmentCost(fragments[0]!);
      if (cost <= this.collecting.roomBytes) {
        this.collecting.roomBytes -= cost;
        this.collecting.attachments.push(fragments[0]!);
        this.tally.attached++;
        return;
      }
    }
    const via = live.length === 0 ? this.options.links : everyLive ? live : [live[0]!];
    this.tally.sent++;
    const sentAtUs = Math.round(this.options.nowMs() * 1000);
    for (const fragment of fragments) {
      for (const link of via)
        link.sendTo(to, this.options.outbound.next(MessageType.Cluster, fragment, sentAtUs));
    }
  }

  /**
   * Runs `produce` and returns the every-link messages it sent (as Cluster frame payloads, up to
   * `roomBytes` of attachment cost) instead of sending them: the caller puts them on the
   * heartbeats it sends on every link next. What does not fit goes out on its own.
   */
  collect(roomBytes: number, produce: () => void): Uint8Array[] {
    const collecting = { roomBytes, attachments: [] as Uint8Array[] };
    this.collecting = collecting;
    try {
      produce();
    } finally {
      this.collecting = null;
    }
    return collecting.attachments;
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
}
