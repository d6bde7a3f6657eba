import { systemTimers, type Timers } from "../coordination/timers.js";
import type { Logger } from "../log/logger.js";
import type { MembershipEvent } from "../membership/types.js";
import type { NodeFencer } from "./node-fencer.js";

export interface TwoNodeSurvivorOptions {
  peer: { id: number; name: string };
  logger: Logger;
  /** Real timers unless given: a test or simulator passes virtual ones. */
  timers?: Timers;
  fencer: NodeFencer;
  /** Membership: the peer's agent is heard now. */
  isPeerUp(): boolean;
  /** This run has every committed entry (src/consensus/two-node.ts (2)). */
  caughtUp(): boolean;
  /** Lets the peer's vote stand in for it (Coordinator.standInFor). */
  standIn(): Promise<{ accepted: boolean; reason?: string }>;
}

/**
 * Two-node mode, on each of the two nodes: when the peer is lost, fence it (whoever leads: the
 * survivor of a dead leader has no leader to do it), then let its vote stand in so this node
 * leads, commits and holds a lease alone; when the peer left cleanly, stand in without a fence.
 * Coordination messages from the peer's run that is gone are dropped: a late one must not end
 * the stand-in, only a new run may (see accepts).
 */
export class TwoNodeSurvivor {
  /** The peer's run as membership last knew it. */
  private peerIncarnation: number | null = null;
  /** The peer's run that is off (fenced) or gone (left): its vote stands in for it. */
  private goneIncarnation: number | null = null;
  private readonly timers: Timers;
  /** Cancels the timer of the next fence request (fencePeer), or null when none is set. */
  private cancelRetry: (() => void) | null = null;
  private stopped = false;

  constructor(private readonly options: TwoNodeSurvivorOptions) {
    this.timers = options.timers ?? systemTimers;
  }

  onMembershipEvent(event: MembershipEvent): void {
    if (!("nodeId" in event) || event.nodeId !== this.options.peer.id) return;
    switch (event.type) {
      case "node_up":
        if (event.incarnation === this.goneIncarnation) {
          this.options.logger.error(
            { peer: this.options.peer.name, incarnation: event.incarnation },
            "the fenced peer's agent run is heard again: the fence device reported success without powering it off; its coordination messages stay ignored",
          );
          return;
        }
        this.peerIncarnation = event.incarnation;
        this.goneIncarnation = null;
        this.options.fencer.noticeUp(this.options.peer.name);
        return;
      case "node_dead":
        this.peerIncarnation = event.incarnation ?? this.peerIncarnation;
        // A restart is seen as the old run's death and the new run's arrival: nothing to fence.
        if (event.reason !== "restarted") this.fencePeer();
        return;
      case "node_left":
        this.peerIncarnation = event.incarnation;
        this.options.logger.info(
          { peer: this.options.peer.name },
          "two-node mode: the peer left cleanly; its vote stands in until it is back",
        );
        this.goneIncarnation = event.incarnation;
        void this.standIn();
        return;
    }
  }

  /** NodeFencer.onFenced: the peer is off, whoever asked for the fence. */
  onPeerFenced(node: string): void {
    if (node !== this.options.peer.name) return;
    this.goneIncarnation = this.peerIncarnation;
    void this.standIn();
  }

  /** Whether a coordination message from the peer's run `incarnation` may reach Raft. */
  accepts(incarnation: number): boolean {
    return this.goneIncarnation === null || incarnation !== this.goneIncarnation;
  }

  stop(): void {
    this.stopped = true;
    this.cancelRetry?.();
    this.cancelRetry = null;
  }

  private fencePeer(): void {
    if (this.stopped || this.options.isPeerUp()) return;
    const { fencer, peer, logger } = this.options;
    if (!this.options.caughtUp()) {
      logger.warn(
        { peer: peer.name },
        "two-node mode: peer lost, but this node has not caught up with it since it started, so it cannot go on alone: not fencing, waiting for the peer",
      );
      return;
    }
    const request = fencer.request(
      peer.name,
      () => !this.stopped && !this.options.isPeerUp(),
      () => {
        if (!fencer.isFenced(peer.name)) this.fencePeer();
      },
    );
    if (!request.started && request.reason === "retry_later") {
      this.cancelRetry?.();
      this.cancelRetry = this.timers.after(request.retryInMs, () => {
        this.cancelRetry = null;
        this.fencePeer();
      });
    } else if (!request.started && request.reason === "already_fenced") {
      this.onPeerFenced(peer.name);
    }
  }

  private async standIn(): Promise<void> {
    const result = await this.options.standIn();
    const { logger, peer } = this.options;
    if (result.accepted) {
      logger.warn({ peer: peer.name }, "two-node mode: going on alone; the peer's vote stands in");
    } else {
      logger.error({ peer: peer.name, reason: result.reason }, "two-node mode: cannot go on alone");
    }
  }
}
