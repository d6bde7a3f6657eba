import type { SubmitResult } from "../coordination/cluster-message.js";
import type { Timers } from "../coordination/timers.js";
import type { Logger } from "../log/logger.js";
import type { MembershipEvent } from "../membership/types.js";
import { type HookSpec, hooksOf, hookWants } from "../resource-model/hooks-schema.js";
import type { Command } from "../state/commands.js";
import { type EventDraft, eventsBetween } from "../state/notification-events.js";
import { pendingFor, wantsLiveness } from "../state/notifications.js";
import type { ClusterState } from "../state/types.js";
import type { Clock } from "../time/clock.js";
import { RateLimiter } from "../time/rate-limiter.js";
import { HookQueue, type HookQueueCounts, type QueuedEvent } from "./hook-queue.js";
import type { DeliverHook, HookTarget } from "./hook-runner.js";
import { transitionScript } from "./transition-scripts.js";

/** A cluster-wide hook's progress is committed at most this often (one entry per batch). */
const ACK_EVERY_MS = 500;
/** A failed liveness record is tried again after this long. */
const LIVENESS_RETRY_MS = 1000;
/** Transition scripts (keepalived's notify_*) are run once: a late retry would tell a stale story. */
const TRANSITION_QUEUE = "notify-scripts";
const TRANSITION_TIMEOUT_MS = 30_000;
const TRANSITION_QUEUE_LIMIT = 256;

export interface NotifierOptions {
  nodeName: string;
  /** This agent run: the ids of the events only this node saw carry it. */
  incarnation: number;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  deliver: DeliverHook;
  isLeader(): boolean;
  state(): ClusterState;
  submit(command: Command): Promise<SubmitResult>;
  /** Membership's word on a node: up, dead (or left), or null while not yet known. */
  livenessOf(node: string): "up" | "dead" | null;
  /** Every configured node's name (whose liveness the leader records). */
  nodeNames: readonly string[];
}

export interface HookStatus extends HookQueueCounts {
  hook: string;
  where: "cluster" | "node" | "transition";
  /** Dropped by the cluster's queue (cluster-wide hooks), as committed. */
  droppedByCluster?: number;
  lastError?: string;
}

interface Running {
  spec: HookSpec | null;
  signature: string;
  queue: HookQueue;
  cancelTimer: (() => void) | null;
  lastError?: string;
}

/**
 * Delivers events to the hooks of the replicated configuration. Node hooks (`where: node`) get
 * what this node saw: its membership and quorum events, and what the state recorded about
 * itself. Cluster-wide hooks (`where: cluster`) are delivered by the leader alone, from the
 * queue the state keeps (src/state/notifications.ts); the leader commits how far each got, so a
 * new leader carries on from there: at least once, in order, with ids to drop repeats. Each hook
 * delivers one event at a time, so a slow or failing one delays only itself.
 */
export class Notifier {
  private readonly running = new Map<string, Running>();
  private lastState: ClusterState | null = null;
  private lastActive: Record<string, string> = {};
  private seen = 0;
  private leading = false;
  /** Hook → the last seq delivered on this leadership, not yet committed. */
  private readonly acks = new Map<string, number>();
  private cancelAck: (() => void) | null = null;
  private livenessInFlight = false;
  private cancelLivenessRetry: (() => void) | null = null;
  private stopped = false;
  private readonly dropLog = new RateLimiter(10_000);
  /** Hook → the cluster's drop count last seen, to log when it grows. */
  private readonly clusterDrops = new Map<string, number>();

  constructor(private readonly options: NotifierOptions) {}

  /** The replicated state changed (or leadership did): queue what it recorded. */
  stateChanged(): void {
    if (this.stopped) return;
    const state = this.options.state();
    this.configure(state);
    const before = this.lastState;
    this.lastState = state;
    if (before !== null && before !== state) this.noteLocal(before, state);
    if (this.options.isLeader()) this.noteClusterDrops(state);
    this.syncClusterQueues(state);
    this.recordLiveness();
    this.pumpAll();
  }

  membershipEvent(event: MembershipEvent): void {
    if (this.stopped || event.type === "local_stall") return;
    const base = { atMs: Math.round(event.atMs), node: event.name, source: this.options.nodeName };
    switch (event.type) {
      case "node_up":
        this.offerLocal({ ...base, kind: "node_up", detail: `${event.name} is up` });
        break;
      case "node_dead":
        this.offerLocal({
          ...base,
          kind: "node_dead",
          detail: `${event.name} is dead (${event.reason}, silent ${Math.round(event.silentMs)} ms)`,
        });
        break;
      case "node_left":
        this.offerLocal({ ...base, kind: "node_dead", detail: `${event.name} left the cluster` });
        break;
      case "link_up":
        this.offerLocal({
          ...base,
          kind: "link_up",
          detail: `link ${event.link} to ${event.name} is up`,
        });
        break;
      case "link_down":
        this.offerLocal({
          ...base,
          kind: "link_down",
          detail: `link ${event.link} to ${event.name} is down (silent ${Math.round(event.silentMs)} ms)`,
        });
        break;
      default:
        return;
    }
    this.recordLiveness();
    this.pumpAll();
  }

  quorumEvent(kind: "quorum_lost" | "quorum_regained"): void {
    if (this.stopped) return;
    this.offerLocal({
      kind,
      atMs: Math.round(this.options.clock.nowMs()),
      node: this.options.nodeName,
      source: this.options.nodeName,
      detail: kind === "quorum_lost" ? "this node lost quorum" : "this node has quorum again",
    });
    this.pumpAll();
  }

  /** A health check's verdict changed on this node (src/checks/). */
  checkEvent(
    check: string,
    resource: string | undefined,
    verdict: "passing" | "failing",
    detail: string,
  ): void {
    if (this.stopped) return;
    this.offerLocal({
      kind: verdict === "passing" ? "check_passing" : "check_failing",
      atMs: Math.round(this.options.clock.nowMs()),
      node: this.options.nodeName,
      ...(resource === undefined ? {} : { resource }),
      check,
      source: this.options.nodeName,
      detail: `check ${check} ${verdict}: ${detail}`,
    });
    this.pumpAll();
  }

  status(): HookStatus[] {
    const dropped = this.lastState?.notifications?.dropped ?? {};
    return [...this.running.entries()].map(([name, run]) => ({
      hook: run.spec?.name ?? name,
      where: run.spec?.where ?? "transition",
      ...run.queue.status(),
      ...(run.spec?.where === "cluster" && Object.hasOwn(dropped, run.spec.name)
        ? { droppedByCluster: dropped[run.spec.name] ?? 0 }
        : {}),
      ...(run.lastError !== undefined ? { lastError: run.lastError } : {}),
    }));
  }

  stop(): void {
    this.stopped = true;
    for (const run of this.running.values()) run.cancelTimer?.();
    this.cancelAck?.();
    this.cancelLivenessRetry?.();
  }

  /** Queues follow the configuration: a changed hook starts a new queue with the old's events. */
  private configure(state: ClusterState): void {
    const hooks = hooksOf(state.config.document);
    const wanted = new Set(hooks.map((hook) => hook.name));
    for (const hook of hooks) {
      const signature = JSON.stringify(hook);
      const current = this.running.get(hook.name);
      if (current?.signature === signature) continue;
      current?.cancelTimer?.();
      const queue = new HookQueue({
        limit: hook.queue_limit,
        retryMs: hook.retry_ms,
        maxRetryMs: hook.max_retry_ms,
        maxAttempts: Number.POSITIVE_INFINITY,
      });
      // A cluster-wide queue is refilled from the state; a node queue keeps what it had.
      if (current !== undefined && hook.where === "node" && current.spec?.where === "node")
        for (const event of current.queue.drain()) queue.offer(event);
      this.running.set(hook.name, { spec: hook, signature, queue, cancelTimer: null });
    }
    for (const [name, run] of this.running) {
      if (run.spec !== null && !wanted.has(name)) {
        run.cancelTimer?.();
        this.running.delete(name);
      }
    }
  }

  /** What the state recorded about this node, for its node hooks and transition scripts. */
  private noteLocal(before: ClusterState, after: ClusterState): void {
    const self = this.options.nodeName;
    const derived = eventsBetween(before, after, this.lastActive, {
      by: after.history.at(-1)?.by ?? self,
      atMs: after.history.at(-1)?.atMs ?? Math.round(this.options.clock.nowMs()),
    });
    this.lastActive = derived.lastActive;
    for (const draft of derived.events) {
      const ours = draft.kind.startsWith("resource_")
        ? draft.node === self
        : (draft.kind.startsWith("fence_") || draft.kind === "incident") &&
          draft.source.endsWith(`@${self}`);
      if (!ours) continue;
      this.offerLocal(draft);
      const script = transitionScript(after.config.document, draft);
      if (script !== null) this.offerTransition(draft, script);
    }
  }

  private offerLocal(draft: Omit<EventDraft, "stateVersion">): void {
    const event = this.numbered(draft);
    for (const run of this.running.values())
      if (run.spec?.where === "node" && hookWants(run.spec, event.kind))
        this.warnIfDropped(run, run.queue.offer(event));
  }

  private offerTransition(draft: EventDraft, target: HookTarget): void {
    let run = this.running.get(TRANSITION_QUEUE);
    if (run === undefined) {
      run = {
        spec: null,
        signature: "",
        queue: new HookQueue({
          limit: TRANSITION_QUEUE_LIMIT,
          retryMs: 1000,
          maxRetryMs: 1000,
          maxAttempts: 1,
        }),
        cancelTimer: null,
      };
      this.running.set(TRANSITION_QUEUE, run);
    }
    this.warnIfDropped(run, run.queue.offer({ ...this.numbered(draft), target }));
  }

  private numbered(
    draft: Omit<EventDraft, "stateVersion"> & { stateVersion?: number },
  ): QueuedEvent {
    this.seen++;
    return {
      ...draft,
      stateVersion: draft.stateVersion ?? this.lastState?.version ?? 0,
      id: `${this.options.nodeName}.${this.options.incarnation}.${this.seen}`,
    };
  }

  /** A full queue is said once per 10 s per hook: the count is in status and metrics. */
  private warnIfDropped(run: Running, dropped: number): void {
    if (dropped === 0) return;
    const hook = run.spec?.name ?? TRANSITION_QUEUE;
    const suppressed = this.dropLog.allow(hook, this.options.clock.nowMs());
    if (suppressed !== null)
      this.options.logger.warn(
        { hook, dropped: run.queue.status().dropped, suppressed },
        "hook queue full: its oldest events were dropped",
      );
  }

  /** The cluster's count of a hook's drops went up (the state's queue was full): say so. */
  private noteClusterDrops(state: ClusterState): void {
    for (const [hook, count] of Object.entries(state.notifications?.dropped ?? {})) {
      const known = this.clusterDrops.get(hook) ?? count;
      this.clusterDrops.set(hook, count);
      if (count > known)
        this.options.logger.warn(
          { hook, dropped: count, now: count - known },
          "cluster-wide hook's queue full: its oldest events were dropped",
        );
    }
  }

  /** On the leader: every cluster-wide event not yet delivered, in the state's order. */
  private syncClusterQueues(state: ClusterState): void {
    const leading = this.options.isLeader();
    if (leading !== this.leading) {
      this.leading = leading;
      this.acks.clear();
      for (const run of this.running.values()) if (run.spec?.where === "cluster") run.queue.clear();
    }
    if (!leading) return;
    for (const run of this.running.values()) {
      const spec = run.spec;
      if (spec === null || spec.where !== "cluster") continue;
      const acked = this.acks.get(spec.name) ?? 0;
      for (const event of pendingFor(state, spec))
        if (event.seq > acked && !run.queue.has(event.id)) run.queue.offer(event);
    }
  }

  private pumpAll(): void {
    for (const name of this.running.keys()) this.pump(name);
  }

  private pump(name: string): void {
    const run = this.running.get(name);
    if (run === undefined || this.stopped) return;
    const nowMs = this.options.clock.nowMs();
    const next = run.queue.next(nowMs);
    if (next.kind === "idle") return;
    if (next.kind === "wait") {
      if (run.cancelTimer !== null) return;
      run.cancelTimer = this.options.timers.after(next.untilMs - nowMs, () => {
        run.cancelTimer = null;
        this.pump(name);
      });
      return;
    }
    const { event, attempt } = next;
    const spec = run.spec;
    const target: HookTarget | undefined =
      spec === null
        ? event.target
        : spec.run !== undefined
          ? { run: spec.run }
          : spec.webhook !== undefined
            ? { webhook: spec.webhook }
            : undefined;
    if (target === undefined) {
      run.queue.delivered();
      return;
    }
    const { target: _target, ...plain } = event;
    void this.options
      .deliver({
        hook: spec?.name ?? TRANSITION_QUEUE,
        target,
        event: plain,
        timeoutMs: spec?.timeout_ms ?? TRANSITION_TIMEOUT_MS,
        deliveredBy: this.options.nodeName,
      })
      .catch((error: unknown) => ({ ok: false as const, reason: String(error) }))
      .then((outcome) => {
        if (this.running.get(name) !== run) return;
        if (outcome.ok) {
          run.queue.delivered();
          delete run.lastError;
          if (spec?.where === "cluster" && event.seq !== undefined)
            this.acknowledge(spec.name, event.seq);
        } else {
          run.lastError = outcome.reason;
          const givenUp = run.queue.failed(this.options.clock.nowMs());
          this.options.logger.warn(
            {
              hook: spec?.name ?? TRANSITION_QUEUE,
              event: event.id,
              kind: event.kind,
              attempt,
              err: outcome.reason,
            },
            givenUp === undefined ? "hook failed; will retry" : "notify script failed",
          );
        }
        this.pump(name);
      });
  }

  /** Delivered on this leadership: committed in batches, so a new leader starts after it. */
  private acknowledge(hook: string, seq: number): void {
    this.acks.set(hook, Math.max(this.acks.get(hook) ?? 0, seq));
    if (this.cancelAck !== null) return;
    this.cancelAck = this.options.timers.after(ACK_EVERY_MS, () => {
      this.cancelAck = null;
      void this.flushAcks();
    });
  }

  private async flushAcks(): Promise<void> {
    if (this.stopped || !this.options.isLeader()) return;
    const state = this.options.state();
    for (const [hook, seq] of this.acks) {
      if ((state.notifications?.delivered[hook] ?? 0) >= seq) continue;
      const result = await this.options.submit({
        type: "hook_delivered",
        hook,
        seq,
        by: `notify@${this.options.nodeName}`,
        atMs: Math.round(this.options.clock.nowMs()),
      });
      if (!result.ok)
        this.options.logger.debug({ hook, seq, err: result.error }, "hook progress not committed");
    }
  }

  /** On the leader, when a cluster-wide hook wants node_up/node_dead: records what changed. */
  private recordLiveness(): void {
    if (this.livenessInFlight || this.stopped || !this.options.isLeader()) return;
    const state = this.options.state();
    if (!wantsLiveness(state)) return;
    const recorded = state.notifications?.liveness ?? {};
    const change = this.options.nodeNames
      .map((node) => ({ node, liveness: this.livenessOf(node) }))
      .find(
        ({ node, liveness }) =>
          liveness !== null && !(Object.hasOwn(recorded, node) && recorded[node] === liveness),
      );
    if (change === undefined || change.liveness === null) return;
    this.livenessInFlight = true;
    void this.options
      .submit({
        type: "node_liveness",
        node: change.node,
        liveness: change.liveness,
        by: `policy@${this.options.nodeName}`,
        atMs: Math.round(this.options.clock.nowMs()),
      })
      .then((result) => {
        this.livenessInFlight = false;
        if (result.ok) this.recordLiveness();
        else if (this.cancelLivenessRetry === null) {
          this.cancelLivenessRetry = this.options.timers.after(LIVENESS_RETRY_MS, () => {
            this.cancelLivenessRetry = null;
            this.recordLiveness();
          });
        }
      });
  }

  private livenessOf(node: string): "up" | "dead" | null {
    return node === this.options.nodeName ? "up" : this.options.livenessOf(node);
  }
}
