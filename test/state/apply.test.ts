import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  applyCommand,
  type ClusterState,
  type Command,
  type CommandResult,
  encodeCommand,
  initialState,
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

  test("placement keeps the node order given, and an empty list removes the resource", () => {
    const base = { by: "agent@db1", atMs: T0 };
    const placed = run([
      { type: "placement_set", resource: "db", nodes: ["db2", "db1"], ...base },
      { type: "placement_set", resource: "web", nodes: ["db1"], ...base },
    ]).state;
    assert.deepEqual(placed.placement, { db: ["db2", "db1"], web: ["db1"] });
    const stopped = run([{ type: "placement_set", resource: "web", nodes: [], ...base }], placed);
    assert.deepEqual(stopped.state.placement, { db: ["db2", "db1"] });
    assert.equal(stopped.state.history.at(-1)?.summary, "placement web stopped");
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
      { type: "placement_set", resource: "web", nodes: ["db2"], by: "agent@db2", atMs: T0 },
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
        type: "placement_set",
        resource: "web",
        nodes: ["db2"],
        by: "agent@db2",
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
      "duplicate nodes in a placement",
      `{"type":"placement_set","resource":"web","nodes":["db1","db1"],"by":"a","atMs":0}`,
      /^invalid placement_set command: nodes: expected each node at most once$/,
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
