import type { Link } from "../links/link.js";
import { MessageType } from "../wire/message.js";
import type { OutboundSequencer } from "../wire/outbound.js";
import { fragmentMessage, Reassembler, type ReassemblyResult } from "./fragments.js";

/** Incomplete messages are dropped after this: Raft resends whatever still matters. */
const REASSEMBLY_TIMEOUT_MS = 5_000;

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
    const via = live.length === 0 ? this.options.links : everyLive ? live : [live[0]!];
    const sentAtUs = Math.round(this.options.nowMs() * 1000);
    for (const fragment of fragments) {
      for (const link of via)
        link.sendTo(to, this.options.outbound.next(MessageType.Cluster, fragment, sentAtUs));
    }
  }

  /** A Cluster frame's payload, authenticated by the wire filter: returns a whole message when complete. */
  receive(senderId: number, incarnation: number, payload: Uint8Array): ReassemblyResult {
    return this.reassembler.accept(this.options.nowMs(), senderId, incarnation, payload);
  }
}
