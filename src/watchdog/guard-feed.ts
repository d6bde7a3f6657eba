import type { GuardMessage, HeldResource } from "./guard-protocol.js";

/** What the agent knows, each time it tells its guard (GuardFeed.feed). */
export interface GuardFeedInput {
  /** What is held now, with how to stop it. */
  held: readonly HeldResource[];
  /** An operation on `key` is under way (a drop waits for it). */
  busy(key: string): boolean;
  /** Whether anything may run here (an operation included). */
  running: boolean;
  /** How long this node's lease still runs (ms), or null without one. */
  leaseRemainingMs: number | null;
}

/**
 * What the agent tells its node guard, and when: pure, so that the agent's pipe to `vigil guard`
 * (src/agent/guard-link.ts) and the whole-node simulator's guard (src/whole-sim/) say the same.
 * It remembers what the guard was told, so holds and drops are sent once.
 */
export class GuardFeed {
  /** What the guard was last told is held: key → its stop request, as JSON. */
  private readonly told = new Map<string, string>();
  /** The object each of those was read from: the same object again says the same (and is not read). */
  private readonly toldFrom = new Map<string, HeldResource>();
  private last: GuardMessage["kind"] | null = null;

  /**
   * A resource is about to be started or promoted here: the guard hears of it first, with the
   * lease it starts under (`leaseRemainingMs` from `nowMs`). Without that lease, an agent frozen
   * before its next feed (a loaded host delays its timers) left the guard no end to stop the
   * resource by: the release waited out the stop's own timeout, past the lease.
   */
  hold(resource: HeldResource, leaseRemainingMs: number | null, nowMs: number): GuardMessage[] {
    const messages = this.holdOnce(resource);
    if (messages.length > 0 && leaseRemainingMs !== null && leaseRemainingMs > 0)
      messages.push({ kind: "lease", untilMs: nowMs + leaseRemainingMs });
    return this.said(messages);
  }

  private holdOnce(resource: HeldResource): GuardMessage[] {
    if (this.toldFrom.get(resource.key) === resource) return [];
    const said = JSON.stringify(resource);
    this.toldFrom.set(resource.key, resource);
    if (this.told.get(resource.key) === said) return [];
    this.told.set(resource.key, said);
    return [{ kind: "hold", resource }];
  }

  /**
   * Holds and drops as they are now; then: nothing runs: idle. Resources run under a lease: its
   * end (`untilMs` on the guard's clock: `nowMs` + what remains). Resources run without a lease
   * (being stopped after it was lost): alive, so the last deadline stands and the guard releases
   * the node if they are not stopped when the lease ends.
   */
  feed(input: GuardFeedInput, nowMs: number): GuardMessage[] {
    const messages: GuardMessage[] = [];
    const keys = new Set(input.held.map((resource) => resource.key));
    for (const key of [...this.told.keys()]) {
      if (keys.has(key) || input.busy(key)) continue;
      this.told.delete(key);
      this.toldFrom.delete(key);
      messages.push({ kind: "drop", key });
    }
    for (const resource of input.held) messages.push(...this.holdOnce(resource));
    if (!input.running && this.told.size === 0) {
      if ((messages.at(-1)?.kind ?? this.last) !== "idle") messages.push({ kind: "idle" });
      return this.said(messages);
    }
    const remaining = input.leaseRemainingMs;
    messages.push(
      remaining !== null && remaining > 0
        ? { kind: "lease", untilMs: nowMs + remaining }
        : { kind: "alive" },
    );
    return this.said(messages);
  }

  /**
   * The agent stops. With nothing left here, a clean stop: `bye`, and the guard exits without
   * acting. With something still held, nothing: the pipe just closes and the guard stops what
   * is left, as for an agent that died.
   */
  close(held: readonly HeldResource[], running: boolean): GuardMessage[] {
    return held.length === 0 && !running ? this.said([{ kind: "bye" }]) : [];
  }

  private said(messages: GuardMessage[]): GuardMessage[] {
    const last = messages.at(-1);
    if (last !== undefined) this.last = last.kind;
    return messages;
  }
}
