import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { computePlacement, detectConstraintCycles, simulate } from "../../src/policy/index.js";
import { assertActionGraphValid, input, model, order, primitive } from "./fixtures.js";

// What simulate computes is covered by scenarios/simulate-*.yaml (run by scenarios.test.ts).

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

  // The validator refuses order cycles, so no scenario file can hold one: the engine is still
  // given one here, as a model that skipped the checks would be.
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
    assert.deepEqual(
      out.actions.map((a) => `${a.id} after [${a.after.join(", ")}]`),
      ["start a@node1 after []", "start b@node1 after [start a@node1]"],
    );
  });
});

describe("simulate", () => {
  test("the input is not modified", () => {
    const pi = input({
      model: model({
        primitives: [primitive("web", { migrationThreshold: 2 })],
        constraints: [{ kind: "location", id: "p", resource: "web", node: "node1", score: 10 }],
      }),
      current: { web: [{ node: "node1", role: "started" }] },
      failCounts: { web: { node1: { count: 1, lastFailureAtMs: 0 } } },
    });
    const before = structuredClone(pi);
    simulate(pi, { failNode: "node1" });
    simulate(pi, { standbyNode: "node1" });
    simulate(pi, { failResource: { resource: "web", node: "node1" } });
    assert.deepEqual(pi, before);
  });
});
