import type { NotificationKind } from "../resource-model/hooks-schema.js";
import { keyDefinedIn } from "./resource-keys.js";
import type { ActiveRole, ClusterState } from "./types.js";

/**
 * One thing that happened, as hooks receive it. `id` is the same wherever and however often it is
 * delivered, so a receiver drops what it already has.
 */
export interface NotificationEvent {
  id: string;
  kind: NotificationKind;
  atMs: number;
  /** The node it happened to (the resource's node, the node fenced, the node seen dead). */
  node?: string;
  resource?: string;
  /** resource_moved: where it ran before. */
  fromNode?: string;
  /** A resource's role after a transition. */
  role?: ActiveRole;
  /** check_passing / check_failing: the check's name. */
  check?: string;
  /** Who recorded or saw it: "policy@alpha", "agent@beta", or the node name. */
  source: string;
  /** The state version that recorded it (cluster-wide events), or was applied when seen. */
  stateVersion: number;
  detail: string;
}

/**
 * A key's last node is kept while the configuration can still start it: once the resource (or
 * its clone) is removed, its entry goes with it, or the record would grow with every resource
 * ever defined. Only a configuration change can remove one.
 */
function stillDefined(
  lastActive: Record<string, string>,
  before: ClusterState,
  after: ClusterState,
): Record<string, string> {
  if (before.config === after.config) return lastActive;
  return Object.fromEntries(
    Object.entries(lastActive).filter(([key]) => keyDefinedIn(key, after.config.document)),
  );
}

/** The event before it is numbered: its id comes from where it is kept. */
export type EventDraft = Omit<NotificationEvent, "id">;

/**
 * What changed between two states, as events, in a fixed order (so every node derives the same
 * list from the same command). `lastActive` remembers the node each resource key last ran on,
 * across the release that removes its cell, so a start elsewhere is known as a move.
 */
export function eventsBetween(
  before: ClusterState,
  after: ClusterState,
  lastActive: Readonly<Record<string, string>>,
  origin: { by: string; atMs: number },
): { events: EventDraft[]; lastActive: Record<string, string> } {
  const common = { stateVersion: after.version, atMs: origin.atMs };
  const source = origin.by;
  const events: EventDraft[] = [];
  const nextLastActive: Record<string, string> = { ...lastActive };
  const keys = new Set([...Object.keys(before.resources), ...Object.keys(after.resources)]);
  for (const key of [...keys].sort()) {
    const was = before.resources[key] ?? {};
    const now = after.resources[key] ?? {};
    const nodes = new Set([...Object.keys(was), ...Object.keys(now)]);
    for (const node of [...nodes].sort()) {
      const from = was[node]?.active;
      const to = now[node]?.active;
      const base = { ...common, source, node, resource: key };
      if (now[node]?.stopFailed === true && was[node]?.stopFailed !== true) {
        events.push({ ...base, kind: "resource_failed", detail: `${key} on ${node}: stop failed` });
      }
      if (from === to) continue;
      if (to === undefined) {
        events.push({ ...base, kind: "resource_stopped", detail: `${key} stopped on ${node}` });
        continue;
      }
      if (from === undefined) {
        const previous = Object.hasOwn(nextLastActive, key) ? nextLastActive[key] : undefined;
        if (previous !== undefined && previous !== node) {
          events.push({
            ...base,
            kind: "resource_moved",
            fromNode: previous,
            role: to,
            detail: `${key} moved from ${previous} to ${node}`,
          });
        }
        nextLastActive[key] = node;
      }
      if (to === "promoted") {
        events.push({
          ...base,
          kind: "resource_promoted",
          role: to,
          detail: `${key} promoted on ${node}`,
        });
      } else if (from === "promoted") {
        events.push({
          ...base,
          kind: "resource_demoted",
          role: to,
          detail: `${key} demoted on ${node}`,
        });
      } else if (from === undefined) {
        events.push({
          ...base,
          kind: "resource_started",
          role: to,
          detail: `${key} started on ${node}`,
        });
      }
    }
  }
  for (const resource of Object.keys(after.failCounts).sort()) {
    const byNode = after.failCounts[resource] ?? {};
    for (const node of Object.keys(byNode).sort()) {
      const count = byNode[node]?.count ?? 0;
      const previously = before.failCounts[resource]?.[node]?.count ?? 0;
      if (count > previously) {
        events.push({
          ...common,
          source,
          kind: "resource_failed",
          node,
          resource,
          detail: `${resource} failed on ${node} (fail count ${count})`,
        });
      }
    }
  }
  for (const fence of appended(before.fenceHistory, after.fenceHistory)) {
    events.push({
      stateVersion: after.version,
      atMs: fence.atMs,
      source: fence.by,
      kind: fence.ok ? "fence_done" : "fence_failed",
      node: fence.node,
      detail: fence.ok
        ? `${fence.node} fenced (${fence.action}${fence.devices.length > 0 ? ` by ${fence.devices.join(", ")}` : ""})`
        : `fencing ${fence.node} failed: ${fence.detail}`,
    });
  }
  for (const incident of appended(before.incidents, after.incidents)) {
    events.push({
      stateVersion: after.version,
      atMs: incident.atMs,
      source: incident.by,
      kind: "incident",
      resource: incident.resource,
      detail: `${incident.resource} was active on ${incident.nodes.join(" and ")} at once; set right`,
    });
  }
  const wasLive = before.notifications?.liveness ?? {};
  const nowLive = after.notifications?.liveness ?? {};
  for (const node of Object.keys(nowLive).sort()) {
    const state = nowLive[node];
    if (state === undefined || (Object.hasOwn(wasLive, node) && wasLive[node] === state)) continue;
    events.push({
      ...common,
      source,
      kind: state === "up" ? "node_up" : "node_dead",
      node,
      detail: `${node} ${state === "up" ? "is up" : "is dead"}`,
    });
  }
  return { events, lastActive: stillDefined(nextLastActive, before, after) };
}

/** The entries of a bounded, append-only list that `after` has and `before` did not. */
function appended<T>(before: readonly T[], after: readonly T[]): readonly T[] {
  if (after === before) return [];
  const last = before.at(-1);
  if (last === undefined) return after;
  const at = after.lastIndexOf(last);
  return at === -1 ? after : after.slice(at + 1);
}
