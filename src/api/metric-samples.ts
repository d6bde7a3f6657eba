import type { StatusReply } from "../control/status-reply.js";
import { SESSION_END_REASONS } from "../state/commands.js";
import { FENCE_RESULTS } from "../state/fence-counts.js";
import { ownValue } from "../state/records.js";
import { countsOf, locksOf, sessionsOf } from "../state/sessions.js";
import type { ClusterState } from "../state/types.js";

/**
 * What GET /metrics shows of the cluster, computed at scrape time from the agent's status (the
 * same object GET /v1/status returns) and the replicated state: nothing is counted on the
 * heartbeat path for it. Pure: status and state in, samples out. Names follow Prometheus's
 * conventions: the vigil_ prefix, base units (seconds, ratios), _total for counters; an enum
 * (a node's state, Raft's role) is one series per value, 1 for the current one.
 */

export type MetricType = "gauge" | "counter";

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  labelNames: readonly string[];
}

export interface MetricSample {
  labels: Record<string, string>;
  value: number;
}

const gauge = (name: string, labelNames: readonly string[], help: string): MetricFamily => ({
  name: `vigil_${name}`,
  help,
  type: "gauge",
  labelNames,
});
const counter = (name: string, labelNames: readonly string[], help: string): MetricFamily => ({
  name: `vigil_${name}_total`,
  help,
  type: "counter",
  labelNames,
});

/** Every family computed at scrape time, by key. */
export const SCRAPED = {
  agentInfo: gauge(
    "agent_info",
    ["cluster", "node"],
    "The answering agent: its cluster and node (always 1)",
  ),
  nodeUp: gauge(
    "node_up",
    ["node"],
    "1 while the node is up as this agent sees it (the agent itself is up)",
  ),
  nodeState: gauge(
    "node_state",
    ["node", "state"],
    "The node's membership state as this agent sees it: 1 for the current state (unknown, up, dead, left)",
  ),
  nodeIncarnation: gauge(
    "node_incarnation",
    ["node"],
    "The incarnation (agent run) this agent last heard from the node",
  ),
  nodeStandby: gauge("node_standby", ["node"], "1 while the node is in standby (replicated state)"),
  linkUp: gauge(
    "peer_link_up",
    ["node", "link"],
    "1 while the peer is heard on the link (up or late), 0 when the link is down to it",
  ),
  linkState: gauge(
    "peer_link_state",
    ["node", "link", "state"],
    "The detector's state of the peer on the link: 1 for the current state (up, late, down)",
  ),
  linkRtt: gauge(
    "peer_link_rtt_seconds",
    ["node", "link"],
    "Smoothed round-trip time to the peer on the link, from echoed heartbeats",
  ),
  linkLoss: gauge(
    "peer_link_loss_ratio",
    ["node", "link"],
    "Share of the peer's heartbeats lost on the link over the recent window (0 to 1)",
  ),
  linkSilence: gauge(
    "peer_link_silence_seconds",
    ["node", "link"],
    "Time since the peer was last heard on the link",
  ),
  linkSuspicion: gauge(
    "peer_link_suspicion",
    ["node", "link"],
    "The failure detector's suspicion: phi (phi detector) or silence / deadtime (fixed detector)",
  ),
  framesSent: counter("link_frames_sent", ["link"], "Frames sent on the link"),
  framesReceived: counter("link_frames_received", ["link"], "Frames received on the link"),
  sendErrors: counter("link_send_errors", ["link"], "Sends that failed on the link"),
  framingErrors: counter(
    "link_framing_errors",
    ["link"],
    "Frames dropped while parsing the link's byte stream (serial)",
  ),
  wireRejected: counter(
    "wire_rejected_frames",
    ["reason"],
    "Frames refused by the wire filter, by reason (bad_mac, replayed, ...)",
  ),
  membershipEvents: counter(
    "membership_events",
    ["type"],
    "Membership events since the agent started, by type (node_dead, link_down, ...)",
  ),
  callbackFailures: counter(
    "callback_failures",
    ["callback"],
    "Exceptions contained in a timer or socket callback",
  ),
  raftRole: gauge(
    "raft_role",
    ["role"],
    "This node's Raft role: 1 for the current one (follower, pre_candidate, candidate, leader)",
  ),
  raftIsLeader: gauge("raft_is_leader", [], "1 while this node is the Raft leader"),
  raftLeader: gauge(
    "raft_leader",
    ["node"],
    "The leader this node knows (1; absent while it knows none)",
  ),
  raftTerm: gauge("raft_term", [], "Raft's current term"),
  raftCommitIndex: gauge("raft_commit_index", [], "Raft's commit index"),
  raftLastLogIndex: gauge("raft_last_log_index", [], "Index of the last entry of this node's log"),
  raftAppliedIndex: gauge(
    "raft_applied_index",
    [],
    "Index of the last entry applied to the cluster state",
  ),
  quorumVotesPresent: gauge(
    "quorum_votes_present",
    [],
    "Votes this node counts as present (itself included)",
  ),
  quorumVotesNeeded: gauge("quorum_votes_needed", [], "Votes a quorum needs"),
  quorumPresent: gauge("quorum_present", [], "1 while the votes present reach a quorum"),
  waitingForAll: gauge(
    "quorum_waiting_for_all",
    [],
    "1 while wait_for_all holds elections back (not every node seen yet)",
  ),
  leaseHeld: gauge("lease_held", [], "1 while this node holds a lease its resources may run under"),
  leaseRemaining: gauge(
    "lease_remaining_seconds",
    [],
    "Time left on this node's lease (0 without one)",
  ),
  leaseLosses: counter(
    "lease_losses",
    [],
    "Times this node lost its lease since the agent started",
  ),
  stateVersion: gauge("state_version", [], "Version of the replicated cluster state"),
  maintenance: gauge("maintenance", [], "1 while the cluster is in maintenance mode"),
  resourceActive: gauge(
    "resource_active",
    ["resource", "node", "role"],
    "1 per placement key and node where it runs, in its role (started, promoted, unpromoted)",
  ),
  resourceTarget: gauge(
    "resource_target",
    ["resource", "node", "role"],
    "1 per placement key and node with the leader's instruction (a role, or stopped)",
  ),
  resourceStopFailed: gauge(
    "resource_stop_failed",
    ["resource", "node"],
    "1 where a stop failed: the resource is left alone until cleaned up",
  ),
  resourceFailCount: gauge(
    "resource_fail_count",
    ["resource", "node"],
    "Failures of the resource on the node since the last cleanup (replicated fail count)",
  ),
  resourceUnplaceable: gauge(
    "resource_unplaceable",
    ["resource"],
    "1 for a resource that can run nowhere (on the leader only)",
  ),
  resourceBlocked: gauge(
    "resource_blocked",
    ["resource"],
    "1 for a resource left as it is, unusable or waiting for something (on the leader only)",
  ),
  fenceDeviceUp: gauge(
    "fence_device_up",
    ["device"],
    "1 when the fence device passed its last monitor, 0 when it failed it (absent before the first)",
  ),
  hookDelivered: counter(
    "hook_events_delivered",
    ["hook", "where"],
    "Events this node delivered to the hook (cluster-wide hooks: while it led)",
  ),
  hookFailures: counter(
    "hook_delivery_failures",
    ["hook", "where"],
    "Deliveries to the hook that failed (each is retried, except transition scripts)",
  ),
  hookDropped: counter(
    "hook_events_dropped",
    ["hook", "where"],
    "Events dropped because the hook's queue was full (cluster-wide hooks: as the cluster counted them)",
  ),
  hookWaiting: gauge(
    "hook_events_waiting",
    ["hook", "where"],
    "Events waiting in this node's queue for the hook",
  ),
  checkPassing: gauge(
    "check_passing",
    ["check"],
    "1 while the health check passes on this node, 0 while it fails (absent before its verdict)",
  ),
  clusterFences: counter(
    "cluster_fences",
    ["node", "result"],
    "Fences of the node since the cluster began, by result (success, failure, confirmed by an operator): from the replicated state, the same on every node",
  ),
  incidents: gauge(
    "incidents_recorded",
    [],
    "Incidents kept in the replicated state (a resource found running twice)",
  ),
  sessionsOpen: gauge(
    "sessions_open",
    ["node"],
    "Applications' sessions open in the cluster, by the node whose agent keeps each (replicated state)",
  ),
  locksHeld: gauge("locks_held", [], "Locks held by a session (replicated state)"),
  locksInDelay: gauge(
    "locks_in_lock_delay",
    [],
    "Locks whose session ended, not to be taken until their lock-delay is over (replicated state)",
  ),
  sessionConnections: gauge(
    "session_connections",
    [],
    "Session connections open to this agent (applications' long connections)",
  ),
  sessionEnds: counter(
    "cluster_session_ends",
    ["reason"],
    "Sessions ended since the cluster began, by reason (client, ttl, node_dead, check_failing): from the replicated state, the same on every node",
  ),
  lockAcquisitions: counter(
    "cluster_lock_acquisitions",
    [],
    "Locks taken by a session since the cluster began: from the replicated state",
  ),
  lockReleases: counter(
    "cluster_lock_releases",
    ["cause"],
    "Locks released since the cluster began, by cause (released: by their holder; session_ended: by their session's end): from the replicated state",
  ),
} as const satisfies Record<string, MetricFamily>;

export type ScrapedKey = keyof typeof SCRAPED;
export type Samples = Partial<Record<ScrapedKey, MetricSample[]>>;

const seconds = (ms: number) => ms / 1000;
const oneOf = <T extends string>(
  values: readonly T[],
  current: T,
  labels: Record<string, string>,
  key: string,
) =>
  values.map((value) => ({
    labels: { ...labels, [key]: value },
    value: value === current ? 1 : 0,
  }));

const NODE_STATES = ["unknown", "up", "dead", "left"] as const;
const LINK_STATES = ["up", "late", "down"] as const;
const RAFT_ROLES = ["follower", "pre_candidate", "candidate", "leader"] as const;

/** The samples of every scraped family, from the status reply and the replicated state. */
export function scrapeSamples(status: StatusReply, state: ClusterState | null): Samples {
  const out: Record<string, MetricSample[]> = {};
  const add = (key: ScrapedKey, labels: Record<string, string>, value: number) => {
    const list = out[key] ?? [];
    list.push({ labels, value });
    out[key] = list;
  };
  const addAll = (key: ScrapedKey, samples: MetricSample[]) => {
    for (const sample of samples) add(key, sample.labels, sample.value);
  };
  const self = status.node.name;
  const nameOf = (id: number | null) =>
    id === status.node.id
      ? self
      : (status.nodes.find((node) => node.id === id)?.name ?? String(id));
  add("agentInfo", { cluster: status.cluster.name, node: self }, 1);
  add("nodeUp", { node: self }, 1);
  addAll("nodeState", oneOf(NODE_STATES, "up", { node: self }, "state"));
  add("nodeIncarnation", { node: self }, status.node.incarnation);
  for (const node of status.nodes) {
    add("nodeUp", { node: node.name }, node.state === "up" ? 1 : 0);
    addAll("nodeState", oneOf(NODE_STATES, node.state, { node: node.name }, "state"));
    if (node.incarnation !== null) add("nodeIncarnation", { node: node.name }, node.incarnation);
    for (const link of node.links) {
      const labels = { node: node.name, link: link.link };
      add("linkUp", labels, link.state === "down" ? 0 : 1);
      addAll("linkState", oneOf(LINK_STATES, link.state, labels, "state"));
      if (link.rttMs !== null) add("linkRtt", labels, seconds(link.rttMs));
      if (link.lossRatio !== null) add("linkLoss", labels, link.lossRatio);
      if (link.lastHeardMs !== null)
        add("linkSilence", labels, seconds(Math.max(0, status.nowMs - link.lastHeardMs)));
      add("linkSuspicion", labels, link.suspicion);
    }
  }
  for (const link of status.links) {
    const labels = { link: link.name };
    add("framesSent", labels, link.counters.framesSent);
    add("framesReceived", labels, link.counters.framesReceived);
    add("sendErrors", labels, link.counters.sendErrors);
    add("framingErrors", labels, link.counters.framingErrors);
  }
  for (const [reason, count] of Object.entries(status.rejects))
    add("wireRejected", { reason }, count);
  for (const [type, count] of Object.entries(status.eventCounts))
    add("membershipEvents", { type }, count ?? 0);
  for (const [callback, count] of Object.entries(status.callbackFailures))
    add("callbackFailures", { callback }, count);
  const raft = status.coordination;
  if (raft !== null) {
    addAll("raftRole", oneOf(RAFT_ROLES, raft.role, {}, "role"));
    add("raftIsLeader", {}, raft.role === "leader" ? 1 : 0);
    if (raft.leaderId !== null) add("raftLeader", { node: nameOf(raft.leaderId) }, 1);
    add("raftTerm", {}, raft.term);
    add("raftCommitIndex", {}, raft.commitIndex);
    add("raftLastLogIndex", {}, raft.lastLogIndex);
    add("raftAppliedIndex", {}, raft.appliedIndex);
    add("quorumVotesPresent", {}, raft.votesPresent);
    add("quorumVotesNeeded", {}, raft.votesNeeded);
    add("quorumPresent", {}, raft.votesPresent >= raft.votesNeeded ? 1 : 0);
    add("waitingForAll", {}, raft.waitingForAll ? 1 : 0);
    add("leaseRemaining", {}, seconds(Math.max(0, (raft.leaseUntilMs ?? 0) - status.nowMs)));
    add("leaseLosses", {}, raft.leaseLosses);
    add("stateVersion", {}, raft.stateVersion);
  }
  for (const check of status.checks ?? []) {
    if (check.verdict !== "unknown")
      add("checkPassing", { check: check.check }, check.verdict === "passing" ? 1 : 0);
  }
  for (const hook of status.hooks ?? []) {
    const labels = { hook: hook.hook, where: hook.where };
    add("hookDelivered", labels, hook.delivered);
    add("hookFailures", labels, hook.failedAttempts);
    add("hookDropped", labels, hook.dropped + (hook.droppedByCluster ?? 0));
    add("hookWaiting", labels, hook.waiting);
  }
  if (status.sessions !== undefined) add("sessionConnections", {}, status.sessions.connections);
  const resources = status.resources;
  if (resources !== null) {
    if (resources.quorum !== undefined) add("leaseHeld", {}, resources.quorum.leaseHeld ? 1 : 0);
    for (const [resource, byNode] of Object.entries(resources.state)) {
      for (const [node, cell] of Object.entries(byNode)) {
        if (cell.active !== undefined)
          add("resourceActive", { resource, node, role: cell.active }, 1);
        if (cell.target !== undefined)
          add("resourceTarget", { resource, node, role: cell.target }, 1);
        if (cell.stopFailed === true) add("resourceStopFailed", { resource, node }, 1);
      }
    }
    for (const { resource } of resources.leader?.unplaceable ?? [])
      add("resourceUnplaceable", { resource }, 1);
    for (const { resource } of resources.leader?.blocked ?? [])
      add("resourceBlocked", { resource }, 1);
    for (const device of resources.fenceDevices?.devices ?? []) {
      if (device.state !== "unchecked")
        add("fenceDeviceUp", { device: device.device }, device.state === "ok" ? 1 : 0);
    }
  }
  if (state !== null) {
    add("maintenance", {}, state.maintenance ? 1 : 0);
    add("incidents", {}, state.incidents.length);
    for (const [node, record] of Object.entries(state.nodes))
      add("nodeStandby", { node }, record.standby ? 1 : 0);
    for (const [resource, byNode] of Object.entries(state.failCounts)) {
      for (const [node, failures] of Object.entries(byNode))
        add("resourceFailCount", { resource, node }, failures.count);
    }
    // Every node's series from 0, fenced or not: Prometheus's increase() sees a first failure
    // only as a step from a sample before it.
    const nodes = new Set([self, ...status.nodes.map((node) => node.name)]);
    for (const node of Object.keys(state.fenceCounts)) nodes.add(node);
    for (const node of nodes) {
      const counts = ownValue(state.fenceCounts, node);
      for (const result of FENCE_RESULTS)
        add("clusterFences", { node, result }, counts?.[result] ?? 0);
    }
    addSessionSamples(add, state, nodes);
  }
  return out;
}

/** Sessions open per node (every node from 0), locks held and waiting, and the cluster's counts. */
function addSessionSamples(
  add: (key: ScrapedKey, labels: Record<string, string>, value: number) => void,
  state: ClusterState,
  nodes: ReadonlySet<string>,
): void {
  const open = new Map([...nodes].map((node) => [node, 0]));
  for (const session of Object.values(sessionsOf(state)))
    open.set(session.node, (open.get(session.node) ?? 0) + 1);
  for (const [node, count] of open) add("sessionsOpen", { node }, count);
  const locks = Object.values(locksOf(state));
  add("locksHeld", {}, locks.filter((lock) => "session" in lock).length);
  add("locksInDelay", {}, locks.filter((lock) => "freeAtMs" in lock).length);
  const counts = countsOf(state);
  for (const reason of SESSION_END_REASONS)
    add("sessionEnds", { reason }, counts.ended[reason] ?? 0);
  add("lockAcquisitions", {}, counts.locksAcquired);
  add("lockReleases", { cause: "released" }, counts.locksReleased);
  add("lockReleases", { cause: "session_ended" }, counts.locksReleasedByEnd);
}
