/**
 * The node guard's protocol and decisions (pure: no clock, no I/O; time comes in as `nowMs`).
 *
 * The guard is a small process beside the agent (guard.ts). What the agent started on this node
 * — a virtual IP in the kernel, a service in a process group of its own — does not end when the
 * agent ends. If the agent dies (SIGKILL, the OOM killer, a crash) or hangs (SIGSTOP, a stuck
 * event loop) while its node holds resources, the leader starts them elsewhere once this node's
 * lease has surely ended: unless something stops them here first, they run twice. The guard is
 * that something. The agent writes one line per message to the guard's stdin, each beginning with
 * the time it was written on the system's monotonic clock (CLOCK_MONOTONIC, in ms: the same
 * clock in both processes, `monotonicMs` in src/time/clock.ts), so that a line that waited in
 * the pipe while the guard itself was not scheduled still tells when the agent was last alive:
 *
 * * `hold <json>`: a resource may run here, and this is how to stop it (the executor's stop
 *   request: agent, params, timeout, environment; {@link HeldResource}). The agent says this
 *   *before* it starts or promotes anything, so a crash in the middle of a start is covered.
 *   Holding a key again replaces its request and keeps its place in the order.
 * * `drop <key>`: that resource no longer runs here (its stop succeeded, or a probe found it
 *   stopped).
 * * `lease <untilMs>`: the agent holds a lease until this moment (monotonic clock). Each renewal
 *   replaces the deadline.
 * * `alive`: the agent is alive (it has no lease to announce right now).
 * * `idle`: nothing runs here: no deadline, nothing held. Said only after the last stop finished.
 * * `bye`: a clean stop: the guard exits 0 and does nothing. Said only when nothing runs here.
 *
 * While it guards (a deadline set or a resource held), the agent writes a line at least every
 * `hangMs / 4`. The guard **releases** the node — SIGKILLs the agent, then stops every held
 * resource itself, latest held first — when:
 *
 * * stdin ends (EOF) without `bye`: the agent died. At once: it cannot stop anything, and every
 *   millisecond of the lease left is time for the stops;
 * * nothing was heard for `hangMs` (by default half the follower lease): the agent hangs. Early
 *   enough that the stops still fit in the lease; the agent is killed first so that it cannot
 *   wake up and act on a view the cluster has left behind;
 * * the lease has ended and the agent has been silent for {@link leaseQuietMs}: resources may
 *   still run and nothing is stopping them. This is what guards a leader, whose lease (450 ms
 *   by default) is shorter than the hang time. An agent that still speaks is never taken for hung
 *   this way: without a lease it stops its resources itself. A line written after this moment by
 *   an agent that was silent through it does not undo it.
 *
 * At the lease's end and its grace ({@link pastLeaseGraceMs}) whatever is still held is released
 * even from an agent that speaks (it is too slow, or stops nothing): the leader may start it
 * elsewhere then. Only if a stop fails, or has not finished by then, does the guard fence (the self-fence action: a reboot by default; see guard.ts). EOF while nothing is held and no
 * lease is set is a plain exit: nothing runs here.
 *
 * The guard judges the deadline and the silence only when its timer fires, after reading what
 * waits in the pipe: its own stall is never taken for the agent's.
 *
 * A malformed line is reported and ignored: it neither sets nor clears anything, nor counts as a
 * sign of life.
 */

import { MAX_TIMER_DELAY_MS } from "../time/timer-delay.js";

/** Monotonic times beyond this (about 285 000 years of uptime) are refused as nonsense. */
export const MAX_TIME_MS = 2 ** 53 / 1000;

/** The longest line the guard accepts (a held resource's stop request included). */
export const MAX_LINE_CHARS = 65_536;

const AGENT_KINDS = ["vip", "exec", "ocf", "lsb", "systemd", "director"] as const;

/** A resource that may run here, and the stop request that ends it (the executor's). */
export interface HeldResource {
  key: string;
  agent: { kind: (typeof AGENT_KINDS)[number]; name: string };
  params: Record<string, string>;
  timeoutMs: number;
  environment?: Record<string, string>;
  /**
   * A promotable clone's copy: demote it first, within this timeout, as the agent would (an
   * agent may refuse to stop a promoted copy, as Pacemaker never asks that).
   */
  demoteTimeoutMs?: number;
}

/**
 * Checks a parsed `hold` body field by field. Written out rather than with the project's schema
 * library: the guard is a second process on every node, and that library alone would add about
 * 15 MB to its resident size.
 */
function heldResourceProblem(value: unknown): string | null {
  if (!isPlainObject(value)) return "(top): expected an object";
  const allowed = new Set([
    "key",
    "agent",
    "params",
    "timeoutMs",
    "environment",
    "demoteTimeoutMs",
  ]);
  const extra = Object.keys(value).find((field) => !allowed.has(field));
  if (extra !== undefined) return `(top): unknown field ${JSON.stringify(extra)}`;
  const { key, agent, params, timeoutMs, environment, demoteTimeoutMs } = value;
  if (typeof key !== "string" || key.length === 0 || key.length > 256)
    return "key: expected a string of 1 to 256 characters";
  if (!isPlainObject(agent) || Object.keys(agent).some((f) => f !== "kind" && f !== "name"))
    return "agent: expected { kind, name }";
  if (!AGENT_KINDS.includes(agent.kind as (typeof AGENT_KINDS)[number]))
    return `agent.kind: expected one of ${AGENT_KINDS.join(", ")}`;
  if (typeof agent.name !== "string" || agent.name.length === 0 || agent.name.length > 4096)
    return "agent.name: expected a string of 1 to 4096 characters";
  const paramsProblem = stringMapProblem("params", params);
  if (paramsProblem !== null) return paramsProblem;
  if (!isTimeout(timeoutMs))
    return `timeoutMs: expected a positive whole number of ms, at most ${MAX_TIMER_DELAY_MS}`;
  if (demoteTimeoutMs !== undefined && !isTimeout(demoteTimeoutMs))
    return `demoteTimeoutMs: expected a positive whole number of ms, at most ${MAX_TIMER_DELAY_MS}`;
  return environment === undefined ? null : stringMapProblem("environment", environment);
}

function isTimeout(value: unknown): boolean {
  return (
    Number.isSafeInteger(value) && (value as number) > 0 && (value as number) <= MAX_TIMER_DELAY_MS
  );
}

function stringMapProblem(field: string, value: unknown): string | null {
  if (!isPlainObject(value)) return `${field}: expected an object of strings`;
  for (const [name, text] of Object.entries(value)) {
    if (name.length > 4096 || typeof text !== "string" || text.length > 65_536)
      return `${field}.${name}: expected a string`;
  }
  return null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export type GuardMessage =
  | { kind: "lease"; untilMs: number }
  | { kind: "hold"; resource: HeldResource }
  | { kind: "drop"; key: string }
  | { kind: "alive" }
  | { kind: "idle" }
  | { kind: "bye" };

/** A message and when the agent wrote it (monotonic ms). */
export interface StampedMessage {
  atMs: number;
  message: GuardMessage;
}

export type ParsedGuardLine = ({ ok: true } & StampedMessage) | { ok: false; error: string };

export type ReleaseCause = "agent_gone" | "agent_hung" | "deadline";

/** What the guard does now. */
export type GuardDecision =
  /** Keep guarding; look again at `wakeAtMs` (guard clock) unless a line comes first; null: never. */
  | { kind: "watch"; wakeAtMs: number | null }
  /**
   * Kill the agent and stop `held` in this order; fence if a stop fails, or if `releaseByMs`
   * (the lease's end, guard clock; null: no lease left to wait for) passes before they finish.
   */
  | {
      kind: "release";
      cause: ReleaseCause;
      reason: string;
      held: HeldResource[];
      releaseByMs: number | null;
    }
  /** Exit without doing anything: a clean `bye`, or the agent gone while nothing ran. */
  | { kind: "exit"; cause: "bye" | "agent_gone_idle"; reason: string };

/** A decision after one input line, with the line's error when it was malformed (ignored). */
export type GuardInputResult = GuardDecision & { error?: string };

export interface GuardTiming {
  /** Silence from the agent, while guarding, after which it counts as hung; null: never. */
  hangMs: number | null;
}

/**
 * How long a guarding agent may be silent before the guard takes it for hung: half the follower
 * lease. The lease runs from the agent's last answer to the leader, about when it last spoke, so
 * the other half is left for the guard's stops before the leader may start those resources
 * elsewhere; and an agent that stalls this long has missed its heartbeats for as long.
 */
export function guardHangMs(followerLeaseMs: number): number {
  return Math.max(1, Math.round(followerLeaseMs / 2));
}

/** Without a hang time: an agent heard this recently is alive (it writes a line every 100 ms). */
export const ALIVE_WITHIN_MS = 200;

/**
 * How long the agent may be silent at the end of its lease before the guard takes over: four
 * fifths of the hang time (400 ms by default). Healthy agents on a loaded machine were seen
 * silent for 200–320 ms (CI and test hosts on two cores); a leader's lease, 450 ms, can end in
 * such a gap when its followers' answers were late too. Still short of the earliest election
 * (500 ms of silence), after which the leader may start the resources elsewhere.
 */
export function leaseQuietMs(hangMs: number | null): number {
  return hangMs === null ? ALIVE_WITHIN_MS : Math.max(1, Math.ceil((hangMs * 4) / 5));
}

/**
 * How long past the lease's end a stop may still finish before the guard fences. The leader
 * starts a resource elsewhere only after the lease has surely ended (the drift margin), a Raft
 * commit and the start itself; a stop still running past this is stuck, not slow, and the
 * fence then ends the overlap sooner than waiting for the stop's own timeout would.
 */
export const PAST_LEASE_GRACE_MS = 100;

/**
 * How long past a lease's end what the node held may still run: the guard takes over once the
 * agent has been silent leaseQuietMs at the end of its lease, and its stops then have
 * PAST_LEASE_GRACE_MS (500 ms by default). The leader waits this long past a lost node's lease
 * before it starts that node's resources elsewhere (RaftTiming.releaseGraceMs, lease.ts (6));
 * at its end the guard fences whatever is still held, whether the agent speaks or not (a stop
 * too slow for the lease, or an agent stopping nothing).
 */
export function pastLeaseGraceMs(hangMs: number | null): number {
  return leaseQuietMs(hangMs) + PAST_LEASE_GRACE_MS;
}

const NUMBER = /^\d+(\.\d+)?$/;

/** Parses one line (without its newline; a trailing `\r` and surrounding blanks are allowed). */
export function parseGuardLine(line: string): ParsedGuardLine {
  if (line.length > MAX_LINE_CHARS) {
    return { ok: false, error: `line of ${line.length} characters (at most ${MAX_LINE_CHARS})` };
  }
  const [stamp, afterStamp] = splitWord(line.trim());
  if (stamp === "") return { ok: false, error: "empty line" };
  const atMs = parseTime(stamp);
  if (atMs === null) {
    return { ok: false, error: `a line starts with the time it was written, got ${quote(line)}` };
  }
  const message = parseMessage(afterStamp, line);
  return message.ok ? { ok: true, atMs, message: message.message } : message;
}

function parseMessage(
  text: string,
  line: string,
): { ok: true; message: GuardMessage } | { ok: false; error: string } {
  const [word, rest] = splitWord(text);
  if (word === "") return { ok: false, error: `no message after the time: ${quote(line)}` };
  switch (word) {
    case "lease": {
      if (rest === "") return { ok: false, error: "lease needs the time it ends" };
      if (/\s/.test(rest)) return { ok: false, error: `lease takes one time: ${quote(line)}` };
      const untilMs = parseTime(rest);
      if (untilMs === null) {
        return { ok: false, error: `lease needs a time in ms, got ${quote(rest)}` };
      }
      return { ok: true, message: { kind: "lease", untilMs } };
    }
    case "hold":
      return parseHold(rest);
    case "drop":
      if (rest === "" || /\s/.test(rest) || rest.length > 256) {
        return { ok: false, error: `drop takes one resource key: ${quote(line)}` };
      }
      return { ok: true, message: { kind: "drop", key: rest } };
    case "alive":
    case "idle":
    case "bye":
      if (rest !== "") return { ok: false, error: `${word} takes no argument: ${quote(line)}` };
      return { ok: true, message: { kind: word } };
    default:
      return { ok: false, error: `unknown message ${quote(line)}` };
  }
}

function splitWord(text: string): [string, string] {
  const space = text.search(/\s/);
  return space === -1 ? [text, ""] : [text.slice(0, space), text.slice(space).trim()];
}

function parseTime(text: string): number | null {
  if (!NUMBER.test(text)) return null;
  const ms = Number(text);
  return ms <= MAX_TIME_MS ? ms : null;
}

function parseHold(
  json: string,
): { ok: true; message: GuardMessage } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { ok: false, error: `hold needs a JSON stop request, got ${quote(json)}` };
  }
  const problem = heldResourceProblem(value);
  if (problem !== null) return { ok: false, error: `hold: ${problem}` };
  return { ok: true, message: { kind: "hold", resource: value as HeldResource } };
}

/**
 * The line (with its newline) the agent writes for a message at `atMs` (monotonic). Times are
 * written with three decimals, clamped to [0, MAX_TIME_MS]; NaN becomes 0 (a lease that ended
 * long ago).
 */
export function formatGuardLine(atMs: number, message: GuardMessage): string {
  return `${formatTime(atMs)} ${formatMessage(message)}\n`;
}

function formatMessage(message: GuardMessage): string {
  switch (message.kind) {
    case "lease":
      return `lease ${formatTime(message.untilMs)}`;
    case "hold":
      // JSON.stringify escapes every control character: the line holds no newline.
      return `hold ${JSON.stringify(message.resource)}`;
    case "drop":
      return `drop ${message.key}`;
    default:
      return message.kind;
  }
}

function formatTime(ms: number): string {
  const clamped = Number.isNaN(ms) ? 0 : Math.min(MAX_TIME_MS, Math.max(0, ms));
  return clamped.toFixed(3);
}

/**
 * The guard's state: the lease deadline (null without one), what is held, when the agent was
 * last heard, and, once decided, the final decision (release or exit), which every later call
 * repeats.
 */
export class GuardState {
  private deadlineMs: number | null = null;
  private lastHeardMs = 0;
  /** Insertion order is start order: a release stops the newest first. */
  private readonly held = new Map<string, HeldResource>();
  private final: Exclude<GuardDecision, { kind: "watch" }> | null = null;

  constructor(private readonly timing: GuardTiming = { hangMs: null }) {}

  /** The lease deadline on the guard's clock, or null. */
  get deadline(): number | null {
    return this.deadlineMs;
  }

  /** Keys held now, oldest first. */
  get heldKeys(): string[] {
    return [...this.held.keys()];
  }

  /** Whether anything may run here: a lease is announced or a resource is held. */
  get guarding(): boolean {
    return this.deadlineMs !== null || this.held.size > 0;
  }

  /**
   * One line from the agent, read at `nowMs`. Only the line's own time counts here: the
   * deadline and the silence are judged by check(), once whatever waits in the pipe is read.
   */
  input(line: string, nowMs: number): GuardInputResult {
    if (this.final !== null) return this.final;
    const parsed = parseGuardLine(line);
    if (!parsed.ok) return { ...this.watching(nowMs), error: parsed.error };
    // A stamp from the future (it cannot be, on one clock) counts as now.
    const atMs = Math.min(parsed.atMs, nowMs);
    // Written after the lease ended: it does not undo the end (see above).
    const due = this.deadlineDueAt();
    if (due !== null && atMs >= due) return this.expired(atMs);
    this.lastHeardMs = Math.max(this.lastHeardMs, atMs);
    const message = parsed.message;
    switch (message.kind) {
      case "lease":
        this.deadlineMs = message.untilMs;
        // A lease that had ended when it was announced: resources may run and no lease covers them.
        if (message.untilMs <= atMs) return this.expired(atMs);
        break;
      case "hold":
        this.held.set(message.resource.key, message.resource);
        break;
      case "drop":
        this.held.delete(message.key);
        break;
      case "alive":
        break;
      case "idle":
        this.deadlineMs = null;
        this.held.clear();
        break;
      case "bye":
        this.final = { kind: "exit", cause: "bye", reason: "the agent stopped cleanly (bye)" };
        return this.final;
    }
    return this.watching(nowMs);
  }

  /** The agent's end of the pipe closed (it exited or died) at `nowMs` without `bye`. */
  eof(nowMs: number): GuardDecision {
    const before = this.checkDeadline(nowMs);
    if (before !== null) return before;
    if (!this.guarding) {
      this.final = {
        kind: "exit",
        cause: "agent_gone_idle",
        reason: "the agent is gone (stdin closed without bye) while nothing ran here",
      };
      return this.final;
    }
    return this.release(
      "agent_gone",
      `the agent is gone (stdin closed without bye) while ${this.holdingText(nowMs)}`,
    );
  }

  /** Whether the deadline has passed or the agent has been silent too long at `nowMs`. */
  check(nowMs: number): GuardDecision {
    const deadline = this.checkDeadline(nowMs);
    if (deadline !== null) return deadline;
    const hangAt = this.hangAt();
    if (hangAt !== null && nowMs >= hangAt) {
      return this.release(
        "agent_hung",
        `nothing heard from the agent for ${formatMs(nowMs - this.lastHeardMs)} while ${this.holdingText(nowMs)}`,
      );
    }
    return this.watching(nowMs);
  }

  /** When to look again: the deadline or the moment silence would mean a hang. */
  private watching(_nowMs: number): { kind: "watch"; wakeAtMs: number | null } {
    if (!this.guarding) return { kind: "watch", wakeAtMs: null };
    const wakes = [this.deadlineDueAt(), this.hangAt()].filter((at): at is number => at !== null);
    return { kind: "watch", wakeAtMs: wakes.length === 0 ? null : Math.min(...wakes) };
  }

  private hangAt(): number | null {
    const hangMs = this.timing.hangMs;
    return hangMs === null || !this.guarding ? null : this.lastHeardMs + hangMs;
  }

  private checkDeadline(nowMs: number): Exclude<GuardDecision, { kind: "watch" }> | null {
    if (this.final !== null) return this.final;
    const due = this.deadlineDueAt();
    if (due !== null && nowMs >= due) return this.expired(nowMs);
    return null;
  }

  /**
   * When the end of the lease calls for the guard: at the deadline, once the agent has been
   * silent for four fifths of the hang time too. An agent that speaks is stopping its resources itself, as
   * it must without a lease; the guard steps in once it falls silent. Not before the deadline: an
   * agent slow for a moment on a loaded machine (300 ms is seen) is not hung, and killing it
   * would move everything it runs.
   */
  private deadlineDueAt(): number | null {
    if (this.deadlineMs === null) return null;
    const quietAt = Math.max(this.deadlineMs, this.lastHeardMs + leaseQuietMs(this.timing.hangMs));
    return Math.min(quietAt, this.deadlineMs + pastLeaseGraceMs(this.timing.hangMs));
  }

  private expired(nowMs: number): Exclude<GuardDecision, { kind: "watch" }> {
    const left = this.deadlineMs === null ? 0 : this.deadlineMs - nowMs;
    const when = left > 0 ? `ends in ${formatMs(left)}` : `ended ${formatMs(-left)} ago`;
    return this.release(
      "deadline",
      `the agent's lease ${when} and it has been silent for ${formatMs(nowMs - this.lastHeardMs)}`,
    );
  }

  private release(cause: ReleaseCause, reason: string): Exclude<GuardDecision, { kind: "watch" }> {
    // Past the lease and its grace (pastLeaseGraceMs) the leader may start these resources
    // elsewhere: what has not stopped by then is fenced, however late the guard began. Without a
    // lease (freeze, ignore) the others fence before they take over, so the stops' own timeouts
    // are the only bound.
    const releaseByMs =
      this.deadlineMs === null ? null : this.deadlineMs + pastLeaseGraceMs(this.timing.hangMs);
    this.final = {
      kind: "release",
      cause,
      reason,
      held: [...this.held.values()].reverse(),
      releaseByMs,
    };
    return this.final;
  }

  private holdingText(nowMs: number): string {
    const parts: string[] = [];
    if (this.held.size > 0) parts.push(`holding ${[...this.held.keys()].join(", ")}`);
    if (this.deadlineMs !== null)
      parts.push(`with a lease for ${formatMs(this.deadlineMs - nowMs)} more`);
    return parts.join(" ") || "guarding";
  }
}

function quote(text: string): string {
  const short = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return JSON.stringify(short);
}

function formatMs(ms: number): string {
  return `${Math.round(ms)} ms`;
}
