import type { RaftTiming } from "../consensus/types.js";
import type { ConsensusNodeFactory, UnsafeTestFaults } from "./consensus-node.js";
import type { TraceEntry } from "./trace.js";
import type { SimViolationReport } from "./violation.js";

export interface SimOptions {
  seed: number;
  /** Cluster size, 1–9 nodes with ids 1..n. */
  nodeCount: number;
  createNode: ConsensusNodeFactory;
  timing?: RaftTiming;
  /** Virtual time during which faults are injected; then everything heals. */
  faultPhaseMs?: number;
  /** After the heal, a leader must exist and a new proposal reach every node within this. */
  livenessBoundMs?: number;
  /** Each node compacts its log every this many applied entries. */
  snapshotEveryEntries?: number;
  maxEntriesPerMessage?: number;
  unsafeTestFaults?: UnsafeTestFaults;
  /** Include single-server membership changes among the faults (default true). */
  membershipChanges?: boolean;
  /**
   * Two-node mode (src/consensus/two-node.ts): nodeCount 2, no membership changes, and a `fence`
   * fault — a node powers its peer off (whatever the peer was doing), then lets its vote stand in.
   */
  twoNodeFencing?: boolean;
  /**
   * Nodes run with pacedHeartbeats and get heartbeat() calls every heartbeatIntervalMs of their
   * own clock, a little late as real timers are (the agent's membership heartbeats). Default:
   * chosen per seed, so both ways are explored.
   */
  pacedHeartbeats?: boolean;
  /** How many recent events a failure report shows. */
  traceTailLength?: number;
  /** Called for every trace entry as it happens (the CLI's --verbose). */
  onTrace?: (entry: TraceEntry) => void;
}

export interface SimStats {
  messagesSent: number;
  messagesDelivered: number;
  messagesDropped: number;
  proposalsAccepted: number;
  proposalsRefused: number;
  committedEntries: number;
  faultsInjected: number;
  crashes: number;
  leadersElected: number;
  snapshotsTaken: number;
}

export interface SimResult {
  seed: number;
  nodeCount: number;
  faultPhaseMs: number;
  twoNodeFencing: boolean;
  pacedHeartbeats: boolean;
  /** The deliberate Raft bugs this run had switched on, if any. */
  unsafeTestFaults: string[];
  ok: boolean;
  violation: SimViolationReport | null;
  steps: number;
  virtualMs: number;
  /** Virtual time from the heal to the first proposal known on every node, if it happened. */
  recoveryMs: number | null;
  stats: SimStats;
  traceTail: TraceEntry[];
  /** Digest of the whole trace: equal digests mean the runs did the same things in order. */
  traceDigest: string;
  /** Each node's role, term, commit index and applied index when the run ended. */
  finalNodes: string[];
  /** The last faults injected, oldest first, with their virtual times. */
  recentFaults: string[];
}
