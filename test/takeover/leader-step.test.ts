import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { initialState } from "../../src/state/serialize.js";
import type { ClusterState } from "../../src/state/types.js";
import { committedModel, possibleRole } from "../../src/takeover/cluster-view.js";
import {
  answerPoll,
  applyDocument,
  changesOf,
  commit,
  commitStep,
  configured,
  exec,
  inputOf,
  LEADER,
  NODES,
  nodeConfigs,
  probe,
  promotionScore,
  replicationOffset,
  report,
  sortedChanges,
  stepOf,
  T0,
  WEB,
  webRunningOn,
} from "./fixtures.js";

/**
 * Carries out every step until there is none left: instructions reported done, each new copy's
 * first monitor giving no score, each score poll answered with the copy's committed score. With
 * `poll: false` it stops before a poll would begin.
 */
function settle(
  state: ClusterState,
  options: { poll?: boolean; offsets?: boolean } = {},
): ClusterState {
  let next = state;
  for (let step = stepOf(next); step.commands.length > 0; step = stepOf(next)) {
    if (options.poll === false && step.commands.some((c) => c.type === "score_poll")) break;
    next = commitStep(next, step);
    for (const [key, byNode] of Object.entries(next.resources)) {
      for (const [node, cell] of Object.entries(byNode)) {
        if (cell.target === undefined || cell.target === "stopped" || cell.active === cell.target)
          continue;
        next = report(next, key, node, cell.target);
        if (next.agents[node]?.attributes?.["promotion-score-db"] === undefined)
          next = promotionScore(next, "db", node, "none");
        if (
          options.offsets &&
          next.agents[node]?.attributes?.["replication-offset-db"] === undefined
        )
          next = replicationOffset(next, "db", node, "0");
      }
    }
    const poll = next.scorePolls?.db;
    for (const node of poll?.recipients ?? []) {
      if (poll?.answered.includes(node)) continue;
      next = answerPoll(
        next,
        "db",
        node,
        next.agents[node]?.attributes?.["promotion-score-db"] ?? "none",
        options.offsets
          ? (next.agents[node]?.attributes?.["replication-offset-db"] ?? "none")
          : undefined,
      );
    }
  }
  return next;
}

describe("decideLeaderStep: starting", () => {
  test("a primitive with nothing running: one instruction to start it on the best node", () => {
    const state = configured({
      resources: { web: exec() },
      constraints: [{ location: { resource: "web", node: "node2", score: 100 } }],
    });
    const step = stepOf(state);
    assert.deepEqual(step.commands, [
      {
        type: "resource_targets",
        changes: [{ resource: "web", node: "node2", target: "started" }],
        expectedVersion: state.version,
        by: LEADER,
        atMs: T0,
      },
    ]);
    assert.deepEqual(step.waitingForLease, []);
    assert.deepEqual(step.policy.placement.web, [{ node: "node2", role: "started" }]);
  });

  test("a start instructed but not yet reported is not instructed again, nor anywhere else", () => {
    let state = configured(WEB);
    state = commitStep(state, stepOf(state));
    assert.deepEqual(state.resources, { web: { node1: { target: "started" } } });
    assert.deepEqual(stepOf(state).commands, []);
    state = report(state, "web", "node1", "started");
    assert.deepEqual(stepOf(state).commands, []);
  });

  test("nothing is placed before the configuration is applied, or on nodes that have not probed", () => {
    assert.deepEqual(stepOf(initialState()).commands, []);
    const unprobed = configured(WEB, []);
    const step = stepOf(unprobed);
    assert.deepEqual(step.commands, []);
    assert.deepEqual(step.policy.placement.web, []);
    const oneProbed = probe(unprobed, "node3");
    assert.deepEqual(changesOf(stepOf(oneProbed), oneProbed), [["web", "node3", "started"]]);
  });

  test("a group: only the first member's start first; after it reports running, the second", () => {
    const document = {
      resources: { ip: { agent: "vip", params: { address: "198.18.0.100/24" } }, app: exec() },
      groups: { stack: ["ip", "app"] },
    };
    let state = configured(document);
    const first = stepOf(state);
    assert.deepEqual(changesOf(first, state), [["ip", "node1", "started"]]);
    assert.deepEqual(
      first.policy.actions.map((a) => [a.id, a.after]),
      [
        ["start ip@node1", []],
        ["start app@node1", ["start ip@node1"]],
      ],
    );
    state = commitStep(state, first);
    state = report(state, "ip", "node1", "started");
    const second = stepOf(state);
    assert.deepEqual(changesOf(second, state), [["app", "node1", "started"]]);
    state = report(commitStep(state, second), "app", "node1", "started");
    assert.deepEqual(stepOf(state).commands, []);
  });

  test("a group: the second member waits while the first member's start is still in flight", () => {
    const document = {
      resources: { ip: { agent: "vip", params: { address: "198.18.0.100/24" } }, app: exec() },
      groups: { stack: ["ip", "app"] },
    };
    let state = configured(document);
    state = commitStep(state, stepOf(state));
    assert.deepEqual(state.resources, { ip: { node1: { target: "started" } } });
    assert.deepEqual(changesOf(stepOf(state), state), []);
  });

  test("an order constraint: `then` waits while `first`'s start is still in flight", () => {
    let state = configured({
      resources: { a: exec(), b: exec() },
      constraints: [{ order: { first: "a", then: "b" } }],
    });
    const first = stepOf(state);
    assert.deepEqual(changesOf(first, state), [["a", "node1", "started"]]);
    state = commitStep(state, first);
    assert.deepEqual(changesOf(stepOf(state), state), []);
  });

  test("a promotable clone: copies start unpromoted; the promote waits for every copy's first monitor", () => {
    let state = configured({
      resources: { redis: exec() },
      clones: { db: { of: "redis", promotable: true, max: 2 } },
    });
    const first = stepOf(state);
    assert.deepEqual(sortedChanges(first, state), [
      ["db:0", "node1", "unpromoted"],
      ["db:1", "node2", "unpromoted"],
    ]);
    assert.ok(!first.policy.actions.some((a) => a.op === "promote"));
    state = commitStep(state, first);
    state = report(state, "db:0", "node1", "unpromoted");
    state = report(state, "db:1", "node2", "unpromoted");
    // Both run; neither node has said what its monitor found: no primary yet.
    assert.deepEqual(changesOf(stepOf(state), state), []);
    state = promotionScore(state, "db", "node1", "none");
    assert.deepEqual(changesOf(stepOf(state), state), []);
    assert.match(stepOf(state).policy.waiting?.[0]?.reason ?? "", /node2/);
    state = promotionScore(state, "db", "node2", "none");
    // No copy is promoted: the copies are polled for fresh scores first, alone.
    const poll = stepOf(state);
    assert.deepEqual(
      poll.commands.map((c) => (c.type === "score_poll" ? c.poll?.recipients : c.type)),
      [["node1", "node2"]],
    );
    state = commitStep(state, poll);
    state = answerPoll(state, "db", "node2", "none");
    assert.deepEqual(stepOf(state).commands, [], "node1 has not answered");
    state = answerPoll(state, "db", "node1", "none");
    const second = stepOf(state);
    assert.deepEqual(changesOf(second, state), [["db:0", "node1", "promoted"]]);
    state = commitStep(state, second);
    // The instruction to promote ended the poll, in the same entry.
    assert.equal(state.scorePolls, undefined);
    state = report(state, "db:0", "node1", "promoted");
    assert.deepEqual(stepOf(state).commands, []);
  });

  test("a primary lost: promoted from the scores the replicas read after the loss, not the older committed ones", () => {
    let state = configured({
      resources: { redis: exec() },
      clones: { db: { of: "redis", promotable: true, max: 3 } },
    });
    state = settle(state);
    assert.equal(state.resources["db:0"]?.node1?.active, "promoted");
    assert.equal(state.scorePolls, undefined);
    state = promotionScore(state, "db", "node2", "700");
    state = promotionScore(state, "db", "node3", "800");
    // The primary's node is lost; its lease ends and it is released.
    const lost = { live: { node1: null }, expired: ["node1"] };
    state = commitStep(state, stepOf(state, lost));
    assert.equal(state.resources["db:0"], undefined);
    const poll = stepOf(state, lost);
    assert.deepEqual(
      poll.commands.map((c) => (c.type === "score_poll" ? c.poll?.recipients : c.type)),
      [["node2", "node3"]],
    );
    assert.equal(poll.recheckAtMs, T0 + 20_000 + 2_000, "the monitor's timeout and a margin");
    state = commitStep(state, poll);
    // node2 received the primary's last writes after its last committed score: it holds more.
    state = answerPoll(state, "db", "node2", "950");
    state = answerPoll(state, "db", "node3", "800");
    assert.deepEqual(sortedChanges(stepOf(state, lost), state), [["db:1", "node2", "promoted"]]);
  });

  test("a primary lost while the best replica is out of reach: the promote waits for it, or for its lease's end", () => {
    let state = configured({
      resources: { redis: exec() },
      clones: { db: { of: "redis", promotable: true, max: 3 } },
    });
    state = settle(state);
    assert.equal(state.resources["db:0"]?.node1?.active, "promoted");
    state = promotionScore(state, "db", "node2", "950");
    state = promotionScore(state, "db", "node3", "800");
    // node1 (the primary) is lost and released; node2 is not heard, but its lease may still run.
    const cut = { live: { node1: null, node2: null }, expired: ["node1"] };
    state = commitStep(state, stepOf(state, cut));
    assert.equal(state.resources["db:0"], undefined);
    const poll = stepOf(state, cut);
    assert.deepEqual(
      poll.commands.map((c) => (c.type === "score_poll" ? c.poll?.recipients : c.type)),
      [["node3"]],
    );
    state = answerPoll(commitStep(state, poll), "db", "node3", "800");
    // node3's copy would lose what node2's may hold: nothing is promoted while node2 may run it.
    const held = stepOf(state, cut);
    assert.deepEqual(held.commands, []);
    assert.deepEqual(held.waitingForLease, ["node2"]);
    assert.deepEqual(held.policy.waiting, [
      {
        resource: "db",
        reason:
          "promotes no copy while its copies on node2 (score 950), out of reach, may hold newer data than the one on node3 (score 800): until they are back or their lease has surely ended",
      },
    ]);
    // Back: its copy is the one promoted.
    assert.deepEqual(sortedChanges(stepOf(state, { live: { node1: null } }), state), [
      ["db:1", "node2", "promoted"],
    ]);
    // Or its lease surely ended (its copy stopped with it): released, then node3 is promoted.
    const gone = { live: { node1: null, node2: null }, expired: ["node1", "node2"] };
    const release = stepOf(state, gone);
    assert.deepEqual(
      release.commands.map((c) => [c.type, c.type === "node_released" ? c.node : ""]),
      [["node_released", "node2"]],
    );
    state = commitStep(state, release);
    assert.deepEqual(sortedChanges(stepOf(state, gone), state), [["db:2", "node3", "promoted"]]);
  });

  test("with replication offsets read: the replica out of reach holding more holds the promote, whatever its score; the poll's offsets decide", () => {
    const offsetsRead = {
      resources: { redis: exec() },
      clones: {
        db: {
          of: "redis",
          promotable: true,
          max: 3,
          replication_offset: { command: "redis-offset" },
        },
      },
    };
    let state = settle(configured(offsetsRead), { offsets: true });
    state = replicationOffset(promotionScore(state, "db", "node2", "1"), "db", "node2", "5000");
    state = replicationOffset(promotionScore(state, "db", "node3", "900"), "db", "node3", "4000");
    const cut = { live: { node1: null, node2: null }, expired: ["node1"] };
    state = commitStep(state, stepOf(state, cut));
    state = answerPoll(commitStep(state, stepOf(state, cut)), "db", "node3", "900", "4000");
    const held = stepOf(state, cut);
    assert.deepEqual(held.commands, []);
    assert.deepEqual(held.policy.waiting, [
      {
        resource: "db",
        reason:
          "promotes no copy while its copies on node2 (offset 5000, score 1), out of reach, may hold newer data than the one on node3 (offset 4000, score 900): until they are back or their lease has surely ended",
      },
    ]);
    // Back, node2 answers a poll of its own: the fresh offsets decide, not the scores.
    const back = { live: { node1: null } };
    const poll = stepOf(state, back);
    let polled = state;
    if (poll.commands.some((c) => c.type === "score_poll")) {
      polled = commitStep(state, poll);
      polled = answerPoll(polled, "db", "node2", "1", "5100");
      polled = answerPoll(polled, "db", "node3", "900", "4000");
    }
    assert.deepEqual(sortedChanges(stepOf(polled, back), polled), [["db:1", "node2", "promoted"]]);
  });

  test("a replica out of reach with a lower score holds nothing", () => {
    let state = configured({
      resources: { redis: exec() },
      clones: { db: { of: "redis", promotable: true, max: 3 } },
    });
    state = settle(state);
    state = promotionScore(state, "db", "node2", "700");
    state = promotionScore(state, "db", "node3", "800");
    const cut = { live: { node1: null, node2: null }, expired: ["node1"] };
    state = commitStep(state, stepOf(state, cut));
    state = answerPoll(commitStep(state, stepOf(state, cut)), "db", "node3", "800");
    assert.deepEqual(sortedChanges(stepOf(state, cut), state), [["db:2", "node3", "promoted"]]);
  });

  test("a score poll: an offline recipient is not waited for, nor one past the deadline", () => {
    let state = configured({
      resources: { redis: exec() },
      clones: { db: { of: "redis", promotable: true, max: 2 } },
    });
    state = settle(state, { poll: false });
    state = promotionScore(promotionScore(state, "db", "node1", "5"), "db", "node2", "9");
    state = commitStep(state, stepOf(state));
    assert.deepEqual(state.scorePolls?.db?.recipients, ["node1", "node2"]);
    const deadline = state.scorePolls?.db?.deadlineAtMs ?? 0;
    assert.deepEqual(stepOf(state).commands, []);
    assert.equal(stepOf(state).recheckAtMs, deadline);
    assert.deepEqual(stepOf(state).policy.waiting, [
      {
        resource: "db",
        reason: `promotes no copy until its copies on node1, node2 answer the score poll (until ${new Date(deadline).toISOString().replace(".000Z", "Z")} at the latest)`,
      },
    ]);
    // node2 (the better score) went offline: not waited for by the poll, but its copy may still
    // run until its lease has surely ended; then node1 is promoted once it answered.
    const answered = answerPoll(state, "db", "node1", "5");
    assert.deepEqual(stepOf(answered, { live: { node2: null } }).commands, []);
    const gone = { live: { node2: null }, expired: ["node2"] };
    const released = commitStep(answered, stepOf(answered, gone));
    assert.equal(released.resources["db:1"], undefined, "node2 released");
    // (and node2's copy starts again on node3)
    assert.deepEqual(sortedChanges(stepOf(released, gone), released), [
      ["db:0", "node1", "promoted"],
      ["db:1", "node3", "unpromoted"],
    ]);
    // Nobody answered by the deadline: the committed scores decide.
    const late = stepOf(state, { leaderAtMs: deadline });
    assert.deepEqual(
      late.commands.map((c) => (c.type === "resource_targets" ? c.changes : c.type)),
      [[{ resource: "db:1", node: "node2", target: "promoted" }]],
    );
  });

  test("a failed primary comes back unpromoted; the replica with the best score is promoted", () => {
    let state = configured({
      resources: { redis: exec() },
      clones: { db: { of: "redis", promotable: true, max: 3 } },
    });
    state = settle(state);
    assert.equal(state.resources["db:0"]?.node1?.active, "promoted");
    state = promotionScore(state, "db", "node1", "900");
    state = promotionScore(state, "db", "node2", "700");
    state = promotionScore(state, "db", "node3", "800");
    // The primary's copy on node1 failed: its node withdraws its score, then reports it stopped.
    state = report(promotionScore(state, "db", "node1", null), "db:0", "node1", null);
    assert.deepEqual(state.resources["db:0"], { node1: { target: "unpromoted" } });
    // It starts again there: what it holds then is not known until its first monitor.
    assert.deepEqual(sortedChanges(stepOf(state), state), []);
    state = report(state, "db:0", "node1", "unpromoted");
    assert.deepEqual(sortedChanges(stepOf(state), state), []);
    state = promotionScore(state, "db", "node1", "500");
    state = settle(state, { poll: false });
    const poll = stepOf(state);
    assert.deepEqual(
      poll.commands.map((c) => (c.type === "score_poll" ? c.poll?.recipients : c.type)),
      [["node1", "node2", "node3"]],
    );
    state = commitStep(state, poll);
    for (const [node, score] of [
      ["node1", "500"],
      ["node2", "700"],
      ["node3", "800"],
    ] as const)
      state = answerPoll(state, "db", node, score);
    assert.deepEqual(sortedChanges(stepOf(state), state), [["db:2", "node3", "promoted"]]);
  });

  test("a promotable clone: the promote waits for the start to be reported", () => {
    let state = configured({
      resources: { redis: exec() },
      clones: { db: { of: "redis", promotable: true, max: 2 } },
    });
    state = commitStep(state, stepOf(state));
    assert.deepEqual(changesOf(stepOf(state), state), []);
  });

  test("a clone of a group: the instructions for its keys (clone:n/member) are accepted", () => {
    const state = configured({
      resources: { a: exec(), b: exec() },
      groups: { g: ["a", "b"] },
      clones: { c: { of: "g", max: 2 } },
    });
    const step = stepOf(state);
    assert.deepEqual(sortedChanges(step, state), [
      ["c:0/a", "node1", "started"],
      ["c:1/a", "node2", "started"],
    ]);
    commitStep(state, step);
  });
});

describe("decideLeaderStep: moving (never two copies)", () => {
  test("standby: first only the stop on the old node; the start elsewhere after it reported stopped", () => {
    let state = commit(webRunningOn("node1"), {
      type: "node_standby",
      node: "node1",
      standby: true,
    });
    const stop = stepOf(state);
    assert.deepEqual(changesOf(stop, state), [["web", "node1", "stopped"]]);
    assert.deepEqual(
      stop.policy.actions.map((a) => [a.id, a.after]),
      [
        ["stop web@node1", []],
        ["start web@node2", ["stop web@node1"]],
      ],
    );
    state = commitStep(state, stop);
    assert.deepEqual(stepOf(state).commands, [], "the stop is in flight: nothing to add");
    state = report(state, "web", "node1", null);
    assert.deepEqual(state.resources, {});
    assert.deepEqual(changesOf(stepOf(state), state), [["web", "node2", "started"]]);
  });

  test("a cell told to stop that has not reported anything still counts as running", () => {
    let state = configured(WEB);
    state = commitStep(state, stepOf(state));
    state = commit(state, { type: "node_standby", node: "node1", standby: true });
    state = commitStep(state, stepOf(state));
    assert.deepEqual(state.resources, { web: { node1: { target: "stopped" } } });
    const waiting = stepOf(state);
    assert.deepEqual(waiting.commands, []);
    assert.deepEqual(waiting.policy.placement.web, [{ node: "node2", role: "started" }]);
    state = report(state, "web", "node1", null);
    assert.deepEqual(changesOf(stepOf(state), state), [["web", "node2", "started"]]);
  });

  test("a failed stop keeps the resource where it may run: nothing starts elsewhere", () => {
    let state = commit(webRunningOn("node1"), {
      type: "node_standby",
      node: "node1",
      standby: true,
    });
    state = commitStep(state, stepOf(state));
    state = report(state, "web", "node1", null, { stopFailed: true });
    assert.deepEqual(state.resources.web, {
      node1: { target: "stopped", active: "started", stopFailed: true },
    });
    assert.deepEqual(stepOf(state).commands, []);
  });

  test("a node shutting down counts as standby: its resources are moved away first", () => {
    let state = commit(webRunningOn("node1"), {
      type: "node_shutdown",
      node: "node1",
      incarnation: 1,
    });
    assert.equal(inputOf(state).nodes.find((n) => n.name === "node1")?.standby, true);
    assert.deepEqual(changesOf(stepOf(state), state), [["web", "node1", "stopped"]]);
    state = report(commitStep(state, stepOf(state)), "web", "node1", null);
    assert.deepEqual(changesOf(stepOf(state), state), [["web", "node2", "started"]]);
  });
});

describe("decideLeaderStep: lost nodes and leases", () => {
  test("a node that is not up: nothing elsewhere until its lease has ended, then it is released", () => {
    const state = webRunningOn("node1");
    const down = { live: { node1: null } };
    const waiting = stepOf(state, down);
    assert.deepEqual(waiting.commands, []);
    assert.deepEqual(waiting.waitingForLease, ["node1"]);
    assert.deepEqual(
      waiting.policy.blocked?.map((b) => b.resource),
      ["web"],
    );

    const released = stepOf(state, { ...down, expired: ["node1"] });
    assert.deepEqual(released.commands, [
      {
        type: "node_released",
        node: "node1",
        expectedVersion: state.version,
        by: LEADER,
        atMs: T0,
      },
    ]);
    assert.deepEqual(released.waitingForLease, []);

    const after = commitStep(state, released);
    assert.deepEqual(after.resources, {});
    assert.equal(after.agents.node1, undefined);
    assert.deepEqual(changesOf(stepOf(after, down), after), [["web", "node2", "started"]]);
  });

  test("releases come alone: no instructions in the same step", () => {
    let state = configured({ resources: { web: exec(), db: exec() } });
    state = commit(state, (s) => ({
      type: "resource_targets",
      changes: [{ resource: "web", node: "node1", target: "started" }],
      expectedVersion: s.version,
    }));
    const step = stepOf(state, { live: { node1: null }, expired: ["node1"] });
    assert.deepEqual(
      step.commands.map((c) => c.type),
      ["node_released"],
    );
  });

  test("a lost node with nothing recorded on it is neither waited for nor released", () => {
    const state = configured(WEB);
    const step = stepOf(state, { live: { node1: null }, expired: ["node1"] });
    assert.deepEqual(step.waitingForLease, []);
    assert.deepEqual(changesOf(step, state), [["web", "node2", "started"]]);
  });

  test("several lost nodes: each released once its own lease ended, in name order", () => {
    let state = configured({
      resources: { a: exec(), b: exec() },
      constraints: [
        { location: { resource: "a", node: "node1", score: 100 } },
        { location: { resource: "b", node: "node2", score: 100 } },
      ],
    });
    state = commitStep(state, stepOf(state));
    assert.deepEqual(Object.keys(state.resources).sort(), ["a", "b"]);
    const live = { node1: null, node2: null };
    assert.deepEqual(stepOf(state, { live }).waitingForLease, ["node1", "node2"]);
    const one = stepOf(state, { live, expired: ["node2"] });
    assert.deepEqual(one.waitingForLease, ["node1"]);
    assert.deepEqual(one.commands, [
      {
        type: "node_released",
        node: "node2",
        expectedVersion: state.version,
        by: LEADER,
        atMs: T0,
      },
    ]);
    // One release per step (each is compare-and-set on the version): node1 first, then node2.
    const both = stepOf(state, { live, expired: ["node2", "node1"] });
    assert.deepEqual(
      both.commands.map((c) => (c.type === "node_released" ? c.node : c.type)),
      ["node1"],
    );
    const after = commitStep(state, both);
    assert.deepEqual(
      stepOf(after, { live, expired: ["node2", "node1"] }).commands.map((c) =>
        c.type === "node_released" ? c.node : c.type,
      ),
      ["node2"],
    );
  });

  test("a node that restarted (another run) and has not probed counts as offline", () => {
    const state = configured({
      resources: { web: exec() },
      constraints: [{ location: { resource: "web", node: "node1", score: 100 } }],
    });
    assert.deepEqual(changesOf(stepOf(state), state), [["web", "node1", "started"]]);
    const restarted = { live: { node1: 2 } };
    const node1 = inputOf(state, restarted).nodes.find((n) => n.name === "node1");
    assert.equal(node1?.online, false);
    assert.deepEqual(changesOf(stepOf(state, restarted), state), [["web", "node2", "started"]]);
    const reprobed = probe(state, "node1", [], 2);
    assert.deepEqual(changesOf(stepOf(reprobed, restarted), reprobed), [
      ["web", "node1", "started"],
    ]);
  });

  test("a node that has not probed the configuration in force counts as offline", () => {
    const document = {
      resources: { web: exec() },
      constraints: [{ location: { resource: "web", node: "node1", score: 100 } }],
    };
    let state = applyDocument(configured(document), document);
    assert.deepEqual(stepOf(state).commands, [], "nobody has probed the new version yet");
    state = probe(probe(state, "node2"), "node3");
    assert.deepEqual(
      inputOf(state).nodes.map((n) => [n.name, n.online]),
      [
        ["node1", false],
        ["node2", true],
        ["node3", true],
      ],
    );
    assert.deepEqual(changesOf(stepOf(state), state), [["web", "node2", "started"]]);
  });

  test("a node restarted with resources recorded from its old run waits for the lease too", () => {
    const state = webRunningOn("node1");
    const step = stepOf(state, { live: { node1: 2 } });
    assert.deepEqual(step.commands, []);
    assert.deepEqual(step.waitingForLease, ["node1"]);
  });
});

describe("decideLeaderStep: fencing", () => {
  test("with fencing a lost node is fenced, never released by its lease; a fence releases it", () => {
    const state = webRunningOn("node1");
    const view = { live: { node1: null }, expired: ["node1"], fencing: { up: ["node2", "node3"] } };
    const step = stepOf(state, view);
    assert.deepEqual(step.commands, []);
    assert.deepEqual(step.toFence, ["node1"]);
    const fenced = commit(state, {
      type: "node_fenced",
      node: "node1",
      ok: true,
      action: "reboot",
      devices: ["ipmi-node1"],
      detail: "ok",
    });
    assert.deepEqual(fenced.resources, {});
    assert.equal(fenced.fenceHistory.length, 1);
    assert.deepEqual(changesOf(stepOf(fenced, view), fenced), [["web", "node2", "started"]]);
  });

  test("a failed fence keeps the resources where they were; it is recorded", () => {
    const state = commit(webRunningOn("node1"), {
      type: "node_fenced",
      node: "node1",
      ok: false,
      action: "reboot",
      devices: ["ipmi-node1"],
      detail: "exit 1",
    });
    assert.equal(state.resources.web?.node1?.active, "started");
    assert.equal(state.fenceHistory.at(-1)?.ok, false);
    const step = stepOf(state, { live: { node1: null }, fencing: { up: ["node2", "node3"] } });
    assert.deepEqual(step.commands, []);
    assert.deepEqual(step.toFence, ["node1"]);
  });

  test("a node whose run asked to be fenced (on_fail fence) is fenced while up; its resources wait for the fence", () => {
    const asked = commit(webRunningOn("node1"), {
      type: "node_fence_request",
      node: "node1",
      incarnation: 1,
      resource: "web",
      reason: "web failed its monitor (on_fail fence): failed",
    });
    const up = { up: ["node1", "node2", "node3"] };
    const step = stepOf(asked, { fencing: up });
    assert.deepEqual(step.toFence, ["node1"]);
    assert.deepEqual(step.commands, []);
    assert.match(
      step.policy.blocked?.map((b) => `${b.resource}: ${b.reason}`).join("\n") ?? "",
      /^web: runs on node1/m,
    );
    // Fenced: released (the request with its run), and web starts elsewhere.
    const fenced = commit(asked, {
      type: "node_fenced",
      node: "node1",
      run: 1,
      ok: true,
      action: "reboot",
      devices: ["ipmi-node1"],
      detail: "ok",
    });
    assert.equal(fenced.agents.node1, undefined);
    assert.deepEqual(changesOf(stepOf(fenced, { live: { node1: null }, fencing: up }), fenced), [
      ["web", "node2", "started"],
    ]);
    // Without fencing nobody could fence it: the request changes nothing.
    assert.deepEqual(stepOf(asked).toFence, []);
    assert.deepEqual(stepOf(asked).commands, []);
  });

  test("a node whose heartbeats arrive but has not probed yet is waited for, not fenced", () => {
    const state = webRunningOn("node1");
    const step = stepOf(state, {
      live: { node1: 2 },
      fencing: { up: ["node1", "node2", "node3"] },
    });
    assert.deepEqual(step.toFence, []);
    assert.deepEqual(step.waitingForLease, ["node1"]);
  });
});

describe("decideLeaderStep: adoption", () => {
  test("a probe found it running where the policy wants it: the instruction is set to keep it", () => {
    let state = configured({
      resources: { web: exec() },
      constraints: [{ location: { resource: "web", node: "node2", score: 100 } }],
    });
    state = probe(state, "node2", [{ resource: "web", role: "started" }]);
    assert.deepEqual(state.resources, { web: { node2: { active: "started" } } });
    const step = stepOf(state);
    assert.deepEqual(step.policy.actions, []);
    assert.deepEqual(changesOf(step, state), [["web", "node2", "started"]]);
    state = commitStep(state, step);
    assert.deepEqual(stepOf(state).commands, []);
  });

  test("found running on a node it may not run on: stopped there before it starts elsewhere", () => {
    let state = configured({
      resources: { web: exec() },
      constraints: [{ location: { resource: "web", node: "node3", score: "-INFINITY" } }],
    });
    state = probe(state, "node3", [{ resource: "web", role: "started" }]);
    assert.deepEqual(changesOf(stepOf(state), state), [["web", "node3", "stopped"]]);
  });

  test("a promoted copy found by a probe keeps its promotion", () => {
    let state = configured({
      resources: { redis: exec() },
      clones: { db: { of: "redis", promotable: true, max: 2 } },
    });
    state = probe(state, "node2", [{ resource: "db:0", role: "promoted" }]);
    const changes = sortedChanges(stepOf(state), state);
    assert.deepEqual(changes, [
      ["db:0", "node2", "promoted"],
      ["db:1", "node1", "unpromoted"],
    ]);
  });
});

describe("decideLeaderStep: operator overrides", () => {
  test("move: the preferred node wins, after the stop on the old one", () => {
    let state = commit(webRunningOn("node1"), {
      type: "resource_move",
      resource: "web",
      node: "node3",
    });
    assert.deepEqual(changesOf(stepOf(state), state), [["web", "node1", "stopped"]]);
    state = report(commitStep(state, stepOf(state)), "web", "node1", null);
    assert.deepEqual(changesOf(stepOf(state), state), [["web", "node3", "started"]]);
  });

  test("ban: the resource never runs on the banned node; clear lifts it", () => {
    let state = commit(configured(WEB), { type: "resource_ban", resource: "web", node: "node1" });
    assert.deepEqual(changesOf(stepOf(state), state), [["web", "node2", "started"]]);
    state = commit(state, { type: "resource_ban", resource: "web", node: "node2" });
    assert.deepEqual(changesOf(stepOf(state), state), [["web", "node3", "started"]]);
    state = commit(state, { type: "resource_clear", resource: "web" });
    assert.deepEqual(changesOf(stepOf(state), state), [["web", "node1", "started"]]);
  });

  test("role stopped: the stop is instructed and nothing starts elsewhere; started again after", () => {
    let state = commit(webRunningOn("node2"), {
      type: "resource_role",
      resource: "web",
      stopped: true,
    });
    assert.deepEqual(changesOf(stepOf(state), state), [["web", "node2", "stopped"]]);
    state = report(commitStep(state, stepOf(state)), "web", "node2", null);
    const idle = stepOf(state);
    assert.deepEqual(idle.commands, []);
    assert.deepEqual(idle.policy.placement.web, []);
    state = commit(state, { type: "resource_role", resource: "web", stopped: false });
    assert.deepEqual(changesOf(stepOf(state), state), [["web", "node1", "started"]]);
  });

  test("overrides of resources the configuration does not have are ignored", () => {
    const state = commit(
      configured(WEB),
      { type: "resource_move", resource: "ghost", node: "node2" },
      { type: "resource_role", resource: "ghost", stopped: true },
    );
    assert.deepEqual(changesOf(stepOf(state), state), [["web", "node1", "started"]]);
  });
});

describe("decideLeaderStep: maintenance and failures", () => {
  test("maintenance: no commands, whatever would otherwise be done", () => {
    let state = commit(webRunningOn("node1"), {
      type: "node_standby",
      node: "node1",
      standby: true,
    });
    state = applyDocument(state, { resources: { web: exec(), db: exec() } });
    state = probe(probe(probe(state, "node1"), "node2"), "node3");
    assert.notDeepEqual(stepOf(state).commands, []);
    state = commit(state, { type: "maintenance", on: true });
    const step = stepOf(state);
    assert.deepEqual(step.commands, []);
    assert.deepEqual(step.policy.actions, []);
  });

  test("a fatal failure (a failed start) bans the node", () => {
    let state = configured(WEB);
    state = commitStep(state, stepOf(state));
    state = commit(state, {
      type: "fail_count_increment",
      resource: "web",
      node: "node1",
      fatal: true,
    });
    // The node cleaned up after the failed start: the instruction to run it still stands.
    state = report(state, "web", "node1", null);
    assert.deepEqual(state.resources, { web: { node1: { target: "started" } } });
    assert.deepEqual(changesOf(stepOf(state), state), [["web", "node1", "stopped"]]);
    state = report(commitStep(state, stepOf(state)), "web", "node1", null);
    assert.deepEqual(changesOf(stepOf(state), state), [["web", "node2", "started"]]);
  });

  test("on_fail move bans the node after one failure; the default restarts in place", () => {
    const failedOnce = (document: typeof WEB) =>
      commit(webRunningOn("node1", document), {
        type: "fail_count_increment",
        resource: "web",
        node: "node1",
      });
    const restart = failedOnce(WEB);
    assert.deepEqual(stepOf(restart).commands, []);
    const move = failedOnce({ resources: { web: exec({ on_fail: "move" }) } });
    assert.deepEqual(changesOf(stepOf(move), move), [["web", "node1", "stopped"]]);
    assert.ok(
      stepOf(move).policy.scores.some(
        (line) =>
          line.resource === "web" &&
          line.node === "node1" &&
          line.reasons.some((r) => /fail count web@node1 1 reached migration-threshold 1/.test(r)),
      ),
    );
  });

  test("a failure timeout forgets the ban once the last failure is old enough", () => {
    const document = { resources: { web: exec({ on_fail: "move", failure_timeout_ms: 60_000 }) } };
    const state = commit(configured(document), {
      type: "fail_count_increment",
      resource: "web",
      node: "node1",
      atMs: T0,
    });
    assert.deepEqual(changesOf(stepOf(state), state), [["web", "node2", "started"]]);
    const later = stepOf(state, { nowMs: T0 + 60_001 });
    assert.deepEqual(changesOf(later, state), [["web", "node1", "started"]]);
  });
});

describe("policyInputOf", () => {
  test("nodes: witnesses left out; standby, attributes and who takes part from the state", () => {
    let state = configured(WEB, ["node1", "node2"]);
    state = commit(
      state,
      { type: "node_standby", node: "node2", standby: true },
      { type: "node_attribute_set", node: "node1", key: "rack", value: "r1" },
    );
    const nodes = [
      ...nodeConfigs("node1", "node2", "node3"),
      { ...NODES[0], id: 9, name: "wit", witness: true },
    ];
    const input = inputOf(state, { nodes: nodes as typeof NODES, nowMs: 42 });
    assert.deepEqual(input.nodes, [
      { name: "node1", online: true, standby: false, attributes: { rack: "r1" } },
      { name: "node2", online: true, standby: true, attributes: {} },
      { name: "node3", online: false, standby: false, attributes: {} },
    ]);
    assert.equal(input.nowMs, 42);
    assert.equal(input.maintenance, false);
    assert.deepEqual(Object.keys(input.model.primitives), ["web"]);
  });

  test("current: every cell counts, in the role it may be running in, marked if instructed", () => {
    let state = configured({
      resources: { redis: exec() },
      clones: { db: { of: "redis", max: 3, promotable: true } },
    });
    state = commit(state, (s) => ({
      type: "resource_targets",
      changes: [
        { resource: "db:0", node: "node1", target: "promoted" },
        { resource: "db:1", node: "node2", target: "stopped" },
        { resource: "db:2", node: "node3", target: "unpromoted" },
      ],
      expectedVersion: s.version,
    }));
    state = report(state, "db:1", "node2", "promoted");
    const input = inputOf(state);
    assert.deepEqual(input.current, {
      "db:0": [{ node: "node1", role: "promoted", instructed: true }],
      "db:1": [{ node: "node2", role: "promoted" }],
      "db:2": [{ node: "node3", role: "unpromoted", instructed: true }],
    });
    assert.equal(input.failCounts, state.failCounts);
  });

  test("possibleRole: the furthest of instruction and report", () => {
    assert.equal(possibleRole({}), "started");
    assert.equal(possibleRole({ target: "stopped" }), "started");
    assert.equal(possibleRole({ target: "stopped", active: "promoted" }), "promoted");
    assert.equal(possibleRole({ target: "promoted", active: "unpromoted" }), "promoted");
    assert.equal(possibleRole({ target: "unpromoted", active: "promoted" }), "promoted");
    assert.equal(possibleRole({ target: "unpromoted" }), "unpromoted");
    assert.equal(possibleRole({ active: "started", stopFailed: true }), "started");
  });

  test("operator moves and bans become location constraints; a stop sets the target role", () => {
    const state = commit(
      configured(WEB),
      { type: "resource_move", resource: "web", node: "node2" },
      { type: "resource_ban", resource: "web", node: "node3" },
      { type: "resource_role", resource: "web", stopped: true },
    );
    const { model } = inputOf(state);
    assert.deepEqual(model.constraints, [
      { kind: "location", id: "cli-prefer-web", resource: "web", node: "node2", score: 1_000_000 },
      {
        kind: "location",
        id: "cli-ban-web-on-node3",
        resource: "web",
        node: "node3",
        score: -1_000_000,
      },
    ]);
    assert.equal(model.primitives.web?.meta.targetRole, "stopped");
    assert.equal(committedModel(state, NODES).model.primitives.web?.meta.targetRole, "started");
  });

  test("committedModel: empty before the first apply; what does not check out here is left out with its reason", () => {
    assert.deepEqual(committedModel(initialState(), NODES).model, {
      primitives: {},
      groups: {},
      clones: {},
      constraints: [],
    });
    const state = applyDocument(initialState(), {
      resources: { web: exec(), db: exec() },
      constraints: [{ location: { resource: "web", node: "node9", score: 10 } }],
    });
    const { model, problems } = committedModel(state, NODES);
    assert.deepEqual(Object.keys(model.primitives), ["db"]);
    assert.match(model.unusable?.web ?? "", /^constraints\.0\.location\.node: no node named node9/);
    assert.equal(problems.length, 1);
  });
});
