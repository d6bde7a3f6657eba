import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { FATAL_FAIL_COUNT } from "../../src/state/apply.js";
import {
  applyCommand,
  type ClusterState,
  type Command,
  type CommandResult,
  encodeCommand,
  initialState,
  type ResourceCell,
  restoreState,
  serializeState,
} from "../../src/state/index.js";
import { deepFreeze, payloadsArbitrary } from "./arbitraries.js";

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

function run(commands: readonly (Command | string)[], start = initialState()) {
  let state = start;
  const results: CommandResult[] = [];
  for (const command of commands) {
    const applied = applyCommand(
      state,
      typeof command === "string" ? command : encodeCommand(command),
    );
    state = applied.state;
    results.push(applied.result);
  }
  return { state, results };
}

function errorOf(result: CommandResult | undefined): string {
  assert.ok(
    result !== undefined && !result.ok,
    `expected a refusal, got ${JSON.stringify(result)}`,
  );
  return result.error;
}

const applyConfig = (text: string, expectedVersion: number, by = "bob", atMs = T0): Command => ({
  type: "config_apply",
  text,
  document: { resources: [] },
  expectedVersion,
  by,
  atMs,
});

describe("applying commands", () => {
  test("config_apply stores the text and document and stamps who and when", () => {
    const { state, results } = run([applyConfig("resources: []\n", 0, "bob@db1", T0)]);
    assert.deepEqual(results, [{ ok: true, version: 1 }]);
    assert.deepEqual(state.config, {
      version: 1,
      document: { resources: [] },
      text: "resources: []\n",
      appliedAtMs: T0,
      appliedBy: "bob@db1",
    });
    assert.equal(state.version, 1);
    assert.equal(state.configurationVersion, 1);
    assert.deepEqual(state.history, [
      {
        version: 1,
        summary: "config apply (+1 -0 lines)",
        by: "bob@db1",
        atMs: T0,
        scope: "configuration",
      },
    ]);
  });

  test("node attributes are set, overwritten and removed; removing a missing one is refused", () => {
    const base = { by: "alice", atMs: T0 };
    const { state, results } = run([
      { type: "node_attribute_set", node: "db2", key: "rack", value: "r1", ...base },
      { type: "node_attribute_set", node: "db2", key: "rack", value: "r2", ...base },
      { type: "node_attribute_set", node: "db2", key: "ssd", value: "yes", ...base },
      { type: "node_attribute_unset", node: "db2", key: "ssd", ...base },
      { type: "node_attribute_unset", node: "db2", key: "ssd", ...base },
    ]);
    assert.deepEqual(state.nodes, { db2: { attributes: { rack: "r2" }, standby: false } });
    assert.equal(errorOf(results[4]), "node db2 has no attribute ssd");
    assert.equal(state.version, 4);
  });

  test("cluster properties are set, overwritten and removed at runtime scope; removing a missing one is refused", () => {
    const base = { by: "agent@db1", atMs: T0 };
    const { state, results } = run([
      { type: "cluster_property", name: "db-ha_REPL_INFO", value: "db1", ...base },
      { type: "cluster_property", name: "db-ha_REPL_INFO", value: "db2", ...base },
      { type: "cluster_property", name: "other", value: "x", ...base },
      { type: "cluster_property", name: "other", value: null, ...base },
      { type: "cluster_property", name: "other", value: null, ...base },
    ]);
    assert.deepEqual(state.clusterProperties, { "db-ha_REPL_INFO": "db2" });
    assert.equal(errorOf(results[4]), "no cluster property other is set");
    assert.equal(state.configurationVersion, 0);
    assert.deepEqual(
      state.history.map((entry) => entry.summary),
      [
        "cluster property db-ha_REPL_INFO=db1",
        "cluster property db-ha_REPL_INFO=db2",
        "cluster property other=x",
        "cluster property other removed",
      ],
    );
    const { state: none } = run(
      [{ type: "cluster_property", name: "db-ha_REPL_INFO", value: null, ...base }],
      state,
    );
    assert.equal(Object.hasOwn(none, "clusterProperties"), false);
  });

  test("standby and maintenance flags", () => {
    const base = { by: "alice", atMs: T0 };
    const { state } = run([
      { type: "node_standby", node: "db1", standby: true, ...base },
      { type: "maintenance", on: true, ...base },
    ]);
    assert.deepEqual(state.nodes.db1, { attributes: {}, standby: true });
    assert.equal(state.maintenance, true);
    assert.deepEqual(
      state.history.map((entry) => entry.summary),
      ["node db1 standby", "maintenance on"],
    );
  });

  test("fail counts count up, remember the last failure, and reset per node or per resource", () => {
    const base = { by: "agent@db1" };
    const { state, results } = run([
      { type: "fail_count_increment", resource: "web", node: "db1", atMs: T0, ...base },
      { type: "fail_count_increment", resource: "web", node: "db1", atMs: T0 + 5000, ...base },
      { type: "fail_count_increment", resource: "web", node: "db2", atMs: T0 + 6000, ...base },
      { type: "fail_count_reset", resource: "web", node: "db2", atMs: T0 + 7000, ...base },
      { type: "fail_count_reset", resource: "web", node: "db2", atMs: T0 + 8000, ...base },
    ]);
    assert.deepEqual(state.failCounts, { web: { db1: { count: 2, lastFailureAtMs: T0 + 5000 } } });
    assert.equal(errorOf(results[4]), "no fail count is recorded for web on db2");
    assert.equal(state.history[1]?.summary, "fail count web on db1 now 2");

    const cleared = run(
      [{ type: "fail_count_reset", resource: "web", atMs: T0 + 9000, ...base }],
      state,
    );
    assert.deepEqual(cleared.state.failCounts, {});
    assert.equal(cleared.state.history.at(-1)?.summary, "fail counts web reset on all nodes");
    assert.equal(
      errorOf(run([{ type: "fail_count_reset", resource: "db", atMs: T0, ...base }]).results[0]),
      "no fail counts are recorded for db",
    );
  });

  test("cleanup of a clone's name cleans every copy, and only that clone's", () => {
    const base = { by: "agent@db1" };
    const fail = (resource: string, node: string): Command => ({
      type: "fail_count_increment",
      resource,
      node,
      atMs: T0,
      ...base,
    });
    const { state } = run([
      fail("db:0", "db1"),
      fail("db:1", "db2"),
      fail("web:0/ip", "db1"),
      fail("db-ha:0", "db1"),
      fail("db", "db2"),
    ]);
    const onlyDb1 = run(
      [{ type: "fail_count_reset", resource: "db", node: "db1", atMs: T0, ...base }],
      state,
    );
    assert.deepEqual(Object.keys(onlyDb1.state.failCounts).sort(), [
      "db",
      "db-ha:0",
      "db:1",
      "web:0/ip",
    ]);
    const everywhere = run(
      [
        { type: "fail_count_reset", resource: "db", atMs: T0, ...base },
        { type: "fail_count_reset", resource: "web", atMs: T0, ...base },
      ],
      state,
    );
    assert.deepEqual(
      everywhere.results.map((result) => result.ok),
      [true, true],
    );
    assert.deepEqual(Object.keys(everywhere.state.failCounts), ["db-ha:0"]);
  });

  test("cleanup of a group cleans its members; of what a clone wraps, the clone's copies", () => {
    const base = { by: "agent@db1", atMs: T0 };
    const fail = (resource: string, node: string): Command => ({
      type: "fail_count_increment",
      resource,
      node,
      ...base,
    });
    const reset = (resource: string, node?: string): Command => ({
      type: "fail_count_reset",
      resource,
      ...(node === undefined ? {} : { node }),
      ...base,
    });
    const document = {
      resources: {
        "web-ip": { agent: "vip" },
        web: { agent: "exec:/bin/true" },
        "app-ip": { agent: "vip" },
        app: { agent: "exec:/bin/true" },
        db: { agent: "exec:/bin/true" },
      },
      groups: { "web-stack": ["web-ip", "web"], "app-stack": { members: ["app-ip", "app"] } },
      clones: { "app-clone": { of: "app-stack" }, "db-ha": { of: "db" } },
    };
    const { state } = run([
      { type: "config_apply", text: "", document, expectedVersion: 0, ...base },
      fail("web-ip", "db1"),
      fail("web", "db2"),
      fail("app-clone:0/app-ip", "db1"),
      fail("app-clone:1/app", "db2"),
      fail("db-ha:1", "db2"),
    ]);
    const remaining = (...commands: Command[]) => {
      const after = run(commands, state);
      assert.ok(
        after.results.every((result) => result.ok),
        JSON.stringify(after.results),
      );
      return Object.keys(after.state.failCounts).sort();
    };
    // A group has no fail count of its own: its name cleans its members, on one node or all.
    assert.deepEqual(remaining(reset("web-stack", "db2")), [
      "app-clone:0/app-ip",
      "app-clone:1/app",
      "db-ha:1",
      "web-ip",
    ]);
    assert.deepEqual(remaining(reset("web-stack")), [
      "app-clone:0/app-ip",
      "app-clone:1/app",
      "db-ha:1",
    ]);
    // A cloned group: its name cleans every copy of every member, a member's every copy of it.
    assert.deepEqual(remaining(reset("app-stack")), ["db-ha:1", "web", "web-ip"]);
    assert.deepEqual(remaining(reset("app")), ["app-clone:0/app-ip", "db-ha:1", "web", "web-ip"]);
    assert.deepEqual(remaining(reset("db")), [
      "app-clone:0/app-ip",
      "app-clone:1/app",
      "web",
      "web-ip",
    ]);
    const nothing = run([reset("web-stack")], run([reset("web-stack")], state).state);
    assert.equal(
      errorOf(nothing.results[0]),
      "no fail counts are recorded for group web-stack's members (web-ip, web)",
    );
  });

  test("a configuration change clears the fail counts of the definitions it changes or removes", () => {
    const base = { by: "agent@db1", atMs: T0 };
    const document = (monitorTimeoutMs: number) => ({
      resources: {
        web: { agent: "exec:/bin/web", operations: { monitor: { timeout_ms: monitorTimeoutMs } } },
        db: { agent: "exec:/bin/db" },
        cache: { agent: "exec:/bin/cache" },
        gone: { agent: "exec:/bin/gone" },
      },
      clones: { "web-c": { of: "web" } },
    });
    const apply = (doc: object, expectedVersion: number): Command => ({
      type: "config_apply",
      text: JSON.stringify(doc),
      document: doc as never,
      expectedVersion,
      ...base,
    });
    const fail = (resource: string): Command => ({
      type: "fail_count_increment",
      resource,
      node: "db1",
      fatal: true,
      ...base,
    });
    const { resources, ...rest } = document(1);
    const { gone: _, ...kept } = resources;
    const fixed = {
      ...rest,
      resources: { ...kept, web: document(5000).resources.web, db: { agent: "exec:/bin/db2" } },
    };
    const { state } = run([
      apply(document(1), 0),
      fail("web-c:0"),
      fail("web-c:1"),
      fail("db"),
      fail("cache"),
      fail("gone"),
      apply(fixed, 1),
    ]);
    assert.deepEqual(Object.keys(state.failCounts), ["cache"]);
  });

  test("names that exist on Object.prototype are plain names", () => {
    const base = { by: "alice", atMs: T0 };
    const { state, results } = run([
      { type: "node_attribute_unset", node: "constructor", key: "toString", ...base },
      { type: "node_attribute_set", node: "constructor", key: "toString", value: "x", ...base },
      { type: "fail_count_reset", resource: "toString", ...base },
    ]);
    assert.equal(errorOf(results[0]), "node constructor has no attribute toString");
    assert.deepEqual(results[1], { ok: true, version: 1 });
    assert.equal(errorOf(results[2]), "no fail counts are recorded for toString");
    assert.deepEqual(Object.keys(state.nodes), ["constructor"]);
  });

  test("resource, agent and operator records keyed by Object.prototype names are plain too", () => {
    const base = { by: "alice", atMs: T0 };
    const { state, results } = run([
      {
        type: "resource_report",
        resource: "toString",
        node: "constructor",
        incarnation: 0,
        active: "started",
        ...base,
      },
      { type: "node_shutdown", node: "constructor", incarnation: 0, ...base },
      { type: "resource_clear", resource: "toString", ...base },
      { type: "fail_count_reset", resource: "toString", node: "constructor", ...base },
      {
        type: "node_probed",
        node: "constructor",
        incarnation: 0,
        configVersion: 0,
        active: [{ resource: "toString", role: "started" }],
        ...base,
      },
      { type: "resource_ban", resource: "toString", node: "constructor", ...base },
      {
        type: "resource_report",
        resource: "valueOf",
        node: "constructor",
        incarnation: 0,
        active: null,
        ...base,
      },
    ]);
    assert.equal(
      errorOf(results[0]),
      "report from node constructor run 0, which is not the run that probed (none)",
    );
    assert.equal(
      errorOf(results[1]),
      "node constructor run 0 has not probed its resources; nothing to move away",
    );
    assert.equal(errorOf(results[2]), "toString has no move or ban to clear");
    assert.equal(errorOf(results[3]), "no fail counts are recorded for toString");
    assert.deepEqual(results.slice(4), [
      { ok: true, version: 1 },
      { ok: true, version: 2 },
      { ok: true, version: 3 },
    ]);
    assert.deepEqual(state.resources, { toString: { constructor: { active: "started" } } });
    assert.deepEqual(Object.keys(state.agents), ["constructor"]);
    assert.deepEqual(state.operator, { toString: { bans: ["constructor"] } });
  });

  test("a document key __proto__ stays data and does not change any prototype", () => {
    const payload = `{"type":"config_apply","text":"x","document":{"__proto__":{"polluted":1}},"expectedVersion":0,"by":"bob","atMs":0}`;
    const { state, results } = run([payload]);
    assert.deepEqual(results, [{ ok: true, version: 1 }]);
    assert.equal(Object.getPrototypeOf(state.config.document), Object.prototype);
    assert.deepEqual(Object.keys(state.config.document), ["__proto__"]);
    assert.match(serializeState(state), /"document":\{"__proto__":\{"polluted":1\}\}/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

const RUNTIME = { by: "agent@db1", atMs: T0 };
const OPERATOR = { by: "alice@db1", atMs: T0 };

const probed = (node: string, incarnation: number, configVersion = 0, active: Found[] = []) =>
  ({
    type: "node_probed",
    node,
    incarnation,
    configVersion,
    active,
    ...RUNTIME,
  }) satisfies Command;

type Found = { resource: string; role: "started" | "promoted" | "unpromoted" };

const report = (
  resource: string,
  node: string,
  incarnation: number,
  active: "started" | "promoted" | "unpromoted" | null,
  stopFailed?: boolean,
): Command => ({
  type: "resource_report",
  resource,
  node,
  incarnation,
  active,
  ...(stopFailed === undefined ? {} : { stopFailed }),
  ...RUNTIME,
});

/** A resource_targets command based on whatever version the state is at when it is applied. */
function targets(
  state: ClusterState,
  ...changes: Array<[resource: string, node: string, target: ResourceCell["target"] & string]>
): Command {
  return {
    type: "resource_targets",
    changes: changes.map(([resource, node, target]) => ({ resource, node, target })),
    expectedVersion: state.version,
    by: "policy@db1",
    atMs: T0,
  };
}

/** Applies each step to the state the previous ones produced, requiring every one to succeed. */
function runOk(
  start: ClusterState,
  ...steps: Array<Command | ((state: ClusterState) => Command)>
): ClusterState {
  let state = start;
  for (const step of steps) {
    const command = typeof step === "function" ? step(state) : step;
    const applied = applyCommand(state, encodeCommand(command));
    assert.ok(applied.result.ok, `${command.type}: ${JSON.stringify(applied.result)}`);
    state = applied.state;
  }
  return state;
}

/** db1 and db2 have probed (run 1) with nothing running. */
const twoProbed = () => runOk(initialState(), probed("db1", 1), probed("db2", 1));

describe("resources: instructions, reports and probes", () => {
  test("a run's report older than its last probe, or than its last report of the resource, is refused", () => {
    const seq = <T extends Command>(command: T, n: number): T => ({ ...command, seq: n });
    // Started (report 2), stopped across a lease gap, probed again (probe 5) finding nothing:
    // the report of the start, resent and committed only now, must not say it runs.
    const started = runOk(
      initialState(),
      seq(probed("db1", 1), 1),
      (s) => targets(s, ["web", "db1", "started"]),
      seq(probed("db1", 1), 5),
    );
    const late = run([seq(report("web", "db1", 1, "started"), 2)], started);
    assert.match(errorOf(late.results[0]), /report 2 of web is older than the run's probe 5/);
    assert.equal(late.state.resources.web?.db1?.active, undefined);
    // In order, newer reports are taken; one not newer than the last is refused.
    const reported = runOk(started, seq(report("web", "db1", 1, "started"), 6));
    assert.equal(reported.resources.web?.db1?.active, "started");
    const again = run([seq(report("web", "db1", 1, null), 6)], reported);
    assert.match(errorOf(again.results[0]), /report 6 of web is not newer than report 6/);
    const stopped = runOk(reported, seq(report("web", "db1", 1, null), 8));
    assert.equal(stopped.resources.web?.db1?.active, undefined);
    // A probe made before a report that committed first does not undo that report.
    const probedLate = runOk(
      stopped,
      seq(probed("db1", 1, 0, [{ resource: "web", role: "started" }]), 7),
    );
    assert.equal(probedLate.resources.web?.db1?.active, undefined);
  });

  test("resource_targets sets each node's instruction, all in one change, keeping what was reported", () => {
    const before = runOk(twoProbed(), probed("db1", 1, 0, [{ resource: "web", role: "started" }]));
    assert.deepEqual(before.resources, { web: { db1: { active: "started" } } });
    const state = runOk(before, (s) =>
      targets(s, ["web", "db1", "stopped"], ["web", "db2", "started"], ["db:0", "db2", "promoted"]),
    );
    assert.deepEqual(state.resources, {
      web: { db1: { target: "stopped", active: "started" }, db2: { target: "started" } },
      "db:0": { db2: { target: "promoted" } },
    });
    assert.equal(state.version, before.version + 1);
    assert.equal(state.configurationVersion, 0, "instructions are a runtime change");
    assert.match(
      state.history.at(-1)?.summary ?? "",
      /^placement: .*start web@db2.*promote db:0@db2/,
    );
  });

  test("resource_targets is refused when anything changed since the view it was decided from", () => {
    const state = twoProbed();
    const stale = { ...targets(state, ["web", "db1", "started"]), expectedVersion: 1 };
    const { results } = run([stale], state);
    assert.match(
      errorOf(results[0]),
      /^cluster state is at version 2, your change was based on version 1; changed in between: v2 node db2 probed: nothing running/,
    );
  });

  test("a report records the role the node runs the resource in", () => {
    const state = runOk(
      twoProbed(),
      (s) => targets(s, ["db:0", "db1", "unpromoted"]),
      report("db:0", "db1", 1, "unpromoted"),
      (s) => targets(s, ["db:0", "db1", "promoted"]),
      report("db:0", "db1", 1, "promoted"),
    );
    assert.deepEqual(state.resources, {
      "db:0": { db1: { target: "promoted", active: "promoted" } },
    });
    assert.equal(state.history.at(-1)?.summary, "db:0 on db1 promoted");
  });

  test("a report is refused unless it comes from the run that probed the node", () => {
    const state = runOk(twoProbed(), (s) => targets(s, ["web", "db1", "started"]));
    const { state: after, results } = run(
      [report("web", "db1", 2, "started"), report("web", "db3", 1, "started")],
      state,
    );
    assert.equal(
      errorOf(results[0]),
      "report from node db1 run 2, which is not the run that probed (1)",
    );
    assert.equal(
      errorOf(results[1]),
      "report from node db3 run 1, which is not the run that probed (none)",
    );
    assert.equal(after, state);
  });

  test("a report of stopped removes a cell told to stop, or one with no instruction", () => {
    const state = runOk(
      twoProbed(),
      probed("db2", 1, 0, [{ resource: "db", role: "started" }]),
      (s) => targets(s, ["web", "db1", "started"]),
      report("web", "db1", 1, "started"),
      (s) => targets(s, ["web", "db1", "stopped"]),
    );
    assert.deepEqual(state.resources, {
      web: { db1: { target: "stopped", active: "started" } },
      db: { db2: { active: "started" } },
    });
    const stopped = runOk(state, report("web", "db1", 1, null), report("db", "db2", 1, null));
    assert.deepEqual(stopped.resources, {});
    assert.equal(stopped.history.at(-1)?.summary, "db on db2 stopped");
  });

  test("a report of stopped keeps a cell whose instruction is a role: the node starts it again", () => {
    const state = runOk(
      twoProbed(),
      (s) => targets(s, ["web", "db1", "started"]),
      report("web", "db1", 1, "started"),
      report("web", "db1", 1, null),
    );
    assert.deepEqual(state.resources, { web: { db1: { target: "started" } } });
  });

  test("a primary reported stopped untold is told to start again unpromoted, not promoted", () => {
    const state = runOk(
      twoProbed(),
      (s) => targets(s, ["db:0", "db1", "promoted"], ["db:1", "db2", "unpromoted"]),
      report("db:0", "db1", 1, "promoted"),
      report("db:1", "db2", 1, "unpromoted"),
      report("db:0", "db1", 1, null),
    );
    assert.deepEqual(state.resources, {
      "db:0": { db1: { target: "unpromoted" } },
      "db:1": { db2: { target: "unpromoted", active: "unpromoted" } },
    });
  });

  test("a failed stop marks the cell unknown and keeps it, assumed running if the node did not say", () => {
    const state = runOk(
      twoProbed(),
      (s) => targets(s, ["web", "db1", "started"]),
      report("web", "db1", 1, "started"),
      (s) => targets(s, ["web", "db1", "stopped"], ["db:1", "db2", "stopped"]),
      report("web", "db1", 1, null, true),
      report("db:1", "db2", 1, "promoted", true),
    );
    assert.deepEqual(state.resources, {
      web: { db1: { target: "stopped", active: "started", stopFailed: true } },
      "db:1": { db2: { target: "stopped", active: "promoted", stopFailed: true } },
    });
    assert.equal(state.history.at(-1)?.summary, "db:1 on db2 stop failed");
  });

  test("a new run's probe replaces everything recorded for the node, and no other node", () => {
    const before = runOk(
      twoProbed(),
      (s) =>
        targets(s, ["web", "db1", "started"], ["db", "db1", "stopped"], ["db", "db2", "started"]),
      report("web", "db1", 1, "started"),
      { type: "node_shutdown", node: "db1", incarnation: 1, ...RUNTIME },
    );
    assert.equal(before.agents.db1?.shuttingDown, true);
    const state = runOk(before, probed("db1", 2, 0, [{ resource: "ip", role: "started" }]));
    assert.deepEqual(state.resources, {
      db: { db2: { target: "started" } },
      ip: { db1: { active: "started" } },
    });
    assert.deepEqual(state.agents.db1, {
      incarnation: 2,
      probedConfigVersion: 0,
      shuttingDown: false,
    });
    assert.deepEqual(state.agents.db2, {
      incarnation: 1,
      probedConfigVersion: 0,
      shuttingDown: false,
    });
    assert.equal(state.history.at(-1)?.summary, "node db1 probed: ip started");
  });

  test("the same run probing a new configuration adds what it found to what it reported", () => {
    const state = runOk(
      twoProbed(),
      (s) => targets(s, ["web", "db1", "started"]),
      report("web", "db1", 1, "started"),
      { type: "node_shutdown", node: "db1", incarnation: 1, ...RUNTIME },
      applyConfig("resources: {}\n", 0),
      (s) => probed("db1", 1, s.config.version, [{ resource: "db:0", role: "promoted" }]),
    );
    assert.equal(state.config.version, 6);
    assert.deepEqual(state.resources, {
      web: { db1: { target: "started", active: "started" } },
      "db:0": { db1: { active: "promoted" } },
    });
    assert.deepEqual(state.agents.db1, {
      incarnation: 1,
      probedConfigVersion: 6,
      shuttingDown: true,
    });
  });

  test("a probe against a configuration no longer in force is refused", () => {
    const state = runOk(initialState(), applyConfig("a: 1\n", 0), applyConfig("a: 2\n", 1));
    const { state: after, results } = run([probed("db1", 1, 1)], state);
    assert.equal(
      errorOf(results[0]),
      "node db1 probed against configuration version 1, but version 2 is in force; it probes again",
    );
    assert.equal(after, state);
    assert.deepEqual(runOk(state, probed("db1", 1, 2)).agents, {
      db1: { incarnation: 1, probedConfigVersion: 2, shuttingDown: false },
    });
  });

  test("node_released forgets every cell of the node and its run", () => {
    const state = runOk(
      twoProbed(),
      (s) =>
        targets(s, ["web", "db1", "started"], ["db", "db1", "stopped"], ["db", "db2", "started"]),
      report("web", "db1", 1, null, true),
      { type: "node_released", node: "db1", by: "policy@db2", atMs: T0 },
    );
    assert.deepEqual(state.resources, { db: { db2: { target: "started" } } });
    assert.deepEqual(Object.keys(state.agents), ["db2"]);
    assert.equal(
      state.history.at(-1)?.summary,
      "node db1 released (lease over): its resources may run elsewhere",
    );
    const { results } = run([report("web", "db1", 1, "started")], state);
    assert.match(errorOf(results[0]), /run 1, which is not the run that probed \(none\)/);
  });

  test("node_shutdown is accepted only from the run that probed", () => {
    const shutdown = (node: string, incarnation: number): Command => ({
      type: "node_shutdown",
      node,
      incarnation,
      ...RUNTIME,
    });
    const state = twoProbed();
    const { state: after, results } = run(
      [shutdown("db3", 1), shutdown("db1", 2), shutdown("db1", 1)],
      state,
    );
    assert.equal(
      errorOf(results[0]),
      "node db3 run 1 has not probed its resources; nothing to move away",
    );
    assert.equal(
      errorOf(results[1]),
      "node db1 run 2 has not probed its resources; nothing to move away",
    );
    assert.deepEqual(results[2], { ok: true, version: 3 });
    assert.deepEqual(after.agents.db1, {
      incarnation: 1,
      probedConfigVersion: 0,
      shuttingDown: true,
    });
    assert.equal(after.agents.db2?.shuttingDown, false);
    assert.equal(after.history.at(-1)?.summary, "node db1 shutting down");
  });
});

describe("operator overrides", () => {
  test("move sets the preferred node, replacing an earlier move", () => {
    const state = runOk(
      initialState(),
      { type: "resource_move", resource: "web", node: "db1", ...OPERATOR },
      { type: "resource_move", resource: "web", node: "db2", ...OPERATOR },
    );
    assert.deepEqual(state.operator, { web: { prefer: "db2" } });
    assert.equal(state.history.at(-1)?.summary, "web moved to db2");
    assert.equal(state.configurationVersion, 2, "an operator's move is a configuration change");
  });

  test("bans accumulate, each node once, in name order", () => {
    const ban = (node: string): Command => ({
      type: "resource_ban",
      resource: "web",
      node,
      ...OPERATOR,
    });
    const state = runOk(initialState(), ban("db3"), ban("db1"), ban("db3"));
    assert.deepEqual(state.operator, { web: { bans: ["db1", "db3"] } });
    assert.equal(state.history.at(-1)?.summary, "web banned from db3");
  });

  test("clear removes moves and bans but not a stop; with nothing to clear it is refused", () => {
    const state = runOk(
      initialState(),
      { type: "resource_move", resource: "web", node: "db1", ...OPERATOR },
      { type: "resource_ban", resource: "web", node: "db2", ...OPERATOR },
      { type: "resource_role", resource: "web", stopped: true, ...OPERATOR },
      { type: "resource_ban", resource: "db", node: "db2", ...OPERATOR },
      { type: "resource_clear", resource: "web", ...OPERATOR },
    );
    assert.deepEqual(state.operator, { web: { stopped: true }, db: { bans: ["db2"] } });
    assert.equal(state.history.at(-1)?.summary, "web move/ban cleared");
    const { state: after, results } = run(
      [
        { type: "resource_clear", resource: "web", ...OPERATOR },
        { type: "resource_clear", resource: "ip", ...OPERATOR },
        { type: "resource_clear", resource: "db", ...OPERATOR },
      ],
      state,
    );
    assert.equal(errorOf(results[0]), "web has no move or ban to clear");
    assert.equal(errorOf(results[1]), "ip has no move or ban to clear");
    assert.deepEqual(results[2], { ok: true, version: state.version + 1 });
    assert.deepEqual(after.operator, { web: { stopped: true } });
  });

  test("role stopped is set and taken back; an empty override leaves no entry", () => {
    const role = (stopped: boolean): Command => ({
      type: "resource_role",
      resource: "web",
      stopped,
      ...OPERATOR,
    });
    const stopped = runOk(initialState(), role(true));
    assert.deepEqual(stopped.operator, { web: { stopped: true } });
    assert.equal(stopped.history.at(-1)?.summary, "web stopped by operator");
    const started = runOk(stopped, role(false));
    assert.deepEqual(started.operator, {});
    assert.equal(started.history.at(-1)?.summary, "web started by operator");
    const moved = runOk(
      started,
      { type: "resource_move", resource: "web", node: "db1", ...OPERATOR },
      role(true),
      role(false),
    );
    assert.deepEqual(moved.operator, { web: { prefer: "db1" } });
  });
});

describe("fail counts: fatal failures and cleanup", () => {
  test("a fatal failure sets the count to FATAL_FAIL_COUNT; later failures keep it there", () => {
    const increment = (fatal?: boolean): Command => ({
      type: "fail_count_increment",
      resource: "web",
      node: "db1",
      ...(fatal === undefined ? {} : { fatal }),
      ...RUNTIME,
    });
    const state = runOk(initialState(), increment(), increment(true));
    assert.deepEqual(state.failCounts, {
      web: { db1: { count: FATAL_FAIL_COUNT, lastFailureAtMs: T0 } },
    });
    assert.equal(FATAL_FAIL_COUNT, 1_000_000);
    assert.equal(state.history.at(-1)?.summary, "web failed to start on db1: banned there");
    const later = runOk(state, increment(), increment(false));
    assert.equal(later.failCounts.web?.db1?.count, FATAL_FAIL_COUNT);
  });

  test("reset clears failed-stop marks on the node, or on every node", () => {
    const failedStops = runOk(
      twoProbed(),
      { type: "fail_count_increment", resource: "web", node: "db1", ...RUNTIME },
      { type: "fail_count_increment", resource: "web", node: "db2", ...RUNTIME },
      (s) =>
        targets(s, ["web", "db1", "stopped"], ["web", "db2", "stopped"], ["db", "db1", "stopped"]),
      report("web", "db1", 1, "started", true),
      report("web", "db2", 1, null, true),
      report("db", "db1", 1, null, true),
    );
    const reset = (resource: string, node?: string): Command => ({
      type: "fail_count_reset",
      resource,
      ...(node === undefined ? {} : { node }),
      ...OPERATOR,
    });
    const one = runOk(failedStops, reset("web", "db1"));
    assert.deepEqual(one.resources, {
      web: {
        db1: { target: "stopped", active: "started" },
        db2: { target: "stopped", active: "started", stopFailed: true },
      },
      db: { db1: { target: "stopped", active: "started", stopFailed: true } },
    });
    assert.deepEqual(one.failCounts, { web: { db2: { count: 1, lastFailureAtMs: T0 } } });

    const all = runOk(failedStops, reset("web"));
    assert.deepEqual(all.resources.web, {
      db1: { target: "stopped", active: "started" },
      db2: { target: "stopped", active: "started" },
    });
    assert.deepEqual(all.failCounts, {});

    // No fail count, only a failed stop: the cleanup is still accepted.
    const withoutCount = runOk(failedStops, reset("db", "db1"));
    assert.deepEqual(withoutCount.resources.db, { db1: { target: "stopped", active: "started" } });
    const { results } = run([reset("db", "db1")], withoutCount);
    assert.equal(errorOf(results[0]), "no fail counts are recorded for db");
  });

  test("reset on a node clears its failed stop even when only other nodes have fail counts", () => {
    const state = runOk(
      twoProbed(),
      { type: "fail_count_increment", resource: "web", node: "db1", ...RUNTIME },
      (s) => targets(s, ["web", "db2", "stopped"]),
      report("web", "db2", 1, null, true),
    );
    const cleaned = runOk(state, {
      type: "fail_count_reset",
      resource: "web",
      node: "db2",
      ...OPERATOR,
    });
    assert.deepEqual(cleaned.resources, { web: { db2: { target: "stopped", active: "started" } } });
    assert.deepEqual(cleaned.failCounts, state.failCounts);
  });
});

describe("resource records stay tidy under any sequence of commands", () => {
  test("no empty cells or node maps, no empty overrides, bans sorted and unique", () => {
    fc.assert(
      fc.property(payloadsArbitrary({ minLength: 20, maxLength: 80 }), (payloads) => {
        let state = initialState();
        for (const payload of payloads) state = applyCommand(state, payload).state;
        for (const [key, byNode] of Object.entries(state.resources)) {
          assert.ok(Object.keys(byNode).length > 0, `resources.${key} is empty`);
          for (const [node, cell] of Object.entries(byNode)) {
            assert.ok(Object.keys(cell).length > 0, `resources.${key}.${node} is empty`);
            if (cell.stopFailed !== undefined) {
              assert.equal(cell.stopFailed, true);
              assert.ok(cell.active !== undefined, "a failed stop is assumed running");
            }
          }
        }
        for (const [resource, override] of Object.entries(state.operator)) {
          assert.ok(Object.keys(override).length > 0, `operator.${resource} is empty`);
          if (override.bans !== undefined) {
            assert.deepEqual(override.bans, [...new Set(override.bans)].sort());
          }
        }
        for (const [node, agent] of Object.entries(state.agents)) {
          assert.ok(
            agent.probedConfigVersion <= state.config.version,
            `agents.${node} probed a configuration from the future`,
          );
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe("compare-and-set on the version", () => {
  test("a change based on the current version is accepted", () => {
    const { results } = run([applyConfig("a: 1\n", 0), applyConfig("a: 2\n", 1)]);
    assert.deepEqual(results, [
      { ok: true, version: 1 },
      { ok: true, version: 2 },
    ]);
  });

  test("a change based on an old version is refused, naming each change in between", () => {
    const { state, results } = run([
      ...[1, 2, 3, 4, 5].map((v) => applyConfig(`a: ${v}\n`, v - 1)),
      { type: "node_standby", node: "db2", standby: true, by: "alice", atMs: T0 },
      applyConfig("a: 7\nb: 1\n", 6, "bob", T0 + 60_000),
      applyConfig("a: 99\n", 5, "carol"),
    ]);
    assert.equal(
      errorOf(results[7]),
      "config is at version 7, your change was based on version 5; changed in between: " +
        "v6 node db2 standby (by alice at 2026-11-23T12:00:00Z), " +
        "v7 config apply (+2 -1 lines) (by bob at 2026-11-23T12:01:00Z); " +
        "review with `vigil config show` and apply again",
    );
    assert.equal(state.version, 7, "a refused command does not take a version");
    assert.equal(state.config.text, "a: 7\nb: 1\n");
  });

  test("runtime changes in between do not refuse a configuration change", () => {
    const { state, results } = run([
      applyConfig("a: 1\n", 0),
      { type: "fail_count_increment", resource: "web", node: "db1", by: "agent@db1", atMs: T0 },
      { type: "node_released", node: "db2", by: "policy@db1", atMs: T0 },
      applyConfig("a: 2\n", 1),
    ]);
    assert.deepEqual(results[3], { ok: true, version: 4 });
    assert.equal(state.configurationVersion, 4);
    assert.equal(state.config.version, 4);
  });

  test("a runtime change based on an old version is refused by any change in between", () => {
    const { results } = run([
      { type: "fail_count_increment", resource: "web", node: "db1", by: "agent@db1", atMs: T0 },
      {
        type: "resource_targets",
        changes: [{ resource: "web", node: "db2", target: "started" }],
        by: "policy@db1",
        atMs: T0,
        expectedVersion: 0,
      },
    ]);
    assert.equal(
      errorOf(results[1]),
      "cluster state is at version 1, your change was based on version 0; changed in between: " +
        "v1 fail count web on db1 now 1 (by agent@db1 at 2026-11-23T12:00:00Z)",
    );
  });

  test("a version from the future is refused", () => {
    assert.equal(
      errorOf(run([applyConfig("a: 1\n", 3)]).results[0]),
      "config is at version 0, but your change was based on version 3, which does not exist yet",
    );
  });

  test("config_apply without expectedVersion is refused", () => {
    const payload = JSON.stringify({
      type: "config_apply",
      text: "",
      document: {},
      by: "bob",
      atMs: 0,
    });
    assert.match(
      errorOf(run([payload]).results[0]),
      /^invalid config_apply command: expectedVersion: /,
    );
  });

  test("a refusal lists at most ten changes, then a count, and says when history ran out", () => {
    const standbys: Command[] = Array.from({ length: 70 }, (_, i) => ({
      type: "node_standby",
      node: "db1",
      standby: i % 2 === 0,
      by: "alice",
      atMs: T0 + i * 1000,
    }));
    const { results } = run([...standbys, applyConfig("a: 1\n", 10)]);
    const error = errorOf(results[70]);
    assert.match(
      error,
      /^config is at version 70, your change was based on version 10; changed in between: v21 node db1/,
    );
    assert.match(
      error,
      /v30 node db1 standby off \(by alice at [^)]+\), and 40 more, and earlier changes since v10 that the history \(last 50\) no longer holds;/,
    );
    assert.doesNotMatch(error, /v31 /);
  });
});

describe("refusing bad payloads", () => {
  const cases: [string, string, RegExp][] = [
    ["not JSON", "{", /^command is not valid JSON: /],
    ["not an object", "[1]", /^command must be a JSON object, got an array$/],
    [
      "unknown type",
      `{"type":"reboot","by":"a","atMs":0}`,
      /^invalid command: type: expected "type" to be one of config_apply, /,
    ],
    [
      "bad field types and unknown fields",
      `{"type":"node_standby","node":"db1","standby":"yes","by":"a","atMs":0,"force":true}`,
      /^invalid node_standby command: standby: .*expected boolean.*; unknown field force$/,
    ],
    [
      "bad node name",
      `{"type":"node_standby","node":"-x","standby":true,"by":"a","atMs":0}`,
      /^invalid node_standby command: node: expected a host name such as alpha or node-1$/,
    ],
    [
      "instructions without a compare-and-set version",
      `{"type":"resource_targets","changes":[{"resource":"web","node":"db1","target":"started"}],"by":"a","atMs":0}`,
      /^invalid resource_targets command: expectedVersion: /,
    ],
    [
      "an empty list of instructions",
      `{"type":"resource_targets","changes":[],"expectedVersion":0,"by":"a","atMs":0}`,
      /^invalid resource_targets command: changes: expected at least one change$/,
    ],
    [
      "an unknown role",
      `{"type":"resource_report","resource":"web","node":"db1","incarnation":1,"active":"master","by":"a","atMs":0}`,
      /^invalid resource_report command: active: /,
    ],
    [
      "a report without its run",
      `{"type":"resource_report","resource":"web","node":"db1","active":null,"by":"a","atMs":0}`,
      /^invalid resource_report command: incarnation: /,
    ],
    [
      "a document that is not a mapping",
      `{"type":"config_apply","text":"","document":[],"expectedVersion":0,"by":"a","atMs":0}`,
      /^invalid config_apply command: document: expected the configuration document to be a JSON object/,
    ],
    [
      "negative time",
      `{"type":"maintenance","on":true,"by":"a","atMs":-5}`,
      /^invalid maintenance command: atMs: expected milliseconds since the epoch \(not negative\)$/,
    ],
  ];
  for (const [name, payload, expected] of cases) {
    test(`${name} is refused with a message, leaving the state alone`, () => {
      const before = initialState();
      const { state, result } = applyCommand(before, payload);
      assert.match(errorOf(result), expected);
      assert.equal(state, before);
    });
  }

  test("any payload at all is answered, never thrown, and never mutates the state it is given", () => {
    fc.assert(
      fc.property(payloadsArbitrary({ maxLength: 40 }), (payloads) => {
        let state: ClusterState = deepFreeze(initialState());
        let successes = 0;
        for (const payload of payloads) {
          const applied = applyCommand(state, payload);
          if (applied.result.ok) {
            successes++;
            assert.equal(applied.result.version, successes);
          } else {
            assert.equal(applied.state, state);
            assert.ok(applied.result.error.length > 0);
          }
          state = deepFreeze(applied.state);
        }
        assert.equal(state.version, successes);
      }),
      { numRuns: 300 },
    );
  });
});

describe("transient attributes and fencing", () => {
  const base = { by: "agent@db1", atMs: T0 };
  const probed: Command = {
    type: "node_probed",
    node: "db1",
    incarnation: 7,
    configVersion: 0,
    active: [],
    ...base,
  };

  test("a run sets and removes its own attributes; another run's are refused; a new run starts bare", () => {
    const { state, results } = run([
      probed,
      {
        type: "node_transient_attribute",
        node: "db1",
        incarnation: 7,
        key: "connectivity",
        value: "2",
        ...base,
      },
      {
        type: "node_transient_attribute",
        node: "db1",
        incarnation: 6,
        key: "connectivity",
        value: "0",
        ...base,
      },
    ]);
    assert.deepEqual(state.agents.db1?.attributes, { connectivity: "2" });
    assert.match(errorOf(results[2]), /not the run that probed/);
    const removed = run(
      [
        {
          type: "node_transient_attribute",
          node: "db1",
          incarnation: 7,
          key: "connectivity",
          value: null,
          ...base,
        },
      ],
      state,
    );
    assert.equal(removed.state.agents.db1?.attributes, undefined);
    const reprobed = run([{ ...probed, incarnation: 8 } as Command], state);
    assert.equal(reprobed.state.agents.db1?.attributes, undefined);
    const sameRun = run([probed], state);
    assert.deepEqual(sameRun.state.agents.db1?.attributes, { connectivity: "2" });
  });

  test("a run's own write older than one applied is refused, also after a removal: an offset read before a stop does not outlive its withdrawal", () => {
    const write = (value: string | null, seq?: number): Command => ({
      type: "node_transient_attribute",
      node: "db1",
      incarnation: 7,
      key: "replication-offset-db",
      value,
      ...(seq === undefined ? {} : { seq }),
      ...base,
    });
    // The monitor's write (seq 3) was resent and commits after the stop's withdrawal (seq 4).
    const { state, results } = run([probed, write("1903", 2), write(null, 4), write("1903", 3)]);
    assert.ok(results.slice(0, 3).every((result) => result.ok));
    assert.match(
      errorOf(results[3]),
      /attribute replication-offset-db write 3 is not newer than write 4; node db1 writes what it holds now/,
    );
    assert.equal(state.agents.db1?.attributes, undefined);
    assert.deepEqual(state.agents.db1?.attributeSeqs, { "replication-offset-db": 4 });
    // The run's later write applies; so does one without a sequence (another node's, an
    // operator's), which leaves the run's order alone.
    const later = run([write("0", 5), write("7")], state);
    assert.ok(later.results.every((result) => result.ok));
    assert.deepEqual(later.state.agents.db1?.attributes, { "replication-offset-db": "7" });
    assert.deepEqual(later.state.agents.db1?.attributeSeqs, { "replication-offset-db": 5 });
    assert.match(errorOf(run([write("9", 5)], later.state).results[0]), /not newer than write 5/);
    // Kept across the run's own probes and in snapshots; a new run starts without them.
    assert.deepEqual(run([probed], later.state).state.agents.db1?.attributeSeqs, {
      "replication-offset-db": 5,
    });
    assert.deepEqual(
      restoreState(serializeState(later.state)).agents.db1?.attributeSeqs,
      later.state.agents.db1?.attributeSeqs,
    );
    const reprobed = run([{ ...probed, incarnation: 8 } as Command], later.state);
    assert.equal(reprobed.state.agents.db1?.attributeSeqs, undefined);
  });

  test("a run asks to be fenced (on_fail fence): kept across its own probes, gone with a new run", () => {
    const request = (incarnation: number): Command => ({
      type: "node_fence_request",
      node: "db1",
      incarnation,
      resource: "web",
      reason: "web failed its monitor (on_fail fence): failed",
      ...base,
    });
    const { state, results } = run([probed, request(6), request(7)]);
    assert.match(errorOf(results[1]), /fence request from node db1 run 6, which is not the run/);
    assert.deepEqual(state.agents.db1?.fenceRequested, {
      resource: "web",
      reason: "web failed its monitor (on_fail fence): failed",
    });
    assert.equal(
      state.history.at(-1)?.summary,
      "node db1 to be fenced: web failed (on_fail fence)",
    );
    assert.deepEqual(run([probed], state).state.agents.db1?.fenceRequested?.resource, "web");
    assert.equal(
      run([{ ...probed, incarnation: 8 } as Command], state).state.agents.db1?.fenceRequested,
      undefined,
    );
    assert.deepEqual(restoreState(serializeState(state)), state);
  });

  test("node_fenced: success releases the node and is recorded; the history is bounded", () => {
    const fenced = (ok: boolean): Command => ({
      type: "node_fenced",
      node: "db1",
      ok,
      action: "reboot",
      devices: ["ipmi"],
      detail: ok ? "ok" : "exit 1",
      ...base,
    });
    const { state } = run([probed, fenced(false)]);
    assert.ok(state.agents.db1, "a failed fence releases nothing");
    const after = run([fenced(true)], state).state;
    assert.equal(after.agents.db1, undefined);
    assert.deepEqual(
      after.fenceHistory.map((event) => event.ok),
      [false, true],
    );
    const many = run(Array.from({ length: 25 }, () => fenced(false))).state;
    assert.equal(many.fenceHistory.length, 20);
  });

  test("node_fenced is counted per node and result, beyond the history's bound", () => {
    const fenced = (node: string, ok: boolean, action: "reboot" | "off" | "confirm"): Command => ({
      type: "node_fenced",
      node,
      ok,
      action,
      devices: action === "confirm" ? [] : ["ipmi"],
      detail: ok ? "ok" : "exit 1",
      ...base,
    });
    assert.deepEqual(initialState().fenceCounts, {});
    const { state } = run([
      ...Array.from({ length: 25 }, () => fenced("db1", false, "reboot")),
      fenced("db1", true, "off"),
      fenced("db2", true, "confirm"),
      // A name Object.prototype has: counted as its own node.
      fenced("constructor", true, "reboot"),
    ]);
    assert.equal(state.fenceHistory.length, 20);
    assert.deepEqual(state.fenceCounts, {
      db1: { success: 1, failure: 25, confirmed: 0 },
      db2: { success: 0, failure: 0, confirmed: 1 },
      constructor: { success: 1, failure: 0, confirmed: 0 },
    });
    // A refused command (a stale compare-and-set) counts nothing.
    const stale = applyCommand(
      state,
      encodeCommand({ ...fenced("db1", true, "reboot"), expectedVersion: 1 } as Command),
    );
    assert.equal(stale.result.ok, false);
    assert.deepEqual(stale.state.fenceCounts, state.fenceCounts);
  });

  test("node_fenced of an older run, recorded after a newer run probed, releases nothing of it", () => {
    const fencedRun = (run: number | null): Command => ({
      type: "node_fenced",
      node: "db1",
      ok: true,
      action: "reboot",
      devices: ["ipmi"],
      detail: "ok",
      run,
      ...base,
    });
    // Run 7 was fenced; its record commits only after run 8 came back, probed and reported.
    const back = runOk(
      initialState(),
      { ...probed, incarnation: 8 } as Command,
      report("web", "db1", 8, "started"),
    );
    const late = runOk(back, fencedRun(7));
    assert.equal(late.agents.db1?.incarnation, 8);
    assert.equal(late.resources.web?.db1?.active, "started");
    assert.equal(late.fenceHistory.at(-1)?.ok, true);
    // Of the run it fenced, or with none known (an older record), it releases the node.
    assert.equal(runOk(back, fencedRun(8)).agents.db1, undefined);
    assert.equal(runOk(back, { ...fencedRun(8), run: undefined } as Command).agents.db1, undefined);
    // None had probed when the fence began: a run that has since is kept.
    assert.equal(runOk(back, fencedRun(null)).agents.db1?.incarnation, 8);
  });
});

describe("incidents", () => {
  test("a resource reported running on a second node is recorded once, with both nodes", () => {
    let state = runOk(
      initialState(),
      probed("db1", 1, 0, [{ resource: "vip", role: "started" }]),
      probed("db2", 1),
    );
    assert.deepEqual(state.incidents, []);
    // db2 comes back from a partition with its own copy running: the split brain shows.
    state = runOk(state, report("vip", "db2", 1, "started"));
    assert.deepEqual(state.incidents, [
      { kind: "multiply_active", resource: "vip", nodes: ["db1", "db2"], ...RUNTIME },
    ]);
    // Still two copies on a later report: the same incident, not a new one.
    state = runOk(state, report("vip", "db1", 1, "started"));
    assert.equal(state.incidents.length, 1);
    // Set right (one copy stopped), then it happens again: a second incident.
    state = runOk(state, report("vip", "db2", 1, null), report("vip", "db2", 1, "started"));
    assert.equal(state.incidents.length, 2);
  });

  test("a probe that finds a copy already running elsewhere is an incident", () => {
    const state = runOk(
      initialState(),
      probed("db1", 1, 0, [{ resource: "web", role: "started" }]),
      probed("db2", 1, 0, [{ resource: "web", role: "started" }]),
    );
    assert.deepEqual(
      state.incidents.map((incident) => [incident.resource, incident.nodes]),
      [["web", ["db1", "db2"]]],
    );
  });

  test("different resources on different nodes are no incident", () => {
    const state = runOk(
      initialState(),
      probed("db1", 1, 0, [{ resource: "web", role: "started" }]),
      probed("db2", 1, 0, [{ resource: "db:0", role: "promoted" }]),
      report("db:1", "db1", 1, "unpromoted"),
    );
    assert.deepEqual(state.incidents, []);
  });
});

describe("score polls", () => {
  const base = { by: "policy@db1", atMs: T0 };
  const probed = (node: string, incarnation: number): Command => ({
    type: "node_probed",
    node,
    incarnation,
    configVersion: 0,
    active: [],
    ...base,
  });
  const answer = (node: string, poll: number, incarnation = 1, score = "300"): Command => ({
    type: "score_answer",
    clone: "db",
    poll,
    node,
    incarnation,
    score,
    ...base,
  });

  test("an answer sets the node's promotion score and counts; any other is refused, naming why", () => {
    const begun = run([
      probed("db1", 1),
      probed("db2", 1),
      probed("db3", 1),
      {
        type: "score_poll",
        clone: "db",
        poll: { id: 4, recipients: ["db1", "db2"], answered: [], deadlineAtMs: T0 + 7000 },
        expectedVersion: 3,
        ...base,
      },
    ]);
    assert.ok(begun.results.every((result) => result.ok));
    const { state, results } = run(
      [answer("db2", 4), answer("db2", 3), answer("db3", 4), answer("db1", 4, 2)],
      begun.state,
    );
    assert.equal(results[0]?.ok, true);
    assert.match(errorOf(results[1]), /clone db has no score poll 3 under way/);
    assert.match(errorOf(results[2]), /node db3 is not asked in score poll 4 of clone db/);
    assert.match(
      errorOf(results[3]),
      /score from node db1 run 2, which is not the run that probed \(1\)/,
    );
    assert.deepEqual(state.scorePolls?.db?.answered, ["db2"]);
    assert.equal(state.agents.db2?.attributes?.["promotion-score-db"], "300");
    // An answer read before the run's later write of the same attribute (the copy stopped and
    // withdrew its score) counts as an answer, and the later value stays.
    const withdrawn = run(
      [
        {
          type: "node_transient_attribute",
          node: "db2",
          incarnation: 1,
          key: "promotion-score-db",
          value: null,
          seq: 9,
          ...base,
        },
        { ...answer("db1", 4), seq: 8 } as Command,
      ],
      state,
    );
    assert.ok(withdrawn.results.every((result) => result.ok));
    assert.equal(withdrawn.state.agents.db2?.attributes?.["promotion-score-db"], undefined);
    assert.deepEqual(withdrawn.state.scorePolls?.db?.answered, ["db1", "db2"]);
    assert.equal(withdrawn.state.agents.db1?.attributes?.["promotion-score-db"], "300");
    const late = run([{ ...answer("db2", 4, 1, "500"), seq: 8 } as Command], withdrawn.state);
    assert.ok(late.results[0]?.ok);
    assert.equal(late.state.agents.db2?.attributes?.["promotion-score-db"], undefined);
    // Kept in snapshots; a damaged one is refused naming the field.
    assert.deepEqual(restoreState(serializeState(state)).scorePolls, state.scorePolls);
    const damaged = JSON.parse(serializeState(state));
    damaged.state.scorePolls.db.recipients = [];
    assert.throws(() => restoreState(JSON.stringify(damaged)), /scorePolls\.db\.recipients/);
    // The instruction to promote a copy ends the poll, in the same entry.
    const promoted = run(
      [
        {
          type: "resource_targets",
          changes: [{ resource: "db:1", node: "db2", target: "promoted" }],
          expectedVersion: state.version,
          ...base,
        },
      ],
      state,
    );
    assert.equal(promoted.state.scorePolls, undefined);
  });
});
