import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cloneMetaEnvironment } from "../../src/pacemaker/clone-meta.js";
import type { Action } from "../../src/policy/types.js";
import type { NotifyRound } from "../../src/state/notify-rounds.js";
import type { ClusterState } from "../../src/state/types.js";
import { decideLeaderStep, type LeaderStep } from "../../src/takeover/leader-step.js";
import {
  NOTIFY_DEADLINE_MARGIN_MS,
  notifyEnvironment,
  notifyLists,
} from "../../src/takeover/notify-round.js";
import {
  answerPoll,
  commit,
  commitStep,
  configured,
  exec,
  inputOf,
  LEADER,
  promotionScore,
  report,
  T0,
  type View,
} from "./fixtures.js";

const DB = (notify: boolean) => ({
  resources: { redis: { ...exec(), operations: { notify: { timeout_ms: 7000 } } } },
  clones: { db: { of: "redis", promotable: true, max: 3, notify } },
});

function stepAt(state: ClusterState, atMs = T0, view: View = {}): LeaderStep {
  return decideLeaderStep({
    state,
    input: inputOf(state, view),
    leaseSurelyExpired: () => false,
    by: LEADER,
    atMs,
  });
}

function roundOf(step: LeaderStep): NotifyRound | null | undefined {
  const command = step.commands[0];
  return command?.type === "notify_round" ? command.round : undefined;
}

function notified(state: ClusterState, node: string, outcome: "ok" | "failed" = "ok") {
  const round = state.notifyRounds?.db;
  assert.ok(round !== undefined && round.phase !== "acting", "a round waits for nodes");
  return commit(state, {
    type: "notify_done",
    clone: "db",
    round: round.id,
    phase: round.phase === "pre" ? "pre" : "post",
    node,
    incarnation: 1,
    outcome,
  });
}

/** One line per thing that happened: a phase told to nodes, or an instruction. */
type Event = string;

/**
 * Runs the leader's steps, and the nodes (every recipient answers, every instruction is carried
 * out and reported, each copy's monitor giving `score`), until nothing is left to do.
 */
function settle(
  start: ClusterState,
  scores: Record<string, string> = {},
): { state: ClusterState; events: Event[] } {
  let state = start;
  const events: Event[] = [];
  for (let i = 0; i < 50; i++) {
    const step = stepAt(state);
    if (step.commands.length === 0) return { state, events };
    state = commitStep(state, step);
    const command = step.commands[0];
    let changes: Array<{ resource: string; node: string; target: string }> = [];
    if (command?.type === "score_poll") {
      if (command.poll !== null) events.push(`poll to ${command.poll.recipients.join(",")}`);
      state = pollAnswered(state);
      continue;
    }
    if (command?.type === "notify_round") {
      const round = command.round;
      if (round === null) continue;
      if (round.phase !== "acting") {
        events.push(`${round.phase}-${round.operation} to ${round.recipients.join(",")}`);
        for (const node of round.recipients) state = notified(state, node);
        continue;
      }
      // The acting round carries its instructions.
      changes = round.actions;
    } else if (command?.type === "resource_targets") {
      changes = command.changes;
    }
    for (const change of changes) {
      events.push(`${change.target} ${change.resource}@${change.node}`);
      state = report(
        state,
        change.resource,
        change.node,
        change.target === "stopped" ? null : (change.target as "started"),
      );
      const score = scores[change.node] ?? "none";
      if (state.agents[change.node]?.attributes?.["promotion-score-db"] === undefined)
        state = promotionScore(state, "db", change.node, score);
    }
  }
  assert.fail("the leader never settled");
}

/** Every node asked in the clone's score poll under way answers with its committed score. */
function pollAnswered(state: ClusterState): ClusterState {
  let next = state;
  const poll = state.scorePolls?.db;
  for (const node of poll?.recipients ?? []) {
    if (poll?.answered.includes(node)) continue;
    const score = next.agents[node]?.attributes?.["promotion-score-db"] ?? "none";
    next = answerPoll(next, "db", node, score);
  }
  return next;
}

/**
 * Every copy running, node3's promoted; then that copy fails: it stops and comes back unpromoted
 * with a low score, and node2's copy has the best score now.
 */
function primaryFailed(): ClusterState {
  let state = settle(configured(DB(true)), { node3: "90" }).state;
  state = report(promotionScore(state, "db", "node3", null), "db:2", "node3", null);
  state = promotionScore(report(state, "db:2", "node3", "unpromoted"), "db", "node3", "10");
  state = promotionScore(state, "db", "node2", "80");
  // No copy is promoted now: the leader polls the copies for their scores first.
  const poll = stepAt(state);
  assert.equal(poll.commands[0]?.type, "score_poll");
  return pollAnswered(commitStep(state, poll));
}

/** primaryFailed, and the round of node2's promotion begun (its pre phase committed). */
function promoteRoundBegun(): ClusterState {
  const state = primaryFailed();
  return commitStep(state, stepAt(state));
}

function everyNodeNotified(state: ClusterState): ClusterState {
  let next = state;
  for (const node of ["node1", "node2", "node3"]) next = notified(next, node);
  return next;
}

describe("clone notifications: the lists", () => {
  test("active, promoted, unpromoted as the cells say; the operations as the engine plans", () => {
    let state = configured(DB(true));
    state = commit(state, {
      type: "resource_targets",
      changes: [
        { resource: "db:0", node: "node1", target: "promoted" },
        { resource: "db:1", node: "node2", target: "unpromoted" },
      ],
      expectedVersion: state.version,
    });
    state = report(report(state, "db:0", "node1", "promoted"), "db:1", "node2", "unpromoted");
    const planned: Action[] = [
      { id: "demote db:0@node1", resource: "db:0", node: "node1", op: "demote", after: [] },
      { id: "promote db:1@node2", resource: "db:1", node: "node2", op: "promote", after: [] },
      { id: "start db:2@node3", resource: "db:2", node: "node3", op: "start", after: [] },
    ];
    const clone = inputOf(state).model.clones.db;
    assert.ok(clone !== undefined);
    const lists = notifyLists({ clone, state, planned, nodes: ["node3", "node1", "node2"] });
    assert.deepEqual(lists, {
      start: { resource: ["db:2"], uname: ["node3"] },
      stop: { resource: [], uname: [] },
      promote: { resource: ["db:1"], uname: ["node2"] },
      demote: { resource: ["db:0"], uname: ["node1"] },
      active: { resource: ["db:0", "db:1"], uname: ["node1", "node2"] },
      inactive: { resource: ["db:2"], uname: [] },
      master: { resource: ["db:0"], uname: ["node1"] },
      slave: { resource: ["db:1"], uname: ["node2"] },
      promoted: { resource: ["db:0"], uname: ["node1"] },
      unpromoted: { resource: ["db:1"], uname: ["node2"] },
      all: { resource: ["db:0", "db:1", "db:2"], uname: ["node1", "node2", "node3"] },
    });
    const round: NotifyRound = {
      id: 9,
      operation: "promote",
      phase: "post",
      actions: [{ resource: "db:1", node: "node2", target: "promoted", failures: 0 }],
      lists,
      recipients: ["node2"],
      notified: {},
      deadlineAtMs: T0,
    };
    const environment = notifyEnvironment(round, "post");
    assert.equal(environment.OCF_RESKEY_CRM_meta_notify_type, "post");
    assert.equal(environment.OCF_RESKEY_CRM_meta_notify_operation, "promote");
    assert.equal(environment.OCF_RESKEY_CRM_meta_notify_promote_uname, "node2");
    assert.equal(environment.OCF_RESKEY_CRM_meta_notify_active_resource, "db:0 db:1");
    assert.equal(environment.OCF_RESKEY_CRM_meta_notify_active_uname, "node1 node2");
    assert.equal(environment.OCF_RESKEY_CRM_meta_notify_master_uname, "node1");
    assert.equal(environment.OCF_RESKEY_CRM_meta_notify_stop_uname, "");
    assert.equal(environment.OCF_RESKEY_CRM_meta_notify_all_uname, "node1 node2 node3");
    assert.equal(Object.keys(environment).length, 2 + 11 * 2);
  });

  test("OCF_RESKEY_CRM_meta_notify says whether the clone notifies", () => {
    const base = { id: "db", of: "redis", max: 2, maxPerNode: 1 as const, promotable: false };
    const meta = inputOf(configured(DB(true))).model.clones.db?.meta;
    assert.ok(meta !== undefined);
    const env = (notify: boolean) =>
      cloneMetaEnvironment({ ...base, promotedMax: 1, notify, meta }, 0);
    assert.equal(env(true).OCF_RESKEY_CRM_meta_notify, "true");
    assert.equal(env(false).OCF_RESKEY_CRM_meta_notify, "false");
  });
});

describe("clone notifications: the leader's rounds", () => {
  test("starts, then the promotion: pre before each operation, post after, to the active copies", () => {
    const { state, events } = settle(configured(DB(true)), { node2: "50", node3: "90" });
    assert.deepEqual(events, [
      // Nothing runs yet: no copy to tell before the starts.
      "unpromoted db:0@node1",
      "unpromoted db:1@node2",
      "unpromoted db:2@node3",
      "post-start to node1,node2,node3",
      "poll to node1,node2,node3",
      "pre-promote to node1,node2,node3",
      "promoted db:2@node3",
      "post-promote to node1,node2,node3",
    ]);
    assert.equal(state.notifyRounds, undefined);
    assert.equal(state.resources["db:2"]?.node3?.active, "promoted");
  });

  test("without notify: true no round is ever committed", () => {
    const { state, events } = settle(configured(DB(false)), { node3: "90" });
    assert.ok(
      events.every((event) => !event.includes("-")),
      events.join("; "),
    );
    assert.equal(state.resources["db:2"]?.node3?.active, "promoted");
  });

  test("the operation waits for every recipient; the round is committed alone, compare-and-set", () => {
    let state = primaryFailed();
    const pre = stepAt(state);
    assert.equal(pre.commands.length, 1);
    assert.equal(pre.commands[0]?.expectedVersion, state.version);
    const round = roundOf(pre);
    assert.ok(round != null);
    assert.equal(round.phase, "pre");
    assert.equal(round.operation, "promote");
    assert.deepEqual(round.actions, [
      { resource: "db:1", node: "node2", target: "promoted", failures: 0 },
    ]);
    assert.deepEqual(round.recipients, ["node1", "node2", "node3"]);
    assert.equal(round.deadlineAtMs, T0 + 7000 + NOTIFY_DEADLINE_MARGIN_MS);
    state = commitStep(state, pre);
    state = notified(notified(state, "node1"), "node3", "failed");
    // node2 has not answered: nothing is instructed, and the leader looks again at the deadline.
    const waiting = stepAt(state);
    assert.deepEqual(waiting.commands, []);
    assert.equal(waiting.recheckAtMs, round.deadlineAtMs);
    state = notified(state, "node2");
    const before = structuredClone(state.resources);
    state = commitStep(state, stepAt(state));
    // Acting: the instruction is given in the same entry, and only there.
    assert.equal(state.notifyRounds?.db?.phase, "acting");
    assert.equal(before["db:1"]?.node2?.target, "unpromoted");
    assert.equal(state.resources["db:1"]?.node2?.target, "promoted");
    // Told, not reported yet: nothing more, and no post.
    assert.deepEqual(stepAt(state).commands, []);
    state = report(state, "db:1", "node2", "promoted");
    const post = roundOf(stepAt(state));
    assert.equal(post?.phase, "post");
    assert.deepEqual(post?.recipients, ["node1", "node2", "node3"]);
    assert.deepEqual(post?.lists, round.lists);
  });

  test("a recipient that never answers is not waited for past the deadline; an offline one not at all", () => {
    let state = promoteRoundBegun();
    const round = state.notifyRounds?.db;
    assert.ok(round !== undefined);
    state = notified(notified(state, "node2"), "node3");
    assert.deepEqual(stepAt(state, round.deadlineAtMs - 1).commands, []);
    assert.equal(roundOf(stepAt(state, round.deadlineAtMs))?.phase, "acting");
    // node1's agent is down: the leader does not wait for it even before the deadline.
    assert.equal(roundOf(stepAt(state, T0, { live: { node1: null } }))?.phase, "acting");
  });

  test("a failed promote ends the action: the post round follows, the next round after it", () => {
    let state = everyNodeNotified(promoteRoundBegun());
    state = commitStep(state, stepAt(state));
    assert.equal(state.resources["db:1"]?.node2?.target, "promoted");
    // The promote fails on node2 (a soft failure: counted, the copy stopped and started again).
    state = commit(state, { type: "fail_count_increment", resource: "db:1", node: "node2" });
    assert.equal(roundOf(stepAt(state))?.phase, "post");
  });

  test("an acting round's instruction undone by a report (the copy stopped untold) ends the action; it is never given again", () => {
    let state = everyNodeNotified(promoteRoundBegun());
    state = commitStep(state, stepAt(state));
    // node2 promoted its copy, which then stopped on its own (no failure counted: a lost lease).
    state = report(report(state, "db:1", "node2", "promoted"), "db:1", "node2", null);
    assert.equal(state.resources["db:1"]?.node2?.target, "unpromoted");
    const post = stepAt(state);
    assert.equal(roundOf(post)?.phase, "post");
    assert.ok(!post.commands.some((c) => c.type === "resource_targets"));
  });

  test("a new leader goes on from the committed round: the same step whoever decides", () => {
    const state = everyNodeNotified(promoteRoundBegun());
    const old = stepAt(state);
    const next = decideLeaderStep({
      state,
      input: inputOf(state),
      leaseSurelyExpired: () => false,
      by: "policy@node2",
      atMs: T0 + 1234,
    });
    assert.deepEqual(
      next.commands.map(({ by: _b, atMs: _a, ...rest }) => rest),
      old.commands.map(({ by: _b, atMs: _a, ...rest }) => rest),
    );
  });

  test("a pre round whose operation the engine no longer plans is dropped", () => {
    let state = promoteRoundBegun();
    assert.equal(state.notifyRounds?.db?.operation, "promote");
    // node2 goes into standby before anything was instructed: its copy will not be promoted.
    state = commit(state, { type: "node_standby", node: "node2", standby: true });
    assert.equal(roundOf(stepAt(state)), null);
  });
});

describe("clone notifications: recovery", () => {
  test("a copy its node stopped for recovery, its instruction given back: started again through a round, the other copies told before and after", () => {
    let state = settle(configured(DB(true)), { node3: "90" }).state;
    assert.equal(state.resources["db:0"]?.node1?.active, "unpromoted");
    state = promotionScore(state, "db", "node1", null);
    state = commit(state, {
      type: "resource_report",
      resource: "db:0",
      node: "node1",
      incarnation: 1,
      active: null,
      release: true,
    });
    assert.equal(state.resources["db:0"], undefined);
    const { state: after, events } = settle(state);
    assert.deepEqual(events, [
      "pre-start to node2,node3",
      "unpromoted db:0@node1",
      "post-start to node1,node2,node3",
    ]);
    assert.equal(after.resources["db:0"]?.node1?.active, "unpromoted");
    assert.equal(after.resources["db:2"]?.node3?.active, "promoted");
  });

  test("a copy whose start failed is stopped in one round, which stays acting until its node reports the stop (a cell told to stop may still run)", () => {
    let state = configured(DB(true));
    // The first start round: every copy instructed; db:0's start fails on node1 (fatal).
    for (let i = 0; i < 10 && state.notifyRounds?.db?.phase !== "acting"; i++)
      state = commitStep(state, stepAt(state));
    assert.equal(state.notifyRounds?.db?.operation, "start");
    state = report(state, "db:1", "node2", "unpromoted");
    state = report(state, "db:2", "node3", "unpromoted");
    state = commit(state, {
      type: "fail_count_increment",
      resource: "db:0",
      node: "node1",
      fatal: true,
    });
    const stopRounds = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const step = stepAt(state);
      const round = roundOf(step);
      if (round?.operation === "stop") stopRounds.add(round.id);
      if (step.commands.length === 0) break;
      state = commitStep(state, step);
      const now = state.notifyRounds?.db;
      if (now !== undefined && now.phase !== "acting")
        for (const node of now.recipients) state = notified(state, node);
    }
    // node1 is still stopping its copy: the round waits for that, and none begins again.
    assert.equal(stopRounds.size, 1, `stop rounds begun: ${[...stopRounds].join(", ")}`);
    assert.equal(state.notifyRounds?.db?.operation, "stop");
    assert.equal(state.notifyRounds?.db?.phase, "acting");
    assert.equal(state.resources["db:0"]?.node1?.target, "stopped");
    state = report(state, "db:0", "node1", null);
    assert.equal(state.resources["db:0"]?.node1, undefined);
    assert.equal(roundOf(stepAt(state))?.phase, "post");
  });
});
