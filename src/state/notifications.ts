import { type HookSpec, hooksOf, hookWants } from "../resource-model/hooks-schema.js";
import { eventsBetween } from "./notification-events.js";
import type { ClusterNotifications, ClusterState, QueuedNotification } from "./types.js";

export function emptyNotifications(): ClusterNotifications {
  return { nextSeq: 1, events: [], delivered: {}, dropped: {}, lastActive: {}, liveness: {} };
}

export function clusterHooks(state: ClusterState): HookSpec[] {
  return hooksOf(state.config.document).filter((hook) => hook.where === "cluster");
}

/**
 * Records what the command that turned `before` into `after` did, for the cluster-wide hooks:
 * the events some hook wants are queued, numbered; a hook added by this command starts from
 * here (it is not told of the past); a full queue drops its oldest and counts it. Without
 * cluster-wide hooks nothing is kept, so a cluster that uses none pays nothing.
 */
export function recordNotifications(
  before: ClusterState,
  after: ClusterState,
  origin: { by: string; atMs: number },
): ClusterState {
  const hooks = clusterHooks(after);
  if (hooks.length === 0) {
    if (after.notifications === undefined) return after;
    const { notifications: _dropped, ...rest } = after;
    return rest;
  }
  const current = after.notifications ?? emptyNotifications();
  const delivered: Record<string, number> = {};
  const dropped: Record<string, number> = {};
  for (const hook of hooks) {
    delivered[hook.name] = Object.hasOwn(current.delivered, hook.name)
      ? (current.delivered[hook.name] ?? 0)
      : current.nextSeq - 1;
    dropped[hook.name] = Object.hasOwn(current.dropped, hook.name)
      ? (current.dropped[hook.name] ?? 0)
      : 0;
  }
  const derived = eventsBetween(before, after, current.lastActive, origin);
  let nextSeq = current.nextSeq;
  const events = [...current.events];
  derived.events.forEach((draft, index) => {
    if (!hooks.some((hook) => hookWants(hook, draft.kind))) return;
    events.push({ ...draft, id: `v${draft.stateVersion}.${index}`, seq: nextSeq++ });
  });
  for (const hook of hooks) {
    const pending = events.filter(
      (event) => event.seq > (delivered[hook.name] ?? 0) && hookWants(hook, event.kind),
    );
    const excess = pending.length - hook.queue_limit;
    if (excess > 0) {
      delivered[hook.name] = pending[excess - 1]?.seq ?? 0;
      dropped[hook.name] = (dropped[hook.name] ?? 0) + excess;
    }
  }
  return {
    ...after,
    notifications: {
      ...current,
      nextSeq,
      events: trimmed(events, hooks, delivered),
      delivered,
      dropped,
      lastActive: derived.lastActive,
    },
  };
}

/** A hook was told of everything up to `seq` (the leader's acknowledgement, committed). */
export function markDelivered(
  state: ClusterState,
  hook: string,
  seq: number,
): ClusterState | string {
  const hooks = clusterHooks(state);
  const notifications = state.notifications;
  if (notifications === undefined || !hooks.some((known) => known.name === hook))
    return `no cluster-wide hook ${hook}`;
  if (seq >= notifications.nextSeq)
    return `hook ${hook}: event ${seq} does not exist yet (the last is ${notifications.nextSeq - 1})`;
  const delivered = {
    ...notifications.delivered,
    [hook]: Math.max(notifications.delivered[hook] ?? 0, seq),
  };
  return {
    ...state,
    notifications: {
      ...notifications,
      delivered,
      events: trimmed(notifications.events, hooks, delivered),
    },
  };
}

/** The leader's record of a node's liveness changed: node_up / node_dead for the hooks. */
export function recordLiveness(
  state: ClusterState,
  node: string,
  liveness: "up" | "dead",
): ClusterState | string {
  const notifications = state.notifications ?? emptyNotifications();
  if (notifications.liveness[node] === liveness)
    return `node ${node} is already recorded ${liveness}`;
  return {
    ...state,
    notifications: {
      ...notifications,
      liveness: { ...notifications.liveness, [node]: liveness },
    },
  };
}

/** The events `hook` has not been told of yet, oldest first. */
export function pendingFor(state: ClusterState, hook: HookSpec): QueuedNotification[] {
  const notifications = state.notifications;
  if (notifications === undefined) return [];
  const after = notifications.delivered[hook.name] ?? notifications.nextSeq - 1;
  return notifications.events.filter((event) => event.seq > after && hookWants(hook, event.kind));
}

/** Whether the leader should record liveness at all: some cluster-wide hook wants it. */
export function wantsLiveness(state: ClusterState): boolean {
  return clusterHooks(state).some(
    (hook) => hookWants(hook, "node_up") || hookWants(hook, "node_dead"),
  );
}

/** Keeps only events some hook still has to be told of. */
function trimmed(
  events: readonly QueuedNotification[],
  hooks: readonly HookSpec[],
  delivered: Readonly<Record<string, number>>,
): QueuedNotification[] {
  return events.filter((event) =>
    hooks.some((hook) => event.seq > (delivered[hook.name] ?? 0) && hookWants(hook, event.kind)),
  );
}
