import type { RaftNodeOptions } from "../consensus/raft-node.js";
import type {
  EntryBody,
  NodeId,
  ProposeResult,
  RaftMessage,
  RaftStatus,
  Ready,
  Role,
  Snapshot,
} from "../consensus/types.js";

/** Deliberate bugs the Raft core can be asked to have, to prove the checkers catch them. */
export type UnsafeTestFaults = NonNullable<RaftNodeOptions["unsafeTestFaults"]>;

/** The constructor options of the Raft core. */
export type ConsensusNodeOptions = RaftNodeOptions;

/** The part of the Raft core the simulator drives; RaftNode satisfies it. */
export interface ConsensusNode {
  tick(nowMs: number): Ready;
  /** The caller's paced heartbeat (RaftNodeOptions.pacedHeartbeats); optional for scripted cores. */
  heartbeat?(nowMs: number): Ready;
  receive(nowMs: number, from: NodeId, message: RaftMessage): Ready;
  propose(nowMs: number, body: EntryBody): ProposeResult;
  compact(nowMs: number, snapshot: Snapshot): Ready;
  nextTickAtMs(): number;
  status(nowMs: number): RaftStatus;
  role(): Role;
  term(): number;
  leaderId(): NodeId | null;
  commitIndex(): number;
  /** Any lease: a follower's, the follower lease a new leader keeps, or the leader's own. */
  holdsLease(nowMs: number): boolean;
  /** The quorum-backed leader lease only (lease.ts (2)). */
  holdsLeaderLease(nowMs: number): boolean;
  leaseSurelyExpired(nodeId: NodeId, nowMs: number): boolean;
  /** Leadership transfer (optional for scripted cores). */
  transferLeadership?(
    nowMs: number,
  ): { ok: true; target: NodeId; ready: Ready } | { ok: false; reason: string };
  /** Two-node mode only (src/consensus/two-node.ts). */
  standInFor?(
    nowMs: number,
    peer: NodeId,
  ): { accepted: true; ready: Ready } | { accepted: false; reason: string };
}

export type ConsensusNodeFactory = (options: ConsensusNodeOptions) => ConsensusNode;
