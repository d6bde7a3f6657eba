import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readyActions } from "../../src/policy/engine.js";
import { confirmedPlacement } from "../../src/takeover/cluster-view.js";
import { ReadyActionsMemo } from "../../src/takeover/placement-memo.js";
import { commit, configured, exec, inputOf, report, T0 } from "./fixtures.js";

const MOVE_ON_FAIL = {
  resources: { web: exec({ on_fail: "move", failure_timeout_ms: 60_000 }) },
};

describe("ReadyActionsMemo", () => {
  test("the same state and nodes: the engine's answer is kept as time moves on", () => {
    const memo = new ReadyActionsMemo();
    const state = configured(MOVE_ON_FAIL);
    const first = memo.readyActions(state, inputOf(state));
    assert.equal(first.validUntilMs, Number.POSITIVE_INFINITY, "no failure counted");
    assert.equal(memo.readyActions(state, inputOf(state, { nowMs: T0 + 3_600_000 })), first);
  });

  test("a new state that leaves every placement input as it was (a cluster property set): the answer is kept", () => {
    const memo = new ReadyActionsMemo();
    const state = configured(MOVE_ON_FAIL);
    const first = memo.readyActions(state, inputOf(state));
    const next = commit(state, {
      type: "cluster_property",
      name: "redis_REPL_INFO",
      value: "node2",
    });
    assert.notEqual(next, state);
    assert.equal(memo.readyActions(next, inputOf(next)), first);
    const reported = report(next, "web", "node1", "started");
    assert.notEqual(memo.readyActions(reported, inputOf(reported)), first);
  });

  test("a constraint the leader adds as time passes (a client-link cut that stood): answered again", () => {
    const memo = new ReadyActionsMemo();
    const state = configured(MOVE_ON_FAIL);
    const input = inputOf(state);
    const first = memo.readyActions(state, input);
    const banned = {
      ...input,
      model: {
        ...input.model,
        constraints: [
          ...input.model.constraints,
          {
            kind: "location" as const,
            id: "client-link-ring0@node1:web",
            resource: "web",
            node: "node1",
            score: -1_000_000,
          },
        ],
      },
    };
    const answer = memo.readyActions(state, banned);
    assert.notEqual(answer, first);
    assert.deepEqual(answer, readyActions(banned, confirmedPlacement(state)));
  });

  test("a new state, another node view, or time going back: the engine answers again", () => {
    const memo = new ReadyActionsMemo();
    const state = configured(MOVE_ON_FAIL);
    const first = memo.readyActions(state, inputOf(state, { nowMs: T0 + 10 }));
    const reported = report(state, "web", "node1", "started");
    assert.notEqual(memo.readyActions(reported, inputOf(reported, { nowMs: T0 + 10 })), first);
    const allOnline = memo.readyActions(reported, inputOf(reported, { nowMs: T0 + 10 }));
    const node3Down = memo.readyActions(reported, inputOf(reported, { live: { node3: null } }));
    assert.notEqual(node3Down, allOnline);
    assert.notEqual(memo.readyActions(reported, inputOf(reported)), node3Down);
    const fresh = new ReadyActionsMemo();
    const at20 = fresh.readyActions(reported, inputOf(reported, { nowMs: T0 + 20 }));
    assert.notEqual(fresh.readyActions(reported, inputOf(reported, { nowMs: T0 + 19 })), at20);
  });

  test("kept only until a failure it counts expires, then answered as the engine does then", () => {
    const memo = new ReadyActionsMemo();
    const state = commit(configured(MOVE_ON_FAIL), {
      type: "fail_count_increment",
      resource: "web",
      node: "node1",
      atMs: T0,
    });
    const banned = memo.readyActions(state, inputOf(state));
    assert.equal(banned.validUntilMs, T0 + 60_000 - 1);
    assert.deepEqual(
      banned.ready.map((action) => action.id),
      ["start web@node2"],
    );
    assert.equal(memo.readyActions(state, inputOf(state, { nowMs: T0 + 59_999 })), banned);
    for (const nowMs of [T0 + 60_000, T0 + 60_001]) {
      const input = inputOf(state, { nowMs });
      assert.deepEqual(
        new ReadyActionsMemo().readyActions(state, input),
        readyActions(input, confirmedPlacement(state)),
      );
    }
    const forgotten = memo.readyActions(state, inputOf(state, { nowMs: T0 + 60_001 }));
    assert.notEqual(forgotten, banned);
    assert.deepEqual(
      forgotten.ready.map((action) => action.id),
      ["start web@node1"],
    );
  });
});
