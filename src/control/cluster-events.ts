import { describeMembershipEvent } from "../membership/describe-event.js";
import type { MembershipEvent, MembershipEventType } from "../membership/types.js";
import type { ClusterState, FenceEvent, HistoryEntry, Incident } from "../state/types.js";

/**
 * `vigil events` and GET /v1/events: the cluster's events in one order. The replicated state's
 * changes, fences and incidents are the same on every node and ordered by the state version
 * that made them; the membership events (a node up or dead, a link down) are the answering
 * node's own, each ordered after the state version that node had applied when it saw it.
 */
export interface ClusterEvent {
  /** The same on every call for the same event, so a follower drops what it already has. */
  id: string;
  /**
   * Who saw it: the answering node for its membership events; for what the replicated state
   * records (seen alike by every node), its proposer as recorded ("policy@beta", "agent@beta").
   */
  source: string;
  atMs: number;
  kind: ClusterEventKind;
  text: string;
  /**
   * Its place in the cluster-wide order: a change, fence or incident is the state version that
   * made it (0 for one older than the history's oldest version); a membership event comes after
   * the version its node had applied when it saw it.
   */
  stateVersion: number;
}

export type ClusterEventKind =
  | "change"
  | "fence"
  | "fence_failed"
  | "incident"
  | MembershipEventType;

/** A membership event as the answering node saw it: its number in this run, the version then. */
export interface SeenMembershipEvent {
  seq: number;
  stateVersion: number;
  event: MembershipEvent;
}

/** The last `limit` membership events this agent saw, numbered, with the state version then. */
export class SeenEventLog {
  private readonly events: SeenMembershipEvent[] = [];
  private nextSeq = 1;

  constructor(private readonly limit: number) {}

  record(event: MembershipEvent, stateVersion: number): void {
    this.events.push({ seq: this.nextSeq++, stateVersion, event });
    if (this.events.length > this.limit) this.events.shift();
  }

  recent(): readonly SeenMembershipEvent[] {
    return this.events;
  }
}

/** Who answers: the membership events' source, and its run (a restart numbers them anew). */
export interface AnsweringNode {
  name: string;
  incarnation: number;
}

/** Within one state version: the change first, then what it recorded, then what was seen after. */
const RANK = { change: 0, recorded: 1, seen: 2 } as const;

interface Placed {
  event: ClusterEvent;
  rank: number;
  within: number;
}

/** Every event the state and this node keep, in the cluster-wide order. */
export function clusterEvents(
  state: ClusterState | null,
  node: AnsweringNode,
  seen: readonly SeenMembershipEvent[],
): ClusterEvent[] {
  const placed: Placed[] = [];
  if (state !== null) {
    for (const entry of state.history) {
      placed.push({ event: changeEvent(entry), rank: RANK.change, within: 0 });
    }
    state.fenceHistory.forEach((fence, index) => {
      const version = recordingVersion(state.history, fence, `node ${fence.node} `);
      placed.push({ event: fenceEvent(fence, version), rank: RANK.recorded, within: index });
    });
    state.incidents.forEach((incident, index) => {
      const version = recordingVersion(state.history, incident, incident.resource);
      placed.push({
        event: incidentEvent(incident, version),
        // After the fences of the same version: the arrays are ordered apart.
        rank: RANK.recorded,
        within: state.fenceHistory.length + index,
      });
    });
  }
  for (const { seq, stateVersion, event } of seen) {
    placed.push({
      event: {
        id: `${node.name}/${node.incarnation}/${seq}`,
        source: node.name,
        atMs: event.atMs,
        kind: event.type,
        text: describeMembershipEvent(event),
        stateVersion,
      },
      rank: RANK.seen,
      within: seq,
    });
  }
  placed.sort(
    (a, b) => a.event.stateVersion - b.event.stateVersion || a.rank - b.rank || a.within - b.within,
  );
  return placed.map(({ event }) => event);
}

/**
 * The events after the one named `afterId`. `gap` says that event is no longer kept (or never
 * was): every kept event is returned then, and the caller drops those it has by id.
 */
export function eventsAfter(
  events: readonly ClusterEvent[],
  afterId: string | undefined,
): { events: ClusterEvent[]; gap: boolean } {
  if (afterId === undefined) return { events: [...events], gap: false };
  const index = events.findIndex((event) => event.id === afterId);
  if (index === -1) return { events: [...events], gap: true };
  return { events: events.slice(index + 1), gap: false };
}

function changeEvent(entry: HistoryEntry): ClusterEvent {
  return {
    id: `v${entry.version}`,
    source: entry.by,
    atMs: entry.atMs,
    kind: "change",
    text: entry.summary,
    stateVersion: entry.version,
  };
}

function fenceEvent(fence: FenceEvent, stateVersion: number): ClusterEvent {
  const how =
    fence.action === "confirm"
      ? "confirmed down by hand"
      : fence.ok
        ? `fenced (${fence.action} by ${fence.devices.join(", ")})`
        : `fencing FAILED (${fence.devices.join(", ") || "no device"}): ${fence.detail}`;
  return {
    id: `fence/${fence.node}/${fence.atMs}/${fence.by}`,
    source: fence.by,
    atMs: fence.atMs,
    kind: fence.ok ? "fence" : "fence_failed",
    text: `node ${fence.node} ${how}`,
    stateVersion,
  };
}

function incidentEvent(incident: Incident, stateVersion: number): ClusterEvent {
  return {
    id: `incident/${incident.resource}/${incident.atMs}/${incident.by}`,
    source: incident.by,
    atMs: incident.atMs,
    kind: "incident",
    text: `${incident.resource} ran on ${incident.nodes.join(", ")} at once: the extra copies are stopped`,
    stateVersion,
  };
}

/**
 * The version of the change that recorded a fence or incident: the kept change by the same
 * proposer at the same instant that names it. One older than the kept history gets 0: it came
 * before all of it.
 */
function recordingVersion(
  history: readonly HistoryEntry[],
  recorded: { by: string; atMs: number },
  named: string,
): number {
  const change = history.find(
    (entry) =>
      entry.by === recorded.by && entry.atMs === recorded.atMs && entry.summary.includes(named),
  );
  return change?.version ?? 0;
}
