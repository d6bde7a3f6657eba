import type { ClusterState, SessionEnd, SessionEndReason, SessionRecord } from "../state/types.js";
import type { Route } from "./route.js";

export interface SessionView extends SessionRecord {
  session: string;
  /** The keys it holds. */
  locks: string[];
}

export interface LockView {
  key: string;
  /** The holding session, or null while the key waits out its lock-delay. */
  session: string | null;
  /** The holder's name and node. */
  name: string | null;
  node: string | null;
  acquiredAtMs: number | null;
  /** While in its lock-delay: when it is free, and why its last holder's session ended. */
  freeAtMs: number | null;
  reason: SessionEndReason | null;
}

export interface SessionsReply {
  stateVersion: number;
  sessions: SessionView[];
  /** Sessions that ended lately, oldest first. */
  ended: SessionEnd[];
}

export interface LocksReply {
  stateVersion: number;
  locks: LockView[];
}

/** GET /v1/sessions and GET /v1/locks: the committed sessions and locks (read role). */
export function sessionRoutes(deps: { state(): ClusterState }): Record<string, Route> {
  return {
    "GET /v1/sessions": (): SessionsReply => sessionsReply(deps.state()),
    "GET /v1/locks": (): LocksReply => locksReply(deps.state()),
  };
}

export function sessionsReply(state: ClusterState): SessionsReply {
  const locks = locksReply(state).locks;
  return {
    stateVersion: state.version,
    sessions: Object.entries(state.sessions ?? {})
      .map(([session, record]) => ({
        session,
        ...record,
        locks: locks.filter((lock) => lock.session === session).map((lock) => lock.key),
      }))
      .sort((a, b) => a.createdAtMs - b.createdAtMs || a.session.localeCompare(b.session)),
    ended: [...(state.sessionEnds ?? [])],
  };
}

export function locksReply(state: ClusterState): LocksReply {
  const sessions = state.sessions ?? {};
  return {
    stateVersion: state.version,
    locks: Object.entries(state.locks ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, lock]) => {
        if ("session" in lock) {
          const holder = Object.hasOwn(sessions, lock.session) ? sessions[lock.session] : undefined;
          return {
            key,
            session: lock.session,
            name: holder?.name ?? null,
            node: holder?.node ?? null,
            acquiredAtMs: lock.acquiredAtMs,
            freeAtMs: null,
            reason: null,
          };
        }
        return {
          key,
          session: null,
          name: null,
          node: null,
          acquiredAtMs: null,
          freeAtMs: lock.freeAtMs,
          reason: lock.reason,
        };
      }),
  };
}
