import { randomUUID } from "node:crypto";
import type { SubmitResult } from "../coordination/cluster-message.js";
import type { Timers } from "../coordination/timers.js";
import type { Logger } from "../log/logger.js";
import type { Command } from "../state/commands.js";
import { formatInstant } from "../state/history.js";
import { ownValue } from "../state/records.js";
import { lockRefusal, sessionsOf } from "../state/sessions.js";
import type { ClusterState, SessionEndReason } from "../state/types.js";
import type { Clock } from "../time/clock.js";
import type { ResultCode } from "./protocol.js";

/** How often TTLs and dead nodes are looked at: a TTL lapses at most this late. */
const SWEEP_EVERY_MS = 200;
/** How long a leader waits to hear a node of a session before it takes the node for dead. */
const UNHEARD_GRACE_MS = 10_000;
/**
 * How long a commit waits for this node to apply what it committed (a follower learns of the
 * commit on the leader's next heartbeat); past it the answer goes out anyway.
 */
const APPLY_WAIT_MS = 2000;

export interface SessionKeeperOptions {
  nodeName: string;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  state(): ClusterState;
  submit(command: Command): Promise<SubmitResult>;
  isLeader(): boolean;
  /** Membership's word on a node: up, dead (or left), or null while not yet known. */
  livenessOf(node: string): "up" | "dead" | null;
  /** A check's verdict on this node, or null when no check of that name runs here. */
  checkVerdict(check: string): "passing" | "failing" | "unknown" | null;
  /** A new session's id (a random UUID; a test passes its own). */
  newId?(): string;
  /**
   * How much faster this node's clock may run than real time (coordination.clock_drift_ratio):
   * a lock-delay waited out here on this clock is stretched by it, as leases are.
   */
  driftRatio: number;
}

export type KeeperResult =
  | { ok: true; session?: string; atMs?: number }
  | { ok: false; code: ResultCode; error: string; holder?: string; freeAtMs?: number };

/** What a session's connections are told of. */
export type KeeperEvent =
  | { type: "session_lost"; session: string; reason: SessionEndReason | "unknown" }
  | { type: "lock_lost"; key: string; session: string };

type SessionCommandFields = Command extends infer C
  ? C extends { type: "session_create" | "session_destroy" | "lock_acquire" | "lock_release" }
    ? Omit<C, "by" | "atMs">
    : never
  : never;

interface TtlClock {
  lastRenewMs: number;
  ttlMs: number;
}

/** A lock in its lock-delay, as this agent run first saw it: when, on its own clock, and how long. */
interface DelaySeen {
  lastSession: string;
  seenAtMs: number;
  delayMs: number;
}

/**
 * The agent's side of sessions (Consul's model, src/state/sessions.ts). It keeps the TTL clock
 * of each session opened on this node in memory, as Consul's servers do: every line from the
 * session's client renews it, and when it lapses the agent commits the session's end (`ttl`). A
 * restarted agent gives its node's sessions a full TTL again. A check a session is bound to
 * failing here ends it (`check_failing`); on the leader, a session whose node membership holds
 * dead ends (`node_dead`). Every change of the committed sessions and locks is told to the
 * connections that hold them (session_lost, lock_lost).
 */
export class SessionKeeper {
  readonly #ttl = new Map<string, TtlClock>();
  /** Lock key → its lock-delay as this run first saw it (see #noteDelays). */
  readonly #delaysSeen = new Map<string, DelaySeen>();
  /** Sessions whose end this agent is committing, so it commits each once at a time. */
  readonly #ending = new Set<string>();
  readonly #listeners = new Set<(event: KeeperEvent) => void>();
  /** On the leader: nodes with sessions that membership has not heard yet, since when. */
  readonly #unheardSince = new Map<string, number>();
  #last: ClusterState | null = null;
  #cancelSweep: (() => void) | null = null;
  #stopped = false;
  /** Commits waiting for this node to apply the state version they made (see #applied). */
  readonly #applyWaiters = new Set<{ version: number; done: () => void }>();

  constructor(private readonly options: SessionKeeperOptions) {}

  start(): void {
    this.stateChanged();
    this.#scheduleSweep();
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelSweep?.();
    this.#listeners.clear();
    for (const waiter of [...this.#applyWaiters]) waiter.done();
  }

  subscribe(listener: (event: KeeperEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Counts for status: sessions and locks in the state, and TTL clocks kept here. */
  counts(): { sessions: number; locks: number; local: number } {
    const state = this.options.state();
    return {
      sessions: Object.keys(sessionsOf(state)).length,
      locks: Object.values(state.locks ?? {}).filter((lock) => "session" in lock).length,
      local: this.#ttl.size,
    };
  }

  async open(request: {
    name: string;
    ttlMs: number;
    lockDelayMs: number;
    checks: string[];
  }): Promise<KeeperResult> {
    for (const check of request.checks) {
      const verdict = this.options.checkVerdict(check);
      if (verdict === null)
        return {
          ok: false,
          code: "bad_request",
          error: `no check ${check} runs on ${this.options.nodeName}`,
        };
      if (verdict === "failing")
        return {
          ok: false,
          code: "bad_request",
          error: `check ${check} is failing on ${this.options.nodeName}: a session bound to it would end at once`,
        };
    }
    const session = this.options.newId?.() ?? randomUUID();
    const result = await this.#commit({
      type: "session_create",
      session,
      name: request.name,
      node: this.options.nodeName,
      ttlMs: request.ttlMs,
      lockDelayMs: request.lockDelayMs,
      checks: request.checks,
    });
    if (!result.ok) return { ok: false, code: "unavailable", error: result.error };
    this.renew(session);
    return { ok: true, session };
  }

  /** Whether the session exists and belongs to this node (a client may resume only here). */
  owns(session: string): boolean {
    return ownValue(sessionsOf(this.options.state()), session)?.node === this.options.nodeName;
  }

  /** A line from the session's client: its TTL starts again. */
  renew(session: string): void {
    const record = ownValue(sessionsOf(this.options.state()), session);
    if (record === undefined || record.node !== this.options.nodeName) return;
    this.#ttl.set(session, { lastRenewMs: this.options.clock.nowMs(), ttlMs: record.ttlMs });
  }

  async acquire(session: string, key: string): Promise<KeeperResult> {
    const atMs = Math.round(this.options.clock.nowMs());
    // A session gone here is gone for good; but "held" or "in its lock-delay" as this node's
    // state says may be a heartbeat old (the holder destroyed its session on another node a
    // moment ago): only the committed order decides those, so they go through the log.
    const early = this.#refusal(session, key, atMs);
    if (early?.ok === false && early.code === "session_lost") return early;
    const delayed = this.#delayNotWaitedHere(key, atMs);
    if (delayed !== null) return delayed;
    const result = await this.#commit({ type: "lock_acquire", key, session }, atMs);
    if (result.ok) return { ok: true, atMs };
    if (result.code !== "rejected") return { ok: false, code: "unavailable", error: result.error };
    // Refused by the committed state: say which way (held by whom, until when) once this node
    // has applied as far as the refusal.
    return (
      (await this.#refusalOnceApplied(session, key, atMs)) ?? {
        ok: false,
        code: "unavailable",
        error: result.error,
      }
    );
  }

  /** The refusal this node's state gives, waiting up to APPLY_WAIT_MS for it to catch up. */
  async #refusalOnceApplied(
    session: string,
    key: string,
    atMs: number,
  ): Promise<KeeperResult | null> {
    const deadlineMs = this.options.clock.nowMs() + APPLY_WAIT_MS;
    for (;;) {
      const refusal = this.#refusal(session, key, atMs);
      if (refusal !== null || this.#stopped || this.options.clock.nowMs() >= deadlineMs)
        return refusal;
      await this.#applied(this.options.state().version + 1);
    }
  }

  async release(session: string, key: string): Promise<KeeperResult> {
    const result = await this.#commit({ type: "lock_release", key, session });
    if (result.ok) return { ok: true };
    return {
      ok: false,
      code: result.code === "rejected" ? "held" : "unavailable",
      error: result.error,
    };
  }

  async destroy(session: string): Promise<KeeperResult> {
    const result = await this.#end(session, "client");
    return result.ok ? { ok: true } : { ok: false, code: "unavailable", error: result.error };
  }

  /** A check's verdict changed here: sessions bound to it end when it fails. */
  checkTransition(check: string, verdict: "passing" | "failing"): void {
    if (verdict !== "failing") return;
    for (const [session, record] of Object.entries(sessionsOf(this.options.state()))) {
      if (record.node === this.options.nodeName && record.checks.includes(check))
        void this.#end(session, "check_failing");
    }
  }

  /** The committed state changed: TTL clocks follow the sessions, connections hear of ends. */
  stateChanged(): void {
    if (this.#stopped) return;
    const state = this.options.state();
    for (const waiter of [...this.#applyWaiters])
      if (state.version >= waiter.version) waiter.done();
    const before = this.#last;
    this.#last = state;
    const sessions = sessionsOf(state);
    for (const [session, record] of Object.entries(sessions)) {
      // A session this run has not seen (opened elsewhere in this run, or before a restart):
      // a full TTL from now.
      if (record.node === this.options.nodeName && !this.#ttl.has(session)) this.renew(session);
    }
    for (const session of this.#ttl.keys())
      if (ownValue(sessions, session) === undefined) this.#ttl.delete(session);
    this.#noteDelays(state);
    if (before === null || before === state) return;
    this.#tellChanges(before, state);
  }

  #tellChanges(before: ClusterState, after: ClusterState): void {
    const ended = Object.keys(sessionsOf(before)).filter(
      (session) => ownValue(sessionsOf(after), session) === undefined,
    );
    for (const [key, lock] of Object.entries(before.locks ?? {})) {
      if (!("session" in lock)) continue;
      const now = ownValue(after.locks ?? {}, key);
      if (now !== undefined && "session" in now && now.session === lock.session) continue;
      this.#emit({ type: "lock_lost", key, session: lock.session });
    }
    for (const session of ended) {
      const end = [...(after.sessionEnds ?? [])].reverse().find((e) => e.session === session);
      this.#emit({ type: "session_lost", session, reason: end?.reason ?? "unknown" });
    }
  }

  #emit(event: KeeperEvent): void {
    for (const listener of [...this.#listeners]) listener(event);
  }

  #scheduleSweep(): void {
    if (this.#stopped) return;
    this.#cancelSweep = this.options.timers.after(SWEEP_EVERY_MS, () => {
      this.#sweep();
      this.#scheduleSweep();
    });
  }

  /** TTLs that lapsed here end their sessions; on the leader, so do dead nodes'. */
  #sweep(): void {
    const now = this.options.clock.nowMs();
    for (const [session, clock] of this.#ttl) {
      if (now - clock.lastRenewMs >= clock.ttlMs) void this.#end(session, "ttl");
    }
    if (!this.options.isLeader()) {
      this.#unheardSince.clear();
      return;
    }
    for (const [session, record] of Object.entries(sessionsOf(this.options.state()))) {
      if (record.node === this.options.nodeName) continue;
      const liveness = this.options.livenessOf(record.node);
      if (liveness !== null) this.#unheardSince.delete(record.node);
      else if (!this.#unheardSince.has(record.node)) this.#unheardSince.set(record.node, now);
      // A node this leader has never heard (it died before this agent started) counts as dead
      // once it stayed unheard for the session's TTL (its own agent would have ended it by then),
      // and never before UNHEARD_GRACE_MS: a live node is heard well within that after a start.
      const unheardMs = now - (this.#unheardSince.get(record.node) ?? now);
      const limitMs = Math.max(record.ttlMs, UNHEARD_GRACE_MS);
      if (liveness === "dead" || (liveness === null && unheardMs >= limitMs))
        void this.#end(session, "node_dead");
    }
  }

  async #end(
    session: string,
    reason: SessionEndReason,
  ): Promise<SubmitResult | { ok: false; error: string; code: "rejected" }> {
    if (this.#ending.has(session))
      return { ok: false, code: "rejected", error: `session ${session} is ending already` };
    this.#ending.add(session);
    try {
      const result = await this.#commit({ type: "session_destroy", session, reason });
      if (result.ok || result.code === "rejected") this.#ttl.delete(session);
      if (result.ok)
        this.options.logger.info({ session, reason }, `session ${session} ended (${reason})`);
      return result;
    } finally {
      this.#ending.delete(session);
    }
  }

  /**
   * Each lock in its lock-delay gets the time this run first saw it (it saw the session's end
   * applied, so after it was committed, or found it so at start): the delay is waited out from
   * then on this node's clock, whatever the clock of the node that ended the session said.
   */
  #noteDelays(state: ClusterState): void {
    const now = this.options.clock.nowMs();
    const locks = state.locks ?? {};
    for (const key of this.#delaysSeen.keys()) {
      const lock = ownValue(locks, key);
      if (lock === undefined || !("freeAtMs" in lock)) this.#delaysSeen.delete(key);
    }
    for (const [key, lock] of Object.entries(locks)) {
      if (!("freeAtMs" in lock) || lock.delayMs === undefined) continue;
      if (this.#delaysSeen.get(key)?.lastSession === lock.lastSession) continue;
      this.#delaysSeen.set(key, {
        lastSession: lock.lastSession,
        seenAtMs: now,
        delayMs: lock.delayMs,
      });
    }
  }

  /**
   * A lock the state would give at `atMs` but whose lock-delay this node has not yet waited out
   * on its own clock (stretched by the drift bound): refused as still in its lock-delay, with
   * when it is free as this node counts.
   */
  #delayNotWaitedHere(key: string, atMs: number): KeeperResult | null {
    const seen = this.#delaysSeen.get(key);
    if (seen === undefined) return null;
    const freeAtMs = Math.ceil(seen.seenAtMs + seen.delayMs * (1 + this.options.driftRatio));
    if (atMs >= freeAtMs) return null;
    return {
      ok: false,
      code: "lock_delay",
      error: `lock ${key} waits out its lock-delay until ${formatInstant(freeAtMs)} as this node counts it (session ${seen.lastSession} ended ${Math.round(atMs - seen.seenAtMs)} ms ago by this node's clock; lock-delay ${seen.delayMs} ms)`,
      freeAtMs,
    };
  }

  #refusal(session: string, key: string, atMs: number): KeeperResult | null {
    const refusal = lockRefusal(this.options.state(), key, session, atMs);
    if (refusal === null) return null;
    switch (refusal.code) {
      case "held":
        return { ok: false, code: "held", error: refusal.message, holder: refusal.holder };
      case "lock_delay":
        return {
          ok: false,
          code: "lock_delay",
          error: refusal.message,
          freeAtMs: refusal.freeAtMs,
        };
      case "no_session":
        return { ok: false, code: "session_lost", error: refusal.message };
      case "too_many_locks":
        return { ok: false, code: "too_many_locks", error: refusal.message };
    }
  }

  /**
   * Commits a command and answers once this node has applied it too, so that what the client
   * does next is judged on a state that has it: a follower's commit is answered by the leader
   * before the follower applies it, and a session opened there would otherwise be unknown to
   * the acquire that follows at once.
   */
  async #commit(
    command: SessionCommandFields,
    atMs = Math.round(this.options.clock.nowMs()),
  ): Promise<SubmitResult> {
    const result = await this.options.submit({
      ...command,
      by: `sessions@${this.options.nodeName}`,
      atMs,
    } as Command);
    if (result.ok) await this.#applied(result.version);
    return result;
  }

  /** Resolves once this node has applied state `version`, or after APPLY_WAIT_MS. */
  #applied(version: number): Promise<void> {
    if (this.#stopped || this.options.state().version >= version) return Promise.resolve();
    return new Promise((resolve) => {
      let cancel = () => {};
      const waiter = {
        version,
        done: () => {
          cancel();
          this.#applyWaiters.delete(waiter);
          resolve();
        },
      };
      this.#applyWaiters.add(waiter);
      cancel = this.options.timers.after(APPLY_WAIT_MS, waiter.done);
    });
  }
}
