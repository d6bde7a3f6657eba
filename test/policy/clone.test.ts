import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { computePlacement, explainResource } from "../../src/policy/index.js";
import type { Placed } from "../../src/policy/types.js";
import { INFINITY_SCORE } from "../../src/resource-model/types.js";
import {
  actionIds,
  assertActionGraphValid,
  clone,
  findAction,
  group,
  input,
  model,
  node,
  nodes,
  order,
  primitive,
  started,
  waitsFor,
} from "./fixtures.js";

const INF = INFINITY_SCORE;
const promoted = (n: string): Placed[] => [{ node: n, role: "promoted" }];
const unpromoted = (n: string): Placed[] => [{ node: n, role: "unpromoted" }];

describe("clones", () => {
  const agents = model({
    primitives: [primitive("agent")],
    clones: [clone("agents", "agent", { max: 3 })],
  });

  test("instances spread over distinct nodes, named <clone>:<n>", () => {
    const out = computePlacement(input({ model: agents, nodes: nodes("a", "b", "c", "d") }));
    assert.deepEqual(out.placement, {
      "agents:0": started("a"),
      "agents:1": started("b"),
      "agents:2": started("c"),
    });
    assert.deepEqual(actionIds(out), ["start agents:0@a", "start agents:1@b", "start agents:2@c"]);
  });

  test("fewer allowed nodes than max: one instance per node, the rest stopped", () => {
    const out = computePlacement(input({ model: agents, nodes: nodes("a", "b") }));
    assert.deepEqual(out.placement["agents:2"], []);
    assert.deepEqual(out.unplaceable, []);
  });

  test("stable: running instances stay even when a better node exists", () => {
    const out = computePlacement(
      input({
        model: model({
          primitives: [primitive("agent")],
          clones: [clone("agents", "agent", { max: 2 })],
          constraints: [
            { kind: "location", id: "likes-c", resource: "agents", node: "c", score: 100 },
          ],
        }),
        nodes: nodes("a", "b", "c"),
        current: { "agents:0": started("b"), "agents:1": started("a") },
      }),
    );
    assert.deepEqual(out.placement["agents:0"], started("b"));
    assert.deepEqual(out.placement["agents:1"], started("a"));
    assert.deepEqual(out.actions, []);
  });

  test("an instance losing its node is restarted on a free node", () => {
    const out = computePlacement(
      input({
        model: agents,
        nodes: [node("a"), node("b", { standby: true }), node("c"), node("d")],
        current: { "agents:0": started("a"), "agents:1": started("b"), "agents:2": started("c") },
      }),
    );
    assert.deepEqual(out.placement["agents:1"], started("d"));
    assert.deepEqual(actionIds(out), ["stop agents:1@b", "start agents:1@d"]);
  });

  test("a clone of a group: one copy of each member per instance, in member order", () => {
    const out = computePlacement(
      input({
        model: model({
          primitives: [primitive("mount"), primitive("exporter")],
          groups: [group("storage", ["mount", "exporter"])],
          clones: [clone("storage-clone", "storage", { max: 2 })],
        }),
        nodes: nodes("a", "b"),
      }),
    );
    assert.deepEqual(out.placement["storage-clone:1/exporter"], started("b"));
    assert.ok(waitsFor(out, "start storage-clone:0/exporter@a", "start storage-clone:0/mount@a"));
    assertActionGraphValid(out);
  });

  test("a clone with no allowed node is unplaceable", () => {
    const out = computePlacement(
      input({
        model: model({
          primitives: [primitive("agent")],
          clones: [clone("agents", "agent")],
          constraints: [{ kind: "location", id: "nowhere", resource: "agent", score: -INF }],
        }),
        nodes: nodes("a"),
      }),
    );
    assert.deepEqual(out.unplaceable, [
      {
        resource: "agents",
        reason: "no node can run agents: a: location nowhere (agent) -INFINITY",
      },
    ]);
    assert.equal(explainResource(input({ model: agents }), "agents:1")[0]?.resource, "agents");
  });
});

describe("promotable clones", () => {
  const replicated = model({
    primitives: [primitive("pg")],
    clones: [clone("db", "pg", { max: 3, promotable: true, promotedMax: 1 })],
  });

  test("fresh start: starts everywhere, promotes the best candidate after its start", () => {
    const out = computePlacement(input({ model: replicated }));
    assert.deepEqual(out.placement["db:0"], promoted("node1"));
    assert.deepEqual(out.placement["db:1"], unpromoted("node2"));
    assert.deepEqual(findAction(out, "promote db:0@node1").after, ["start db:0@node1"]);
  });

  test("keeps the current primary even if another node has a higher promotion score", () => {
    const out = computePlacement(
      input({
        model: replicated,
        nodes: [
          node("node1"),
          node("node2"),
          node("node3", { attributes: { "promotion-score-db": "100" } }),
        ],
        current: {
          "db:0": unpromoted("node1"),
          "db:1": promoted("node2"),
          "db:2": unpromoted("node3"),
        },
      }),
    );
    assert.deepEqual(out.placement["db:1"], promoted("node2"));
    assert.deepEqual(out.actions, []);
  });

  test("primary lost: the replica with the highest promotion-score attribute is promoted", () => {
    const out = computePlacement(
      input({
        model: replicated,
        nodes: [
          node("node1", { attributes: { "promotion-score-db": "5" } }),
          node("node2", { online: false }),
          node("node3", { attributes: { "master-db": "9" } }),
        ],
        current: { "db:0": unpromoted("node1"), "db:2": unpromoted("node3") },
      }),
    );
    assert.deepEqual(out.placement["db:2"], promoted("node3"));
    assert.deepEqual(out.placement["db:0"], unpromoted("node1"));
    assert.deepEqual(out.placement["db:1"], []);
    assert.deepEqual(actionIds(out), ["promote db:2@node3"]);
  });

  test("a negative promotion score means never promote there", () => {
    const out = computePlacement(
      input({
        model: replicated,
        nodes: [node("node1", { attributes: { "promotion-score-db": "-1" } }), node("node2")],
        current: { "db:0": unpromoted("node1"), "db:1": unpromoted("node2") },
      }),
    );
    assert.deepEqual(out.placement["db:1"], promoted("node2"));
  });

  test("primary on an offline node not yet fenced: no second primary is promoted", () => {
    const out = computePlacement(
      input({
        model: replicated,
        nodes: [node("node1"), node("node2", { online: false }), node("node3")],
        current: {
          "db:0": unpromoted("node1"),
          "db:1": promoted("node2"),
          "db:2": unpromoted("node3"),
        },
      }),
    );
    assert.ok(out.actions.every((a) => a.op !== "promote"));
    assert.deepEqual(
      out.blocked?.map((b) => b.resource),
      ["db:1"],
    );
  });

  test("primary moving off a standby node: demote, then stop, and promote only after the demote", () => {
    const out = computePlacement(
      input({
        model: replicated,
        nodes: [
          node("node1", { standby: true }),
          node("node2", { attributes: { "promotion-score-db": "3" } }),
          node("node3", { attributes: { "promotion-score-db": "7" } }),
          node("node4"),
        ],
        current: {
          "db:0": promoted("node1"),
          "db:1": unpromoted("node2"),
          "db:2": unpromoted("node3"),
        },
      }),
    );
    assert.deepEqual(out.placement["db:2"], promoted("node3"));
    assert.deepEqual(out.placement["db:0"], unpromoted("node4"));
    assert.ok(waitsFor(out, "stop db:0@node1", "demote db:0@node1"));
    assert.ok(waitsFor(out, "promote db:2@node3", "demote db:0@node1"));
    assert.ok(waitsFor(out, "start db:0@node4", "stop db:0@node1"));
    assertActionGraphValid(out);
  });

  test("order on promote: the app starts after the database is promoted", () => {
    const out = computePlacement(
      input({
        model: model({
          primitives: [primitive("pg"), primitive("app")],
          clones: [clone("db", "pg", { max: 2, promotable: true })],
          constraints: [
            order("promote-then-app", "db", "app", { firstAction: "promote" }),
            {
              kind: "colocation",
              id: "app-with-primary",
              resource: "app",
              with: "db",
              score: INF,
              withRole: "promoted",
            },
          ],
        }),
        nodes: nodes("a", "b"),
      }),
    );
    assert.deepEqual(out.placement.app, started("a"));
    assert.ok(waitsFor(out, "start app@a", "promote db:0@a"));
  });
});
