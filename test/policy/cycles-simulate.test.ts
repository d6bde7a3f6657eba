import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { detectConstraintCycles, simulate } from "../../src/policy/index.js";
import { actionIds, input, model, node, order, primitive, started } from "./fixtures.js";

describe("detectConstraintCycles", () => {
  test("no cycle in a chain", () => {
    const m = model({
      primitives: [primitive("a"), primitive("b"), primitive("c")],
      constraints: [order("o1", "a", "b"), order("o2", "b", "c")],
    });
    assert.deepEqual(detectConstraintCycles(m), []);
  });

  test("reports each cycle with its constraints and path, whatever the document order", () => {
    const constraints = [
      order("o1", "a", "b"),
      order("o2", "b", "c"),
      order("o3", "c", "a"),
      order("o4", "x", "x"),
      order("o5", "c", "d"),
    ];
    const expected = [
      "order constraints o1, o2, o3 form a cycle: a → b → c → a",
      "order constraints o4 form a cycle: x → x",
    ];
    const m = model({ constraints });
    assert.deepEqual(detectConstraintCycles(m), expected);
    assert.deepEqual(
      detectConstraintCycles(model({ constraints: [...constraints].reverse() })),
      expected,
    );
  });
});

describe("simulate", () => {
  const pi = input({
    model: model({
      primitives: [primitive("web", { migrationThreshold: 2 })],
      constraints: [{ kind: "location", id: "p", resource: "web", node: "node1", score: 10 }],
    }),
    current: { web: started("node1") },
  });

  test("failNode: the node is treated as fenced and its resources move", () => {
    const out = simulate(pi, { failNode: "node1" });
    assert.deepEqual(out.placement.web, started("node2"));
    assert.deepEqual(actionIds(out), ["start web@node2"]);
    assert.deepEqual(pi.current.web, started("node1"), "the input is not modified");
  });

  test("standbyNode: drained", () => {
    const out = simulate(pi, { standbyNode: "node1" });
    assert.deepEqual(actionIds(out), ["stop web@node1", "start web@node2"]);
  });

  test("failResource: restarts in place below the threshold, moves once it is reached", () => {
    const once = simulate(pi, { failResource: { resource: "web", node: "node1" } });
    assert.deepEqual(actionIds(once), ["start web@node1"]);
    const twice = simulate(
      { ...pi, failCounts: { web: { node1: { count: 1, lastFailureAtMs: 0 } } } },
      { failResource: { resource: "web", node: "node1" } },
    );
    assert.deepEqual(actionIds(twice), ["start web@node2"]);
  });

  test("bad changes are clear errors", () => {
    assert.throws(() => simulate(pi, { failNode: "nodeX" }), /failNode names "nodeX"/);
    assert.throws(
      () => simulate(pi, { failResource: { resource: "web", node: "node2" } }),
      /"web" is not running on "node2"/,
    );
  });

  test("offline nodes in the input stay offline", () => {
    const out = simulate(
      { ...pi, nodes: [node("node1"), node("node2", { online: false }), node("node3")] },
      { failNode: "node1" },
    );
    assert.deepEqual(out.placement.web, started("node3"));
  });
});
