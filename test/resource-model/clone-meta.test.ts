/**
 * A clone's copies are placed by the leader (the policy engine) and run by the nodes
 * (LocalResources, through primitiveOfKey): both must read one meta, whichever level it is
 * written at, and a document must be checked against the nodes it will run on.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { resourceNodeNames } from "../../src/config/safety-modes.js";
import { computePlacement } from "../../src/policy/index.js";
import type { PolicyInput } from "../../src/policy/types.js";
import { checkResourceDocument } from "../../src/resource-check/check-document.js";
import type { ResourceModel } from "../../src/resource-model/types.js";
import { withOperatorOverrides } from "../../src/takeover/cluster-view.js";
import { primitiveOfKey } from "../../src/takeover/resource-keys.js";

const NODES = ["db1", "db2", "db3"];

function modelOf(document: unknown, nodes = NODES): ResourceModel {
  const { model, problems } = checkResourceDocument(document, nodes);
  assert.deepEqual(problems, []);
  assert.ok(model !== null);
  return model;
}

function placement(model: ResourceModel, failCounts: PolicyInput["failCounts"] = {}) {
  const output = computePlacement({
    model,
    nodes: NODES.map((name) => ({ name, online: true, standby: false, attributes: {} })),
    current: {},
    failCounts,
    nowMs: 1_000,
    maintenance: false,
  });
  return Object.fromEntries(
    Object.entries(output.placement).map(([key, placed]) => [
      key,
      placed.map((p) => p.node).join(","),
    ]),
  );
}

const failedOnDb1 = (key: string) => ({ [key]: { db1: { count: 1, lastFailureAtMs: 500 } } });

test("the clone's meta reaches the nodes that run its copies (on_fail: ignore was dropped)", () => {
  const model = modelOf({
    resources: { db: { agent: "exec:/bin/true" } },
    clones: { "db-ha": { of: "db", meta: { on_fail: "ignore" } } },
  });
  assert.equal(primitiveOfKey(model, "db-ha:1")?.primitive.meta.onFail, "ignore");
  assert.equal(model.clones["db-ha"]?.meta.onFail, "ignore");
});

test("the wrapped resource's meta places the copies (its migration_threshold was ignored)", () => {
  const model = modelOf({
    resources: { db: { agent: "exec:/bin/true", meta: { migration_threshold: 1 } } },
    clones: { "db-ha": { of: "db" } },
  });
  assert.deepEqual(placement(model, failedOnDb1("db-ha:0")), {
    "db-ha:0": "db2",
    "db-ha:1": "db3",
    "db-ha:2": "",
  });
});

test("a key written on the clone wins; stopped at either level stops every copy", () => {
  const model = modelOf({
    resources: {
      db: { agent: "exec:/bin/true", meta: { migration_threshold: 1, on_fail: "standby" } },
      cache: { agent: "exec:/bin/true", meta: { target_role: "stopped" } },
    },
    clones: {
      "db-ha": { of: "db", meta: { migration_threshold: 5 } },
      "cache-ha": { of: "cache", meta: { target_role: "started" } },
    },
  });
  assert.equal(model.clones["db-ha"]?.meta.migrationThreshold, 5);
  assert.equal(primitiveOfKey(model, "db-ha:0")?.primitive.meta.onFail, "standby");
  assert.equal(placement(model, failedOnDb1("db-ha:0"))["db-ha:0"], "db1");
  assert.equal(model.clones["cache-ha"]?.meta.targetRole, "stopped");
});

test("a cloned group's member counts its copies' failures by its own threshold", () => {
  const model = modelOf({
    resources: {
      ip: { agent: "exec:/bin/true", meta: { migration_threshold: 1 } },
      web: { agent: "exec:/bin/true" },
    },
    groups: { stack: ["ip", "web"] },
    clones: { everywhere: { of: "stack", max: 1 } },
  });
  assert.deepEqual(placement(model, failedOnDb1("everywhere:0/ip")), {
    "everywhere:0/ip": "db2",
    "everywhere:0/web": "db2",
  });
});

test("vigil resource stop of what a clone wraps stops the clone's copies", () => {
  const model = modelOf({
    resources: { db: { agent: "exec:/bin/true" } },
    clones: { "db-ha": { of: "db" } },
  });
  const stopped = withOperatorOverrides(model, { db: { stopped: true } });
  assert.deepEqual(placement(stopped), { "db-ha:0": "", "db-ha:1": "", "db-ha:2": "" });
});

test("Pacemaker's clone meta attributes are refused with where Vigil has them", () => {
  const { problems } = checkResourceDocument(
    {
      resources: { db: { agent: "exec:/bin/true" } },
      clones: {
        "db-ha": {
          of: "db",
          promotable: true,
          clone_max: 2,
          meta: { clone_max: 2, promoted_max: 1, clone_node_max: 1 },
        },
      },
    },
    NODES,
  );
  const text = problems.map((p) => `${p.path.join(".")}: ${p.message}`).join("\n");
  assert.match(text, /^clones\.db-ha\.clone_max: the number of copies is the clone's max/m);
  assert.match(text, /^clones\.db-ha\.meta\.clone_max: .*write max: N on the clone/m);
  assert.match(text, /^clones\.db-ha\.meta\.promoted_max: write promoted_max: N on the clone/m);
  assert.match(text, /^clones\.db-ha\.meta\.clone_node_max: a node runs at most one copy/m);
});

test("a document is checked against the nodes that run resources, witnesses left out", () => {
  const nodes = [
    { name: "db1", witness: false },
    { name: "db2", witness: false },
    { name: "quorum", witness: true },
  ];
  const names = resourceNodeNames(nodes);
  assert.deepEqual(names, ["db1", "db2"]);
  // Counted with the witness, three copies could be promoted: accepted, then unusable on commit.
  const { problems } = checkResourceDocument(
    {
      resources: { db: { agent: "exec:/bin/true" } },
      clones: { "db-ha": { of: "db", promotable: true, promoted_max: 3 } },
    },
    names,
  );
  assert.match(problems.map((p) => `${p.path.join(".")}: ${p.message}`).join("\n"), /promoted_max/);
});

test("notify: true on a clone of a resource turns notifications on, with the notify operation's timeout; in meta, or on a clone of a group, it is refused", () => {
  const model = modelOf({
    resources: {
      db: { agent: "exec:/bin/true", operations: { notify: { timeout_ms: 9000 } } },
    },
    clones: { "db-ha": { of: "db", promotable: true, notify: true } },
  });
  assert.equal(model.clones["db-ha"]?.notify, true);
  assert.equal(model.primitives.db?.operations.notify?.timeoutMs, 9000);
  assert.equal(
    modelOf({ resources: { db: { agent: "exec:/bin/true" } }, clones: { c: { of: "db" } } }).clones
      .c?.notify,
    false,
  );
  const misplaced = checkResourceDocument(
    {
      resources: { db: { agent: "exec:/bin/true" } },
      clones: { "db-ha": { of: "db", meta: { notify: true } } },
    },
    NODES,
  );
  assert.match(
    misplaced.problems.map((p) => `${p.path.join(".")}: ${p.message}`).join("\n"),
    /clones\.db-ha\.meta\.notify: write notify: true on the clone, beside of/,
  );
  const ofGroup = checkResourceDocument(
    {
      resources: { a: { agent: "exec:/bin/true" }, b: { agent: "exec:/bin/true" } },
      groups: { ab: ["a", "b"] },
      clones: { abs: { of: "ab", notify: true } },
    },
    NODES,
  );
  assert.match(
    ofGroup.problems.map((p) => `${p.path.join(".")}: ${p.message}`).join("\n"),
    /clones\.abs\.notify: notifications go to a cloned resource's agent, not to group ab/,
  );
});
