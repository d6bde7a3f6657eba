import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  applyCommand,
  type ClusterState,
  HISTORY_LIMIT,
  initialState,
  restoreState,
  serializeState,
} from "../../src/state/index.js";
import { payloadsArbitrary } from "./arbitraries.js";

function applyAll(payloads: readonly string[], start: ClusterState = initialState()): ClusterState {
  return payloads.reduce((state, payload) => applyCommand(state, payload).state, start);
}

const payloads = payloadsArbitrary({ maxLength: 60 });

describe("determinism and snapshots", () => {
  test("the same commands give byte-identical state on independent nodes", () => {
    fc.assert(
      fc.property(payloads, (sequence) => {
        assert.equal(serializeState(applyAll(sequence)), serializeState(applyAll([...sequence])));
      }),
      { numRuns: 200 },
    );
  });

  test("serialized state does not depend on the order keys were inserted in", () => {
    const a = initialState();
    a.nodes = {
      db1: { attributes: { rack: "r1", ssd: "y" }, standby: false },
      db2: { attributes: {}, standby: true },
    };
    const b = initialState();
    b.nodes = {
      db2: { standby: true, attributes: {} },
      db1: { standby: false, attributes: { ssd: "y", rack: "r1" } },
    };
    assert.equal(serializeState(a), serializeState(b));
  });

  test("restore(serialize(state)) serializes identically and behaves identically afterwards", () => {
    fc.assert(
      fc.property(payloads, payloads, (before, after) => {
        const state = applyAll(before);
        const text = serializeState(state);
        const restored = restoreState(text);
        assert.equal(serializeState(restored), text);
        assert.deepEqual(restored, JSON.parse(JSON.stringify(state)));
        assert.equal(
          serializeState(applyAll(after, restored)),
          serializeState(applyAll(after, state)),
        );
      }),
      { numRuns: 200 },
    );
  });

  test("a node that restores a snapshot taken midway and applies the rest catches up exactly", () => {
    fc.assert(
      fc.property(payloads, fc.nat(), (sequence, cutSeed) => {
        const cut = sequence.length === 0 ? 0 : cutSeed % (sequence.length + 1);
        const snapshot = serializeState(applyAll(sequence.slice(0, cut)));
        const caughtUp = applyAll(sequence.slice(cut), restoreState(snapshot));
        assert.equal(serializeState(caughtUp), serializeState(applyAll(sequence)));
      }),
      { numRuns: 200 },
    );
  });

  test("history keeps the last 50 changes, consecutive and ending at the current version", () => {
    fc.assert(
      fc.property(payloadsArbitrary({ minLength: 60, maxLength: 200 }), (sequence) => {
        const state = applyAll(sequence);
        assert.equal(state.history.length, Math.min(HISTORY_LIMIT, state.version));
        state.history.forEach((entry, i) => {
          assert.equal(entry.version, state.version - state.history.length + 1 + i);
        });
      }),
      { numRuns: 50 },
    );
  });

  test("history is cut to exactly 50 after many changes", () => {
    const maintenance = (on: boolean) =>
      JSON.stringify({ type: "maintenance", on, by: "alice", atMs: 0 });
    const state = applyAll(Array.from({ length: 120 }, (_, i) => maintenance(i % 2 === 0)));
    assert.equal(state.version, 120);
    assert.equal(state.history.length, 50);
    assert.equal(state.history[0]?.version, 71);
    assert.equal(state.history[49]?.version, 120);
  });
});

describe("restoring snapshots of the previous format", () => {
  test("a format version 1 snapshot loses its placement list and gains empty resource records", () => {
    const version1 = {
      format: "vigil.cluster-state",
      formatVersion: 1,
      state: {
        version: 3,
        configurationVersion: 2,
        config: {
          version: 1,
          document: { resources: { web: { agent: "vip" } } },
          text: "resources:\n  web: { agent: vip }\n",
          appliedAtMs: 1000,
          appliedBy: "bob@db1",
        },
        nodes: { db2: { attributes: { rack: "r1" }, standby: true } },
        maintenance: false,
        failCounts: { web: { db1: { count: 2, lastFailureAtMs: 2000 } } },
        placement: { web: ["db1"] },
        history: [
          {
            version: 2,
            summary: "node db2 standby",
            by: "alice",
            atMs: 1500,
            scope: "configuration",
          },
          {
            version: 3,
            summary: "placement web on db1",
            by: "agent@db1",
            atMs: 2500,
            scope: "runtime",
          },
        ],
      },
    };
    const restored = restoreState(JSON.stringify(version1));
    const { placement: _, ...kept } = version1.state;
    assert.deepEqual(restored, {
      ...kept,
      resources: {},
      agents: {},
      operator: {},
      fenceHistory: [],
      fenceCounts: {},
      incidents: [],
    });
    assert.match(serializeState(restored), /"formatVersion":2/);
    assert.deepEqual(restoreState(serializeState(restored)), restored);
    const probed = applyCommand(
      restored,
      JSON.stringify({
        type: "node_probed",
        node: "db1",
        incarnation: 1,
        configVersion: 1,
        active: [{ resource: "web", role: "started" }],
        by: "agent@db1",
        atMs: 3000,
      }),
    );
    assert.deepEqual(probed.result, { ok: true, version: 4 });
    assert.deepEqual(probed.state.resources, { web: { db1: { active: "started" } } });
  });

  test("a format version 1 snapshot that is otherwise broken is still rejected", () => {
    const broken = JSON.stringify({
      format: "vigil.cluster-state",
      formatVersion: 1,
      state: { ...JSON.parse(serializeState(initialState())).state, maintenance: "no" },
    });
    assert.throws(
      () => restoreState(broken),
      /^Error: cluster state snapshot is invalid: state\.maintenance: /,
    );
  });
});

describe("cluster properties in snapshots", () => {
  test("they survive a snapshot, and a snapshot from before them has none", () => {
    const state = initialState();
    state.clusterProperties = { "db-ha_REPL_INFO": "db2" };
    assert.deepEqual(restoreState(serializeState(state)).clusterProperties, {
      "db-ha_REPL_INFO": "db2",
    });
    const before = initialState();
    assert.equal(restoreState(serializeState(before)).clusterProperties, undefined);
  });

  test("a property with a bad name is corruption, rejected naming it", () => {
    const state = initialState();
    state.clusterProperties = { "bad name": "x" };
    assert.throws(() => restoreState(serializeState(state)), /state\.clusterProperties/);
  });
});

describe("snapshots written before the fence counts were kept", () => {
  const fence = (node: string, ok: boolean, action: "reboot" | "confirm") => ({
    node,
    ok,
    action,
    devices: action === "confirm" ? [] : ["ipmi"],
    detail: ok ? "ok" : "exit code 1",
    by: "agent@db2",
    atMs: 1000,
  });
  const withoutCounts = (state: ClusterState) => {
    const { fenceCounts: _, ...rest } = JSON.parse(serializeState(state)).state;
    return JSON.stringify({ format: "vigil.cluster-state", formatVersion: 2, state: rest });
  };

  test("the counts are taken from the fence history, the same on every node", () => {
    const state = initialState();
    state.fenceHistory = [
      fence("db1", false, "reboot"),
      fence("db1", true, "reboot"),
      fence("db3", true, "confirm"),
      fence("db1", true, "reboot"),
    ];
    const restored = restoreState(withoutCounts(state));
    assert.deepEqual(restored.fenceCounts, {
      db1: { success: 2, failure: 1, confirmed: 0 },
      db3: { success: 0, failure: 0, confirmed: 1 },
    });
    assert.equal(serializeState(restoreState(withoutCounts(state))), serializeState(restored));
    assert.deepEqual(restoreState(withoutCounts(initialState())).fenceCounts, {});
  });

  test("a snapshot's own counts are kept, not taken from its (bounded) history", () => {
    const state = initialState();
    state.fenceHistory = [fence("db1", true, "reboot")];
    state.fenceCounts = { db1: { success: 40, failure: 3, confirmed: 0 } };
    assert.deepEqual(restoreState(serializeState(state)).fenceCounts, state.fenceCounts);
  });
});

describe("restoring bad snapshot data", () => {
  const good = JSON.parse(serializeState(initialState()));
  const cases: [string, string, RegExp][] = [
    ["not JSON", "{", /^cluster state snapshot is not valid JSON: /],
    ["another format", `{"format":"other"}`, /does not start with format "vigil\.cluster-state"/],
    [
      "a newer format version",
      JSON.stringify({ ...good, formatVersion: 3 }),
      /has format version 3; this vigil reads version 2/,
    ],
    [
      "a missing field",
      JSON.stringify({ ...good, state: { ...good.state, maintenance: undefined } }),
      /^cluster state snapshot is invalid: state\.maintenance: /,
    ],
    [
      "a bad node name",
      JSON.stringify({
        ...good,
        state: { ...good.state, nodes: { "bad name": { attributes: {}, standby: false } } },
      }),
      /^cluster state snapshot is invalid: state\.nodes\.bad name: /,
    ],
    [
      "a cell with an unknown role",
      JSON.stringify({
        ...good,
        state: { ...good.state, resources: { web: { db1: { target: "master" } } } },
      }),
      /^cluster state snapshot is invalid: state\.resources\.web\.db1\.target: /,
    ],
    [
      "an agent record without its run",
      JSON.stringify({
        ...good,
        state: {
          ...good.state,
          agents: { db1: { probedConfigVersion: 0, shuttingDown: false } },
        },
      }),
      /^cluster state snapshot is invalid: state\.agents\.db1\.incarnation: /,
    ],
    [
      "a version 2 snapshot that still has a placement",
      JSON.stringify({ ...good, state: { ...good.state, placement: {} } }),
      /^cluster state snapshot is invalid: state\.?: .*"placement"/,
    ],
    [
      "a negative fence count",
      JSON.stringify({
        ...good,
        state: {
          ...good.state,
          fenceCounts: { db1: { success: -1, failure: 0, confirmed: 0 } },
        },
      }),
      /^cluster state snapshot is invalid: state\.fenceCounts\.db1\.success: /,
    ],
    [
      "history ahead of the version",
      JSON.stringify({
        ...good,
        state: {
          ...good.state,
          history: [{ version: 3, summary: "x", by: "a", atMs: 0, scope: "runtime" }],
        },
      }),
      /^cluster state snapshot is inconsistent: history version 3 is out of order or after version 0$/,
    ],
  ];
  for (const [name, text, expected] of cases) {
    test(`${name} is rejected with a message`, () => {
      assert.throws(
        () => restoreState(text),
        (error: unknown) => error instanceof Error && expected.test(error.message),
      );
    });
  }
});
