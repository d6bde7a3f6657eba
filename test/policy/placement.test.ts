import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { computePlacement, explainResource } from "../../src/policy/index.js";
import { INFINITY_SCORE } from "../../src/resource-model/types.js";
import {
  actionIds,
  assertActionGraphValid,
  findAction,
  input,
  model,
  node,
  primitive,
  started,
} from "./fixtures.js";

const INF = INFINITY_SCORE;

describe("single resource placement", () => {
  test("goes to the node with the highest location score and is started there", () => {
    const out = computePlacement(
      input({
        model: model({
          primitives: [primitive("web")],
          constraints: [
            { kind: "location", id: "pref-2", resource: "web", node: "node2", score: 100 },
            { kind: "location", id: "pref-3", resource: "web", node: "node3", score: 50 },
          ],
        }),
      }),
    );
    assert.deepEqual(out.placement.web, started("node2"));
    assert.deepEqual(actionIds(out), ["start web@node2"]);
    assert.deepEqual(findAction(out, "start web@node2").after, []);
    const line = out.scores.find((l) => l.resource === "web" && l.node === "node2");
    assert.equal(line?.score, 100);
    assert.deepEqual(line?.reasons, ["location pref-2 +100"]);
  });

  test("without preferences, ties go to the first node in `nodes`", () => {
    const out = computePlacement(input({ model: model({ primitives: [primitive("web")] }) }));
    assert.deepEqual(out.placement.web, started("node1"));
  });

  test("rules on node attributes: numeric when both numeric, all rules must hold", () => {
    const out = computePlacement(
      input({
        nodes: [
          node("node1", { attributes: { connectivity: "9", rack: "a" } }),
          node("node2", { attributes: { connectivity: "10", rack: "b" } }),
          node("node3", { attributes: { connectivity: "10", rack: "a" } }),
        ],
        model: model({
          primitives: [primitive("web")],
          constraints: [
            {
              kind: "location",
              id: "connected-rack-a",
              resource: "web",
              rules: [
                { attribute: "connectivity", op: "gte", value: "10" },
                { attribute: "rack", op: "eq", value: "a" },
              ],
              score: 200,
            },
            {
              kind: "location",
              id: "no-ssd",
              resource: "web",
              rules: [{ attribute: "ssd", op: "not_defined" }],
              score: 10,
            },
          ],
        }),
      }),
    );
    // "10" >= "10" numerically (string order would also pass), "9" < "10" numerically (not as strings).
    assert.deepEqual(out.placement.web, started("node3"));
    const node1 = out.scores.find((l) => l.resource === "web" && l.node === "node1");
    assert.equal(node1?.score, 10);
  });

  test("targetRole stopped: not placed, running copy stopped, not reported unplaceable", () => {
    const out = computePlacement(
      input({
        model: model({ primitives: [primitive("web", { targetRole: "stopped" })] }),
        current: { web: started("node1") },
      }),
    );
    assert.deepEqual(out.placement.web, []);
    assert.deepEqual(actionIds(out), ["stop web@node1"]);
    assert.deepEqual(out.unplaceable, []);
  });

  test("a resource no longer in the model is stopped where it runs", () => {
    const out = computePlacement(input({ model: model({}), current: { old: started("node2") } }));
    assert.deepEqual(actionIds(out), ["stop old@node2"]);
  });
});

describe("stickiness and auto_failback", () => {
  const preferNode1 = {
    kind: "location" as const,
    id: "prefer-node1",
    resource: "web",
    node: "node1",
    score: 100,
  };

  test("auto_failback off: stays on the failover survivor when the preferred node returns", () => {
    const out = computePlacement(
      input({
        model: model({
          primitives: [primitive("web", { stickiness: 50, autoFailback: false })],
          constraints: [preferNode1],
        }),
        current: { web: started("node2") },
      }),
    );
    assert.deepEqual(out.placement.web, started("node2"));
    assert.deepEqual(out.actions, []);
    const here = out.scores.find((l) => l.resource === "web" && l.node === "node2");
    assert.deepEqual(here?.reasons, ["stickiness (running here) +50"]);
  });

  test("auto_failback off with stickiness 0 still stays (Heartbeat's auto_failback off)", () => {
    const out = computePlacement(
      input({
        model: model({ primitives: [primitive("web")], constraints: [preferNode1] }),
        current: { web: started("node2") },
      }),
    );
    assert.deepEqual(out.placement.web, started("node2"));
  });

  test("auto_failback off: an explicit +INFINITY preference (operator move) still moves it", () => {
    const out = computePlacement(
      input({
        model: model({
          primitives: [primitive("web", { stickiness: 50 })],
          constraints: [{ ...preferNode1, score: INF }],
        }),
        current: { web: started("node2") },
      }),
    );
    assert.deepEqual(out.placement.web, started("node1"));
  });

  test("auto_failback on: returns to the preferred node, stop before start, stickiness ignored", () => {
    const out = computePlacement(
      input({
        model: model({
          primitives: [primitive("web", { stickiness: 500, autoFailback: true })],
          constraints: [preferNode1],
        }),
        current: { web: started("node2") },
      }),
    );
    assert.deepEqual(out.placement.web, started("node1"));
    assert.deepEqual(actionIds(out), ["stop web@node2", "start web@node1"]);
    assert.deepEqual(findAction(out, "start web@node1").after, ["stop web@node2"]);
    assert.ok(out.scores.every((l) => !l.reasons.some((r) => r.startsWith("stickiness"))));
  });

  test("auto_failback on: stays on a tie instead of moving for nothing", () => {
    const out = computePlacement(
      input({
        model: model({ primitives: [primitive("web", { autoFailback: true })] }),
        current: { web: started("node3") },
      }),
    );
    assert.deepEqual(out.placement.web, started("node3"));
    assert.deepEqual(out.actions, []);
  });
});

describe("node loss, standby, failures", () => {
  const web = model({
    primitives: [primitive("web")],
    constraints: [{ kind: "location", id: "prefer-1", resource: "web", node: "node1", score: 100 }],
  });

  test("node offline and cleared by the caller: started on the best survivor, nothing on node1", () => {
    const out = computePlacement(
      input({
        model: web,
        nodes: [node("node1", { online: false }), node("node2"), node("node3")],
        current: {},
      }),
    );
    assert.deepEqual(out.placement.web, started("node2"));
    assert.deepEqual(actionIds(out), ["start web@node2"]);
    const line = out.scores.find((l) => l.resource === "web" && l.node === "node1");
    assert.equal(line?.score, -INF);
    assert.ok(line?.reasons.includes("node offline -INFINITY"));
  });

  test("node offline but still listed in current: blocked, no action anywhere (no double run)", () => {
    const out = computePlacement(
      input({
        model: web,
        nodes: [node("node1", { online: false }), node("node2"), node("node3")],
        current: { web: started("node1") },
      }),
    );
    assert.deepEqual(out.actions, []);
    assert.deepEqual(out.placement.web, started("node1"));
    assert.equal(out.blocked?.[0]?.resource, "web");
    assert.match(out.blocked?.[0]?.reason ?? "", /node1, which is offline/);
  });

  test("a split-brain copy on a live node is stopped; nothing is emitted for the offline node", () => {
    const out = computePlacement(
      input({
        model: model({ primitives: [primitive("web"), primitive("db")] }),
        nodes: [node("node1", { online: false }), node("node2")],
        current: { db: [{ node: "node1", role: "started" }], web: started("node2") },
      }),
    );
    assert.ok(out.actions.every((a) => a.node !== "node1"));
  });

  test("standby node is drained: stop there, start elsewhere after the stop", () => {
    const out = computePlacement(
      input({
        model: web,
        nodes: [node("node1", { standby: true }), node("node2"), node("node3")],
        current: { web: started("node1") },
      }),
    );
    assert.deepEqual(out.placement.web, started("node2"));
    assert.deepEqual(actionIds(out), ["stop web@node1", "start web@node2"]);
    assert.deepEqual(findAction(out, "start web@node2").after, ["stop web@node1"]);
  });

  test("migration threshold reached: moves away from the failing node", () => {
    const out = computePlacement(
      input({
        model: model({
          primitives: [primitive("web", { migrationThreshold: 3 })],
          constraints: [
            { kind: "location", id: "prefer-1", resource: "web", node: "node1", score: 100 },
          ],
        }),
        current: { web: started("node1") },
        failCounts: { web: { node1: { count: 3, lastFailureAtMs: 999_000 } } },
      }),
    );
    assert.deepEqual(out.placement.web, started("node2"));
    assert.deepEqual(actionIds(out), ["stop web@node1", "start web@node2"]);
    const line = out.scores.find((l) => l.resource === "web" && l.node === "node1");
    assert.ok(
      line?.reasons.includes("fail count web@node1 3 reached migration-threshold 3 -INFINITY"),
    );
  });

  test("below the threshold the resource stays", () => {
    const out = computePlacement(
      input({
        model: model({ primitives: [primitive("web", { migrationThreshold: 3 })] }),
        current: { web: started("node1") },
        failCounts: { web: { node1: { count: 2, lastFailureAtMs: 999_000 } } },
      }),
    );
    assert.deepEqual(out.placement.web, started("node1"));
  });

  test("failure timeout expired: allowed back on the node (auto_failback returns it)", () => {
    const base = {
      model: model({
        primitives: [
          primitive("web", { migrationThreshold: 1, failureTimeoutMs: 60_000, autoFailback: true }),
        ],
        constraints: [
          { kind: "location" as const, id: "prefer-1", resource: "web", node: "node1", score: 100 },
        ],
      }),
      current: { web: started("node2") },
      failCounts: { web: { node1: { count: 5, lastFailureAtMs: 1_000_000 } } },
    };
    const fresh = computePlacement(input({ ...base, nowMs: 1_060_000 }));
    assert.deepEqual(fresh.placement.web, started("node2"), "exactly at the timeout: still banned");
    const expired = computePlacement(input({ ...base, nowMs: 1_060_001 }));
    assert.deepEqual(expired.placement.web, started("node1"));
    assert.deepEqual(actionIds(expired), ["stop web@node2", "start web@node1"]);
  });

  test("migrationThreshold 0 never bans", () => {
    const out = computePlacement(
      input({
        model: model({ primitives: [primitive("web")] }),
        current: { web: started("node1") },
        failCounts: { web: { node1: { count: 100, lastFailureAtMs: 999_000 } } },
      }),
    );
    assert.deepEqual(out.placement.web, started("node1"));
  });
});

describe("maintenance and unplaceable", () => {
  test("maintenance: placement equals current and no actions, even if things are wrong", () => {
    const current = { web: started("node1"), orphan: started("node2") };
    const out = computePlacement(
      input({
        model: model({ primitives: [primitive("web"), primitive("db")] }),
        nodes: [node("node1", { standby: true }), node("node2")],
        current,
        maintenance: true,
      }),
    );
    assert.deepEqual(out.placement, current);
    assert.deepEqual(out.actions, []);
  });

  test("unplaceable names the ban on every node", () => {
    const out = computePlacement(
      input({
        model: model({
          primitives: [primitive("web")],
          constraints: [
            { kind: "location", id: "never-2", resource: "web", node: "node2", score: -INF },
          ],
        }),
        nodes: [node("node1", { online: false }), node("node2"), node("node3", { standby: true })],
      }),
    );
    assert.deepEqual(out.placement.web, []);
    assert.deepEqual(out.unplaceable, [
      {
        resource: "web",
        reason:
          "no node can run web: node1: node offline -INFINITY; node2: location never-2 -INFINITY; node3: node standby -INFINITY",
      },
    ]);
    assert.deepEqual(out.actions, []);
  });

  test("-INFINITY wins over +INFINITY", () => {
    const out = computePlacement(
      input({
        model: model({
          primitives: [primitive("web")],
          constraints: [
            { kind: "location", id: "a-must", resource: "web", node: "node1", score: INF },
            { kind: "location", id: "b-never", resource: "web", node: "node1", score: -INF },
          ],
        }),
      }),
    );
    assert.deepEqual(out.placement.web, started("node2"));
    assertActionGraphValid(out);
  });

  test("explain returns the score lines of a resource and rejects unknown ids", () => {
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

  test("bad input: a rule without a value is a clear error", () => {
    assert.throws(
      () =>
        computePlacement(
          input({
            model: model({
              primitives: [primitive("web")],
              constraints: [
                {
                  kind: "location",
                  id: "broken",
                  resource: "web",
                  rules: [{ attribute: "x", op: "gt" }],
                  score: 1,
                },
              ],
            }),
          }),
        ),
      /location "broken": rule on attribute "x" with op "gt" needs a value/,
    );
  });
});

describe("a resource found running in two places", () => {
  test("the copy the leader put there stays; the other is stopped", () => {
    for (const [instructedNode, other] of [
      ["node2", "node1"],
      ["node1", "node2"],
    ] as const) {
      const out = computePlacement(
        input({
          model: model({ primitives: [primitive("web", { stickiness: 50 })] }),
          current: {
            web: [
              {
                node: "node1",
                role: "started",
                ...(instructedNode === "node1" ? { instructed: true } : {}),
              },
              {
                node: "node2",
                role: "started",
                ...(instructedNode === "node2" ? { instructed: true } : {}),
              },
            ],
          },
        }),
      );
      assert.deepEqual(out.placement.web, started(instructedNode));
      assert.deepEqual(actionIds(out), [`stop web@${other}`]);
    }
  });
});
