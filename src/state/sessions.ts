import type { CommandOf } from "./commands.js";
import { formatInstant } from "./history.js";
import { ownValue, withEntry, withoutEntry } from "./records.js";
import {
  type ClusterState,
  LOCKS_MAX,
  LOCKS_PER_SESSION_MAX,
  type LockRecord,
  SESSION_ENDS_LIMIT,
  SESSIONS_MAX,
  type SessionCounts,
  type SessionRecord,
} from "./types.js";

/**
 * Sessions and locks (Consul's model), as the state machine applies them. Time is the command's
 * `atMs` only: a lock-delay ends at the ending command's `atMs` plus the session's delay, and an
 * acquire is judged by its own `atMs`, so every node decides the same. Those are two nodes'
 * clocks: a node whose clock is behind when it ends a session, or ahead when it acquires, would
 * shorten the delay by the skew; so the agent that proposes an acquire also waits the delay out
 * on its own clock from when it applied the end (sessions/session-keeper.ts).
 */

/** Why a lock cannot be taken: another session holds it, or it waits out a lock-delay. */
export type LockRefusal =
  | { code: "no_session"; message: string }
  | { code: "held"; message: string; holder: string; holderName: string | null }
  | { code: "lock_delay"; message: string; freeAtMs: number }
  | { code: "too_many_locks"; message: string };

export function sessionsOf(state: ClusterState): Record<string, SessionRecord> {
  return state.sessions ?? {};
}

export function locksOf(state: ClusterState): Record<string, LockRecord> {
  return state.locks ?? {};
}

/** The keys `session` holds, sorted. */
export function locksHeldBy(state: ClusterState, session: string): string[] {
  return Object.entries(locksOf(state))
    .filter(([, lock]) => "session" in lock && lock.session === session)
    .map(([key]) => key)
    .sort();
}

export function createSession(
  state: ClusterState,
  command: CommandOf<"session_create">,
): ClusterState | string {
  const sessions = sessionsOf(state);
  if (ownValue(sessions, command.session) !== undefined)
    return `session ${command.session} exists already`;
  const count = Object.keys(sessions).length;
  if (count >= SESSIONS_MAX)
    return `${SESSIONS_MAX} sessions are open already (the cluster's bound); destroy sessions no longer used`;
  const record: SessionRecord = {
    name: command.name,
    node: command.node,
    ttlMs: command.ttlMs,
    lockDelayMs: command.lockDelayMs,
    checks: [...new Set(command.checks)].sort(),
    createdAtMs: command.atMs,
  };
  return { ...state, sessions: withEntry(sessions, command.session, record) };
}

/**
 * Ends a session: every lock it holds is released, free again after the session's lock-delay
 * (at once when its own client ended it: it knows it no longer holds them).
 */
export function destroySession(
  state: ClusterState,
  command: CommandOf<"session_destroy">,
): ClusterState | string {
  const sessions = sessionsOf(state);
  const session = ownValue(sessions, command.session);
  if (session === undefined) return `no session ${command.session} (it ended, or never existed)`;
  let locks = locksOf(state);
  for (const key of locksHeldBy(state, command.session)) {
    locks =
      command.reason === "client" || session.lockDelayMs === 0
        ? withoutEntry(locks, key)
        : withEntry<LockRecord>(locks, key, {
            freeAtMs: command.atMs + session.lockDelayMs,
            lastSession: command.session,
            reason: command.reason,
            delayMs: session.lockDelayMs,
          });
  }
  const end = {
    session: command.session,
    name: session.name,
    node: session.node,
    reason: command.reason,
    atMs: command.atMs,
  };
  const counts = countsOf(state);
  return withRecords(state, {
    sessions: withoutEntry(sessions, command.session),
    locks,
    sessionEnds: [...(state.sessionEnds ?? []), end].slice(-SESSION_ENDS_LIMIT),
    sessionCounts: {
      ...counts,
      ended: { ...counts.ended, [command.reason]: (counts.ended[command.reason] ?? 0) + 1 },
      locksReleasedByEnd: counts.locksReleasedByEnd + locksHeldBy(state, command.session).length,
    },
  });
}

/** Why `session` may not take `key` at `atMs`, or null when it may (or holds it already). */
export function lockRefusal(
  state: ClusterState,
  key: string,
  session: string,
  atMs: number,
): LockRefusal | null {
  const sessions = sessionsOf(state);
  if (ownValue(sessions, session) === undefined)
    return { code: "no_session", message: `no session ${session} (it ended, or never existed)` };
  const locks = locksOf(state);
  const lock = ownValue(locks, key);
  if (lock !== undefined && "session" in lock) {
    if (lock.session === session) return null;
    const holderName = ownValue(sessions, lock.session)?.name ?? null;
    return {
      code: "held",
      holder: lock.session,
      holderName,
      message: `lock ${key} is held by session ${lock.session}${holderName === null ? "" : ` (${holderName})`} since ${formatInstant(lock.acquiredAtMs)}`,
    };
  }
  if (lock !== undefined && atMs < lock.freeAtMs)
    return {
      code: "lock_delay",
      freeAtMs: lock.freeAtMs,
      message: `lock ${key} waits out its lock-delay until ${formatInstant(lock.freeAtMs)} (session ${lock.lastSession} ended: ${lock.reason})`,
    };
  if (locksHeldBy(state, session).length >= LOCKS_PER_SESSION_MAX)
    return {
      code: "too_many_locks",
      message: `session ${session} holds ${LOCKS_PER_SESSION_MAX} locks already (the bound per session)`,
    };
  if (lock === undefined && Object.keys(locks).length >= LOCKS_MAX) {
    const expired = Object.values(locks).filter((l) => "freeAtMs" in l && l.freeAtMs <= atMs);
    if (expired.length === 0)
      return {
        code: "too_many_locks",
        message: `${LOCKS_MAX} locks exist already (the cluster's bound); release locks no longer used`,
      };
  }
  return null;
}

export function acquireLock(
  state: ClusterState,
  command: CommandOf<"lock_acquire">,
): ClusterState | string {
  const refusal = lockRefusal(state, command.key, command.session, command.atMs);
  if (refusal !== null) return refusal.message;
  let locks = locksOf(state);
  const lock = ownValue(locks, command.key);
  if (lock !== undefined && "session" in lock) return state;
  if (lock === undefined && Object.keys(locks).length >= LOCKS_MAX) {
    // At the bound, lock-delays already over make room (lockRefusal found at least one).
    locks = Object.fromEntries(
      Object.entries(locks).filter(([, l]) => !("freeAtMs" in l && l.freeAtMs <= command.atMs)),
    );
  }
  const counts = countsOf(state);
  return withRecords(state, {
    locks: withEntry<LockRecord>(locks, command.key, {
      session: command.session,
      acquiredAtMs: command.atMs,
    }),
    sessionCounts: { ...counts, locksAcquired: counts.locksAcquired + 1 },
  });
}

/** A holder lets go of its lock: free at once (it knows it no longer holds it). */
export function releaseLock(
  state: ClusterState,
  command: CommandOf<"lock_release">,
): ClusterState | string {
  const locks = locksOf(state);
  const lock = ownValue(locks, command.key);
  if (lock === undefined || !("session" in lock) || lock.session !== command.session)
    return `session ${command.session} does not hold lock ${command.key}`;
  const counts = countsOf(state);
  return withRecords(state, {
    locks: withoutEntry(locks, command.key),
    sessionCounts: { ...counts, locksReleased: counts.locksReleased + 1 },
  });
}

/** The state's session counts, all 0 before the first. */
export function countsOf(state: ClusterState): SessionCounts {
  return (
    state.sessionCounts ?? { ended: {}, locksAcquired: 0, locksReleased: 0, locksReleasedByEnd: 0 }
  );
}

/** Empty records are left out of the state, so a cluster without sessions carries none. */
function withRecords(
  state: ClusterState,
  records: Partial<Pick<ClusterState, "sessions" | "locks" | "sessionEnds" | "sessionCounts">>,
): ClusterState {
  const next: ClusterState = { ...state, ...records };
  if (next.sessions !== undefined && Object.keys(next.sessions).length === 0) delete next.sessions;
  if (next.locks !== undefined && Object.keys(next.locks).length === 0) delete next.locks;
  return next;
}
