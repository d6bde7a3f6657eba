import type { NoQuorumPolicy } from "../config/safety-schema.js";
import type { SubmitResult } from "../coordination/cluster-message.js";
import { systemTimers, type Timers } from "../coordination/timers.js";
import type { Logger } from "../log/logger.js";
import { cloneMetaEnvironment } from "../pacemaker/clone-meta.js";
import { parseCloneInstanceKey } from "../policy/naming.js";
import { NO_PROMOTION_SCORE } from "../policy/promotion.js";
import type { RunRole } from "../policy/types.js";
import { recurringMonitor } from "../resource-model/parse-operations.js";
import {
  type ReplicationOffsetSpec,
  replicationOffsetAttribute,
} from "../resource-model/replication-offset.js";
import {
  type Clone,
  nodeParams,
  type OperationName,
  type Primitive,
  type ResourceModel,
} from "../resource-model/types.js";
import { OCF_ERR_CONFIGURED, OCF_ERR_INSTALLED } from "../resources/agents/ocf-codes.js";
import type {
  OperationRequest,
  OperationResult,
  OperationRunner,
} from "../resources/executor/operation.js";
import type { Command } from "../state/commands.js";
import type { NotifyOutcome, NotifyRound } from "../state/notify-rounds.js";
import { ownValue } from "../state/records.js";
import { promotionScoreAttribute } from "../state/score-polls.js";
import {
  type ClusterState,
  FENCE_REQUEST_REASON_MAX_CHARS,
  type ResourceCell,
} from "../state/types.js";
import type { Clock } from "../time/clock.js";
import type { HeldResource } from "../watchdog/guard-protocol.js";
import { decideForKey, type LocalOperation } from "./node-step.js";
import { notifyEnvironment } from "./notify-round.js";
import {
  groupPredecessorKey,
  type KeyedPrimitive,
  keysByPrimitive,
  primitiveOfKey,
} from "./resource-keys.js";

/** Used when a primitive names no timeout for an operation (Pacemaker's default). */
const DEFAULT_TIMEOUT_MS = 20_000;
/** How often to look again while something is unfinished (a report not yet committed, no lease). */
const RETRY_MS = 100;
/** How long a graceful shutdown waits for the leader to move this node's resources away. */
const SHUTDOWN_HANDOVER_MS = 30_000;
/** How often a graceful shutdown looks again at the lease and at what is left here. */
const SHUTDOWN_POLL_MS = 20;

export interface LocalResourcesOptions {
  node: string;
  incarnation: number;
  executor: OperationRunner;
  clock: Clock;
  /** Real timers unless given: a test or simulator passes virtual ones that follow `clock`. */
  timers?: Timers;
  logger: Logger;
  state(): ClusterState;
  /** The committed configuration's resource model. */
  model(): ResourceModel;
  /** Whether this node may run resources now (its lease: lease.ts). */
  holdsLease(): boolean;
  /** How long the lease still runs (ms), or null without one. */
  leaseRemainingMs?(): number | null;
  /**
   * Resources are stopped this long before the lease would end unrenewed, so that they are
   * stopped when it ends (the leader may start them elsewhere right after). 0 by default.
   */
  stopMarginMs?: number;
  /** What to do when the lease is lost (no quorum): see docs/configuration.md. */
  noQuorumPolicy?: NoQuorumPolicy;
  /** Fencing is enabled: a monitor failure with on_fail fence asks for this node to be fenced. */
  fencing?: boolean;
  /**
   * Told before an operation that may leave a resource running here (start, promote, demote)
   * begins, with how to stop it: the node guard must know before a crash could leave it behind.
   */
  onHold?(resource: HeldResource): void;
  /** no_quorum_policy suicide: end the agent now, resources and all (the watchdog reboots). */
  onSuicide?(): void;
  submit(command: Command): Promise<SubmitResult>;
}

interface LocalCopy {
  keyed: KeyedPrimitive;
  role: RunRole;
  /** Order of starts on this node: stops go the other way round (group members, orders). */
  startedSeq: number;
  /** Cancels the timer of the next recurring monitor, or null when none is set. */
  monitor: (() => void) | null;
  /**
   * A monitor (or the probe that found it) has run since this copy started. A promotable copy's
   * first monitor runs right after its start: the leader promotes no copy of the clone until it
   * knows what each copy's monitor says (its promotion score).
   */
  monitored: boolean;
  /** Its monitor operation is under way. */
  monitoring?: boolean;
  /** monitorNow came while it was: the next monitor follows at once. */
  monitorAgain?: boolean;
}

/** How soon a promotable copy's first monitor is tried again while an operation holds its key. */
const FIRST_MONITOR_RETRY_MS = 50;

/** A node's answer to a score poll: its copy's score, and offset where its clone reads them. */
interface PollAnswer {
  score: string;
  offset?: string;
  /** Taken as it was read: the run's later writes of either attribute stand against it. */
  seq: number;
}

/**
 * This node's side of takeover: carries out the leader's instructions (ResourceCell.target) with
 * the executor and reports each outcome through the log, probes what already runs before taking
 * part, monitors what runs, recovers from failures (on-fail) and stops everything when the
 * lease is lost. It never decides placement: a start here is always an instruction from a
 * leader that saw every other copy stopped.
 */
export class LocalResources {
  private readonly local = new Map<string, LocalCopy>();
  /**
   * The stop request last made for each copy (stopRequest), the same object while nothing in it
   * changed: the guard is told what is held at every feed, and tells a change by its object.
   */
  private readonly stopRequests = new WeakMap<KeyedPrimitive, HeldResource>();
  private readonly busy = new Set<string>();
  /** Operations running now, by key: what they act on, for heldResources. */
  private readonly inFlight = new Map<string, KeyedPrimitive>();
  /** Starts, promotes and notifications running now, to cancel when the lease ends under them. */
  private readonly cancellable = new Map<string, AbortController>();
  /** Keys whose start or promote this node cancelled (the lease ended): not a failure. */
  private readonly cancelled = new Set<string>();
  private readonly reporting = new Set<string>();
  /**
   * Keys this run stopped (or failed to start) whose stop report has not been seen to commit.
   * Until it has, what this node's state instructs for them may already be void: the leader may
   * have recorded the stop and placed the key elsewhere, in entries this node has not applied.
   */
  private readonly unconfirmedStops = new Set<string>();
  /**
   * Keys of notifying clones stopped here for recovery: their stop report gives the instruction
   * back (`release`), so that the leader starts them again through a notification round, as
   * Pacemaker recovers a copy, rather than this node restarting it untold.
   */
  private readonly releasing = new Set<string>();
  /**
   * This run's part of each notification round phase (clone, round id, phase): running, being
   * recorded, recorded, or how it ended when its record did not commit (kept until the round
   * moves on, so it is neither run twice nor lost).
   */
  private readonly notifications = new Map<
    string,
    NotifyOutcome | "running" | "recording" | "recorded"
  >();
  /**
   * This run's answer to each clone's score poll: being read (its monitor under way), being
   * sent, read but not committed (sent again until it is), or done.
   */
  private readonly pollAnswers = new Map<
    string,
    { poll: number; status: "reading" | "sending" | "unsent" | "done"; answer?: PollAnswer }
  >();
  /** Clone → why its copy's replication offset could not be read, as last said in the log. */
  private readonly offsetProblems = new Map<string, string>();
  /** Transient attributes being committed: attribute → value, and the commit's end. */
  private readonly publishing = new Map<string, { value: string | null; done: Promise<void> }>();
  /** This run's transient attributes as they should be (setAttribute). */
  private readonly desiredAttributes = new Map<string, string | null>();
  private readonly attributeCommittedAt = new Map<
    string,
    { value: string | null; version: number }
  >();
  /** Primitives this run has probed, and the configuration version they were probed against. */
  private readonly probed = new Set<string>();
  private probing = false;
  /** The lease was lost: probe again before acting on anything (see withoutLease). */
  private reprobe = false;
  /**
   * The state version a committed report or probe produced: until this node has applied it,
   * its own state does not show it yet, and sending the same again would only repeat it.
   */
  private readonly reportedAt = new Map<string, { active: RunRole | null; version: number }>();
  private probeCommittedAtVersion = 0;
  private scheduled = false;
  private readonly timers: Timers;
  /** Cancels the timer of the next look (retryLater), or null when none is set. */
  private cancelRetry: (() => void) | null = null;
  private startSeq = 0;
  /**
   * This run's reports, probes and attribute writes, numbered in the order made: the state
   * refuses one older than what it applied.
   */
  private runSeq = 0;
  private stopped = false;
  private shuttingDown = false;
  private leaseLostNoted = false;
  /** Cancels the timer at the lease's stop margin (watchLease), or null when none is set. */
  private cancelLeaseWatch: (() => void) | null = null;
  /** The last contained error logged per resource, so a retry loop does not repeat it. */
  private readonly containedErrors = new Map<string, string>();

  constructor(private readonly options: LocalResourcesOptions) {
    this.timers = options.timers ?? systemTimers;
  }

  /** Something changed (state applied, lease gained or lost): look again soon. */
  kick(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    this.timers.after(0, () => {
      this.scheduled = false;
      this.reconcile();
    });
  }

  /** What this run knows runs here, for status. */
  running(): Array<{ resource: string; role: RunRole; busy: boolean }> {
    return [...this.local.entries()]
      .map(([key, copy]) => ({ resource: key, role: copy.role, busy: this.busy.has(key) }))
      .sort((a, b) => (a.resource < b.resource ? -1 : 1));
  }

  /**
   * Graceful stop: asks the leader to move everything away (stop here, start elsewhere: the
   * shortest outage), waits for that, then stops whatever is left itself.
   */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.shuttingDown = true;
    const { node, incarnation } = this.options;
    const agent = this.options.state().agents[node];
    if (this.local.size > 0 && agent?.incarnation === incarnation && this.leaseUsable()) {
      // Without a lease nobody can take over: stop here at once rather than wait for a quorum.
      const leaseLost = async (): Promise<SubmitResult> => {
        while (this.leaseUsable()) await this.sleep(SHUTDOWN_POLL_MS);
        return { ok: false, code: "outcome_unknown", error: "lease lost" };
      };
      const result = await Promise.race([
        this.options.submit({
          type: "node_shutdown",
          node,
          incarnation,
          by: `agent@${node}`,
          atMs: Math.round(this.options.clock.nowMs()),
        }),
        leaseLost(),
      ]);
      if (result.ok) {
        const deadline = this.options.clock.nowMs() + SHUTDOWN_HANDOVER_MS;
        while (
          this.hasAnythingHere() &&
          this.leaseUsable() &&
          this.options.clock.nowMs() < deadline
        ) {
          await this.sleep(SHUTDOWN_POLL_MS);
        }
      } else {
        this.options.logger.warn(
          { err: result.error },
          "could not hand resources over; stopping them here",
        );
      }
    }
    await this.stopAllHere("agent stopping");
    this.detach();
  }

  /** Stops looking after this node's resources (no more timers), leaving them as they are. */
  detach(): void {
    this.stopped = true;
    this.cancelRetry?.();
    this.cancelRetry = null;
    this.cancelLeaseWatch?.();
    this.cancelLeaseWatch = null;
    for (const copy of this.local.values()) copy.monitor?.();
  }

  /**
   * No lease, so no quorum behind this node: the leader may soon give these resources to another
   * node (by lease, or after fencing this one). What happens is the no-quorum policy's choice.
   */
  private withoutLease(): void {
    const policy = this.options.noQuorumPolicy ?? "stop";
    const first = !this.leaseLostNoted;
    this.leaseLostNoted = true;
    // Whatever this node learns next may be old (it was cut off): when the lease is back, it
    // probes again and acts only once the cluster has recorded that probe (see reconcile).
    this.reprobe = true;
    switch (policy) {
      case "stop":
        // A start or promote under way may outlast the lease by its whole timeout: cut it short,
        // so its copy can be stopped before the leader may start it elsewhere.
        for (const [key, controller] of this.cancellable) {
          if (controller.signal.aborted) continue;
          this.options.logger.warn({ resource: key }, "lease lost: cancelling its start");
          this.cancelled.add(key);
          controller.abort();
        }
        if (this.local.size > 0) this.contain(null, this.stopAllHere("lease lost"));
        return;
      case "freeze":
        if (first)
          this.options.logger.warn(
            { running: [...this.local.keys()] },
            "no quorum: freezing (resources keep running, nothing starts or stops; the others fence this node)",
          );
        return;
      case "ignore":
        if (first)
          this.options.logger.error(
            { running: [...this.local.keys()] },
            "NO QUORUM, IGNORED: resources keep running although another node may start them (no_quorum_policy ignore)",
          );
        return;
      case "suicide":
        this.options.logger.fatal("no quorum: ending the agent now (no_quorum_policy suicide)");
        this.stopped = true;
        this.options.onSuicide?.();
        return;
    }
  }

  /** Whether anything may run here: started, being started or stopped, or failed to stop. */
  mayRunAnything(): boolean {
    return this.local.size > 0 || this.busy.size > 0;
  }

  /** Whether an operation on this key is queued or running. */
  isBusy(key: string): boolean {
    return this.busy.has(key) || this.inFlight.has(key);
  }

  /**
   * What may run here and how to stop it, for the node guard: what this run started or found,
   * what an operation acts on right now, and, of what it has not probed yet, what the state says
   * this node reported running.
   * A stop is asked with the definition that started the copy, not a changed one.
   */
  heldResources(): HeldResource[] {
    const held = new Map<string, HeldResource>();
    const copies = [...this.local.values()].sort((a, b) => a.startedSeq - b.startedSeq);
    for (const copy of copies) held.set(copy.keyed.key, this.stopRequest(copy.keyed));
    for (const [key, keyed] of this.inFlight)
      if (!held.has(key)) held.set(key, this.stopRequest(keyed));
    const { node } = this.options;
    let model: ResourceModel | undefined;
    for (const [key, byNode] of Object.entries(this.options.state().resources)) {
      const active = byNode[node]?.active;
      if (active === undefined || active === null || held.has(key)) continue;
      model ??= this.options.model();
      const keyed = primitiveOfKey(model, key);
      // Once this run has probed a resource, what it knows runs here is what it started or
      // found: a report of its stop that could not commit (no quorum) leaves the state saying
      // it runs, and the guard, told so, would fence a node that had stopped everything.
      if (keyed !== undefined && !this.probed.has(keyed.primitive.id))
        held.set(key, this.stopRequest(keyed));
    }
    return [...held.values()];
  }

  /** For status: whether this node runs without a lease, and under which policy. */
  quorum(): { leaseHeld: boolean; noQuorumPolicy: NoQuorumPolicy } {
    return {
      leaseHeld: this.leaseUsable(),
      noQuorumPolicy: this.options.noQuorumPolicy ?? "stop",
    };
  }

  private hasAnythingHere(): boolean {
    if (this.local.size > 0 || this.busy.size > 0) return true;
    const state = this.options.state();
    return Object.values(state.resources).some((byNode) => byNode[this.options.node] !== undefined);
  }

  /** The lease as resources see it: it ends stopMarginMs early, so stops finish within it. */
  private leaseUsable(): boolean {
    if (!this.options.holdsLease()) return false;
    const remaining = this.options.leaseRemainingMs?.() ?? null;
    const margin = this.options.stopMarginMs ?? 0;
    return remaining === null || margin <= 0 || remaining > margin;
  }

  /** While something runs here, look again when the lease, unrenewed, reaches its margin. */
  private watchLease(): void {
    this.cancelLeaseWatch?.();
    this.cancelLeaseWatch = null;
    const remaining = this.options.leaseRemainingMs?.() ?? null;
    if (this.stopped || (this.local.size === 0 && this.inFlight.size === 0) || remaining === null)
      return;
    const dueMs = Math.max(1, remaining - (this.options.stopMarginMs ?? 0) + 1);
    this.cancelLeaseWatch = this.timers.after(dueMs, () => {
      this.cancelLeaseWatch = null;
      this.reconcile();
    });
  }

  /** Runs from timers: nothing it meets may end the agent; it looks again shortly instead. */
  private reconcile(): void {
    try {
      this.reconcileAll();
    } catch (error) {
      this.logContained(null, error);
      this.retryLater();
    }
  }

  private reconcileAll(): void {
    if (this.stopped) return;
    const state = this.options.state();
    this.watchLease();
    if (!this.leaseUsable()) {
      this.withoutLease();
      this.retryLater();
      return;
    }
    this.leaseLostNoted = false;
    const { node, incarnation } = this.options;
    const agent = state.agents[node];
    const registered = agent?.incarnation === incarnation;
    const probeApplied = state.version >= this.probeCommittedAtVersion;
    if (this.reprobe) {
      // Back from a lease gap: the instructions in this node's state may be ones the leader has
      // since withdrawn (it may have released this node and started its resources elsewhere).
      // A probe committed now is ordered after all of that; act once it is applied here.
      if (!this.probing && !this.shuttingDown && probeApplied) {
        this.probed.clear();
        this.contain(
          null,
          this.probe(state, registered).then((recorded) => {
            if (recorded) this.reprobe = false;
          }),
        );
      }
      this.retryLater();
      return;
    }
    if (!probeApplied) {
      this.retryLater();
      return;
    }
    if (!registered || agent.probedConfigVersion !== state.config.version) {
      if (!this.probing && !this.shuttingDown) this.contain(null, this.probe(state, registered));
      if (!registered) {
        this.retryLater();
        return;
      }
    }
    this.syncAttributes();
    const probePending = agent.probedConfigVersion !== state.config.version;
    let unsettled = false;
    const keys = new Set<string>(this.local.keys());
    for (const [key, byNode] of Object.entries(state.resources)) if (byNode[node]) keys.add(key);
    for (const key of keys) {
      if (this.busy.has(key) || this.reporting.has(key)) {
        unsettled = true;
        continue;
      }
      try {
        if (this.reconcileKey(key, state.resources[key]?.[node], probePending)) unsettled = true;
      } catch (error) {
        // One resource's definition must not stop the others (or the agent): it stays as it
        // is, and is looked at again with the next state.
        this.logContained(key, error);
      }
    }
    if (this.reconcileNotifications(state)) unsettled = true;
    if (this.reconcileScorePolls(state)) unsettled = true;
    if (unsettled) this.retryLater();
  }

  /**
   * Answers the score polls that ask this node (takeover/score-poll.ts): its copy of the clone is
   * monitored again, and the score that monitor read is committed as the answer. A copy not
   * running here is not waited for by the leader; a monitor that finds the copy failed hands it
   * to the usual recovery. Returns whether any answer is unfinished.
   */
  private reconcileScorePolls(state: ClusterState): boolean {
    const { node } = this.options;
    const polls = state.scorePolls ?? {};
    for (const [clone, answer] of this.pollAnswers) {
      if (ownValue(polls, clone)?.id !== answer.poll) this.pollAnswers.delete(clone);
    }
    let pending = false;
    for (const [clone, poll] of Object.entries(polls)) {
      if (!poll.recipients.includes(node) || poll.answered.includes(node)) continue;
      const answer = this.pollAnswers.get(clone);
      if (answer?.status === "done") continue;
      pending = true;
      if (answer?.status === "reading" || answer?.status === "sending") continue;
      if (answer?.status === "unsent" && answer.answer !== undefined) {
        this.contain(null, this.answerPoll(clone, poll.id, answer.answer));
        continue;
      }
      const copy = [...this.local.values()].find(
        (c) => c.keyed.cloneId === clone && c.role === "unpromoted",
      );
      // A monitor under way began before the poll: its score is too old to answer with, and
      // queueing the poll's own behind it made runMonitor set aside what it found (the key was
      // busy), so a copy that had failed was recovered only two monitor timeouts later. Its end
      // looks here again (runMonitor).
      if (copy === undefined || this.busy.has(copy.keyed.key) || copy.monitoring === true) continue;
      this.pollAnswers.set(clone, { poll: poll.id, status: "reading" });
      const attribute = promotionScoreAttribute(clone);
      this.operateOn(copy.keyed.key, async () => {
        const result = await this.operate(copy.keyed, "monitor", copy.role);
        if (result.outcome !== "running") {
          this.pollAnswers.set(clone, { poll: poll.id, status: "done" });
          // The copy's own monitor, right after, finds the same and recovers as it would.
          this.timers.after(0, () =>
            this.monitorNow(copy.keyed.key, "its score poll's monitor failed"),
          );
          return;
        }
        const known = (name: string) =>
          this.desiredAttributes.get(name) ?? this.runAttribute(name) ?? NO_PROMOTION_SCORE;
        const answer: PollAnswer = {
          score: known(attribute),
          ...(this.cloneOf(clone)?.replicationOffset === undefined
            ? {}
            : { offset: known(replicationOffsetAttribute(clone)) }),
          seq: ++this.runSeq,
        };
        this.pollAnswers.set(clone, { poll: poll.id, status: "sending", answer });
        await this.answerPoll(clone, poll.id, answer);
      });
    }
    return pending;
  }

  /** Commits this node's answer to a poll; kept to be sent again if it does not commit. */
  private async answerPoll(clone: string, poll: number, answer: PollAnswer): Promise<void> {
    this.pollAnswers.set(clone, { poll, status: "sending", answer });
    const result = await this.options.submit({
      type: "score_answer",
      clone,
      poll,
      node: this.options.node,
      incarnation: this.options.incarnation,
      ...answer,
      by: `agent@${this.options.node}`,
      atMs: Math.round(this.options.clock.nowMs()),
    });
    if (this.pollAnswers.get(clone)?.poll !== poll) return;
    if (result.ok || result.code === "rejected") {
      this.pollAnswers.set(clone, { poll, status: "done" });
      return;
    }
    this.pollAnswers.set(clone, { poll, status: "unsent", answer });
    this.options.logger.debug({ clone, err: result.error }, "score poll answer not recorded");
    this.retryLater();
  }

  /**
   * Carries out this node's part of the clone notification rounds under way (notify-round.ts):
   * its copy of the clone runs `notify` with the round's lists, and the outcome is recorded. A
   * node told while its copy is not running here records that it had nothing to tell. Returns
   * whether any is unfinished.
   */
  private reconcileNotifications(state: ClusterState): boolean {
    const { node } = this.options;
    const rounds = state.notifyRounds ?? {};
    for (const name of this.notifications.keys()) {
      const [clone, id, phase] = name.split("\u0000");
      const round = clone === undefined ? undefined : rounds[clone];
      if (round === undefined || String(round.id) !== id || round.phase !== phase)
        this.notifications.delete(name);
    }
    let pending = false;
    for (const [clone, round] of Object.entries(rounds)) {
      if (round.phase === "acting" || !round.recipients.includes(node)) continue;
      if (round.notified[node] !== undefined) continue;
      pending = true;
      const name = [clone, String(round.id), round.phase].join("\u0000");
      const known = this.notifications.get(name);
      if (known === "running" || known === "recording" || known === "recorded") continue;
      if (known !== undefined) {
        this.contain(null, this.recordNotified(clone, round, name, known));
        continue;
      }
      const copy = [...this.local.values()].find((c) => c.keyed.cloneId === clone);
      if (copy === undefined) {
        this.contain(null, this.recordNotified(clone, round, name, "skipped"));
        continue;
      }
      if (this.busy.has(copy.keyed.key)) continue;
      this.notifications.set(name, "running");
      this.operateOn(copy.keyed.key, async () => {
        const type = round.phase === "pre" ? "pre" : "post";
        const result = await this.operate(
          copy.keyed,
          "notify",
          undefined,
          notifyEnvironment(round, type),
        );
        // Cut short because the lease ended: the stop that follows is what matters now.
        this.cancelled.delete(copy.keyed.key);
        const outcome = result.outcome === "success" ? "ok" : "failed";
        if (outcome === "failed") {
          // As Pacemaker: a notification that failed is reported, not recovered from.
          this.options.logger.warn(
            {
              resource: copy.keyed.key,
              type,
              operation: round.operation,
              result: describe(result),
            },
            "clone notification failed",
          );
        }
        await this.recordNotified(clone, round, name, outcome);
      });
    }
    return pending;
  }

  /** Commits how this node's notification ended; kept to be sent again if it does not commit. */
  private async recordNotified(
    clone: string,
    round: NotifyRound,
    name: string,
    outcome: NotifyOutcome,
  ): Promise<void> {
    this.notifications.set(name, "recording");
    const result = await this.options.submit({
      type: "notify_done",
      clone,
      round: round.id,
      phase: round.phase === "pre" ? "pre" : "post",
      node: this.options.node,
      incarnation: this.options.incarnation,
      outcome,
      by: `agent@${this.options.node}`,
      atMs: Math.round(this.options.clock.nowMs()),
    });
    if (this.notifications.get(name) === "recording")
      this.notifications.set(name, result.ok ? "recorded" : outcome);
    if (!result.ok) {
      this.options.logger.debug({ clone, err: result.error }, "notification not recorded");
      this.retryLater();
    }
  }

  /**
   * Whatever a resource's definition makes its work throw stays with that resource: logged,
   * never an unhandled rejection that would end the agent (and every other resource's care).
   */
  private contain(resource: string | null, work: Promise<unknown>): void {
    work.catch((error: unknown) => this.logContained(resource, error));
  }

  private logContained(resource: string | null, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const key = resource ?? "(all)";
    if (this.containedErrors.get(key) === message) return;
    this.containedErrors.set(key, message);
    this.options.logger.error(
      { resource, err: error },
      `${resource === null ? "resource handling" : `resource ${resource}`} failed: ${message}; the agent and the other resources go on`,
    );
  }

  /** Returns whether the key still needs attention (an operation or report started). */
  private reconcileKey(
    key: string,
    cell: ResourceCell | undefined,
    probePending: boolean,
  ): boolean {
    const copy = this.local.get(key);
    const reported = this.reportedAt.get(key);
    if (reported !== undefined && this.options.state().version < reported.version) {
      // This node's own report committed at a version it has not applied yet, and the leader
      // may already have acted on it (placed the resource elsewhere): what this node's older
      // state still instructs is void until it catches up.
      return true;
    }
    if (this.unconfirmedStops.has(key) && copy === undefined) {
      // Its stop report did not get an answer (lost on a lossy link, no leader): nothing is
      // started from an instruction that may be void; the report goes again until it commits.
      if (!this.reporting.has(key)) this.contain(key, this.report(key, null));
      return true;
    }
    const defined = primitiveOfKey(this.options.model(), key);
    const definitionChanged =
      copy !== undefined &&
      defined !== undefined &&
      !sameDefinition(defined.primitive, copy.keyed.primitive, this.options.node);
    if (copy !== undefined && defined !== undefined && !definitionChanged) {
      this.adoptDefinition(copy, defined);
    }
    const decision = decideForKey({
      cell,
      actual: copy?.role,
      definitionChanged,
      probePending,
    });
    switch (decision.kind) {
      case "none":
        return false;
      case "report": {
        const previous = this.reportedAt.get(key);
        const stillInFlight =
          previous !== undefined &&
          previous.active === decision.active &&
          this.options.state().version < previous.version;
        if (!stillInFlight) this.contain(key, this.report(key, decision.active));
        return true;
      }
      case "restart":
        this.operateOn(key, () => this.stopHere(copy!.keyed, "definition changed"));
        return true;
      case "wait":
        return true;
      case "operate": {
        const keyed = copy?.keyed ?? defined;
        if (keyed === undefined) {
          this.options.logger.warn(
            { resource: key, target: cell?.target },
            "instruction for a resource this node does not know",
          );
          return false;
        }
        if (decision.operations[0] === "start") {
          // A standing instruction may start several members of a group at once (restart in
          // place after a lease gap, a probe): each waits for the member before it to run here.
          const before = groupPredecessorKey(this.options.model(), keyed);
          if (before !== undefined && (!this.local.has(before) || this.busy.has(before))) {
            return true;
          }
        }
        this.operateOn(key, () => this.transition(keyed, decision.operations));
        return true;
      }
    }
  }

  /**
   * A running copy whose agent and parameters stay takes the rest of a new definition without a
   * restart (as Pacemaker does): its operations' timeouts, and its monitor, rescheduled when its
   * interval or timeout changed. Else a copy would keep the monitor it started with until it
   * stopped. Not while an operation on it is under way (it is looked at again after).
   */
  private adoptDefinition(copy: LocalCopy, defined: KeyedPrimitive): void {
    if (copy.keyed.primitive === defined.primitive || this.busy.has(copy.keyed.key)) return;
    const before = recurringMonitor(copy.keyed.primitive, copy.role);
    copy.keyed = defined;
    const after = recurringMonitor(defined.primitive, copy.role);
    const sameMonitor =
      before?.intervalMs === after?.intervalMs && before?.timeoutMs === after?.timeoutMs;
    // A monitor under way schedules the next one from the new definition when it ends.
    if (sameMonitor || copy.monitoring === true) return;
    copy.monitor?.();
    copy.monitor = null;
    this.scheduleMonitor(copy);
  }

  private operateOn(key: string, work: () => Promise<unknown>): void {
    this.busy.add(key);
    this.contain(
      key,
      Promise.resolve()
        .then(work)
        .finally(() => {
          this.busy.delete(key);
          this.kick();
        }),
    );
  }

  /** Runs the operations in order, then reports where it ended. */
  private async transition(keyed: KeyedPrimitive, operations: LocalOperation[]): Promise<void> {
    const { key } = keyed;
    const copyBefore = this.local.get(key);
    for (const operation of operations) {
      if (operation === "stop") {
        await this.stopHere(keyed, "instructed");
        return;
      }
      const result = await this.operate(keyed, operation);
      if (this.cancelled.delete(key)) {
        // Cut short because the lease ended: what it began is stopped; nothing failed.
        await this.stopHere(keyed, `the lease ended during its ${operation}`);
        return;
      }
      if (result.outcome !== "success") {
        // A failed start bans the node (Pacemaker's start-failure-is-fatal); a failed promote
        // too unless the error may pass; a failed demote leaves a primary to stop.
        const fatal =
          operation === "start" || (operation === "promote" && result.severity !== "soft");
        const recorded = this.failCount(key, fatal, `${operation} failed: ${describe(result)}`);
        if (
          operation === "start" &&
          result.exitCode === OCF_ERR_CONFIGURED &&
          copyBefore === undefined
        ) {
          // The agent refused its configuration before doing anything (OCF): nothing to stop,
          // and a stop with the same configuration would fail the same way and block it.
          await recorded;
          this.unconfirmedStops.add(key);
          await this.report(key, null);
          return;
        }
        // The stop does not wait for the fail count's commit (without a lease that may never
        // come, while the leader starts the resource elsewhere); its report does.
        await this.stopHere(keyed, `recovery after a failed ${operation}`, {
          notRunning: false,
          recorded,
        });
        return;
      }
      const role: RunRole =
        operation === "promote" ? "promoted" : keyed.promotable ? "unpromoted" : "started";
      this.setLocal(keyed, role, { monitored: operation !== "start" });
    }
    // Not awaited: the key must not stay busy while the commit waits (a lease lost meanwhile
    // must find it free to stop). A report still in flight is not sent twice (report()).
    this.contain(key, this.report(key, this.local.get(key)?.role ?? null));
  }

  /**
   * Stops the copy here (demoting first, unless it was found not running); a failed stop leaves
   * it marked unknown. A `failure` being committed is awaited before the outcome is reported,
   * so the leader decides what comes next knowing of it.
   */
  private async stopHere(
    keyed: KeyedPrimitive,
    why: string,
    failure?: { notRunning: boolean; recorded: Promise<unknown> },
  ): Promise<boolean> {
    const { key } = keyed;
    const copy = this.local.get(key);
    copy?.monitor?.();
    if (copy?.role === "promoted" && failure?.notRunning !== true) {
      await this.operate(keyed, "demote");
    }
    const result = await this.operate(keyed, "stop");
    await failure?.recorded;
    if (result.outcome !== "success") {
      this.options.logger.error(
        { resource: key, why, outcome: result.outcome, reason: result.reason },
        "stop failed: the resource may still run here; it stays here until `vigil resource cleanup`",
      );
      await this.report(key, copy?.role ?? "started", true);
      return false;
    }
    this.local.delete(key);
    this.unconfirmedStops.add(key);
    if (this.leaseUsable()) {
      await this.withdrawPromotionScore(keyed);
      await this.report(key, null);
    } else {
      // Without a lease no leader acts on these (the node is released or probes again), and
      // waiting for their commits would hold up the stops that follow until the lease is long
      // gone, while the leader starts those resources elsewhere: they go out unawaited.
      this.contain(
        key,
        this.withdrawPromotionScore(keyed).then(() => this.report(key, null)),
      );
    }
    return true;
  }

  private async stopAllHere(why: string): Promise<void> {
    const copies = [...this.local.values()].sort((a, b) => b.startedSeq - a.startedSeq);
    for (const copy of copies) {
      if (this.busy.has(copy.keyed.key)) continue;
      this.busy.add(copy.keyed.key);
      try {
        this.options.logger.warn({ resource: copy.keyed.key, why }, "stopping resource");
        await this.stopHere(copy.keyed, why);
      } finally {
        this.busy.delete(copy.keyed.key);
      }
    }
  }

  private setLocal(keyed: KeyedPrimitive, role: RunRole, how: { monitored: boolean }): void {
    const previous = this.local.get(keyed.key);
    previous?.monitor?.();
    const copy: LocalCopy = {
      keyed,
      role,
      startedSeq: previous?.startedSeq ?? ++this.startSeq,
      monitor: null,
      monitored: how.monitored || (previous?.monitored ?? false),
    };
    this.local.set(keyed.key, copy);
    this.scheduleMonitor(copy);
  }

  /**
   * Sets the timer of the copy's next monitor: one interval on, or at once for a promotable
   * copy's first monitor (also when its role has no recurring monitor: the leader waits for what
   * it says).
   */
  private scheduleMonitor(copy: LocalCopy, busy = false): void {
    if (this.stopped) return;
    const spec = recurringMonitor(copy.keyed.primitive, copy.role);
    const recurring = spec !== undefined && spec.intervalMs > 0;
    const first = copy.keyed.promotable && !copy.monitored;
    if (!recurring && !first) return;
    const key = copy.keyed.key;
    const delayMs = !first
      ? (spec?.intervalMs ?? 0)
      : busy
        ? Math.min(FIRST_MONITOR_RETRY_MS, spec?.intervalMs ?? FIRST_MONITOR_RETRY_MS)
        : 0;
    copy.monitor = this.timers.after(delayMs, () => this.contain(key, this.runMonitor(copy)));
  }

  private async runMonitor(copy: LocalCopy): Promise<void> {
    const { key } = copy.keyed;
    copy.monitor = null;
    // A newer copy has its own monitor; an operation under way: look again one interval later.
    if (this.local.get(key) !== copy || this.stopped) return;
    if (this.busy.has(key)) {
      this.scheduleMonitor(copy, true);
      return;
    }
    copy.monitoring = true;
    let result: OperationResult;
    try {
      result = await this.operate(copy.keyed, "monitor", copy.role);
    } finally {
      copy.monitoring = false;
      // A score poll that came meanwhile waited for this monitor (reconcileScorePolls).
      if (Object.keys(this.options.state().scorePolls ?? {}).length > 0) this.kick();
    }
    if (this.local.get(key) !== copy || this.stopped) return;
    if (this.busy.has(key)) {
      this.scheduleMonitor(copy, true);
      return;
    }
    copy.monitored = true;
    const expected = copy.role === "promoted" ? "running_promoted" : "running";
    if (result.outcome === expected) {
      if (copy.monitorAgain === true) {
        copy.monitorAgain = false;
        copy.monitor = this.timers.after(0, () => this.contain(key, this.runMonitor(copy)));
      } else this.scheduleMonitor(copy);
      return;
    }
    await this.recoverFromFailure(copy, {
      what: "monitor",
      notRunning: result.outcome === "not_running",
      hard: result.severity === "hard" || result.severity === "fatal",
      detail: describe(result),
    });
  }

  /**
   * Something outside the monitor (the kernel: the copy's address was removed) says the copy
   * may have stopped: its monitor runs now instead of at its next interval. A monitor already
   * under way may have looked before the change, so another follows it at once. Ignored while an
   * operation on it is under way (this node's own stop removes the address too). Returns whether
   * a monitor was asked for.
   */
  monitorNow(key: string, why: string): boolean {
    const copy = this.local.get(key);
    if (copy === undefined || this.busy.has(key) || this.stopped) return false;
    this.options.logger.info({ resource: key, why }, "monitoring at once");
    if (copy.monitoring === true) {
      copy.monitorAgain = true;
      return true;
    }
    copy.monitor?.();
    copy.monitor = null;
    this.contain(key, this.runMonitor(copy));
    return true;
  }

  /**
   * A health check attached to a resource (src/checks/) found it failing here: recovered as a
   * failed monitor is (fail count, then on_fail). Ignored while an operation on it is under way
   * or when it does not run here (the check's next failure, if it goes on failing, says so).
   * Returns whether recovery began.
   */
  checkFailed(key: string, check: string, detail: string): boolean {
    const copy = this.local.get(key);
    if (copy === undefined || this.busy.has(key) || this.stopped) return false;
    copy.monitor?.();
    copy.monitor = null;
    this.contain(
      key,
      this.recoverFromFailure(copy, {
        what: `check ${check}`,
        notRunning: false,
        hard: false,
        detail,
      }),
    );
    return true;
  }

  private async recoverFromFailure(
    copy: LocalCopy,
    failure: { what: string; notRunning: boolean; hard: boolean; detail: string },
  ): Promise<void> {
    const { key } = copy.keyed;
    const onFail = copy.keyed.primitive.meta.onFail;
    this.options.logger.warn(
      { resource: key, failed: failure.what, detail: failure.detail, onFail },
      `${failure.what} failed`,
    );
    if (onFail === "ignore") {
      this.scheduleMonitor(copy);
      return;
    }
    this.busy.add(key);
    try {
      // Recorded while the copy is being stopped (a promoted copy's successor waits for both);
      // stopHere reports the stop only once they are committed.
      const failed = this.failCount(key, failure.hard, `${failure.what}: ${failure.detail}`);
      if (onFail === "fence" && (await this.askToBeFenced(copy, failure, failed))) return;
      const recorded = Promise.all([failed, this.withdrawPromotionScore(copy.keyed)]);
      if (onFail === "standby") {
        await failed;
        await this.options.submit({
          type: "node_standby",
          node: this.options.node,
          standby: true,
          by: `agent@${this.options.node}`,
          atMs: Math.round(this.options.clock.nowMs()),
        });
      }
      // Recovery is a stop here; the instruction still standing then starts it again (restart
      // in place) unless the leader moved it away meanwhile (migration threshold reached). A
      // primary comes back unpromoted: the leader promotes the copy with the best score. A copy
      // of a clone that notifies gives its instruction back instead: the other copies are told.
      if (this.notifies(copy.keyed)) this.releasing.add(key);
      await this.stopHere(copy.keyed, `recovery after a failed ${failure.what}`, {
        notRunning: failure.notRunning,
        recorded,
      });
    } finally {
      this.busy.delete(key);
      this.kick();
    }
  }

  /**
   * on_fail fence: the failure is counted and this run asks to be fenced; the copy is left as it
   * is (whether a stop would work here is what the failure put in doubt) and the leader counts
   * this node as lost until the fence. Returns false when that cannot be done (fencing is off, or
   * the request did not commit): the failure is then recovered from as with restart.
   */
  private async askToBeFenced(
    copy: LocalCopy,
    failure: { what: string; detail: string },
    failureCounted: Promise<void>,
  ): Promise<boolean> {
    const { key } = copy.keyed;
    const { node, logger } = this.options;
    if (this.options.fencing !== true) {
      logger.error(
        { resource: key },
        "on_fail fence, but fencing is not enabled in the cluster configuration: recovering as with restart",
      );
      return false;
    }
    const reason = `${key}: ${failure.what} failed (on_fail fence): ${failure.detail}`.slice(
      0,
      FENCE_REQUEST_REASON_MAX_CHARS,
    );
    await failureCounted;
    const asked = await this.options.submit({
      type: "node_fence_request",
      node,
      incarnation: this.options.incarnation,
      resource: key,
      reason,
      by: `agent@${node}`,
      atMs: Math.round(this.options.clock.nowMs()),
    });
    if (!asked.ok) {
      logger.error(
        { resource: key, err: asked.error },
        "could not ask to be fenced: recovering as with restart",
      );
      return false;
    }
    logger.error({ resource: key, reason }, `node ${node} asked to be fenced: ${reason}`);
    return true;
  }

  /** Returns whether the probe was recorded. */
  private async probe(state: ClusterState, registered: boolean): Promise<boolean> {
    this.probing = true;
    try {
      const configVersion = state.config.version;
      const model = this.options.model();
      const found: Array<{ resource: string; role: RunRole }> = [];
      const probes: Array<Promise<void>> = [];
      for (const [primitiveId, keys] of keysByPrimitive(model)) {
        const first = keys[0];
        if (first === undefined || this.probed.has(primitiveId)) continue;
        probes.push(
          this.operate(first, "monitor").then((result) => {
            const role = probedRole(result, first.promotable);
            if (role === undefined) return;
            const keyed = this.instanceFor(state, keys);
            if (keyed === undefined) {
              this.options.logger.error(
                { resource: primitiveId },
                "found running, but every copy of its clone runs elsewhere; leaving it alone",
              );
              return;
            }
            this.setLocal(keyed, role, { monitored: true });
            found.push({ resource: keyed.key, role });
          }),
        );
      }
      await Promise.all(probes);
      const result = await this.options.submit({
        type: "node_probed",
        seq: ++this.runSeq,
        node: this.options.node,
        incarnation: this.options.incarnation,
        configVersion,
        active: found.sort((a, b) => (a.resource < b.resource ? -1 : 1)),
        by: `agent@${this.options.node}`,
        atMs: Math.round(this.options.clock.nowMs()),
      });
      if (result.ok) {
        this.probeCommittedAtVersion = result.version;
        for (const primitiveId of keysByPrimitive(model).keys()) this.probed.add(primitiveId);
        this.options.logger.info(
          { configVersion, found: found.map((f) => `${f.resource} ${f.role}`), again: registered },
          "probe done",
        );
      } else {
        this.options.logger.info({ err: result.error }, "probe not recorded; probing again");
        // Whatever this probe found will be found again; forget it so the next report is whole.
        for (const f of found) if (!registered) this.local.delete(f.resource);
      }
      return result.ok;
    } finally {
      this.probing = false;
      this.retryLater();
    }
  }

  /**
   * The key a copy found running here is reported under: a primitive's own (even if it runs
   * elsewhere too: the leader then stops the copy that does not belong); for a clone, the
   * instance placed here, else a free one.
   */
  private instanceFor(state: ClusterState, keys: KeyedPrimitive[]): KeyedPrimitive | undefined {
    if (keys.length === 1 && keys[0]?.cloneId === undefined) return keys[0];
    const here = keys.find(
      (keyed) => state.resources[keyed.key]?.[this.options.node] !== undefined,
    );
    return (
      here ??
      keys.find((keyed) => state.resources[keyed.key] === undefined && !this.local.has(keyed.key))
    );
  }

  /**
   * Runs one operation; never throws. Whatever the definition does to the executor or its agent
   * (an impossible timeout, a full queue) is that resource's failure: a result that says why,
   * with OCF_ERR_CONFIGURED since nothing was run.
   */
  private async operate(
    keyed: KeyedPrimitive,
    operation: OperationName,
    role?: RunRole,
    environment?: Record<string, string>,
  ): Promise<OperationResult> {
    try {
      return await this.operateUnguarded(keyed, operation, role, environment);
    } catch (error) {
      this.logContained(keyed.key, error);
      const nowMs = this.options.clock.nowMs();
      return {
        resourceId: keyed.key,
        operation,
        outcome: "failed",
        exitCode: OCF_ERR_CONFIGURED,
        severity: "fatal",
        reason: `${operation} could not be run: ${(error as Error).message}`,
        startedAtMs: nowMs,
        durationMs: 0,
        stderrTail: "",
      };
    }
  }

  private async operateUnguarded(
    keyed: KeyedPrimitive,
    operation: OperationName,
    role: RunRole | undefined,
    environment: Record<string, string> | undefined,
  ): Promise<OperationResult> {
    const planned = this.request(keyed, operation, role);
    const request =
      environment === undefined
        ? planned
        : { ...planned, environment: { ...planned.environment, ...environment } };
    if (operation === "start" || operation === "promote" || operation === "demote") {
      this.options.onHold?.(this.stopRequest(keyed));
    }
    let result: OperationResult;
    this.inFlight.set(keyed.key, keyed);
    // A notification too: it holds the copy's key, which a stop for a lost lease must not wait for.
    const cancel =
      operation === "start" || operation === "promote" || operation === "notify"
        ? new AbortController()
        : undefined;
    if (cancel !== undefined) this.cancellable.set(keyed.key, cancel);
    try {
      result = await this.options.executor.run(keyed.key, request, cancel?.signal);
    } finally {
      this.inFlight.delete(keyed.key);
      if (cancel !== undefined) this.cancellable.delete(keyed.key);
    }
    if (operation !== "monitor")
      this.options.logger.debug(
        {
          resource: keyed.key,
          operation,
          outcome: result.outcome,
          durationMs: Math.round(result.durationMs),
        },
        "operation done",
      );
    if (keyed.promotable && keyed.cloneId !== undefined) {
      this.publishPromotionScore(keyed.cloneId, operation, result);
    }
    return result;
  }

  /**
   * The executor's request for one operation on a key, as this node runs it; a recurring
   * monitor is the one of the copy's `role`.
   */
  private request(
    keyed: KeyedPrimitive,
    operation: OperationName,
    role?: RunRole,
  ): OperationRequest {
    const primitive: Primitive = keyed.primitive;
    const spec =
      operation === "monitor" && role !== undefined
        ? recurringMonitor(primitive, role)
        : primitive.operations[operation];
    return {
      operation,
      agent: primitive.agent,
      params: nodeParams(primitive, this.options.node),
      timeoutMs: spec?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...(operation === "monitor" && spec !== undefined && spec.intervalMs > 0
        ? { intervalMs: spec.intervalMs }
        : {}),
      ...(keyed.cloneId === undefined ? {} : { environment: this.cloneEnvironment(keyed) }),
      ...(operation === "monitor" ? this.offsetReading(keyed) : {}),
    };
  }

  /** How a monitor of a promotable copy reads its replication offset, if its clone says. */
  private offsetReading(keyed: KeyedPrimitive): { replicationOffset?: ReplicationOffsetSpec } {
    const spec =
      keyed.promotable && keyed.cloneId !== undefined
        ? this.cloneOf(keyed.cloneId)?.replicationOffset
        : undefined;
    return spec === undefined ? {} : { replicationOffset: spec };
  }

  private cloneOf(cloneId: string): Clone | undefined {
    const clones = this.options.model().clones;
    return Object.hasOwn(clones, cloneId) ? clones[cloneId] : undefined;
  }

  /** What a clone's copy is told: Pacemaker's clone meta, and where its primary is. */
  private cloneEnvironment(keyed: KeyedPrimitive): Record<string, string> {
    const cloneId = keyed.cloneId as string;
    const clone = this.cloneOf(cloneId);
    const index = parseCloneInstanceKey(cloneId, keyed.key)?.index;
    return {
      ...(clone === undefined || index === undefined ? {} : cloneMetaEnvironment(clone, index)),
      ...(keyed.promotable ? { VIGIL_PROMOTED_NODES: this.promotedNodes(cloneId).join(",") } : {}),
      // Pacemaker names every copy of an anonymous clone after its primitive (crm_mon lists them
      // so too): OCF agents match the two (redis asks crm_mon whether "its" resource is promoted
      // anywhere). Vigil's exec scripts keep the copy's key.
      ...(keyed.primitive.agent.kind === "ocf"
        ? { OCF_RESOURCE_INSTANCE: keyed.primitive.id }
        : {}),
    };
  }

  /** What cloneEnvironment passes a copy as VIGIL_PROMOTED_NODES, if anything. */
  private promotedNodesOf(keyed: KeyedPrimitive): string | undefined {
    return keyed.cloneId !== undefined && keyed.promotable
      ? this.promotedNodes(keyed.cloneId).join(",")
      : undefined;
  }

  /** How the node guard stops a key: the stop request this node would send its executor. */
  private stopRequest(keyed: KeyedPrimitive): HeldResource {
    const last = this.stopRequests.get(keyed);
    // Only the environment can change for the same copy (where the clone's primary is). The
    // guard is fed every few tens of milliseconds: compare that alone before building anew.
    if (
      last !== undefined &&
      last.environment?.VIGIL_PROMOTED_NODES === this.promotedNodesOf(keyed)
    ) {
      return last;
    }
    const { operation: _, intervalMs: __, ...request } = this.request(keyed, "stop");
    const held: HeldResource = Object.freeze({
      key: keyed.key,
      ...request,
      ...(keyed.promotable
        ? {
            demoteTimeoutMs: keyed.primitive.operations.demote?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
          }
        : {}),
      params: Object.freeze({ ...request.params }),
      ...(request.environment === undefined
        ? {}
        : { environment: Object.freeze({ ...request.environment }) }),
    });
    this.stopRequests.set(keyed, held);
    return held;
  }

  /**
   * Where the clone's primary is or is being made (any instance told or reported promoted):
   * what a replica follows. Passed to its agent as VIGIL_PROMOTED_NODES.
   */
  private promotedNodes(cloneId: string): string[] {
    const nodes = new Set<string>();
    for (const [key, byNode] of Object.entries(this.options.state().resources)) {
      if (!key.startsWith(`${cloneId}:`)) continue;
      for (const [node, cell] of Object.entries(byNode)) {
        if (cell.target === "promoted" || cell.active === "promoted") nodes.add(node);
      }
    }
    return [...nodes].sort();
  }

  /**
   * A copy that failed or stopped may be stale (or empty) when it starts again: its old score must
   * not get it promoted; its monitor publishes a new one once it runs. Resolves once committed,
   * so that the stop, reported after it, never has a leader weigh the others against it.
   */
  private withdrawPromotionScore(keyed: KeyedPrimitive): Promise<void> {
    if (!keyed.promotable || keyed.cloneId === undefined) return Promise.resolve();
    const names = [
      promotionScoreAttribute(keyed.cloneId),
      replicationOffsetAttribute(keyed.cloneId),
    ];
    for (const name of names) this.desiredAttributes.set(name, null);
    return Promise.all(names.map((name) => this.publishAttribute(name, null))).then(() => {});
  }

  /**
   * The agent's promotion score becomes this run's attribute promotion-score-<clone>. A monitor
   * that found the copy running without giving one sets it to `none` (unless a score is set, by
   * this node or by another's agent, as pgsql's primary sets its replicas'): the leader then
   * knows the copy was looked at, and counts it as 0.
   */
  private publishPromotionScore(
    cloneId: string,
    operation: OperationName,
    result: OperationResult,
  ): void {
    this.publishReplicationOffset(cloneId, result);
    const attribute = promotionScoreAttribute(cloneId);
    if (result.promotionScore !== undefined) {
      this.setAttribute(attribute, String(result.promotionScore));
      return;
    }
    const running = result.outcome === "running" || result.outcome === "running_promoted";
    if (
      operation === "monitor" &&
      running &&
      (this.desiredAttributes.get(attribute) ?? null) === null &&
      this.runAttribute(attribute) === undefined
    ) {
      this.setAttribute(attribute, NO_PROMOTION_SCORE);
    }
  }

  /**
   * What the copy's monitor read of its replication offset becomes this run's attribute
   * replication-offset-<clone>; one that could not be read is `none` (ranked below every copy
   * whose offset is known), and said once until it is read again.
   */
  private publishReplicationOffset(cloneId: string, result: OperationResult): void {
    const attribute = replicationOffsetAttribute(cloneId);
    if (result.replicationOffset !== undefined) {
      this.offsetProblems.delete(cloneId);
      this.setAttribute(attribute, String(result.replicationOffset));
    } else if (result.replicationOffsetProblem !== undefined) {
      if (this.offsetProblems.get(cloneId) !== result.replicationOffsetProblem) {
        this.offsetProblems.set(cloneId, result.replicationOffsetProblem);
        this.options.logger.warn(
          { clone: cloneId, problem: result.replicationOffsetProblem },
          "replication offset not read: this copy ranks last for promotion",
        );
      }
      this.setAttribute(attribute, NO_PROMOTION_SCORE);
    }
  }

  /** This run's committed attribute `key`, if it holds one (another node may have set it). */
  private runAttribute(key: string): string | undefined {
    const agent = this.options.state().agents[this.options.node];
    if (agent?.incarnation !== this.options.incarnation || agent.attributes === undefined)
      return undefined;
    return Object.hasOwn(agent.attributes, key) ? agent.attributes[key] : undefined;
  }

  /**
   * Sets one of this run's transient node attributes (promotion scores, connectivity). The value
   * is kept and committed until the state shows it, also after a failed commit or a new probe.
   */
  setAttribute(key: string, value: string | null): void {
    this.desiredAttributes.set(key, value);
    this.syncAttributes();
  }

  /** setAttribute, resolving once its commit has ended (Pacemaker's commands wait for it). */
  commitAttribute(key: string, value: string | null): Promise<void> {
    this.desiredAttributes.set(key, value);
    return this.publishAttribute(key, value);
  }

  private syncAttributes(): void {
    for (const [key, value] of this.desiredAttributes) void this.publishAttribute(key, value);
  }

  /**
   * Commits one attribute's value unless the state shows it or it is on its way already; resolves
   * once that commit has ended (a failed one is tried again by the next syncAttributes).
   */
  private publishAttribute(key: string, value: string | null): Promise<void> {
    const state = this.options.state();
    const agent = state.agents[this.options.node];
    if (agent?.incarnation !== this.options.incarnation) return Promise.resolve();
    const current = agent.attributes?.[key] ?? null;
    if (current === value) return Promise.resolve();
    const inFlight = this.publishing.get(key);
    if (inFlight?.value === value) return inFlight.done;
    const committed = this.attributeCommittedAt.get(key);
    if (committed?.value === value && state.version < committed.version) {
      return Promise.resolve();
    }
    if (committed?.value === value && current !== null) {
      // Ours committed, and another node's agent set it since (as Pacemaker, any node may write
      // any node's transient attributes: pgsql's primary lets a replica be promoted): theirs
      // stands. One gone (null) is ours again: a new probe of this run may have dropped it.
      this.desiredAttributes.set(key, current);
      return Promise.resolve();
    }
    const done: Promise<void> = this.options
      .submit({
        type: "node_transient_attribute",
        node: this.options.node,
        incarnation: this.options.incarnation,
        key,
        value,
        seq: ++this.runSeq,
        by: `agent@${this.options.node}`,
        atMs: Math.round(this.options.clock.nowMs()),
      })
      .then((result) => {
        if (result.ok) this.attributeCommittedAt.set(key, { value, version: result.version });
        else this.retryLater();
      })
      .finally(() => {
        if (this.publishing.get(key)?.done === done) this.publishing.delete(key);
      });
    this.publishing.set(key, { value, done });
    return done;
  }

  private async failCount(resource: string, fatal: boolean, why: string): Promise<void> {
    this.options.logger.warn({ resource, fatal, why }, "resource failed");
    const result = await this.options.submit({
      type: "fail_count_increment",
      resource,
      node: this.options.node,
      ...(fatal ? { fatal: true } : {}),
      by: `agent@${this.options.node}`,
      atMs: Math.round(this.options.clock.nowMs()),
    });
    if (!result.ok)
      this.options.logger.warn({ resource, err: result.error }, "fail count not recorded");
  }

  /** Tells the cluster what runs here; a report that does not commit is sent again later. */
  private async report(
    resource: string,
    active: RunRole | null,
    stopFailed = false,
  ): Promise<void> {
    if (this.reporting.has(resource)) return;
    this.reporting.add(resource);
    try {
      const result = await this.options.submit({
        type: "resource_report",
        seq: ++this.runSeq,
        resource,
        node: this.options.node,
        incarnation: this.options.incarnation,
        active,
        ...(stopFailed ? { stopFailed: true } : {}),
        ...(active === null && this.releasing.has(resource) ? { release: true } : {}),
        by: `agent@${this.options.node}`,
        atMs: Math.round(this.options.clock.nowMs()),
      });
      if (result.ok) this.reportedAt.set(resource, { active, version: result.version });
      // Committed, or refused for good (a report of an earlier probe or run): nothing to wait for.
      if (active === null && (result.ok || result.code === "rejected")) {
        this.unconfirmedStops.delete(resource);
        this.releasing.delete(resource);
      }
      if (stopFailed) this.releasing.delete(resource);
      if (!result.ok) {
        this.options.logger.debug(
          { resource, err: result.error },
          "report not recorded; will retry",
        );
      }
    } finally {
      this.reporting.delete(resource);
      this.retryLater();
    }
  }

  /** Whether the key is a copy of a clone with `notify: true`. */
  private notifies(keyed: KeyedPrimitive): boolean {
    if (keyed.cloneId === undefined) return false;
    return ownValue(this.options.model().clones, keyed.cloneId)?.notify === true;
  }

  private retryLater(): void {
    if (this.cancelRetry !== null || this.stopped) return;
    this.cancelRetry = this.timers.after(RETRY_MS, () => {
      this.cancelRetry = null;
      this.reconcile();
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.timers.after(ms, resolve));
  }
}

/** Whether the copy on `node` runs as defined: another node's own parameters do not count. */
function sameDefinition(a: Primitive, b: Primitive, node: string): boolean {
  // The model is kept per configuration version: while it stays, a copy's definition is the
  // very same object, and comparing it is asked for every key at every state change.
  if (a === b) return true;
  return (
    JSON.stringify([a.agent, nodeParams(a, node)]) ===
    JSON.stringify([b.agent, nodeParams(b, node)])
  );
}

function probedRole(result: OperationResult, promotable: boolean): RunRole | undefined {
  switch (result.outcome) {
    case "not_running":
      return undefined;
    case "running_promoted":
      return "promoted";
    case "failed":
      // Not installed here, or its configuration refused before anything ran: it cannot be
      // running here (from this definition) either.
      if (result.exitCode === OCF_ERR_INSTALLED || result.exitCode === OCF_ERR_CONFIGURED) {
        return undefined;
      }
      return promotable ? "unpromoted" : "started";
    default:
      // Running, or an error that leaves it unknown: count it as running, so it is stopped
      // properly rather than started a second time somewhere else.
      return promotable ? "unpromoted" : "started";
  }
}

function describe(result: OperationResult): string {
  return `${result.outcome}${result.reason ? ` (${result.reason})` : ""}`;
}
