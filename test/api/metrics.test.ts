import assert from "node:assert/strict";
import { test } from "node:test";
import { AgentMetrics } from "../../src/api/metrics.js";
import type { StatusReply } from "../../src/control/status-reply.js";
import { applyCommand, type Command, encodeCommand } from "../../src/state/index.js";
import { initialState } from "../../src/state/serialize.js";

/** Alpha's view: beta up on both links, gamma dead; alpha leads term 3 with a lease. */
function status(): StatusReply {
  const link = (name: string, state: "up" | "late" | "down", heardMs: number | null) => ({
    link: name,
    state,
    lastHeardMs: heardMs,
    rttMs: heardMs === null ? null : 0.5,
    lossRatio: heardMs === null ? null : 0.25,
    suspicion: 0.1,
  });
  return {
    cluster: { name: "demo", id: 7 },
    node: { id: 1, name: "alpha", incarnation: 11, startedAtMs: 0 },
    nowMs: 10_000,
    links: [
      {
        name: "ring0",
        kind: "ucast",
        counters: { framesSent: 5, framesReceived: 4, sendErrors: 0, framingErrors: 0 },
      },
    ],
    nodes: [
      {
        id: 2,
        name: "beta",
        state: "up",
        incarnation: 12,
        lastHeardMs: 9_900,
        links: [link("ring0", "up", 9_900), link("ring1", "late", 9_500)],
      },
      {
        id: 3,
        name: "gamma",
        state: "dead",
        incarnation: 13,
        lastHeardMs: 8_000,
        links: [link("ring0", "down", 8_000)],
      },
    ],
    rejects: { bad_mac: 2 },
    coordination: {
      id: 1,
      role: "leader",
      term: 3,
      leaderId: 1,
      commitIndex: 40,
      lastLogIndex: 41,
      votesPresent: 2,
      votesNeeded: 2,
      leaseUntilMs: 10_300,
      waitingForAll: false,
      leaseLosses: 1,
      appliedIndex: 40,
      stateVersion: 9,
      configurationVersion: 2,
    },
    recentEvents: [],
    eventCounts: { node_dead: 1 },
    callbackFailures: {},
    resources: {
      state: {
        web: {
          beta: { target: "started", active: "started" },
          gamma: { target: "stopped", stopFailed: true },
        },
      },
      local: [],
      quorum: { leaseHeld: true, noQuorumPolicy: "stop" },
      leader: {
        unplaceable: [{ resource: "db", reason: "no node" }],
        blocked: [],
        waitingForLease: [],
        pendingActions: [],
      },
    },
    hooks: [
      {
        hook: "pager",
        where: "cluster",
        waiting: 2,
        delivered: 7,
        failedAttempts: 3,
        givenUp: 0,
        dropped: 0,
        droppedByCluster: 4,
        lastError: "exit code 1",
      },
    ],
  } as unknown as StatusReply;
}

test("GET /metrics: the cluster as the agent sees it, in Prometheus's text format", async () => {
  const state = initialState();
  state.failCounts = { web: { gamma: { count: 3, lastFailureAtMs: 1 } } };
  state.nodes = { beta: { attributes: {}, standby: true } };
  const metrics = new AgentMetrics({ status, state: () => state });
  metrics.observeOperation({
    resourceId: "web",
    operation: "start",
    outcome: "success",
    durationMs: 30,
  });
  metrics.observeOperation({
    resourceId: "web",
    operation: "monitor",
    outcome: "timeout",
    durationMs: 20_000,
  });
  metrics.observeFence("gamma", false);
  const reply = await metrics.scrape();
  assert.match(reply.contentType, /^text\/plain; version=0\.0\.4/);
  const lines = new Set(reply.body.split("\n"));
  for (const line of [
    "# TYPE vigil_node_up gauge",
    'vigil_agent_info{cluster="demo",node="alpha"} 1',
    'vigil_node_up{node="alpha"} 1',
    'vigil_node_up{node="beta"} 1',
    'vigil_node_up{node="gamma"} 0',
    'vigil_node_state{node="gamma",state="dead"} 1',
    'vigil_node_state{node="gamma",state="up"} 0',
    'vigil_node_incarnation{node="beta"} 12',
    'vigil_node_standby{node="beta"} 1',
    'vigil_peer_link_up{node="gamma",link="ring0"} 0',
    'vigil_peer_link_state{node="beta",link="ring1",state="late"} 1',
    'vigil_peer_link_rtt_seconds{node="beta",link="ring0"} 0.0005',
    'vigil_peer_link_loss_ratio{node="beta",link="ring0"} 0.25',
    'vigil_peer_link_silence_seconds{node="gamma",link="ring0"} 2',
    'vigil_peer_link_suspicion{node="beta",link="ring0"} 0.1',
    "# TYPE vigil_link_frames_sent_total counter",
    'vigil_link_frames_sent_total{link="ring0"} 5',
    'vigil_wire_rejected_frames_total{reason="bad_mac"} 2',
    'vigil_membership_events_total{type="node_dead"} 1',
    'vigil_raft_role{role="leader"} 1',
    'vigil_raft_role{role="follower"} 0',
    "vigil_raft_is_leader 1",
    'vigil_raft_leader{node="alpha"} 1',
    "vigil_raft_term 3",
    "vigil_raft_commit_index 40",
    "vigil_quorum_votes_present 2",
    "vigil_quorum_votes_needed 2",
    "vigil_quorum_present 1",
    "vigil_lease_held 1",
    "vigil_lease_remaining_seconds 0.3",
    "vigil_lease_losses_total 1",
    'vigil_resource_active{resource="web",node="beta",role="started"} 1',
    'vigil_resource_target{resource="web",node="gamma",role="stopped"} 1',
    'vigil_resource_stop_failed{resource="web",node="gamma"} 1',
    'vigil_resource_fail_count{resource="web",node="gamma"} 3',
    'vigil_resource_unplaceable{resource="db"} 1',
    'vigil_resource_operation_duration_seconds_bucket{le="0.05",resource="web",operation="start"} 1',
    'vigil_resource_operation_duration_seconds_sum{resource="web",operation="monitor"} 20',
    'vigil_resource_operation_failures_total{resource="web",operation="monitor",outcome="timeout"} 1',
    'vigil_fence_operations_total{node="gamma",result="failure"} 1',
    'vigil_hook_events_delivered_total{hook="pager",where="cluster"} 7',
    'vigil_hook_delivery_failures_total{hook="pager",where="cluster"} 3',
    'vigil_hook_events_dropped_total{hook="pager",where="cluster"} 4',
    'vigil_hook_events_waiting{hook="pager",where="cluster"} 2',
  ]) {
    assert.ok(lines.has(line), `missing: ${line}`);
  }
  // Node's process metrics, under their standard names.
  assert.match(reply.body, /^process_cpu_seconds_total \d/m);
  assert.match(reply.body, /^process_resident_memory_bytes \d/m);
  assert.match(reply.body, /^nodejs_eventloop_lag_seconds \d/m);
});

test("a scrape shows the present only: a node that went away leaves no stale series", async () => {
  let current = status();
  const metrics = new AgentMetrics({ status: () => current, state: () => null });
  assert.match((await metrics.scrape()).body, /vigil_resource_unplaceable\{resource="db"\} 1/);
  current = { ...current, resources: null, coordination: null };
  const body = (await metrics.scrape()).body;
  assert.doesNotMatch(body, /vigil_resource_unplaceable\{/);
  assert.doesNotMatch(body, /vigil_raft_leader\{/);
  // Series without labels fall back to 0 (prom-client keeps them): no coordination, term 0.
  assert.match(body, /^vigil_raft_term 0$/m);
});

test("cluster-wide fence counts: from the replicated state, every node from 0, the same on every agent", async () => {
  const state = initialState();
  state.fenceCounts = {
    gamma: { success: 2, failure: 27, confirmed: 1 },
    // A node no longer in the configuration keeps its counts.
    delta: { success: 1, failure: 0, confirmed: 0 },
  };
  const scrapeBy = async (view: () => StatusReply) =>
    new Set(
      (await new AgentMetrics({ status: view, state: () => state }).scrape()).body
        .split("\n")
        .filter((line) => line.startsWith("vigil_cluster_fences_total")),
    );
  const alpha = await scrapeBy(status);
  assert.deepEqual([...alpha].sort(), [
    'vigil_cluster_fences_total{node="alpha",result="confirmed"} 0',
    'vigil_cluster_fences_total{node="alpha",result="failure"} 0',
    'vigil_cluster_fences_total{node="alpha",result="success"} 0',
    'vigil_cluster_fences_total{node="beta",result="confirmed"} 0',
    'vigil_cluster_fences_total{node="beta",result="failure"} 0',
    'vigil_cluster_fences_total{node="beta",result="success"} 0',
    'vigil_cluster_fences_total{node="delta",result="confirmed"} 0',
    'vigil_cluster_fences_total{node="delta",result="failure"} 0',
    'vigil_cluster_fences_total{node="delta",result="success"} 1',
    'vigil_cluster_fences_total{node="gamma",result="confirmed"} 1',
    'vigil_cluster_fences_total{node="gamma",result="failure"} 27',
    'vigil_cluster_fences_total{node="gamma",result="success"} 2',
  ]);
  // Beta's agent, answering for itself, reports the same series.
  const beta = await scrapeBy(() => {
    const view = status();
    const alphaAsPeer = { ...view.nodes[0]!, id: 1, name: "alpha" };
    return {
      ...view,
      node: { ...view.node, id: 2, name: "beta" },
      nodes: [alphaAsPeer, view.nodes[1]!],
    };
  });
  assert.deepEqual([...beta].sort(), [...alpha].sort());
  // Without the replicated state (coordination not started) there is nothing to count from.
  const before = await new AgentMetrics({ status, state: () => null }).scrape();
  assert.doesNotMatch(before.body, /^vigil_cluster_fences_total\{/m);
});

test("sessions and locks: open per node, held and in lock-delay, and the cluster's ends, acquisitions and releases", async () => {
  const T0 = Date.UTC(2026, 11, 7);
  const commands: Command[] = [
    ...["s1", "s2", "s3"].map(
      (session, i): Command => ({
        type: "session_create",
        session,
        name: `app-${session}`,
        node: i === 2 ? "beta" : "alpha",
        ttlMs: 10_000,
        lockDelayMs: 5000,
        checks: [],
        by: "sessions@alpha",
        atMs: T0,
      }),
    ),
    ...[
      ["s1", "leader"],
      ["s1", "leader"],
      ["s1", "jobs"],
      ["s2", "cron"],
      ["s3", "batch"],
    ].map(
      ([session, key]): Command => ({
        type: "lock_acquire",
        key: key as string,
        session: session as string,
        by: "sessions@alpha",
        atMs: T0 + 1,
      }),
    ),
    { type: "lock_release", key: "batch", session: "s3", by: "sessions@beta", atMs: T0 + 2 },
    { type: "session_destroy", session: "s1", reason: "ttl", by: "sessions@alpha", atMs: T0 + 3 },
    { type: "session_destroy", session: "s3", reason: "client", by: "sessions@beta", atMs: T0 + 4 },
  ];
  let state = initialState();
  for (const command of commands) {
    const applied = applyCommand(state, encodeCommand(command));
    assert.ok(applied.result.ok, JSON.stringify(applied.result));
    state = applied.state;
  }
  const view = () => ({
    ...status(),
    sessions: { sessions: 1, locks: 1, local: 1, connections: 2 },
  });
  const body = (await new AgentMetrics({ status: view, state: () => state }).scrape()).body;
  const lines = body
    .split("\n")
    .filter((line) => /^vigil_(sessions_open|locks_|session_|cluster_(session|lock))/.test(line))
    .sort();
  assert.deepEqual(lines, [
    "vigil_cluster_lock_acquisitions_total 4",
    'vigil_cluster_lock_releases_total{cause="released"} 1',
    'vigil_cluster_lock_releases_total{cause="session_ended"} 2',
    'vigil_cluster_session_ends_total{reason="check_failing"} 0',
    'vigil_cluster_session_ends_total{reason="client"} 1',
    'vigil_cluster_session_ends_total{reason="node_dead"} 0',
    'vigil_cluster_session_ends_total{reason="ttl"} 1',
    "vigil_locks_held 1",
    "vigil_locks_in_lock_delay 2",
    "vigil_session_connections 2",
    'vigil_sessions_open{node="alpha"} 1',
    'vigil_sessions_open{node="beta"} 0',
    'vigil_sessions_open{node="gamma"} 0',
  ]);
});
