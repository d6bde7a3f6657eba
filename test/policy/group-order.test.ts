import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { computePlacement } from "../../src/policy/index.js";
import { INFINITY_SCORE } from "../../src/resource-model/types.js";
import {
  actionIds,
  assertActionGraphValid,
  findAction,
  group,
  input,
  model,
  node,
  order,
  primitive,
  started,
  waitsFor,
} from "./fixtures.js";

const INF = INFINITY_SCORE;

describe("groups", () => {
  const stack = model({
    primitives: [primitive("ip"), primitive("fs"), primitive("web")],
    groups: [group("site", ["ip", "fs", "web"])],
    constraints: [
      { kind: "location", id: "site-on-2", resource: "site", node: "node2", score: 10 },
    ],
  });

  test("members start together on the group's best node, in member order", () => {
    const out = computePlacement(input({ model: stack }));
    for (const member of ["ip", "fs", "web"])
      assert.deepEqual(out.placement[member], started("node2"));
    assert.deepEqual(actionIds(out), ["start ip@node2", "start fs@node2", "start web@node2"]);
    assert.ok(waitsFor(out, "start web@node2", "start fs@node2"));
    assert.ok(waitsFor(out, "start fs@node2", "start ip@node2"));
    assertActionGraphValid(out);
  });

  test("the group score is the sum of its members' scores", () => {
    const out = computePlacement(
      input({
        model: model({
          primitives: Object.values(stack.primitives),
          groups: Object.values(stack.groups),
          constraints: [
            { kind: "location", id: "site-on-2", resource: "site", node: "node2", score: 10 },
            { kind: "location", id: "fs-on-3", resource: "fs", node: "node3", score: 8 },
            { kind: "location", id: "web-on-3", resource: "web", node: "node3", score: 8 },
          ],
        }),
      }),
    );
    assert.deepEqual(out.placement.ip, started("node3"));
    const line = out.scores.find((l) => l.resource === "site" && l.node === "node3");
    assert.equal(line?.score, 16);
  });

  test("moving the group stops in reverse order, then starts in order", () => {
    const out = computePlacement(
      input({
        model: stack,
        nodes: [node("node1"), node("node2", { standby: true }), node("node3")],
        current: { ip: started("node2"), fs: started("node2"), web: started("node2") },
      }),
    );
    assert.deepEqual(actionIds(out), [
      "stop web@node2",
      "stop fs@node2",
      "stop ip@node2",
      "start ip@node1",
      "start fs@node1",
      "start web@node1",
    ]);
    assert.ok(waitsFor(out, "stop ip@node2", "stop fs@node2"));
    assert.ok(waitsFor(out, "stop fs@node2", "stop web@node2"));
    assert.ok(waitsFor(out, "start ip@node1", "stop ip@node2"));
    assert.ok(waitsFor(out, "start web@node1", "stop web@node2"));
    assertActionGraphValid(out);
  });

  test("a member that cannot run stops the members after it; earlier members keep running", () => {
    const out = computePlacement(
      input({
        model: model({
          primitives: [primitive("ip"), primitive("fs"), primitive("web")],
          groups: [group("site", ["ip", "fs", "web"])],
          constraints: [{ kind: "location", id: "no-fs", resource: "fs", score: -INF }],
        }),
        current: { ip: started("node1"), fs: started("node1"), web: started("node1") },
      }),
    );
    assert.deepEqual(out.placement.ip, started("node1"));
    assert.deepEqual(out.placement.fs, []);
    assert.deepEqual(out.placement.web, []);
    assert.deepEqual(actionIds(out), ["stop web@node1", "stop fs@node1"]);
    assert.deepEqual(out.unplaceable, [
      {
        resource: "fs",
        reason: "cannot run on node1 with group site: location no-fs (fs) -INFINITY",
      },
      { resource: "web", reason: "group site: follows fs, which cannot run on node1" },
    ]);
  });
});

describe("colocation", () => {
  test("-INFINITY colocation: never on the same node", () => {
    const out = computePlacement(
      input({
        model: model({
          primitives: [primitive("db-a"), primitive("db-b")],
          constraints: [
            { kind: "colocation", id: "apart", resource: "db-b", with: "db-a", score: -INF },
          ],
        }),
        nodes: [node("node1"), node("node2")],
      }),
    );
    assert.deepEqual(out.placement["db-a"], started("node1"));
    assert.deepEqual(out.placement["db-b"], started("node2"));
  });

  test("-INFINITY colocation with one node left: the dependent is unplaceable, with the reason", () => {
    const out = computePlacement(
      input({
        model: model({
          primitives: [primitive("db-a"), primitive("db-b")],
          constraints: [
            { kind: "colocation", id: "apart", resource: "db-b", with: "db-a", score: -INF },
          ],
        }),
        nodes: [node("node1"), node("node2", { online: false })],
      }),
    );
    assert.deepEqual(out.placement["db-b"], []);
    assert.equal(out.unplaceable[0]?.resource, "db-b");
    assert.match(
      out.unplaceable[0]?.reason ?? "",
      /colocation apart \(with db-a\): db-a here -INFINITY/,
    );
  });

  test("+INFINITY colocation: the dependent follows, and its preference pulls the primary", () => {
    const out = computePlacement(
      input({
        model: model({
          primitives: [primitive("vip"), primitive("web")],
          constraints: [
            { kind: "colocation", id: "vip-with-web", resource: "vip", with: "web", score: INF },
            { kind: "location", id: "vip-not-1", resource: "vip", node: "node1", score: -INF },
            { kind: "location", id: "vip-likes-3", resource: "vip", node: "node3", score: 20 },
          ],
        }),
      }),
    );
    assert.deepEqual(out.placement.web, started("node3"));
    assert.deepEqual(out.placement.vip, started("node3"));
    assert.deepEqual(out.unplaceable, []);
  });

  test("+INFINITY colocation with a resource that cannot run stops the dependent", () => {
    const out = computePlacement(
      input({
        model: model({
          primitives: [primitive("vip"), primitive("web", { targetRole: "stopped" })],
          constraints: [
            { kind: "colocation", id: "vip-with-web", resource: "vip", with: "web", score: INF },
          ],
        }),
      }),
    );
    assert.deepEqual(out.placement.vip, []);
    assert.equal(out.unplaceable[0]?.resource, "vip");
  });
});

describe("order constraints", () => {
  const ordered = model({
    primitives: [primitive("db"), primitive("app")],
    constraints: [
      order("db-then-app", "db", "app"),
      { kind: "location", id: "app-on-2", resource: "app", node: "node2", score: 5 },
    ],
  });

  test("then's start waits for first's start", () => {
    const out = computePlacement(input({ model: ordered }));
    assert.deepEqual(findAction(out, "start app@node2").after, ["start db@node1"]);
    assert.deepEqual(actionIds(out), ["start db@node1", "start app@node2"]);
  });

  test("then's stop comes before first's stop", () => {
    const out = computePlacement(
      input({
        model: ordered,
        nodes: [node("node1", { standby: true }), node("node2", { standby: true }), node("node3")],
        current: { db: started("node1"), app: started("node2") },
      }),
    );
    assert.ok(waitsFor(out, "stop db@node1", "stop app@node2"));
    assert.ok(waitsFor(out, "start app@node3", "start db@node3"));
    assert.ok(waitsFor(out, "start db@node3", "stop db@node1"));
    assertActionGraphValid(out);
  });

  test("mandatory order: when first cannot run, then is stopped too", () => {
    const out = computePlacement(
      input({
        model: model({
          primitives: [primitive("db", { targetRole: "stopped" }), primitive("app")],
          constraints: Object.values(ordered.constraints),
        }),
        current: { app: started("node2") },
      }),
    );
    assert.deepEqual(out.placement.app, []);
    assert.deepEqual(out.unplaceable, [
      { resource: "app", reason: "order db-then-app: db is not running" },
    ]);
    assert.deepEqual(actionIds(out), ["stop app@node2"]);
  });

  test("colocation alone implies no order", () => {
    const out = computePlacement(
      input({
        model: model({
          primitives: [primitive("vip"), primitive("web")],
          constraints: [{ kind: "colocation", id: "c", resource: "vip", with: "web", score: INF }],
        }),
      }),
    );
    assert.ok(out.actions.every((a) => a.after.length === 0));
  });

  test("an order cycle in the model still yields an acyclic action graph", () => {
    const out = computePlacement(
      input({
        model: model({
          primitives: [primitive("a"), primitive("b")],
          constraints: [order("o1", "a", "b"), order("o2", "b", "a")],
        }),
      }),
    );
    assertActionGraphValid(out);
    assert.deepEqual(findAction(out, "start b@node1").after, ["start a@node1"]);
  });
});
