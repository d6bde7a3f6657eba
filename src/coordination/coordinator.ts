import { randomInt } from "node:crypto";
import { join } from "node:path";
import type { CoordinationTiming, NodeConfig, Timing } from "../config/schema.js";
import { RaftNode } from "../consensus/raft-node.js";
import type {
  EntryBody,
  Membership,
  PersistOps,
  RaftEvent,
  RaftMessage,
  RaftStatus,
  Ready,
} from "../consensus/types.js";
import { EventBus } from "../events/bus.js";
import { InvariantError } from "../invariant/invariant-error.js";
import type { Logger } from "../log/logger.js";
import type { Applied } from "../state/apply.js";
import { StateMachine } from "../state/state-machine.js";
import type { ClusterState } from "../state/types.js";
import type { RaftStorage } from "../storage/raft-storage.js";
import { RaftStore } from "../storage/raft-store.js";
import type { Clock } from "../time/clock.js";
import type { ClusterMessage, Proposal, SubmitResult } from "./cluster-message.js";
import { systemTimers, type Timers } from "./timers.js";

/** Take a snapshot (and compact the log) after this many applied entries. */
const SNAPSHOT_EVERY_ENTRIES = 1000;
/** A forwarded or local proposal that has not committed by then is reported as unknown. */
const SUBMIT_TIMEOUT_MS = 5_000;
/** A forward (or its result) lost on the wire is sent again this often until answered. */
const FORWARD_RESEND_MS = 250;
/** How long a leader remembers forwards it took, so a resent one is answered, not run twice. */
const FORWARD_MEMORY_MS = 2 * SUBMIT_TIMEOUT_MS;

export interface CoordinatorOptions {
  localNode: NodeConfig;
  nodes: readonly NodeConfig[];
  timing: Timing;
  coordination: CoordinationTiming;
  stateDir: string;
  clock: Clock;
  /** Real timers unless given: a test passes virtual ones that follow `clock`. */
  timers?: Timers;
  /**
   * Uniform in [0, 1): election timeouts and this run's request ids. node:crypto unless given; a
   * test or simulator passes a seeded one, so that a run repeats.
   */
  random?: () => number;
  /** The Raft store: RaftStore under `stateDir` unless given (an in-memory one, say). */
  store?: RaftStorage;
  logger: Logger;
  send(to: number, message: ClusterMessage): void;
  /**
   * A step threw an InvariantError (src/invariant/invariant-error.ts): the caller stops the
   * agent, loudly. Coordination on this node has stopped already, as after any failed step.
   */
  onInvariantBroken?(error: InvariantError): void;
  /** Two-node mode with fencing (src/consensus/two-node.ts). */
  twoNodeFencing?: boolean;
  /** How long past its lease a lost node's guard may still be stopping (RaftTiming). */
  releaseGraceMs?: number;
  /**
   * The caller calls heartbeat() as its membership heartbeats leave, every keepalive, and puts
   * the appends sent meanwhile on them (RaftNodeOptions.pacedHeartbeats).
   */
  pacedHeartbeats?: boolean;
  /** Applies committed payloads (StateMachineOptions.applyCommand). */
  applyCommand?(state: ClusterState, payload: string): Applied;
}

export interface CoordinationStatus extends RaftStatus {
  waitingForAll: boolean;
  /** The nodes wait_for_all still waits for (absent from older agents). */
  waitingFor?: string[];
  /** Times this node lost its lease since start: each one stopped its resources. */
  leaseLosses: number;
  appliedIndex: number;
  stateVersion: number;
  configurationVersion: number;
}

/**
 * Runs the Raft core and the replicated state machine inside the agent. Every input (tick,
 * message, proposal) is handled in order through one queue, because each Ready must be on disk
 * before its messages leave and before the next input is looked at.
 */
export class Coordinator {
  readonly events = new EventBus<RaftEvent>(50, (error, event) =>
    this.options.logger.error({ err: error, event: event.type }, "coordination subscriber failed"),
  );
  private readonly stateMachine: StateMachine;
  private queue: Promise<void> = Promise.resolve();
  /** Steps queued or running: heartbeat() runs only when none is. */
  private pendingSteps = 0;
  private readonly timers: Timers;
  /** Cancels the one timer at the core's next deadline (arm), or null when none is set. */
  private cancelTimer: (() => void) | null = null;
  private armedForMs = Number.NaN;
  /** A paced beat came while a step was in flight: taken when the queue empties. */
  private beatOwed = false;
  /** When heartbeat() is next expected (pacedHeartbeats): it re-checks the deadlines then. */
  private nextBeatAtMs = Number.NEGATIVE_INFINITY;
  private stopped = false;
  /** Random per run: a leader tells one run's requests from another's (forwardsTaken). */
  private nextRequestId: number;
  private readonly forwarded = new Map<number, (result: SubmitResult) => void>();
  /** On the leader: forwards taken, by sender and request id; the result once known. */
  private readonly forwardsTaken = new Map<string, { atMs: number; result?: SubmitResult }>();
  private readonly unseen: Set<number>;
  private appliedSinceSnapshot = 0;
  private readonly stateListeners: Array<() => void> = [];
  private leaseLosses = 0;

  private constructor(
    private readonly options: CoordinatorOptions,
    private readonly core: RaftNode,
    private readonly store: RaftStorage,
    random: () => number,
  ) {
    this.timers = options.timers ?? systemTimers;
    this.stateMachine = new StateMachine(
      options.applyCommand !== undefined ? { applyCommand: options.applyCommand } : {},
    );
    this.nextRequestId = 1 + Math.floor(random() * (REQUEST_ID_LIMIT - 1));
    this.unseen = options.coordination.wait_for_all
      ? new Set(options.nodes.filter((n) => n.id !== options.localNode.id).map((n) => n.id))
      : new Set();
    const snapshot = store.state().snapshot;
    if (snapshot !== null)
      this.stateMachine.restore(snapshot.data, snapshot.meta.lastIncludedIndex);
  }

  static async start(options: CoordinatorOptions): Promise<Coordinator> {
    const store = options.store ?? (await RaftStore.open(join(options.stateDir, "raft")));
    const random = options.random ?? cryptoRandom;
    const torn = store.droppedTornTail;
    if (torn !== null) {
      // Never acknowledged (the ack follows the fdatasync the crash interrupted), so nothing
      // promised is lost: the leader sends those entries again.
      options.logger.warn(
        torn,
        `dropped a torn final record of the Raft log ${torn.file} at offset ${torn.offset} (${torn.droppedBytes} bytes: ${torn.reason}), left by a crash during an append that was never acknowledged; the leader sends its entries again`,
      );
    }
    const raised = store.termRaised ?? null;
    if (raised !== null) {
      options.logger.warn(
        raised,
        `the Raft log holds entries of term ${raised.to} while the stored term was ${raised.from} (a crash between the two writes, by a version that wrote the log first): the term is raised to ${raised.to}`,
      );
    }
    const { timing, coordination } = options;
    const core = new RaftNode({
      id: options.localNode.id,
      timing: {
        heartbeatIntervalMs: timing.keepalive_ms,
        electionTimeoutMinMs: coordination.election_timeout_min_ms,
        electionTimeoutMaxMs: coordination.election_timeout_max_ms,
        leaseMs: coordination.lease_ms,
        followerLeaseMs: coordination.follower_lease_ms,
        driftRatio: coordination.clock_drift_ratio,
        releaseGraceMs: options.releaseGraceMs ?? 0,
      },
      random,
      persisted: store.state(),
      initialMembership: membershipOf(options.nodes),
      nowMs: options.clock.nowMs(),
      twoNodeFencing: options.twoNodeFencing === true,
      pacedHeartbeats: options.pacedHeartbeats === true,
    });
    const coordinator = new Coordinator(options, core, store, random);
    coordinator.arm();
    return coordinator;
  }

  /** The membership layer saw `nodeId` alive: counts towards wait_for_all. */
  noticePeerUp(nodeId: number): void {
    if (this.unseen.delete(nodeId) && this.unseen.size === 0) {
      this.options.logger.info("every node has been seen: coordination may act");
      this.arm();
    }
  }

  /**
   * wait_for_all keeps a cold-started partition from acting before the whole cluster was seen.
   * A run that follows a leader joined a cluster already past that (as corosync's votequorum
   * clears it on joining a quorate cluster): it may campaign when that leader is gone, or a
   * node down for good would leave every node restarted since unable ever to elect anyone.
   */
  private joinedQuorum(): void {
    this.endWaitForAll(
      "following a leader elected by a quorum: coordination may act without waiting for every node",
    );
  }

  /**
   * The operator's `vigil quorum unblock` (corosync's `pcs quorum unblock`): this run stops
   * waiting for the nodes it has not seen, a node lost for good among them. Returns their ids.
   * Safe for what Raft decides (an election still needs a quorum's votes, two-node mode still
   * needs to have caught up before going on alone); it only lets this node stand for election.
   */
  stopWaitingForAll(): number[] {
    const unseen = [...this.unseen];
    this.endWaitForAll(
      "the operator unblocked it: coordination may act without waiting for every node",
    );
    return unseen;
  }

  private endWaitForAll(why: string): void {
    if (this.unseen.size === 0) return;
    this.options.logger.info({ unseen: [...this.unseen] }, why);
    this.unseen.clear();
    this.arm();
  }

  /**
   * Two-node mode: the peer is off (fenced, or it left cleanly), so its vote stands in for it
   * until it is heard again (src/consensus/two-node.ts). Resolves with the core's refusal, if any.
   */
  standInFor(peerId: number): Promise<{ accepted: boolean; reason?: string }> {
    return new Promise((resolve) => {
      this.enqueue(async () => {
        if (this.stopped) {
          resolve({ accepted: false, reason: "the agent is stopping" });
          return;
        }
        const result = this.core.standInFor(this.options.clock.nowMs(), peerId);
        if (!result.accepted) {
          resolve({ accepted: false, reason: result.reason });
          return;
        }
        await this.execute(result.ready);
        resolve({ accepted: true });
      });
    });
  }

  /**
   * Hands leadership to an up-to-date follower (a leader about to leave: the others need not wait
   * out an election timeout). Resolves once another node leads, or with why it did not happen
   * within `timeoutMs`.
   */
  transferLeadership(
    timeoutMs: number,
  ): Promise<{ ok: true; leaderId: number } | { ok: false; reason: string }> {
    return new Promise((resolve) => {
      this.enqueue(async () => {
        if (this.stopped) {
          resolve({ ok: false, reason: "the agent is stopping" });
          return;
        }
        const result = this.core.transferLeadership(this.options.clock.nowMs());
        if (!result.ok) {
          resolve({ ok: false, reason: result.reason });
          return;
        }
        const self = this.options.localNode.id;
        let settled = false;
        const finish = (
          outcome: { ok: true; leaderId: number } | { ok: false; reason: string },
        ) => {
          if (settled) return;
          settled = true;
          cancelTimeout();
          unsubscribe();
          resolve(outcome);
        };
        const cancelTimeout = this.timers.after(timeoutMs, () =>
          finish({
            ok: false,
            reason: `node ${result.target} did not take over within ${timeoutMs} ms`,
          }),
        );
        const unsubscribe = this.events.subscribe((event) => {
          if (
            event.type === "leader_changed" &&
            event.leaderId !== null &&
            event.leaderId !== self
          ) {
            finish({ ok: true, leaderId: event.leaderId });
          }
        });
        await this.execute(result.ready);
      });
    });
  }

  receive(from: number, message: ClusterMessage): void {
    if (this.stopped) return;
    switch (message.kind) {
      case "raft":
        this.step((nowMs) => this.core.receive(nowMs, from, message.message as RaftMessage));
        return;
      case "forward":
        this.takeForward(from, message.requestId, message.proposal);
        return;
      case "forward_result":
        this.forwarded.get(message.requestId)?.(message.result);
        return;
    }
  }

  /**
   * Commits a proposal and resolves with its outcome, on any node: a follower forwards it to the
   * leader, which alone may propose.
   */
  submit(proposal: Proposal): Promise<SubmitResult> {
    if (this.core.role() === "leader") return this.submitLocally(proposal);
    const leaderId = this.core.leaderId();
    if (leaderId === null || leaderId === this.options.localNode.id) {
      return Promise.resolve({
        ok: false,
        code: "no_leader",
        error: "no leader at the moment (is a quorum of nodes up?); try again shortly",
        leaderId: null,
      });
    }
    const requestId = this.nextRequestId++;
    return new Promise((resolve) => {
      const forward: ClusterMessage = { kind: "forward", requestId, proposal };
      let cancelResend = () => {};
      const send = () => {
        this.options.send(leaderId, forward);
        cancelResend = this.timers.after(FORWARD_RESEND_MS, send);
      };
      const answer = (result: SubmitResult) => {
        cancelTimeout();
        cancelResend();
        this.forwarded.delete(requestId);
        resolve(result);
      };
      const cancelTimeout = this.timers.after(SUBMIT_TIMEOUT_MS, () =>
        answer({
          ok: false,
          code: "outcome_unknown",
          error: `the leader (node ${leaderId}) did not answer within ${SUBMIT_TIMEOUT_MS} ms; the change may or may not have been applied: check with vigil config show`,
          leaderId,
        }),
      );
      this.forwarded.set(requestId, answer);
      send();
    });
  }

  /**
   * A follower's forward: proposed once, however often it arrives (it is resent until answered);
   * a copy that comes after the result is answered again from memory.
   */
  private takeForward(from: number, requestId: number, proposal: Proposal): void {
    const nowMs = this.options.clock.nowMs();
    for (const [key, taken] of this.forwardsTaken) {
      if (nowMs - taken.atMs > FORWARD_MEMORY_MS) this.forwardsTaken.delete(key);
    }
    const key = `${from}/${requestId}`;
    const taken = this.forwardsTaken.get(key);
    if (taken !== undefined) {
      if (taken.result !== undefined) {
        this.options.send(from, { kind: "forward_result", requestId, result: taken.result });
      }
      return;
    }
    const record: { atMs: number; result?: SubmitResult } = { atMs: nowMs };
    this.forwardsTaken.set(key, record);
    this.options.logger.debug({ from, requestId }, "forwarded proposal taken");
    void this.submitLocally(proposal).then((result) => {
      record.result = result;
      this.options.send(from, { kind: "forward_result", requestId, result });
    });
  }

  /**
   * The leader a proposal was forwarded to is no longer the leader: its answer may never come.
   * Say so now, rather than after SUBMIT_TIMEOUT_MS, so the caller can submit again to the new
   * one (it may have been applied: callers resubmit only what may land twice).
   */
  private abandonForwarded(newLeaderId: number | null): void {
    for (const resolve of [...this.forwarded.values()]) {
      resolve({
        ok: false,
        code: "outcome_unknown",
        error: "the leader changed before answering; the change may or may not have been applied",
        leaderId: newLeaderId,
      });
    }
  }

  private submitLocally(proposal: Proposal): Promise<SubmitResult> {
    return new Promise((resolve) => {
      this.enqueue(async () => {
        const nowMs = this.options.clock.nowMs();
        const body = this.entryBodyOf(proposal, nowMs);
        if ("error" in body) {
          resolve({ ok: false, code: "rejected", error: body.error });
          return;
        }
        const result = this.core.propose(nowMs, body);
        if (!result.ok) {
          resolve(
            result.reason === "not_leader"
              ? {
                  ok: false,
                  code: "no_leader",
                  error: "this node stopped being the leader; try again",
                  leaderId: result.leaderId,
                }
              : {
                  ok: false,
                  code: result.reason === "membership_change_pending" ? "busy" : "rejected",
                  error: result.detail,
                },
          );
          return;
        }
        let cancel = () => {};
        const cancelTimeout = this.timers.after(SUBMIT_TIMEOUT_MS, () => {
          cancel();
          resolve({
            ok: false,
            code: "outcome_unknown",
            error: `not committed within ${SUBMIT_TIMEOUT_MS} ms (quorum lost?); it may still be applied later`,
          });
        });
        cancel = this.stateMachine.waitFor(result.index, result.term, (outcome) => {
          cancelTimeout();
          const version = this.stateMachine.state.version;
          if (outcome.status === "committed_entry") {
            resolve(
              body.kind === "membership"
                ? { ok: true, index: outcome.index, version }
                : {
                    ok: false,
                    code: "superseded",
                    error: "leadership changed before the command committed; try again",
                  },
            );
          } else if (outcome.status === "superseded") {
            resolve({ ok: false, code: "superseded", error: outcome.reason });
          } else if (outcome.status !== "applied") {
            resolve({ ok: false, code: "outcome_unknown", error: outcome.reason });
          } else if (!outcome.result.ok) {
            resolve({ ok: false, code: "rejected", error: outcome.result.error });
          } else resolve({ ok: true, index: outcome.index, version: outcome.result.version });
        });
        await this.execute(result.ready);
      });
    });
  }

  /** The Raft entry for a proposal, or why it cannot be made (membership relative to the leader's). */
  private entryBodyOf(proposal: Proposal, nowMs: number): EntryBody | { error: string } {
    if (proposal.kind === "command") return { kind: "command", payload: proposal.payload };
    const current = this.core.status(nowMs).membership;
    const present = current.members.some((member) => member.id === proposal.nodeId);
    if (proposal.action === "remove") {
      if (!present) return { error: `node ${proposal.nodeId} is not a voting member` };
      return {
        kind: "membership",
        membership: { members: current.members.filter((m) => m.id !== proposal.nodeId) },
      };
    }
    if (present) return { error: `node ${proposal.nodeId} is already a voting member` };
    const configured = this.options.nodes.find((node) => node.id === proposal.nodeId);
    if (configured === undefined) {
      return {
        error: `node ${proposal.nodeId} is not in this node's configuration file; add it (with its links) to vigil.yaml on every node and restart the agents first`,
      };
    }
    return {
      kind: "membership",
      membership: {
        members: [...current.members, { id: configured.id, votes: 1, witness: configured.witness }],
      },
    };
  }

  state(): ClusterState {
    return this.stateMachine.state;
  }

  /** Called after committed entries changed the state (or a snapshot replaced it). */
  onStateChange(listener: () => void): void {
    this.stateListeners.push(listener);
  }

  isLeader(): boolean {
    return this.core.role() === "leader";
  }

  /** Leader only: whether node's lease has surely ended (lease.ts); false on any other node. */
  leaseSurelyExpired(nodeId: number): boolean {
    return this.core.leaseSurelyExpired(nodeId, this.options.clock.nowMs());
  }

  status(): CoordinationStatus {
    const state = this.stateMachine.state;
    return {
      ...this.core.status(this.options.clock.nowMs()),
      waitingForAll: this.unseen.size > 0,
      waitingFor: this.options.nodes.filter((n) => this.unseen.has(n.id)).map((n) => n.name),
      leaseLosses: this.leaseLosses,
      appliedIndex: this.stateMachine.appliedIndex,
      stateVersion: state.version,
      configurationVersion: state.configurationVersion,
    };
  }

  holdsLease(): boolean {
    return this.core.holdsLease(this.options.clock.nowMs());
  }

  /** How long this node's lease still runs (ms), or null without one. */
  leaseRemainingMs(): number | null {
    const nowMs = this.options.clock.nowMs();
    // Not status(): asked at every look at the resources and every feed of the guard.
    const untilMs = this.core.heldLeaseUntilMs(nowMs);
    return untilMs === null ? null : untilMs - nowMs;
  }

  /**
   * Whether a step is queued or running. A driver of virtual time (tests) moves it only once no
   * coordinator is busy: then nothing but a timer can change what happens next.
   */
  busy(): boolean {
    return this.pendingSteps > 0;
  }

  /** Resolves once no step is queued or running (see busy()). */
  async idle(): Promise<void> {
    while (this.pendingSteps > 0) await this.queue;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    this.stateMachine.abandonWaiting("the agent is stopping");
    await this.queue;
    await this.store.close();
  }

  /**
   * The agent's heartbeats are about to leave (pacedHeartbeats): the leader's appends, if due,
   * are sent before this returns, so that the transport can put them on those heartbeats. Only
   * when no step is queued or running (one may wait on the disk, and what it sends must go
   * first): a beat that finds one is owed, and taken as soon as the queue is empty.
   */
  heartbeat(): void {
    if (this.stopped || this.unseen.size > 0) return;
    if (this.pendingSteps > 0) {
      this.beatOwed = true;
      return;
    }
    this.beatOwed = false;
    const nowMs = this.options.clock.nowMs();
    // The next beat looks at the deadlines again: the timer only has to catch those before it.
    this.nextBeatAtMs = nowMs + this.options.timing.keepalive_ms;
    const ready = this.core.heartbeat(nowMs);
    // A follower's beat mostly finds nothing to do: then only the timer is looked at again, as
    // execute() would, without a step in the queue.
    if (isEmptyReady(ready)) {
      this.arm();
      return;
    }
    // With nothing to persist, execute() sends before its first await.
    this.track(this.execute(ready));
  }

  private step(input: (nowMs: number) => Ready): void {
    this.enqueue(() => this.execute(input(this.options.clock.nowMs())));
  }

  private enqueue(task: () => Promise<void>): void {
    this.track(this.queue.then(task));
  }

  /** Makes `work` the queue's tail: the next step waits for it. */
  private track(work: Promise<void>): void {
    this.pendingSteps++;
    this.queue = work
      .catch((error: unknown) => {
        this.stopped = true;
        if (error instanceof InvariantError) {
          this.options.logger.fatal({ err: error }, "invariant broken in coordination");
          this.options.onInvariantBroken?.(error);
          return;
        }
        // A failed fsync leaves this node unable to promise anything: stop taking part.
        this.options.logger.fatal({ err: error }, "coordination failed; stopping it on this node");
      })
      .finally(() => {
        this.pendingSteps--;
        if (this.pendingSteps === 0 && this.beatOwed) this.heartbeat();
      });
  }

  /** Disk first, then the network, then the state machine (the Ready contract). */
  private async execute(ready: Ready): Promise<void> {
    // Most steps (heartbeats, acknowledgements) change nothing durable: skip the store then.
    if (hasPersistOps(ready.persist)) await this.store.apply(ready.persist);
    if (this.stopped) return;
    for (const envelope of ready.messages)
      this.options.send(envelope.to, { kind: "raft", message: envelope.message });
    if (ready.restoreSnapshot !== null) {
      this.stateMachine.restore(
        ready.restoreSnapshot.data,
        ready.restoreSnapshot.meta.lastIncludedIndex,
      );
    }
    for (const entry of ready.committed) {
      this.stateMachine.apply(entry);
      this.appliedSinceSnapshot++;
    }
    for (const event of ready.events) {
      if (event.type === "lease_lost") this.leaseLosses++;
      if (event.type === "leader_changed") this.abandonForwarded(event.leaderId);
      if (event.type === "quorum_regained") this.joinedQuorum();
      this.events.publish(event);
    }
    if (ready.committed.length > 0 || ready.restoreSnapshot !== null) {
      for (const listener of this.stateListeners) {
        try {
          listener();
        } catch (error) {
          this.options.logger.error({ err: error }, "state listener failed");
        }
      }
    }
    if (this.appliedSinceSnapshot >= SNAPSHOT_EVERY_ENTRIES) {
      this.appliedSinceSnapshot = 0;
      const nowMs = this.options.clock.nowMs();
      // Term 0: the core reads the entry's term and the membership in force from its own log.
      await this.execute(
        this.core.compact(nowMs, {
          meta: {
            lastIncludedIndex: this.stateMachine.appliedIndex,
            lastIncludedTerm: 0,
            membership: this.core.status(nowMs).membership,
          },
          data: this.stateMachine.snapshot(),
        }),
      );
    }
    this.arm();
  }

  /**
   * One timer at the core's next deadline. Before every node has been seen once (wait_for_all)
   * the core gets no ticks, so this node never starts an election; it still follows a leader
   * whose messages arrive.
   */
  private arm(): void {
    if (this.stopped || this.unseen.size > 0) return;
    const dueAtMs = this.core.nextTickAtMs();
    // Nearly every message pushes a deadline later (an answer, the leader's append), and a
    // clearTimeout + setTimeout each time is a large share of an idle agent's work. So a timer set
    // for an earlier moment is kept when it fires after the next paced beat (which looks at the
    // deadlines again), or when beats are not paced (it then fires, finds nothing due and
    // re-arms). Only a timer that would wake a paced node before its next beat for nothing is
    // moved, once.
    if (
      this.cancelTimer !== null &&
      this.armedForMs <= dueAtMs &&
      (this.armedForMs === dueAtMs || this.armedForMs >= this.nextBeatAtMs)
    )
      return;
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.armedForMs = dueAtMs;
    if (!Number.isFinite(dueAtMs)) return;
    this.cancelTimer = this.timers.after(
      Math.max(0, dueAtMs - this.options.clock.nowMs()) + 1,
      () => {
        this.cancelTimer = null;
        this.step((now) => this.core.tick(now));
      },
    );
  }
}

/**
 * A run's first request id is below this, so that counting up from it stays far within exact
 * integers (Number.MAX_SAFE_INTEGER is 2^53 − 1).
 */
const REQUEST_ID_LIMIT = 2 ** 47;
/** randomInt's range ends below 2^48: 47 bits of randomness per draw. */
const RANDOM_STEPS = 2 ** 47;

/** Uniform in [0, 1), from node:crypto. */
function cryptoRandom(): number {
  return randomInt(0, RANDOM_STEPS) / RANDOM_STEPS;
}

function isEmptyReady(ready: Ready): boolean {
  return (
    !hasPersistOps(ready.persist) &&
    ready.messages.length === 0 &&
    ready.committed.length === 0 &&
    ready.restoreSnapshot === null &&
    ready.events.length === 0
  );
}

function hasPersistOps(ops: PersistOps): boolean {
  return (
    ops.hardState !== undefined ||
    ops.truncateFrom !== undefined ||
    (ops.append !== undefined && ops.append.length > 0) ||
    ops.snapshot !== undefined
  );
}

export function membershipOf(nodes: readonly NodeConfig[]): Membership {
  return {
    members: nodes.map((node) => ({ id: node.id, votes: node.votes, witness: node.witness })),
  };
}
