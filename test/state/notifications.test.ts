import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { hooksOf } from "../../src/resource-model/hooks-schema.js";
import {
  applyCommand,
  type ClusterState,
  type Command,
  encodeCommand,
  initialState,
  restoreState,
  serializeState,
} from "../../src/state/index.js";
import { pendingFor } from "../../src/state/notifications.js";

const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);

function run(commands: readonly Command[], start = initialState()): ClusterState {
  let state = start;
  for (const command of commands) {
    const applied = applyCommand(state, encodeCommand(command));
    assert.ok(applied.result.ok, `${command.type}: ${JSON.stringify(applied.result)}`);
    state = applied.state;
  }
  return state;
}

const hooks = (spec: Record<string, unknown>) => ({ resources: {}, hooks: spec });

function configure(document: Record<string, unknown>, expectedVersion: number): Command {
  return {
    type: "config_apply",
    text: "x",
    document: document as never,
    expectedVersion,
    by: "bob",
    atMs: T0,
  };
}

const probed = (node: string): Command => ({
  type: "node_probed",
  node,
  incarnation: 1,
  configVersion: 1,
  active: [],
  by: `agent@${node}`,
  atMs: T0,
});

const report = (node: string, active: "started" | "promoted" | null, atMs = T0): Command => ({
  type: "resource_report",
  resource: "web",
  node,
  incarnation: 1,
  active,
  by: `agent@${node}`,
  atMs,
});

const release = (node: string): Command => ({
  type: "node_released",
  node,
  by: "policy@a",
  atMs: T0,
});

const delivered = (hook: string, seq: number): Command => ({
  type: "hook_delivered",
  hook,
  seq,
  by: "notify@a",
  atMs: T0,
});

const pager = { run: "/usr/local/bin/page" };

describe("cluster-wide hook events in the replicated state", () => {
  test("without a cluster-wide hook nothing is kept", () => {
    const state = run([
      configure(hooks({ local: { ...pager, where: "node" } }), 0),
      probed("a"),
      report("a", "started"),
    ]);
    assert.equal(state.notifications, undefined);
  });

  test("a start, a failover and a stop are queued in order, numbered, with the move seen across the release", () => {
    const state = run([
      configure(hooks({ pager }), 0),
      probed("a"),
      probed("b"),
      report("a", "started"),
      release("a"),
      report("b", "started"),
      report("b", null),
    ]);
    const events = state.notifications?.events ?? [];
    assert.deepEqual(
      events.map((e) => [e.seq, e.kind, e.node, e.fromNode]),
      [
        [1, "resource_started", "a", undefined],
        [2, "resource_stopped", "a", undefined],
        [3, "resource_moved", "b", "a"],
        [4, "resource_started", "b", undefined],
        [5, "resource_stopped", "b", undefined],
      ],
    );
    assert.equal(new Set(events.map((e) => e.id)).size, 5, "ids are unique");
  });

  test("a resource's last node is forgotten with its definition, kept while it stays defined", () => {
    const web = { agent: "exec:/bin/true" };
    const withWeb = { resources: { web }, hooks: { pager } };
    const started = run([configure(withWeb, 0), probed("a"), report("a", "started")]);
    assert.deepEqual(started.notifications?.lastActive, { web: "a" });
    const kept = run([configure({ ...withWeb, hooks: { pager, other: pager } }, 1)], started);
    assert.deepEqual(kept.notifications?.lastActive, { web: "a" });
    const removed = run([configure({ resources: {}, hooks: { pager } }, 1)], started);
    assert.deepEqual(removed.notifications?.lastActive, {});
  });

  test("the leader's progress trims the queue; another node applying the same log holds the same queue", () => {
    const log = [
      configure(hooks({ pager }), 0),
      probed("a"),
      report("a", "started"),
      report("a", "promoted"),
      delivered("pager", 1),
    ];
    const onA = run(log);
    const onB = run(log);
    assert.equal(serializeState(onA), serializeState(onB));
    const [hook] = hooksOf(onA.config.document);
    assert.ok(hook !== undefined);
    // A new leader carries on after the committed progress: the promote, not the start.
    assert.deepEqual(
      pendingFor(onA, hook).map((e) => e.kind),
      ["resource_promoted"],
    );
    assert.deepEqual(
      onA.notifications?.events.map((e) => e.seq),
      [2],
    );
    // Bookkeeping does not push operators' changes out of the history.
    assert.ok(!onA.history.some((entry) => entry.summary.includes("told of")));
  });

  test("a full queue drops its oldest and counts them", () => {
    const commands: Command[] = [
      configure(hooks({ pager: { ...pager, queue_limit: 2 } }), 0),
      probed("a"),
    ];
    for (let i = 0; i < 3; i++) commands.push(report("a", "started"), report("a", null));
    const state = run(commands);
    assert.deepEqual(
      state.notifications?.events.map((e) => e.seq),
      [5, 6],
    );
    assert.equal(state.notifications?.dropped.pager, 4);
  });

  test("a hook added later is not told of the past; one that wants only fences keeps nothing else", () => {
    const state = run([
      configure(hooks({ pager }), 0),
      probed("a"),
      report("a", "started"),
      configure(hooks({ pager, fences: { ...pager, events: ["fence_done"] } }), 1),
      report("a", null),
    ]);
    const byName = Object.fromEntries(hooksOf(state.config.document).map((h) => [h.name, h]));
    assert.deepEqual(pendingFor(state, byName.fences!).length, 0);
    assert.deepEqual(
      pendingFor(state, byName.pager!).map((e) => e.kind),
      ["resource_started", "resource_stopped"],
    );
  });

  test("an acknowledgement of an event that does not exist is refused, the same on every node", () => {
    const state = run([configure(hooks({ pager }), 0)]);
    const applied = applyCommand(state, encodeCommand(delivered("pager", 7)));
    assert.equal(applied.result.ok, false);
    const unknown = applyCommand(state, encodeCommand(delivered("nobody", 0)));
    assert.equal(unknown.result.ok, false);
  });

  test("node_liveness records node_up and node_dead once each", () => {
    const liveness = (node: string, state: "up" | "dead"): Command => ({
      type: "node_liveness",
      node,
      liveness: state,
      by: "policy@a",
      atMs: T0,
    });
    const state = run([
      configure(hooks({ pager: { ...pager, events: ["node_dead", "node_up"] } }), 0),
      liveness("b", "up"),
      liveness("b", "dead"),
    ]);
    assert.deepEqual(
      state.notifications?.events.map((e) => [e.kind, e.node]),
      [
        ["node_up", "b"],
        ["node_dead", "b"],
      ],
    );
    assert.equal(applyCommand(state, encodeCommand(liveness("b", "dead"))).result.ok, false);
  });

  test("the queue survives a snapshot", () => {
    const state = run([configure(hooks({ pager }), 0), probed("a"), report("a", "started")]);
    assert.deepEqual(restoreState(serializeState(state)).notifications, state.notifications);
  });
});
