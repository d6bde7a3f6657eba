/**
 * The contract of the Raft core (src/consensus), its persistence (src/storage) and the simulator
 * (src/sim). The core is a pure state machine: time and randomness come in as arguments, and
 * everything it wants done comes out as a `Ready` that the caller executes in order:
 *
 *   1. persist `ready.persist` (and fsync) — term, vote, log changes, snapshot;
 *   2. only then send `ready.messages` (a vote or an acknowledgement must never outrun the disk);
 *   3. apply `ready.committed` to the state machine, in order;
 *   4. act on `ready.events`.
 */

export type NodeId = number;

/** One voting member. Votes default to 1; a witness votes but never stands for election. */
export interface Member {
  id: NodeId;
  votes: number;
  /** A witness: votes and stores the log, never becomes candidate or leader, runs nothing. */
  witness: boolean;
}

/** The voting configuration: quorum is a strict majority of the sum of `votes`. */
export interface Membership {
  members: Member[];
}

export type EntryBody =
  /** Appended by every new leader so it can commit entries of earlier terms (Raft §5.4.2). */
  | { kind: "noop" }
  /** Single-server change: the new configuration takes effect as soon as it is appended. */
  | { kind: "membership"; membership: Membership }
  /** An application command, opaque to Raft (JSON text of the replicated state's command). */
  | { kind: "command"; payload: string };

export interface LogEntry {
  index: number;
  term: number;
  body: EntryBody;
}

export interface SnapshotMeta {
  lastIncludedIndex: number;
  lastIncludedTerm: number;
  /** The membership in force at lastIncludedIndex. */
  membership: Membership;
}

export interface Snapshot {
  meta: SnapshotMeta;
  /** The state machine's serialized state at lastIncludedIndex (JSON text). */
  data: string;
}

/** What must survive a crash, and nothing else. */
export interface HardState {
  term: number;
  votedFor: NodeId | null;
}

/** What a node restarts from: exactly what it persisted before it crashed. */
export interface PersistedState {
  hardState: HardState;
  snapshot: Snapshot | null;
  /** Entries after the snapshot (or from index 1), contiguous, ascending. */
  entries: LogEntry[];
}

/**
 * Changes to make durable before any message of the same Ready is sent. Apply them in field
 * order: hardState, truncateFrom, append, snapshot. (The core never puts `append` and `snapshot`
 * in the same Ready; `truncateFrom` with `snapshot` drops a divergent suffix after it.)
 */
export interface PersistOps {
  hardState?: HardState;
  /** Drop every entry with index >= this (a leader overwrote a divergent suffix). */
  truncateFrom?: number;
  append?: LogEntry[];
  /** Replace the snapshot atomically and drop the entries it covers. */
  snapshot?: Snapshot;
}

export type RaftMessage =
  | {
      type: "request_vote";
      term: number;
      /** Pre-vote: asks "would you vote for me?" without anyone changing term (Raft thesis §9.6). */
      preVote: boolean;
      lastLogIndex: number;
      lastLogTerm: number;
      /**
       * Leadership transfer (Raft thesis §3.10): the leader asked this candidate to run (and gave
       * up its lease first), so voters grant it although they heard that leader recently.
       */
      transfer?: boolean;
      /** The candidate's commit index: where a witness may start its log_offer (witness-offer.ts). */
      commitIndex?: number;
      /** An entry the candidate shares with a witness's last log_offer: where the next may start. */
      offerMatchIndex?: number;
      offerMatchTerm?: number;
    }
  /**
   * A witness refusing a candidate whose log is behind its own sends what the candidate lacks
   * (witness-offer.ts): entries after prevLogIndex, or, when the candidate may lack what the
   * witness compacted, its snapshot alone. lastLogIndex/lastLogTerm end the witness's log.
   */
  | {
      type: "log_offer";
      term: number;
      lastLogIndex: number;
      lastLogTerm: number;
      prevLogIndex: number;
      prevLogTerm: number;
      entries: LogEntry[];
      snapshot?: Snapshot;
    }
  /** Leadership transfer: the leader tells an up-to-date follower to start an election now. */
  | { type: "timeout_now"; term: number }
  | { type: "vote"; term: number; preVote: boolean; granted: boolean }
  | {
      type: "append_entries";
      term: number;
      prevLogIndex: number;
      prevLogTerm: number;
      entries: LogEntry[];
      leaderCommit: number;
      /** Leader's clock when sent; echoed back so the leader can date the quorum's contact. */
      sentAtMs: number;
      /** Added by consensus: the leader held its lease when it sent this (followers lease only then). */
      leaderLeaseValid?: boolean;
      /**
       * Added by consensus: the latest `append_response.sentAtMs` / `snapshot_response.sentAtMs`
       * the leader has received from this follower in this term (the follower's own clock), or
       * null. The follower anchors its lease there, never at its receive time (see lease.ts).
       */
      echoResponseSentAtMs?: number | null;
    }
  | {
      type: "append_response";
      term: number;
      success: boolean;
      /** On success: the follower's last index matching the leader. On failure: a hint. */
      matchIndex: number;
      /** The append_entries.sentAtMs this answers. */
      echoSentAtMs: number;
      /** Added by consensus: the follower's clock when it answered (echoed back for its lease). */
      sentAtMs?: number;
    }
  | {
      type: "install_snapshot";
      term: number;
      snapshot: Snapshot;
      sentAtMs: number;
      /** Added by consensus: as on append_entries. */
      leaderLeaseValid?: boolean;
      /** Added by consensus: as on append_entries. */
      echoResponseSentAtMs?: number | null;
    }
  | {
      type: "snapshot_response";
      term: number;
      matchIndex: number;
      echoSentAtMs: number;
      /** Added by consensus: as on append_response. */
      sentAtMs?: number;
    };

export interface Envelope {
  from: NodeId;
  to: NodeId;
  message: RaftMessage;
}

export type Role = "follower" | "pre_candidate" | "candidate" | "leader";

export type RaftEvent =
  | { type: "became_leader"; term: number }
  | { type: "stepped_down"; term: number; reason: string }
  | { type: "leader_changed"; term: number; leaderId: NodeId | null }
  | { type: "lease_acquired"; untilMs: number }
  | { type: "lease_lost"; reason: string }
  | { type: "quorum_lost" }
  | { type: "quorum_regained" }
  | { type: "membership_changed"; membership: Membership }
  | { type: "snapshot_installed"; lastIncludedIndex: number }
  /** A witness's log_offer brought this node's log up to the witness's (witness-offer.ts). */
  | { type: "log_offer_taken"; from: NodeId; lastIndex: number; snapshot: boolean }
  /** Two-node mode (two-node.ts): the fenced peer's vote stands in for it, or no longer does. */
  | { type: "stand_in_started"; peer: NodeId }
  | { type: "stand_in_ended"; peer: NodeId };

export interface Ready {
  persist: PersistOps;
  messages: Envelope[];
  /** Newly committed entries, in index order, to apply to the state machine. */
  committed: LogEntry[];
  /** A snapshot received from the leader, to load into the state machine before `committed`. */
  restoreSnapshot: Snapshot | null;
  events: RaftEvent[];
}

/** Timing, in ms. The config validator enforces the relations described in ARCHITECTURE.md. */
export interface RaftTiming {
  /** Leader → follower append_entries (heartbeat) interval. */
  heartbeatIntervalMs: number;
  /** Followers wait a random time in [min, max) without a leader before an election. */
  electionTimeoutMinMs: number;
  electionTimeoutMaxMs: number;
  /** The leader's lease: at most this long after a send a quorum answered (lease.ts (2)). */
  leaseMs: number;
  /**
   * A follower's lease: at most this long after its own send of an answer that reached the
   * leader (lease.ts (3)). May exceed leaseMs: only the leader's lease must end before another
   * election. Longer rides out more lost heartbeats; the leader waits it out for a lost node.
   * Defaults to leaseMs.
   */
  followerLeaseMs?: number;
  /** Extra wait for clock-rate differences: the leader waits leaseMs * (1 + driftRatio). */
  driftRatio: number;
  /**
   * How long past the end of its lease a node may still be stopping what it ran: its node
   * guard's grace (guard-protocol.ts), whose stops may finish that late before it fences. The
   * leader waits this out too before it takes a lost node's resources (lease.ts). 0 (the
   * default) where nothing outlives the lease.
   */
  releaseGraceMs?: number;
}

export interface RaftStatus {
  id: NodeId;
  role: Role;
  term: number;
  leaderId: NodeId | null;
  commitIndex: number;
  lastLogIndex: number;
  votesPresent: number;
  votesNeeded: number;
  leaseUntilMs: number | null;
  membership: Membership;
  /** Two-node mode only (two-node.ts); absent otherwise. */
  twoNode?: TwoNodeStatus;
}

export interface TwoNodeStatus {
  /** This run has seen every committed entry: it may stand in for a fenced peer. */
  caughtUp: boolean;
  /** Peers whose vote stands in for them (fenced or left, not heard from since). */
  standIns: NodeId[];
}

export type ProposeResult =
  | { ok: true; index: number; term: number; ready: Ready }
  | { ok: false; reason: "not_leader"; leaderId: NodeId | null }
  | { ok: false; reason: "membership_change_pending" | "invalid_membership"; detail: string };
