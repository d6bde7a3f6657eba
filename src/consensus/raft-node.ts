import { InvariantError } from "../invariant/invariant-error.js";
import {
  randomElectionTimeoutMs,
  type VoteRequestView,
  VoteTally,
  wouldGrantPreVote,
  wouldGrantVote,
} from "./election.js";
import { LeaderState } from "./leader-state.js";
import { assertLeaseTiming } from "./lease.js";
import {
  describeMembershipProblem,
  describeSingleServerChangeProblem,
  sameMembership,
} from "./membership-change.js";
import { findMember, votesNeeded, votesOf } from "./quorum.js";
import { RaftLog } from "./raft-log.js";
import { ReadyBuilder } from "./ready.js";
import { twoNodePeerOf } from "./two-node.js";
import type {
  EntryBody,
  HardState,
  LogEntry,
  Membership,
  NodeId,
  PersistedState,
  ProposeResult,
  RaftMessage,
  RaftStatus,
  RaftTiming,
  Ready,
  Role,
  Snapshot,
} from "./types.js";
import { describeMessageProblem } from "./validate.js";
import { buildLogOffer } from "./witness-offer.js";

const DEFAULT_MAX_ENTRIES_PER_MESSAGE = 64;

export interface RaftNodeOptions {
  id: NodeId;
  timing: RaftTiming;
  /** Uniform in [0,1): the only randomness (election timeouts). Injected so runs replay exactly. */
  random: () => number;
  /** What the node persisted before (empty state on first start: term 0, no vote, no entries). */
  persisted: PersistedState;
  /** Used when neither the snapshot nor a log entry carries a membership (first boot). */
  initialMembership: Membership;
  nowMs: number;
  /** Max entries per append_entries (default 64). */
  maxEntriesPerMessage?: number;
  /**
   * Two-node mode with fencing (two-node.ts): a fenced or departed peer's vote may stand in for
   * it (standInFor). Default false.
   */
  twoNodeFencing?: boolean;
  /**
   * The caller calls heartbeat() every heartbeatIntervalMs (the agent, as its membership
   * heartbeats leave, which then carry the appends), and that is the only cadence of a leader's
   * heartbeats: tick() sends only the first one, at election. Default false.
   */
  pacedHeartbeats?: boolean;
  /** For the simulator's self-test ONLY: deliberately break safety so checkers can be shown to catch it. */
  unsafeTestFaults?: {
    grantEveryVote?: boolean;
    forgetVoteOnRestart?: boolean;
    commitWithoutQuorum?: boolean;
    /** Two-node mode: stand in for the peer without having caught up (two-node.ts (2)). */
    standInBeforeCaughtUp?: boolean;
    /** Two-node mode: count as caught up from a message the leader sent before it heard this run. */
    catchUpFromStaleMessage?: boolean;
  };
}

type Message<T extends RaftMessage["type"]> = Extract<RaftMessage, { type: T }>;

/**
 * One Raft participant as a pure state machine (pre-vote, check-quorum, weighted votes,
 * single-server membership changes, snapshots and leases — see lease.ts). Every input returns
 * a Ready to execute in the order described in types.ts. No clocks, timers or randomness of
 * its own: the same inputs always give the same outputs.
 */
export class RaftNode {
  private readonly id: NodeId;
  private readonly timing: RaftTiming;
  private readonly random: () => number;
  /** How long after a broadcast the node's own next one is due: never when paced. */
  private readonly ownHeartbeatDelayMs: number;
  private readonly maxEntriesPerMessage: number;
  private readonly faults: NonNullable<RaftNodeOptions["unsafeTestFaults"]>;
  private readonly initialMembership: Membership;
  private readonly log: RaftLog;
  private readonly twoNodeFencing: boolean;
  /** This run's start on its own clock: echoes of earlier answers belong to an earlier run. */
  private readonly startedAtMs: number;
  /** Two-node mode: peers whose vote stands in for them until they are heard (two-node.ts). */
  private readonly standIns = new Set<NodeId>();
  /** Two-node mode: this run has every committed entry (two-node.ts (2)). */
  private caughtUp = false;

  private currentTerm: number;
  private votedFor: NodeId | null;
  private persistedHardState: HardState;
  private snapshot: Snapshot | null;
  private membership: Membership;
  /** Index of the entry (or snapshot) that set `membership`; 0 for the initial one. */
  private membershipIndex: number;
  private currentRole: Role = "follower";
  private currentLeader: NodeId | null = null;
  private committedIndex: number;
  /** The last index handed out in Ready.committed (or restored from a snapshot). */
  private appliedThroughIndex: number;
  private electionDeadlineMs: number;
  private lastLeaderContactAtMs: number;
  private tally: VoteTally | null = null;
  private leaderState: LeaderState | null = null;
  private followerLeaseUntilMs: number | null = null;
  private leaseHeld = false;
  /** The leader this node last followed: which term, and when it first heard from it in it. */
  private leaderHeard: { id: NodeId; term: number; firstAtMs: number } | null = null;
  private leaseLostReason = "lease expired";
  /**
   * Leader only: handing leadership to `target` (transferLeadership), given up at untilMs;
   * `told` once timeout_now went out (the target had the whole log).
   */
  private transfer: { target: NodeId; untilMs: number; told: boolean } | null = null;
  /**
   * Not (or no longer) in touch with a quorum-backed leader. A node starts cut off, silently;
   * quorum_regained marks the first contact, quorum_lost each loss after that.
   */
  private cutOff = true;
  /** The last index at which this log is known to match a witness's log_offer (witness-offer.ts). */
  private offerMatchIndex = 0;
  private ignoredMessages = 0;
  private ready: ReadyBuilder;

  constructor(options: RaftNodeOptions) {
    const { id, timing, persisted } = options;
    if (!Number.isInteger(id) || id < 0)
      throw new Error(`raft node id must be a non-negative integer, got ${id}`);
    assertLeaseTiming(timing);
    const membershipProblem = describeMembershipProblem(options.initialMembership);
    if (membershipProblem !== null) throw new Error(`initialMembership: ${membershipProblem}`);
    const { term, votedFor } = persisted.hardState;
    if (!Number.isSafeInteger(term) || term < 0) {
      throw new Error(`persisted hardState.term must be a non-negative integer, got ${term}`);
    }
    const maxEntries = options.maxEntriesPerMessage ?? DEFAULT_MAX_ENTRIES_PER_MESSAGE;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new Error(`maxEntriesPerMessage must be a positive integer, got ${maxEntries}`);
    }
    this.id = id;
    this.timing = { ...timing };
    this.random = options.random;
    this.ownHeartbeatDelayMs = options.pacedHeartbeats
      ? Number.POSITIVE_INFINITY
      : timing.heartbeatIntervalMs;
    this.maxEntriesPerMessage = maxEntries;
    this.faults = { ...options.unsafeTestFaults };
    this.initialMembership = options.initialMembership;
    this.twoNodeFencing = options.twoNodeFencing === true;
    this.startedAtMs = options.nowMs;
    this.log = new RaftLog(persisted.snapshot?.meta ?? null, persisted.entries);
    this.snapshot = persisted.snapshot;
    this.currentTerm = term;
    this.votedFor = this.faults.forgetVoteOnRestart ? null : votedFor;
    this.persistedHardState = { term, votedFor };
    this.committedIndex = this.log.snapshotIndex();
    this.appliedThroughIndex = this.log.snapshotIndex();
    const found = this.log.membershipAt(this.log.lastIndex());
    this.membership = found?.membership ?? this.initialMembership;
    this.membershipIndex = found?.index ?? 0;
    // Start-up counts as leader contact: a node may have answered a leader just before it
    // crashed, and its promise not to vote for electionTimeoutMinMs must survive (lease.ts).
    this.lastLeaderContactAtMs = options.nowMs;
    this.electionDeadlineMs = options.nowMs + randomElectionTimeoutMs(timing, this.random);
    this.ready = new ReadyBuilder(id);
  }

  // ---- inputs -------------------------------------------------------------------------------

  /**
   * The caller's own heartbeat leaves now (pacedHeartbeats): a leader sends its appends to go
   * with it, unless the last ones left less than half an interval ago. Otherwise a tick().
   */
  heartbeat(nowMs: number): Ready {
    const leader = this.leaderState;
    if (leader !== null && nowMs - leader.lastBroadcastAtMs >= this.timing.heartbeatIntervalMs / 2)
      leader.nextHeartbeatAtMs = Math.min(leader.nextHeartbeatAtMs, nowMs);
    return this.tick(nowMs);
  }

  tick(nowMs: number): Ready {
    this.begin();
    const leader = this.leaderState;
    if (leader !== null) {
      // Nobody answers for a stand-in: its share of the lease is renewed here.
      if (this.standIns.size > 0) leader.refreshLease(this.membership, nowMs);
      if (this.transfer !== null && nowMs >= this.transfer.untilMs) {
        // Its lease is gone for good (transferLeadership): step down, a normal election follows.
        this.stepDown(nowMs, this.currentTerm, null, "leadership transfer did not complete");
      } else if (nowMs >= leader.quorumContactDeadlineMs(this.membership)) {
        this.markCutOff();
        this.stepDown(
          nowMs,
          this.currentTerm,
          null,
          "check-quorum: no answer from a quorum of votes",
        );
      } else if (nowMs >= leader.nextHeartbeatAtMs) {
        this.broadcastAppend(nowMs);
      }
    } else if (nowMs >= this.electionDeadlineMs) {
      this.onElectionTimeout(nowMs);
    }
    return this.finish(nowMs);
  }

  receive(nowMs: number, from: NodeId, message: RaftMessage): Ready {
    this.begin();
    const problem =
      !Number.isInteger(from) || from === this.id
        ? `bad sender ${from}`
        : describeMessageProblem(message);
    if (problem !== null) {
      this.ignoredMessages++;
      return this.finish(nowMs);
    }
    if (this.standIns.delete(from)) {
      // It is back (a new run): from now on its real answers count, starting with this contact.
      this.leaderState?.noteContact(from, nowMs);
      this.ready.event({ type: "stand_in_ended", peer: from });
    }
    switch (message.type) {
      case "request_vote":
        this.onRequestVote(nowMs, from, message);
        break;
      case "vote":
        this.onVote(nowMs, from, message);
        break;
      case "append_entries":
        this.onAppendEntries(nowMs, from, message);
        break;
      case "install_snapshot":
        this.onInstallSnapshot(nowMs, from, message);
        break;
      case "timeout_now":
        this.onTimeoutNow(nowMs, from, message);
        break;
      case "log_offer":
        this.onLogOffer(nowMs, from, message);
        break;
      case "append_response":
      case "snapshot_response":
        this.onAnswer(nowMs, from, message);
        break;
    }
    return this.finish(nowMs);
  }

  /** Leader only. Membership bodies must be a single-server change (membership-change.ts). */
  propose(nowMs: number, body: EntryBody): ProposeResult {
    if (this.leaderState === null || this.transfer !== null) {
      // During a transfer the next leader takes proposals (thesis §3.10); it is moments away.
      return {
        ok: false,
        reason: "not_leader",
        leaderId: this.transfer?.target ?? this.currentLeader,
      };
    }
    if (body.kind === "membership") {
      const refusal = this.membershipChangeRefusal(body.membership);
      if (refusal !== null) return refusal;
    } else if (body.kind === "command" && typeof body.payload !== "string") {
      throw new Error("propose: a command's payload must be text (the command's JSON)");
    } else if (body.kind !== "command" && body.kind !== "noop") {
      throw new Error(`propose: unknown entry kind ${String((body as { kind: unknown }).kind)}`);
    }
    this.begin();
    const entry = this.appendAsLeader(nowMs, body);
    this.advanceCommit(nowMs);
    this.sendNewEntries(nowMs);
    return { ok: true, index: entry.index, term: entry.term, ready: this.finish(nowMs) };
  }

  /**
   * The state machine's snapshot at an index it has applied. Entries it covers are dropped.
   * `meta.lastIncludedTerm` and `meta.membership` are taken from the log (the caller may not
   * know them); a lastIncludedTerm that contradicts the log is a bug and throws.
   */
  compact(nowMs: number, snapshot: Snapshot): Ready {
    this.begin();
    const index = snapshot.meta.lastIncludedIndex;
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new Error(`compact: lastIncludedIndex must be a non-negative integer, got ${index}`);
    }
    if (index > this.appliedThroughIndex) {
      throw new Error(
        `compact: snapshot at ${index} is beyond the last applied index ${this.appliedThroughIndex}`,
      );
    }
    if (index > this.log.snapshotIndex()) {
      const term = this.log.termAt(index)!;
      const claimedTerm = snapshot.meta.lastIncludedTerm;
      if (claimedTerm !== 0 && claimedTerm !== term) {
        throw new Error(
          `compact: snapshot says term ${claimedTerm} at ${index}, the log has ${term}`,
        );
      }
      const membership = this.log.membershipAt(index)?.membership ?? this.initialMembership;
      const stored: Snapshot = {
        meta: { lastIncludedIndex: index, lastIncludedTerm: term, membership },
        data: snapshot.data,
      };
      this.log.compactTo(stored.meta);
      this.snapshot = stored;
      this.ready.snapshot(stored);
    }
    return this.finish(nowMs);
  }

  /**
   * Leadership transfer (Raft thesis §3.10), for a leader about to leave: the most up-to-date
   * voter that can lead is brought up to date (no new proposals meanwhile), then told to start an
   * election at once, and its candidacy is granted although the voters heard this leader
   * recently. That promise is what backs this leader's lease (lease.ts), so the lease is given up
   * right before, for good; with no new leader within the minimum election timeout, it steps down.
   */
  transferLeadership(
    nowMs: number,
  ): { ok: true; target: NodeId; ready: Ready } | { ok: false; reason: string } {
    const leader = this.leaderState;
    if (leader === null) return { ok: false, reason: "not the leader" };
    if (this.transfer !== null) return { ok: false, reason: "a transfer is already under way" };
    let target: { id: NodeId; matchIndex: number } | null = null;
    for (const member of this.membership.members) {
      if (member.id === this.id || member.witness || this.standIns.has(member.id)) continue;
      const matchIndex = leader.progress.get(member.id)?.matchIndex ?? 0;
      if (target === null || matchIndex > target.matchIndex) target = { id: member.id, matchIndex };
    }
    if (target === null) return { ok: false, reason: "no other member can lead" };
    this.begin();
    this.transfer = {
      target: target.id,
      untilMs: nowMs + this.timing.electionTimeoutMinMs,
      told: false,
    };
    if (target.matchIndex === this.log.lastIndex()) this.tellTransferTarget();
    else this.sendAppend(target.id, nowMs);
    return { ok: true, target: target.id, ready: this.finish(nowMs) };
  }

  /** The target has the whole log: give the lease up, then let it run. */
  private tellTransferTarget(): void {
    const transfer = this.transfer;
    if (transfer === null || transfer.told || this.leaderState === null) return;
    transfer.told = true;
    this.leaderState.relinquishLease();
    this.followerLeaseUntilMs = null;
    this.leaseLostReason = `handing leadership to node ${transfer.target}`;
    this.ready.send(transfer.target, { type: "timeout_now", term: this.currentTerm });
  }

  /**
   * Two-node mode (two-node.ts): `peer` is off — fenced, or it left cleanly — so its vote stands
   * in for it until anything is heard from it again. A node without a leader elects itself at
   * once; a leader commits and renews its lease alone.
   */
  standInFor(
    nowMs: number,
    peer: NodeId,
  ): { accepted: true; ready: Ready } | { accepted: false; reason: string } {
    const reason = this.standInRefusal(peer);
    if (reason !== null) return { accepted: false, reason };
    this.begin();
    if (!this.standIns.has(peer)) {
      this.standIns.add(peer);
      this.ready.event({ type: "stand_in_started", peer });
    }
    const leader = this.leaderState;
    if (leader !== null) {
      leader.forgetAnswersOf(peer);
      leader.refreshLease(this.membership, nowMs);
      this.advanceCommit(nowMs);
    } else {
      this.onElectionTimeout(nowMs);
    }
    return { accepted: true, ready: this.finish(nowMs) };
  }

  private standInRefusal(peer: NodeId): string | null {
    if (!this.twoNodeFencing) return "not in two-node mode";
    const expected = twoNodePeerOf(this.membership, this.id);
    if (expected !== peer) {
      return `node ${peer} is not this node's two-node peer (the voting members are ${this.membership.members.map((m) => m.id).join(", ")})`;
    }
    if (!this.caughtUp && this.faults.standInBeforeCaughtUp !== true) {
      return "this node has not caught up with its peer since it started, so it may lack entries the peer committed alone: it waits until the peer is back";
    }
    return null;
  }

  // ---- queries ------------------------------------------------------------------------------

  /** The earliest time tick() has work; +Infinity when nothing is scheduled. */
  nextTickAtMs(): number {
    // Asked after every step: a minimum kept as it goes, not an array of candidates.
    let dueAtMs: number;
    const leader = this.leaderState;
    if (leader !== null) {
      dueAtMs = Math.min(leader.nextHeartbeatAtMs, leader.quorumContactDeadlineMs(this.membership));
      if (this.transfer !== null) dueAtMs = Math.min(dueAtMs, this.transfer.untilMs);
    } else {
      dueAtMs = this.electionDeadlineMs;
    }
    const leaseUntilMs = this.leaseUntilMs();
    if (this.leaseHeld && leaseUntilMs !== null) dueAtMs = Math.min(dueAtMs, leaseUntilMs);
    return dueAtMs;
  }

  status(nowMs: number): RaftStatus {
    return {
      id: this.id,
      role: this.currentRole,
      term: this.currentTerm,
      leaderId: this.currentLeader,
      commitIndex: this.committedIndex,
      lastLogIndex: this.log.lastIndex(),
      votesPresent: this.votesPresent(nowMs),
      votesNeeded: votesNeeded(this.membership),
      leaseUntilMs: this.heldLeaseUntilMs(nowMs),
      membership: this.membership,
      ...(this.twoNodeFencing
        ? {
            twoNode: {
              caughtUp: this.caughtUp,
              standIns: [...this.standIns].sort((a, b) => a - b),
            },
          }
        : {}),
    };
  }

  role(): Role {
    return this.currentRole;
  }

  term(): number {
    return this.currentTerm;
  }

  leaderId(): NodeId | null {
    return this.currentLeader;
  }

  commitIndex(): number {
    return this.committedIndex;
  }

  /**
   * Messages dropped as malformed, or as answers this leader cannot use, since start. One that
   * contradicts what this node committed is not dropped: it throws an InvariantError.
   */
  ignoredMessageCount(): number {
    return this.ignoredMessages;
  }

  /**
   * True while this node holds a valid lease (lease.ts), of either kind: what lets it run its
   * own resources. On a leader it may still be the follower lease it kept from the leader before
   * (becomeLeader), which is not exclusive: see holdsLeaderLease.
   */
  holdsLease(nowMs: number): boolean {
    const untilMs = this.leaseUntilMs();
    return untilMs !== null && nowMs < untilMs;
  }

  /** When the lease this node holds now ends (status().leaseUntilMs); null without one. */
  heldLeaseUntilMs(nowMs: number): number | null {
    return this.holdsLease(nowMs) ? this.leaseUntilMs() : null;
  }

  /**
   * True while this node leads and holds its quorum-backed leader lease (lease.ts (2)): the lease
   * at most one node holds at any moment, and the only one on which a leader vouches for others
   * (leaseSurelyExpired) or renews followers' leases.
   */
  holdsLeaderLease(nowMs: number): boolean {
    return this.leaderState?.holdsLease(nowMs) === true;
  }

  /** Leader only (false otherwise: only a leader can vouch): nodeId's lease has surely ended. */
  leaseSurelyExpired(nodeId: NodeId, nowMs: number): boolean {
    // Only a leader that still holds its own lease can vouch: while it does, no newer leader
    // exists (lease.ts), so no lease it has not seen can be running. A leader that was paused
    // past its lease may already have a successor whose leases it knows nothing about.
    const leader = this.leaderState;
    if (leader === null || !leader.holdsLease(nowMs)) return false;
    return leader.leaseSurelyExpired(nodeId, nowMs);
  }

  // ---- elections ----------------------------------------------------------------------------

  private onElectionTimeout(nowMs: number): void {
    this.markCutOff();
    this.setLeader(null);
    if (!this.mayCampaign()) {
      this.resetElectionTimer(nowMs);
      return;
    }
    this.startPreVote(nowMs);
  }

  /**
   * Members that may lead campaign. So does a node that its latest, uncommitted membership
   * removes (Raft thesis §4.2.2): until that change commits it may hold entries no one else
   * has, the change itself among them, and the others may need it to lead and finish it. Its
   * own vote does not count (VoteTally counts members only).
   */
  private mayCampaign(): boolean {
    const self = findMember(this.membership, this.id);
    if (self !== undefined) return !self.witness;
    if (this.membershipIndex <= this.committedIndex) return false;
    const before = this.log.membershipAt(this.membershipIndex - 1)?.membership;
    const previously = findMember(before ?? this.initialMembership, this.id);
    return previously !== undefined && !previously.witness;
  }

  private startPreVote(nowMs: number): void {
    this.currentRole = "pre_candidate";
    this.resetElectionTimer(nowMs);
    this.tally = this.openTally();
    if (this.tally.won(this.membership)) {
      this.becomeCandidate(nowMs);
      return;
    }
    this.requestVotes(this.currentTerm + 1, true);
  }

  /** Leadership transfer: our leader asks us to run now (transferLeadership). */
  private onTimeoutNow(nowMs: number, from: NodeId, message: Message<"timeout_now">): void {
    if (message.term !== this.currentTerm || from !== this.currentLeader) return;
    if (this.currentRole !== "follower") return;
    const self = findMember(this.membership, this.id);
    if (self === undefined || self.witness) return;
    // A follower lease may outlast an election (followerLeaseMs), which is safe only because an
    // election normally comes an election timeout after the last answer; this one comes at once.
    // Held no longer than a leader lease from here, it ends before any other leader can exist.
    if (this.followerLeaseUntilMs !== null) {
      this.followerLeaseUntilMs = Math.min(this.followerLeaseUntilMs, nowMs + this.timing.leaseMs);
    }
    this.setLeader(null);
    this.becomeCandidate(nowMs, true);
  }

  private becomeCandidate(nowMs: number, transfer = false): void {
    this.currentTerm++;
    this.votedFor = this.id;
    this.currentRole = "candidate";
    this.resetElectionTimer(nowMs);
    this.tally = this.openTally();
    if (this.tally.won(this.membership)) {
      this.becomeLeader(nowMs);
      return;
    }
    this.requestVotes(this.currentTerm, false, transfer);
  }

  /** A campaign's tally, holding our own vote and those of stand-ins (two-node.ts). */
  private openTally(): VoteTally {
    const tally = new VoteTally();
    tally.record(this.id, true);
    for (const peer of this.standIns) tally.record(peer, true);
    return tally;
  }

  /** Where a witness's next log_offer may start: the entry we last matched its log at. */
  private offerMatchHint(): { offerMatchIndex: number; offerMatchTerm: number } | object {
    const index = this.offerMatchIndex;
    const term = this.log.termAt(index);
    return index > this.committedIndex && term !== undefined
      ? { offerMatchIndex: index, offerMatchTerm: term }
      : {};
  }

  private requestVotes(term: number, preVote: boolean, transfer = false): void {
    const lastLogIndex = this.log.lastIndex();
    const lastLogTerm = this.log.lastTerm();
    for (const member of this.membership.members) {
      if (member.id === this.id) continue;
      this.ready.send(member.id, {
        type: "request_vote",
        term,
        preVote,
        lastLogIndex,
        lastLogTerm,
        commitIndex: this.committedIndex,
        ...this.offerMatchHint(),
        ...(transfer ? { transfer: true } : {}),
      });
    }
  }

  private onRequestVote(nowMs: number, from: NodeId, message: Message<"request_vote">): void {
    // A transfer's candidate runs at its leader's request, that leader's lease already given up.
    const heardFromLeaderRecently =
      this.heardFromLeaderRecently(nowMs) && !(message.transfer === true && !message.preVote);
    const candidateLogIsUpToDate = this.log.isAtLeastAsUpToDate(
      message.lastLogIndex,
      message.lastLogTerm,
    );
    if (message.preVote) {
      const view = {
        term: this.currentTerm,
        votedFor: this.votedFor,
        candidateLogIsUpToDate,
        heardFromLeaderRecently,
      };
      const granted = this.faults.grantEveryVote === true || wouldGrantPreVote(view, message.term);
      const term = granted ? message.term : this.currentTerm;
      this.ready.send(from, { type: "vote", term, preVote: true, granted });
      if (!granted) this.offerLogAsWitness(from, message, view);
      else if (
        this.currentRole === "pre_candidate" &&
        from < this.id &&
        // The unsafe fault shows what a split vote becomes when every vote is granted.
        this.faults.grantEveryVote !== true
      ) {
        this.yieldPreVote(nowMs);
      }
      return;
    }
    if (message.term > this.currentTerm) {
      if (heardFromLeaderRecently && !this.faults.grantEveryVote) {
        // Raft thesis §4.2.3: a live leader exists; do not even adopt the newer term.
        this.ready.send(from, {
          type: "vote",
          term: this.currentTerm,
          preVote: false,
          granted: false,
        });
        return;
      }
      this.stepDown(nowMs, message.term, null, `vote requested in newer term ${message.term}`);
    }
    const view = {
      term: this.currentTerm,
      votedFor: this.votedFor,
      candidateLogIsUpToDate,
      heardFromLeaderRecently,
    };
    const granted = this.faults.grantEveryVote
      ? message.term === this.currentTerm
      : wouldGrantVote(view, message.term, from);
    if (granted) {
      this.votedFor = from;
      this.resetElectionTimer(nowMs);
    }
    this.ready.send(from, { type: "vote", term: this.currentTerm, preVote: false, granted });
    if (!granted) this.offerLogAsWitness(from, message, view);
  }

  /**
   * A witness cannot lead, so a candidate behind it would be refused for ever once the leader
   * that wrote the entries it lacks is gone: the witness sends them (witness-offer.ts). Only
   * when the log is all that stands in the way, and only to a member that can lead.
   */
  private offerLogAsWitness(from: NodeId, request: Message<"request_vote">, view: VoteRequestView) {
    if (view.candidateLogIsUpToDate || view.heardFromLeaderRecently) return;
    if (findMember(this.membership, this.id)?.witness !== true) return;
    const candidate = findMember(this.membership, from);
    if (candidate === undefined || candidate.witness) return;
    const offer = buildLogOffer(
      this.log,
      this.snapshot,
      request,
      this.currentTerm,
      this.maxEntriesPerMessage,
    );
    this.ready.send(from, offer);
  }

  /**
   * Takes a witness's log (witness-offer.ts explains why that is safe) while no leader is known,
   * and only from a log strictly more up to date than this one; then asks for votes again at
   * once rather than an election timeout later.
   */
  private onLogOffer(nowMs: number, from: NodeId, offer: Message<"log_offer">): void {
    if (findMember(this.membership, from)?.witness !== true) {
      this.ignoredMessages++;
      return;
    }
    if (this.currentRole === "leader" || this.currentLeader !== null) return;
    const endBefore = { index: this.log.lastIndex(), term: this.log.lastTerm() };
    const sameEnd = offer.lastLogIndex === endBefore.index && offer.lastLogTerm === endBefore.term;
    if (sameEnd || !this.log.isAtLeastAsUpToDate(offer.lastLogIndex, offer.lastLogTerm)) return;
    const contradicts = (index: number, term: number): never => {
      throw new InvariantError(
        `witness ${from} offers term ${term} at index ${index}, which this node (${this.id}) committed with term ${this.log.termAt(index)} (commit index ${this.committedIndex}); its log ends at ${offer.lastLogIndex}/t${offer.lastLogTerm}, this one at ${endBefore.index}/t${endBefore.term}`,
      );
    };
    let matchedThrough: number;
    if (offer.snapshot !== undefined) {
      matchedThrough = offer.snapshot.meta.lastIncludedIndex;
      if (matchedThrough <= this.committedIndex) return;
      this.installSnapshot(nowMs, offer.snapshot);
    } else {
      const through = this.mergeEntries(
        nowMs,
        offer.prevLogIndex,
        offer.prevLogTerm,
        offer.entries,
        contradicts,
      );
      if (through === null) return;
      matchedThrough = through;
    }
    const campaigning = this.currentRole !== "follower";
    if (offer.term > this.currentTerm) {
      // Our log now holds entries of terms up to the witness's: never of a term after our own.
      this.stepDown(nowMs, offer.term, null, `took witness ${from}'s log of term ${offer.term}`);
    }
    const changed =
      this.log.lastIndex() !== endBefore.index || this.log.lastTerm() !== endBefore.term;
    // Entries that were already ours move the match point: the next offer starts after them
    // (else an offer that ends before where our logs part would come back unchanged for ever).
    const advanced = matchedThrough !== this.offerMatchIndex;
    this.offerMatchIndex = matchedThrough;
    if (!changed && !advanced) return;
    this.ready.event({
      type: "log_offer_taken",
      from,
      lastIndex: this.log.lastIndex(),
      snapshot: offer.snapshot !== undefined,
    });
    if (this.currentRole === "candidate") {
      this.tally = this.openTally();
      this.requestVotes(this.currentTerm, false);
    } else if (campaigning) {
      this.startPreVote(nowMs);
    }
  }

  /**
   * Two nodes whose election timers fired within a round trip both pass the pre-vote (each grants
   * the other's) and split the real vote: nobody leads until another election timeout, and the
   * followers' leases, given a heartbeat before the old leader died, run out meanwhile (every
   * resource stops). So a pre-candidate that grants the pre-vote of a lower-numbered node, whose
   * log is then at least as good as its own, stands back for it. Pre-votes change no term and no
   * vote, so this touches liveness only: the two draw new timeouts if that node fails to win.
   */
  private yieldPreVote(nowMs: number): void {
    this.currentRole = "follower";
    this.tally = null;
    this.resetElectionTimer(nowMs);
  }

  private onVote(nowMs: number, from: NodeId, message: Message<"vote">): void {
    if (!message.granted && message.term > this.currentTerm) {
      this.stepDown(nowMs, message.term, null, `vote refused in newer term ${message.term}`);
      return;
    }
    const expectedRole = message.preVote ? "pre_candidate" : "candidate";
    const expectedTerm = message.preVote ? this.currentTerm + 1 : this.currentTerm;
    if (this.currentRole !== expectedRole || this.tally === null) return;
    if (message.granted && message.term !== expectedTerm) return;
    this.tally.record(from, message.granted);
    if (!this.tally.won(this.membership)) return;
    if (message.preVote) this.becomeCandidate(nowMs);
    else this.becomeLeader(nowMs);
  }

  private heardFromLeaderRecently(nowMs: number): boolean {
    return (
      this.currentRole === "leader" ||
      nowMs - this.lastLeaderContactAtMs < this.timing.electionTimeoutMinMs
    );
  }

  private resetElectionTimer(nowMs: number): void {
    this.electionDeadlineMs = nowMs + randomElectionTimeoutMs(this.timing, this.random);
  }

  // ---- roles --------------------------------------------------------------------------------

  private becomeLeader(nowMs: number): void {
    this.currentRole = "leader";
    this.tally = null;
    // A follower lease still running is kept until the leader lease takes over: it may outlast
    // an election (followerLeaseMs), and dropping it would stop this node's resources for the
    // few milliseconds until a quorum answers. No later leader releases them before it ends
    // (lease.ts (4)). It stays a follower lease: not exclusive (another node elected meanwhile
    // may keep one too), and never what this leader vouches or renews leases on.
    // lease.ts (5): the leader of the term just before ours, first heard at firstAtMs.
    const heard = this.leaderHeard;
    const predecessor =
      heard !== null && heard.term === this.currentTerm - 1
        ? { id: heard.id, heardSinceMs: heard.firstAtMs }
        : null;
    // Elected by the peer's real vote: by Raft's election restriction we hold every committed
    // entry (two-node.ts (2)).
    if (this.standIns.size === 0) this.caughtUp = true;
    const leader = new LeaderState(this.id, this.timing, nowMs, predecessor, this.standIns);
    this.leaderState = leader;
    leader.syncMembers(this.membership, this.log.lastIndex() + 1, nowMs);
    this.ready.event({ type: "became_leader", term: this.currentTerm });
    this.setLeader(this.id);
    this.markReconnected();
    this.appendAsLeader(nowMs, { kind: "noop" });
    this.advanceCommit(nowMs);
    if (this.leaderState !== null) this.broadcastAppend(nowMs);
  }

  /** Becomes a follower, in `term` if it is newer (forgetting the vote). */
  private stepDown(nowMs: number, term: number, leaderId: NodeId | null, reason: string): void {
    if (term > this.currentTerm) {
      this.currentTerm = term;
      this.votedFor = null;
    }
    if (this.currentRole === "leader") {
      this.leaderState = null;
      this.transfer = null;
      this.leaseLostReason = `stepped down: ${reason}`;
      // It was the live leader until now; its voters' promises run from here (lease.ts).
      this.lastLeaderContactAtMs = nowMs;
      this.resetElectionTimer(nowMs);
      this.ready.event({ type: "stepped_down", term: this.currentTerm, reason });
    }
    this.currentRole = "follower";
    this.tally = null;
    this.setLeader(leaderId);
  }

  private setLeader(leaderId: NodeId | null): void {
    if (leaderId === this.currentLeader) return;
    this.currentLeader = leaderId;
    this.ready.event({ type: "leader_changed", term: this.currentTerm, leaderId });
  }

  private markCutOff(): void {
    if (this.cutOff) return;
    this.cutOff = true;
    this.ready.event({ type: "quorum_lost" });
  }

  private markReconnected(): void {
    if (!this.cutOff) return;
    this.cutOff = false;
    this.ready.event({ type: "quorum_regained" });
  }

  // ---- follower side ------------------------------------------------------------------------

  /** Accepts `from` as the leader of `term` unless the term is stale. */
  private acceptLeader(nowMs: number, from: NodeId, term: number): boolean {
    if (term < this.currentTerm) return false;
    if (term === this.currentTerm) this.assertSoleLeader(from);
    if (term > this.currentTerm || this.currentRole !== "follower" || this.currentLeader !== from) {
      this.stepDown(nowMs, term, from, `node ${from} leads term ${term}`);
    }
    if (this.leaderHeard?.term !== term || this.leaderHeard.id !== from) {
      this.leaderHeard = { id: from, term, firstAtMs: nowMs };
    }
    this.lastLeaderContactAtMs = nowMs;
    this.resetElectionTimer(nowMs);
    this.markReconnected();
    return true;
  }

  /**
   * Election safety: one leader per term. This node leads the current term itself, or follows
   * another leader in it (a follower's leader is always of its current term: every change of term
   * sets or clears it), and `from` claims the same term. Votes are durable and each node grants
   * one per term, so only a lost or doubled vote gets here, and the logs of the two leaders may
   * already disagree on what is committed.
   */
  private assertSoleLeader(from: NodeId): void {
    if (this.currentRole !== "leader" && this.currentRole !== "follower") return;
    const other = this.currentRole === "leader" ? this.id : this.currentLeader;
    if (other === null || other === from) return;
    throw new InvariantError(
      `node ${from} claims to lead term ${this.currentTerm}, which node ${other} leads (seen by node ${this.id} as ${this.currentRole})`,
    );
  }

  private onAppendEntries(nowMs: number, from: NodeId, message: Message<"append_entries">): void {
    const answer = (success: boolean, matchIndex: number) =>
      this.ready.send(from, {
        type: "append_response",
        term: this.currentTerm,
        success,
        matchIndex,
        echoSentAtMs: message.sentAtMs,
        sentAtMs: nowMs,
      });
    if (!this.acceptLeader(nowMs, from, message.term)) {
      answer(false, this.log.lastIndex());
      return;
    }
    this.extendFollowerLease(nowMs, message.leaderLeaseValid, message.echoResponseSentAtMs);
    const lastNewIndex = this.mergeEntries(
      nowMs,
      message.prevLogIndex,
      message.prevLogTerm,
      message.entries,
      (index, term) => this.contradictedCommit(from, message, index, term),
    );
    if (lastNewIndex === null) {
      answer(false, this.log.conflictHint(message.prevLogIndex, message.prevLogTerm));
      return;
    }
    this.committedIndex = Math.max(
      this.committedIndex,
      Math.min(message.leaderCommit, lastNewIndex),
    );
    if (this.vouchesForEveryCommit(nowMs, message) && this.committedIndex >= message.leaderCommit) {
      this.caughtUp = true;
    }
    answer(true, lastNewIndex);
  }

  /**
   * Appends `entries`, which follow (prevLogIndex, prevLogTerm) in the sender's log, dropping
   * whatever of ours diverges from them. Returns the last index they cover, or null when our log
   * does not hold prevLogTerm at prevLogIndex. Dropping a committed entry is never right: that
   * calls `contradicts`, which throws.
   */
  private mergeEntries(
    nowMs: number,
    prevLogIndex: number,
    prevLogTerm: number,
    entries: readonly LogEntry[],
    contradicts: (index: number, term: number) => never,
  ): number | null {
    const snapshotIndex = this.log.snapshotIndex();
    let after = prevLogIndex;
    let fresh = entries;
    if (prevLogIndex < snapshotIndex) {
      // Entries inside our snapshot are committed, so they match the sender's: skip them.
      fresh = entries.filter((entry) => entry.index > snapshotIndex);
      after = snapshotIndex;
    } else if (this.log.termAt(prevLogIndex) !== prevLogTerm) {
      if (prevLogIndex <= this.committedIndex) contradicts(prevLogIndex, prevLogTerm);
      return null;
    }
    const firstNew = fresh.findIndex((entry) => this.log.termAt(entry.index) !== entry.term);
    if (firstNew >= 0) {
      const firstNewIndex = fresh[firstNew]!.index;
      if (firstNewIndex <= this.log.lastIndex()) {
        if (firstNewIndex <= this.committedIndex) contradicts(firstNewIndex, fresh[firstNew]!.term);
        this.log.truncateFrom(firstNewIndex);
        this.ready.truncateFrom(firstNewIndex);
      }
      for (const entry of fresh.slice(firstNew)) {
        this.log.append(entry);
        this.ready.append(entry);
      }
      this.refreshMembership(nowMs);
    }
    return after + fresh.length;
  }

  /**
   * The leader of `message.term` holds `term` at `index`, which this node has committed with
   * another term. Never a stale or reordered message: a message this node accepts comes from the
   * leader of a term at least as new as every leader that told it of a commit, that leader's log
   * holds every committed entry (Leader Completeness), and it never rewrites its own log within
   * its term, so even its oldest messages agree with it. One of the two logs is corrupt; going on
   * would either undo a commit or keep applying what the cluster does not hold, so stop.
   */
  private contradictedCommit(
    from: NodeId,
    message: Message<"append_entries">,
    index: number,
    term: number,
  ): never {
    throw new InvariantError(
      `leader ${from} of term ${message.term} has term ${term} at index ${index}, which this node (${this.id}) committed with term ${this.log.termAt(index)} (commit index ${this.committedIndex}, last index ${this.log.lastIndex()}, snapshot at ${this.log.snapshotIndex()})`,
    );
  }

  /**
   * two-node.ts (2): whether the leader's commit index in `message` covers every entry it
   * committed alone. Only if it sent `message` after hearing from this run (it echoes one of this
   * run's answers; on this node's clock, which does not go back across a restart), for hearing
   * from us ended any stand-in for us: a message sent before, still on the wire across a fence
   * and a quick reboot, may predate what it went on to commit alone. And only if that commit
   * index is of the leader's own term (a restarted leader learns it again that way): before,
   * entries it committed alone may lie beyond it.
   */
  private vouchesForEveryCommit(nowMs: number, message: Message<"append_entries">): boolean {
    const echo = message.echoResponseSentAtMs;
    const heardThisRun = typeof echo === "number" && echo >= this.startedAtMs && echo <= nowMs;
    if (!heardThisRun && this.faults.catchUpFromStaleMessage !== true) return false;
    return this.log.termAt(message.leaderCommit) === message.term;
  }

  private onInstallSnapshot(
    nowMs: number,
    from: NodeId,
    message: Message<"install_snapshot">,
  ): void {
    const answer = (matchIndex: number) =>
      this.ready.send(from, {
        type: "snapshot_response",
        term: this.currentTerm,
        matchIndex,
        echoSentAtMs: message.sentAtMs,
        sentAtMs: nowMs,
      });
    if (!this.acceptLeader(nowMs, from, message.term)) {
      answer(0);
      return;
    }
    this.extendFollowerLease(nowMs, message.leaderLeaseValid, message.echoResponseSentAtMs);
    const lastIncludedIndex = message.snapshot.meta.lastIncludedIndex;
    if (lastIncludedIndex <= this.committedIndex) {
      answer(this.committedIndex);
      return;
    }
    this.installSnapshot(nowMs, message.snapshot);
    answer(lastIncludedIndex);
  }

  /** Replaces what the state machine holds by `snapshot`, beyond this node's commit index. */
  private installSnapshot(nowMs: number, snapshot: Snapshot): void {
    const { lastIncludedIndex, lastIncludedTerm } = snapshot.meta;
    if (this.log.termAt(lastIncludedIndex) === lastIncludedTerm) {
      this.log.compactTo(snapshot.meta);
    } else {
      this.log.resetTo(snapshot.meta);
      this.ready.truncateFrom(lastIncludedIndex + 1);
    }
    this.snapshot = snapshot;
    this.ready.snapshot(snapshot);
    this.ready.restore(snapshot);
    this.committedIndex = lastIncludedIndex;
    this.appliedThroughIndex = lastIncludedIndex;
    this.ready.event({ type: "snapshot_installed", lastIncludedIndex });
    this.refreshMembership(nowMs);
  }

  /** lease.ts (3): anchored at our own echoed send time, only under a leader holding its lease. */
  private extendFollowerLease(
    nowMs: number,
    leaderLeaseValid: boolean | undefined,
    echoResponseSentAtMs: number | null | undefined,
  ): void {
    if (leaderLeaseValid !== true || typeof echoResponseSentAtMs !== "number") return;
    if (!Number.isFinite(echoResponseSentAtMs) || echoResponseSentAtMs > nowMs) return;
    // An answer of a previous run of this node (a leader's message in flight across a restart):
    // this run promised nothing then, and the leader may already count that run as gone.
    if (echoResponseSentAtMs < this.startedAtMs) return;
    const untilMs = echoResponseSentAtMs + (this.timing.followerLeaseMs ?? this.timing.leaseMs);
    if (untilMs > (this.followerLeaseUntilMs ?? Number.NEGATIVE_INFINITY)) {
      this.followerLeaseUntilMs = untilMs;
    }
  }

  // ---- leader side --------------------------------------------------------------------------

  private membershipChangeRefusal(next: Membership): ProposeResult | null {
    if (this.membershipIndex > this.committedIndex) {
      return {
        ok: false,
        reason: "membership_change_pending",
        detail: `the membership change at index ${this.membershipIndex} is not committed yet (commit index ${this.committedIndex}); propose the next one after it commits`,
      };
    }
    if (this.log.termAt(this.committedIndex) !== this.currentTerm) {
      // Without this, a change could be lost to a leader elected under the other membership
      // (the single-server change bug, Ongaro raft-dev 2015): commit our noop first.
      return {
        ok: false,
        reason: "membership_change_pending",
        detail: `the new leader has not committed an entry of term ${this.currentTerm} yet; retry shortly`,
      };
    }
    const problem = describeSingleServerChangeProblem(this.membership, next);
    if (problem !== null) return { ok: false, reason: "invalid_membership", detail: problem };
    return null;
  }

  private appendAsLeader(nowMs: number, body: EntryBody): LogEntry {
    const entry: LogEntry = { index: this.log.lastIndex() + 1, term: this.currentTerm, body };
    this.log.append(entry);
    this.ready.append(entry);
    if (body.kind === "membership") this.refreshMembership(nowMs);
    return entry;
  }

  private advanceCommit(nowMs: number): void {
    const leader = this.leaderState;
    if (leader === null) return;
    let index = leader.quorumMatchIndex(this.membership, this.log.lastIndex());
    // Raft §5.4.2: only an entry of the current term is committed by counting replicas.
    if (this.log.termAt(index) !== this.currentTerm) index = this.committedIndex;
    if (this.faults.commitWithoutQuorum) index = this.log.lastIndex();
    if (index <= this.committedIndex) return;
    this.committedIndex = index;
    if (findMember(this.membership, this.id) === undefined && this.membershipIndex <= index) {
      this.stepDown(nowMs, this.currentTerm, null, "removed from the membership");
      return;
    }
    // Tell followers in step at once rather than at the next heartbeat.
    for (const [peer, progress] of leader.progress) {
      if (progress.state === "replicate") this.sendAppend(peer, nowMs);
    }
  }

  private onAnswer(
    nowMs: number,
    from: NodeId,
    message: Message<"append_response"> | Message<"snapshot_response">,
  ): void {
    if (message.term > this.currentTerm) {
      this.stepDown(nowMs, message.term, null, `node ${from} is in newer term ${message.term}`);
      return;
    }
    const leader = this.leaderState;
    if (leader === null || message.term !== this.currentTerm) return;
    if (message.echoSentAtMs > nowMs || message.echoSentAtMs < leader.electedAtMs) {
      // Answers something this leader never sent. Not a broken invariant: an append this node
      // sent as leader of an earlier term, arriving after the follower moved on to ours, is
      // answered (refused) in our term.
      this.ignoredMessages++;
      return;
    }
    leader.recordAnswer(from, nowMs);
    const progress = leader.progress.get(from);
    if (progress === undefined) return;
    progress.recordAnswer(nowMs, message.echoSentAtMs, message.sentAtMs);
    leader.refreshLease(this.membership, nowMs);
    const success = message.type === "snapshot_response" || message.success;
    if (success) {
      if (message.matchIndex > this.log.lastIndex()) {
        // Acknowledges entries this leader never had: the peer is broken, not this node's view
        // (nothing it committed is contradicted), and ignoring the answer keeps the commit rule
        // sound. Stopping the leader for a peer's fault would only cost the cluster its leader.
        this.ignoredMessages++;
        return;
      }
      if (progress.acknowledge(message.matchIndex, message.echoSentAtMs)) this.advanceCommit(nowMs);
      if (this.transfer?.target === from && progress.matchIndex === this.log.lastIndex()) {
        this.tellTransferTarget();
      }
      if (this.leaderState !== null && progress.nextIndex <= this.log.lastIndex()) {
        this.sendAppend(from, nowMs);
      }
    } else if (progress.state !== "snapshot") {
      progress.reject(message.matchIndex, message.echoSentAtMs);
      this.sendAppend(from, nowMs);
    }
  }

  private broadcastAppend(nowMs: number): void {
    const leader = this.leaderState!;
    for (const [peer, progress] of leader.progress) {
      progress.probeOutstanding = false;
      this.sendAppend(peer, nowMs);
    }
    leader.lastBroadcastAtMs = nowMs;
    leader.nextHeartbeatAtMs = nowMs + this.ownHeartbeatDelayMs;
  }

  private sendNewEntries(nowMs: number): void {
    const leader = this.leaderState;
    if (leader === null) return;
    for (const [peer, progress] of leader.progress) {
      if (progress.canSendEagerly() && progress.nextIndex <= this.log.lastIndex()) {
        this.sendAppend(peer, nowMs);
      }
    }
  }

  private sendAppend(peer: NodeId, nowMs: number): void {
    const leader = this.leaderState!;
    const progress = leader.progress.get(peer)!;
    const lease = {
      leaderLeaseValid: leader.holdsLease(nowMs),
      echoResponseSentAtMs: progress.lastAnswerFollowerSentAtMs,
    };
    const snapshotIndex = this.log.snapshotIndex();
    if (progress.nextIndex <= snapshotIndex) {
      const resendDue =
        progress.state !== "snapshot" ||
        nowMs - progress.snapshotSentAtMs >= this.timing.electionTimeoutMinMs;
      if (resendDue) {
        if (this.snapshot === null)
          throw new InvariantError("raft log is compacted but no snapshot is held");
        const message = {
          type: "install_snapshot",
          term: this.currentTerm,
          snapshot: this.snapshot,
          sentAtMs: nowMs,
          ...lease,
        } as const;
        this.ready.send(peer, message);
        progress.sentSnapshot(nowMs);
        return;
      }
      // Snapshot in flight: a bare heartbeat keeps the follower's timer and the lease fresh.
      this.ready.send(peer, {
        type: "append_entries",
        term: this.currentTerm,
        prevLogIndex: snapshotIndex,
        prevLogTerm: this.log.snapshotTerm(),
        entries: [],
        leaderCommit: this.committedIndex,
        sentAtMs: nowMs,
        ...lease,
      });
      return;
    }
    const prevLogIndex = progress.nextIndex - 1;
    const entries = this.log.slice(progress.nextIndex, this.maxEntriesPerMessage);
    this.ready.send(peer, {
      type: "append_entries",
      term: this.currentTerm,
      prevLogIndex,
      prevLogTerm: this.log.termAt(prevLogIndex)!,
      entries,
      leaderCommit: this.committedIndex,
      sentAtMs: nowMs,
      ...lease,
    });
    progress.sentEntries(prevLogIndex + entries.length);
  }

  // ---- shared bookkeeping -------------------------------------------------------------------

  /** The membership in force is the latest in the log, committed or not (thesis §4.1). */
  private refreshMembership(nowMs: number): void {
    const found = this.log.membershipAt(this.log.lastIndex());
    const membership = found?.membership ?? this.initialMembership;
    this.membershipIndex = found?.index ?? 0;
    if (!sameMembership(membership, this.membership)) {
      this.membership = membership;
      this.ready.event({ type: "membership_changed", membership });
      const peer = twoNodePeerOf(membership, this.id);
      for (const standIn of [...this.standIns]) {
        if (standIn === peer) continue;
        this.standIns.delete(standIn);
        this.ready.event({ type: "stand_in_ended", peer: standIn });
      }
    }
    this.leaderState?.syncMembers(this.membership, this.log.lastIndex() + 1, nowMs);
  }

  private leaseUntilMs(): number | null {
    const asFollower = this.followerLeaseUntilMs;
    const asLeader = this.leaderState?.leaseUntilMs ?? null;
    if (asLeader === null) return asFollower;
    return asFollower === null ? asLeader : Math.max(asLeader, asFollower);
  }

  private votesPresent(nowMs: number): number {
    if (this.leaderState !== null) return this.leaderState.votesInContact(this.membership, nowMs);
    if (this.tally !== null) return this.tally.grantedVotes(this.membership);
    // A follower in touch with a live leader knows a quorum stands behind it.
    if (this.currentLeader !== null && this.heardFromLeaderRecently(nowMs)) {
      return votesNeeded(this.membership);
    }
    return votesOf(this.membership, (id) => id === this.id);
  }

  private begin(): void {
    this.ready = new ReadyBuilder(this.id);
  }

  private finish(nowMs: number): Ready {
    if (
      this.currentTerm !== this.persistedHardState.term ||
      this.votedFor !== this.persistedHardState.votedFor
    ) {
      this.persistedHardState = { term: this.currentTerm, votedFor: this.votedFor };
      this.ready.hardState(this.persistedHardState);
    }
    if (this.committedIndex > this.appliedThroughIndex) {
      this.ready.commit(this.log.between(this.appliedThroughIndex, this.committedIndex));
      this.appliedThroughIndex = this.committedIndex;
    }
    const held = this.holdsLease(nowMs);
    if (held && !this.leaseHeld) {
      this.ready.event({ type: "lease_acquired", untilMs: this.leaseUntilMs()! });
    } else if (!held && this.leaseHeld) {
      this.ready.event({ type: "lease_lost", reason: this.leaseLostReason });
    }
    this.leaseHeld = held;
    this.leaseLostReason = "lease expired";
    return this.ready.build();
  }
}
