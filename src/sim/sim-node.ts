import type { Envelope, Membership, NodeId } from "../consensus/types.js";
import type { ConsensusNode } from "./consensus-node.js";

/** A message and the sender's process run that sent it (SimNode.restarts at the time). */
export interface SentEnvelope {
  envelope: Envelope;
  senderRun: number;
}

import { SimDisk } from "./disk.js";
import type { SeededRandom } from "./random.js";
import { SimStateMachine } from "./state-machine.js";

export type NodeStatus = "up" | "paused" | "crashed";

/**
 * One simulated machine: a disk that survives crashes, and a process (Raft core + state machine
 * + socket buffer) that does not. Its clock is its own: local = offset + rate × virtual time,
 * with rates within the drift the timing allows, floored to whole milliseconds.
 */
export class SimNode {
  readonly label: string;
  readonly disk: SimDisk;
  status: NodeStatus = "up";
  raft: ConsensusNode | null = null;
  stateMachine: SimStateMachine;
  /** Messages that arrived while paused, delivered on resume (a socket buffer). */
  inbox: SentEnvelope[] = [];
  /** Incremented whenever the pending tick event is superseded. */
  tickGeneration = 0;
  /** Virtual time of the pending tick event, Infinity if none. */
  scheduledTickAtMs = Number.POSITIVE_INFINITY;
  /** commitIndex last seen from the current process, which must never go down. */
  lastCommitIndex = 0;
  restarts = 0;

  constructor(
    readonly id: NodeId,
    readonly random: SeededRandom,
    private readonly clockOffsetMs: number,
    readonly clockRate: number,
    initialMembership: Membership,
  ) {
    this.label = `node ${id}`;
    this.disk = new SimDisk(this.label);
    this.stateMachine = new SimStateMachine(this.label, initialMembership, null);
  }

  localNowMs(virtualMs: number): number {
    return Math.floor(this.clockOffsetMs + this.clockRate * virtualMs);
  }

  /** The earliest virtual millisecond at which this node's clock reads at least `localMs`. */
  virtualAtLocalMs(localMs: number): number {
    if (!Number.isFinite(localMs)) throw new Error(`${this.label}: no virtual time for ${localMs}`);
    let virtualMs = Math.ceil((localMs - this.clockOffsetMs) / this.clockRate);
    // Floating-point division can land one millisecond off either way; settle it exactly.
    while (this.localNowMs(virtualMs) < localMs) virtualMs++;
    while (this.localNowMs(virtualMs - 1) >= localMs) virtualMs--;
    return virtualMs;
  }

  /** The running process, or a loud error if the simulator asked a stopped node to act. */
  process(): ConsensusNode {
    if (this.raft === null) throw new Error(`simulator bug: ${this.label} has no running process`);
    return this.raft;
  }
}
