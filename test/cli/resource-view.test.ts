import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  cellsOf,
  describeCells,
  keyBelongs,
  keysOfResource,
  nodeRunningResource,
  type ResourceKeys,
  resourceShape,
  runningAgain,
  runningKeys,
  stoppedEverywhere,
} from "../../src/cli/resource-view.js";
import type { JsonObject } from "../../src/state/json.js";
import { initialState } from "../../src/state/serialize.js";
import type { ClusterState, ResourceCell } from "../../src/state/types.js";

const DOCUMENT = {
  resources: {
    vip: { agent: "vip", params: { ip: "10.0.0.9" } },
    web: { agent: "exec:/bin/true" },
    app: { agent: "exec:/bin/true" },
    db: { agent: "exec:/bin/true" },
    mon: { agent: "exec:/bin/true" },
    fs: { agent: "exec:/bin/true" },
    ip2: { agent: "exec:/bin/true" },
  },
  groups: { site: ["web", "app"], stack: { members: ["fs", "ip2"] } },
  clones: { dbc: { of: "db", promotable: true }, stacks: { of: "stack" }, mons: { of: "mon" } },
};

function stateWith(
  resources: ClusterState["resources"],
  document: object = DOCUMENT,
  more: Partial<ClusterState> = {},
): ClusterState {
  const state = initialState();
  return {
    ...state,
    config: { ...state.config, version: 1, document: document as JsonObject },
    resources,
    ...more,
  };
}

const running: ResourceCell = { target: "started", active: "started" };
const stopping: ResourceCell = { target: "stopped", active: "started" };
const starting: ResourceCell = { target: "started" };

describe("resource names → placement keys", () => {
  const shape = resourceShape(stateWith({}));

  test("the document's shape: primitives, group members (both spellings), what clones wrap", () => {
    assert.deepEqual(shape.primitives, ["app", "db", "fs", "ip2", "mon", "vip", "web"]);
    assert.deepEqual(shape.groups, { site: ["web", "app"], stack: ["fs", "ip2"] });
    assert.deepEqual(shape.clones, { dbc: "db", stacks: "stack", mons: "mon" });
  });

  test("a primitive is its own key; a group is its members' keys", () => {
    assert.deepEqual(keysOfResource(shape, "vip"), { kind: "primitive", keys: ["vip"] });
    assert.deepEqual(keysOfResource(shape, "web"), { kind: "primitive", keys: ["web"] });
    assert.deepEqual(keysOfResource(shape, "site"), { kind: "group", keys: ["web", "app"] });
    assert.equal(keysOfResource(shape, "nope"), undefined);
  });

  test("clones, what they wrap and members of a cloned group match instance keys", () => {
    const dbc = keysOfResource(shape, "dbc")!;
    assert.deepEqual(dbc, { kind: "clone", cloneId: "dbc" });
    assert.deepEqual(keysOfResource(shape, "db"), dbc);
    assert.ok(keyBelongs(dbc, "dbc:0"));
    assert.ok(keyBelongs(dbc, "dbc:12"));
    assert.ok(!keyBelongs(dbc, "dbc"));
    assert.ok(!keyBelongs(dbc, "dbc:0/x"));
    assert.ok(!keyBelongs(dbc, "dbcx:0"));

    const stacks = keysOfResource(shape, "stacks")!;
    assert.deepEqual(stacks, { kind: "clone", cloneId: "stacks", members: ["fs", "ip2"] });
    assert.deepEqual(keysOfResource(shape, "stack"), stacks);
    assert.ok(keyBelongs(stacks, "stacks:0/fs"));
    assert.ok(keyBelongs(stacks, "stacks:3/ip2"));
    assert.ok(!keyBelongs(stacks, "stacks:0"));
    assert.ok(!keyBelongs(stacks, "stacks:0/other"));

    const fs = keysOfResource(shape, "fs")!;
    assert.deepEqual(fs, { kind: "clone", cloneId: "stacks", members: ["fs"] });
    assert.ok(keyBelongs(fs, "stacks:1/fs"));
    assert.ok(!keyBelongs(fs, "stacks:1/ip2"));
  });

  test("a document that does not parse has no resources", () => {
    const shape = resourceShape(stateWith({}, { resources: { x: { agent: 3 } } }));
    assert.deepEqual(shape, { primitives: [], groups: {}, clones: {} });
  });
});

describe("which node a resource runs on (move/ban without a node)", () => {
  test("a primitive: the node of its cell", () => {
    const state = stateWith({ vip: { beta: running } });
    assert.deepEqual(nodeRunningResource(state, "vip"), { node: "beta" });
  });

  test("a start in flight counts; a stop in flight does not", () => {
    assert.deepEqual(nodeRunningResource(stateWith({ vip: { gamma: starting } }), "vip"), {
      node: "gamma",
    });
    assert.deepEqual(
      nodeRunningResource(stateWith({ vip: { alpha: stopping, gamma: starting } }), "vip"),
      { node: "gamma" },
    );
    // Found running by a probe, no instruction yet.
    assert.deepEqual(
      nodeRunningResource(stateWith({ vip: { alpha: { active: "started" } } }), "vip"),
      { node: "alpha" },
    );
  });

  test("a group: the node of its members", () => {
    const state = stateWith({ web: { beta: running }, app: { beta: starting } });
    assert.deepEqual(nodeRunningResource(state, "site"), { node: "beta" });
  });

  test("several nodes, nowhere, being stopped: clear errors", () => {
    const split = nodeRunningResource(
      stateWith({ web: { beta: running }, app: { gamma: running } }),
      "site",
    );
    assert.deepEqual(split, {
      error: "site is on several nodes right now (beta, gamma): name the node",
    });
    assert.deepEqual(nodeRunningResource(stateWith({}), "vip"), {
      error: "vip is not running anywhere: name a node",
    });
    assert.deepEqual(nodeRunningResource(stateWith({ vip: { alpha: stopping } }), "vip"), {
      error: "vip is not running anywhere (it is being stopped on alpha): name a node",
    });
  });

  test("a clone, or a resource a clone wraps: name a node", () => {
    const state = stateWith({ "dbc:0": { alpha: running } });
    const clone = nodeRunningResource(state, "dbc");
    assert.ok("error" in clone);
    assert.match(clone.error, /name a node for a clone/);
    const inner = nodeRunningResource(state, "db");
    assert.ok("error" in inner);
    assert.match(inner.error, /runs in clone dbc .*name a node for a clone/);
  });

  test("an unknown name lists the resources, like the agent does", () => {
    const found = nodeRunningResource(stateWith({}), "nope");
    assert.ok("error" in found);
    assert.equal(
      found.error,
      "no resource named nope in the committed configuration (resources: app, db, dbc, fs, ip2, mon, mons, site, stack, stacks, vip, web)",
    );
  });
});

describe("restart: when it is stopped, when it runs again", () => {
  const shape = resourceShape(stateWith({}));
  const keys = (name: string): ResourceKeys => keysOfResource(shape, name)!;

  test("stopped once no cell of any of its keys is left, whatever other resources do", () => {
    const site = keys("site");
    assert.ok(!stoppedEverywhere(stateWith({ app: { beta: stopping } }), site));
    assert.ok(stoppedEverywhere(stateWith({ vip: { beta: running } }), site));
    const dbc = keys("dbc");
    assert.ok(!stoppedEverywhere(stateWith({ "dbc:1": { gamma: stopping } }), dbc));
    assert.ok(stoppedEverywhere(stateWith({ "mons:1": { gamma: running } }), dbc));
    const fs = keys("fs");
    assert.ok(!stoppedEverywhere(stateWith({ "stacks:0/fs": { alpha: running } }), fs));
    assert.ok(stoppedEverywhere(stateWith({ "stacks:0/ip2": { alpha: running } }), fs));
  });

  test("runs again when every cell is settled and as many keys run as before", () => {
    const site = keys("site");
    const before = runningKeys(
      stateWith({ web: { beta: running }, app: { beta: running } }),
      site,
    ).length;
    assert.equal(before, 2);
    assert.ok(!runningAgain(stateWith({}), site, before));
    assert.ok(!runningAgain(stateWith({ web: { gamma: running } }), site, before));
    assert.ok(
      !runningAgain(stateWith({ web: { gamma: running }, app: { gamma: starting } }), site, before),
    );
    assert.ok(
      runningAgain(stateWith({ web: { gamma: running }, app: { gamma: running } }), site, before),
    );
    // A cell still being stopped somewhere is not settled.
    assert.ok(
      !runningAgain(
        stateWith({ web: { gamma: running, beta: stopping }, app: { gamma: running } }),
        site,
        before,
      ),
    );
  });

  test("a clone needs as many instances as before, in whatever numbering", () => {
    const dbc = keys("dbc");
    const promoted: ResourceCell = { target: "promoted", active: "promoted" };
    const unpromoted: ResourceCell = { target: "unpromoted", active: "unpromoted" };
    assert.ok(
      runningAgain(
        stateWith({ "dbc:0": { beta: promoted }, "dbc:2": { alpha: unpromoted } }),
        dbc,
        2,
      ),
    );
    assert.ok(!runningAgain(stateWith({ "dbc:0": { beta: promoted } }), dbc, 2));
    // Promotion still in flight.
    assert.ok(
      !runningAgain(
        stateWith({ "dbc:0": { beta: { target: "promoted", active: "unpromoted" } } }),
        dbc,
        1,
      ),
    );
  });

  test("a resource that ran nowhere before must run somewhere", () => {
    const vip = keys("vip");
    assert.ok(!runningAgain(stateWith({}), vip, 0));
    assert.ok(runningAgain(stateWith({ vip: { alpha: running } }), vip, 0));
  });

  test("describes where it still is", () => {
    const state = stateWith({
      web: { beta: stopping },
      app: { beta: { target: "stopped", active: "started", stopFailed: true } },
    });
    assert.equal(
      describeCells(cellsOf(state, keys("site"))),
      "app on beta (target stopped, active started, stop failed), web on beta (target stopped, active started)",
    );
  });
});
