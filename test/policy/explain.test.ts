import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { explainResource } from "../../src/policy/index.js";
import { clone, input, model, primitive } from "./fixtures.js";

// Placement examples (input → expected output) live in scenarios/*.yaml, run by scenarios.test.ts.

describe("explainResource", () => {
  test("returns the score lines of a resource and rejects unknown ids", () => {
    const pi = input({
      model: model({
        primitives: [primitive("web")],
        constraints: [{ kind: "location", id: "p", resource: "web", node: "node3", score: 7 }],
      }),
    });
    const lines = explainResource(pi, "web");
    assert.deepEqual(
      lines.map((l) => [l.node, l.score]),
      [
        ["node1", 0],
        ["node2", 0],
        ["node3", 7],
      ],
    );
    assert.throws(() => explainResource(pi, "nope"), /unknown resource "nope"/);
  });

  test("a clone instance key or the wrapped primitive explains with the clone's lines", () => {
    const pi = input({
      model: model({ primitives: [primitive("agent")], clones: [clone("agents", "agent")] }),
    });
    for (const asked of ["agents:1", "agent", "agents"]) {
      assert.deepEqual(
        explainResource(pi, asked).map((l) => `${l.resource}@${l.node}`),
        ["agents@node1", "agents@node2", "agents@node3"],
        asked,
      );
    }
  });
});
