/**
 * The lease guard's protocol and decisions (pure: no clock, no I/O; time comes in as `nowMs`).
 *
 * The lease guard is a tiny process beside the agent (guard.ts) that fences this node when the
 * agent's lease ends while resources may still run here and the agent, hung (SIGSTOP, a stuck
 * event loop) or dead, cannot stop them. The agent writes one line per message to the guard's
 * stdin:
 *
 * * `lease <remainingMs>`: the agent holds a lease for this many more milliseconds and may run
 *   resources. The guard sets its deadline to `nowMs + remainingMs` on **its own** monotonic
 *   clock, at receipt: the two processes' clocks are never compared. The agent says this before
 *   it starts anything and on every renewal (each renewal replaces the deadline, shorter or
 *   longer). `remainingMs` is a non-negative decimal number of at most {@link MAX_LEASE_MS}.
 * * `idle`: nothing runs here (every resource is stopped, or none was started): no deadline. The
 *   agent says this only after its last stop finished.
 * * `bye`: a clean stop: the guard exits 0 and does nothing. The agent says this only when
 *   nothing runs here.
 *
 * The guard fences (SIGKILL to the agent, then the self-fence action) when:
 *
 * * the deadline passes without `idle`: the lease is over and resources may still run, so the
 *   leader may start them elsewhere;
 * * a line arrives after the deadline passed: it does not rescue the agent, since the guard
 *   cannot tell when it was written (it may have waited in the pipe while the guard itself was
 *   not scheduled); a late renewal costs a needless fence, never two copies;
 * * stdin ends (EOF) without `bye` while a deadline is set: the agent died. The guard fences at
 *   once rather than at the deadline: a dead agent cannot stop anything and will never say
 *   `idle`, so the fence at the deadline is certain anyway; doing it now is simpler (no timer
 *   outlives the agent) and leaves the self-fence action more of the lease to finish in. EOF
 *   while idle is a plain exit: nothing runs here.
 *
 * A malformed line is reported and ignored: it neither sets nor clears the deadline, so an agent
 * that only writes garbage is fenced when its last good deadline passes.
 */

/** The longest lease a line may announce (a Node timer's limit, about 24.8 days). */
export const MAX_LEASE_MS = 2_147_483_647;

export type GuardMessage =
  | { kind: "lease"; remainingMs: number }
  | { kind: "idle" }
  | { kind: "bye" };

export type ParsedGuardLine = { ok: true; message: GuardMessage } | { ok: false; error: string };

/** What the guard does now. */
export type GuardDecision =
  /** Keep guarding; fence at `deadlineMs` (guard clock) unless told otherwise; null: no deadline. */
  | { kind: "watch"; deadlineMs: number | null }
  /** Fence this node now. */
  | { kind: "fence"; cause: "deadline" | "agent_gone"; reason: string }
  /** Exit without doing anything: a clean `bye`, or the agent gone while nothing ran. */
  | { kind: "exit"; cause: "bye" | "agent_gone_idle"; reason: string };

/** A decision after one input line, with the line's error when it was malformed (ignored). */
export type GuardInputResult = GuardDecision & { error?: string };

const NUMBER = /^\d+(\.\d+)?$/;

/** Parses one line (without its newline; a trailing `\r` and surrounding blanks are allowed). */
export function parseGuardLine(line: string): ParsedGuardLine {
  const words = line.trim().split(/\s+/);
  const [word, ...rest] = words;
  if (word === undefined || word === "") return { ok: false, error: "empty line" };
  switch (word) {
    case "lease": {
      const [value, ...extra] = rest;
      if (value === undefined) return { ok: false, error: "lease needs the remaining ms" };
      if (extra.length > 0) return { ok: false, error: `lease takes one number: ${quote(line)}` };
      if (!NUMBER.test(value)) {
        return { ok: false, error: `lease needs a non-negative number of ms, got ${quote(value)}` };
      }
      const remainingMs = Number(value);
      if (!(remainingMs <= MAX_LEASE_MS)) {
        return { ok: false, error: `lease of ${value} ms is longer than ${MAX_LEASE_MS} ms` };
      }
      return { ok: true, message: { kind: "lease", remainingMs } };
    }
    case "idle":
    case "bye":
      if (rest.length > 0) return { ok: false, error: `${word} takes no argument: ${quote(line)}` };
      return { ok: true, message: { kind: word } };
    default:
      return { ok: false, error: `unknown message ${quote(line)}` };
  }
}

/**
 * The line (with its newline) the agent writes for a message. A lease is rounded down to whole
 * ms and clamped to [0, MAX_LEASE_MS]; NaN becomes 0: an unknown lease is an ended one.
 */
export function formatGuardLine(message: GuardMessage): string {
  if (message.kind !== "lease") return `${message.kind}\n`;
  const ms = Number.isNaN(message.remainingMs) ? 0 : Math.floor(message.remainingMs);
  return `lease ${Math.min(MAX_LEASE_MS, Math.max(0, ms))}\n`;
}

/**
 * The guard's state: the current deadline (null while idle) and, once decided, the final
 * decision (fence or exit), which every later call repeats.
 */
export class GuardState {
  private deadlineMs: number | null = null;
  private final: Exclude<GuardDecision, { kind: "watch" }> | null = null;

  /** The deadline on the guard's clock, or null while idle. */
  get deadline(): number | null {
    return this.deadlineMs;
  }

  /** One line from the agent, received at `nowMs` (guard clock). */
  input(line: string, nowMs: number): GuardInputResult {
    // A deadline that passed before this line was read is not undone by it (see above).
    const before = this.check(nowMs);
    if (before.kind !== "watch") return before;
    const parsed = parseGuardLine(line);
    if (!parsed.ok) return { ...before, error: parsed.error };
    const message = parsed.message;
    switch (message.kind) {
      case "lease":
        this.deadlineMs = nowMs + message.remainingMs;
        // `lease 0` (or a lease that ends now): resources may run and no lease covers them.
        return this.check(nowMs);
      case "idle":
        this.deadlineMs = null;
        return this.check(nowMs);
      case "bye":
        this.final = { kind: "exit", cause: "bye", reason: "the agent stopped cleanly (bye)" };
        return this.final;
    }
  }

  /** The agent's end of the pipe closed (it exited or died) at `nowMs` without `bye`. */
  eof(nowMs: number): GuardDecision {
    const before = this.check(nowMs);
    if (before.kind !== "watch") return before;
    if (this.deadlineMs === null) {
      this.final = {
        kind: "exit",
        cause: "agent_gone_idle",
        reason: "the agent is gone (stdin closed without bye) while nothing ran here",
      };
    } else {
      this.final = {
        kind: "fence",
        cause: "agent_gone",
        reason: `the agent is gone (stdin closed without bye) while holding a lease for ${formatMs(
          this.deadlineMs - nowMs,
        )} more: nothing can stop its resources`,
      };
    }
    return this.final;
  }

  /** Whether the deadline has passed at `nowMs`. */
  check(nowMs: number): GuardDecision {
    if (this.final !== null) return this.final;
    if (this.deadlineMs !== null && nowMs >= this.deadlineMs) {
      this.final = {
        kind: "fence",
        cause: "deadline",
        reason: `the agent's lease ended ${formatMs(nowMs - this.deadlineMs)} ago without idle`,
      };
      return this.final;
    }
    return { kind: "watch", deadlineMs: this.deadlineMs };
  }
}

function quote(text: string): string {
  const short = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return JSON.stringify(short);
}

function formatMs(ms: number): string {
  return `${Math.round(ms)} ms`;
}
