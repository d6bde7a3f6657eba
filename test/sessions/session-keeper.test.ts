import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, test } from "node:test";
import type { SubmitResult } from "../../src/coordination/cluster-message.js";
import { createLogger } from "../../src/log/logger.js";
import { type KeeperEvent, SessionKeeper } from "../../src/sessions/session-keeper.js";
import {
  applyCommand,
  type ClusterState,
  type Command,
  encodeCommand,
  initialState,
} from "../../src/state/index.js";
import { VirtualTime } from "../coordination/virtual-time.js";

const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);

/**
 * The keeper on virtual time, with a state machine that commits every command at once (as a
 * one-node cluster would): what it commits, and what it tells connections, as time moves.
 */
function harness(
  options: {
    node?: string;
    leader?: boolean;
    dead?: string[];
    unheard?: string[];
    driftRatio?: number;
    /** As a follower: a commit is answered before this node applies it (catchUp applies). */
    appliesLater?: boolean;
  } = {},
) {
  const time = new VirtualTime(T0);
  let state: ClusterState = initialState();
  let committedState: ClusterState = state;
  const committed: Command[] = [];
  const events: KeeperEvent[] = [];
  const verdicts = new Map<string, "passing" | "failing">([["app", "passing"]]);
  let ids = 0;
  const keeper = new SessionKeeper({
    nodeName: options.node ?? "alpha",
    clock: time,
    timers: time,
    logger: createLogger({ level: "error", pretty: false, destination: new PassThrough() }),
    state: () => state,
    submit: async (command): Promise<SubmitResult> => {
      const applied = applyCommand(committedState, encodeCommand(command));
      if (!applied.result.ok) return { ok: false, code: "rejected", error: applied.result.error };
      committed.push(command);
      committedState = applied.state;
      if (options.appliesLater !== true) {
        state = committedState;
        keeper.stateChanged();
      }
      return { ok: true, index: committed.length, version: applied.state.version };
    },
    isLeader: () => options.leader ?? false,
    livenessOf: (node) => {
      if ((options.unheard ?? []).includes(node)) return null;
      return (options.dead ?? []).includes(node) ? "dead" : "up";
    },
    checkVerdict: (check) => verdicts.get(check) ?? null,
    newId: () => `s${++ids}`,
    driftRatio: options.driftRatio ?? 0,
  });
  keeper.subscribe((event) => events.push(event));
  keeper.start();
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  /** Moves virtual time to `atMs`, firing every timer due on the way. */
  const runTo = (atMs: number) => {
    for (let next = time.nextAtMs(); next !== undefined && next <= atMs; next = time.nextAtMs())
      time.fireNext();
    time.advanceTo(atMs);
  };
  return {
    time,
    keeper,
    committed,
    events,
    verdicts,
    settle,
    runTo,
    state: () => state,
    /** Commits a command as another node would (its own sessions, say). */
    apply(command: Command) {
      state = applyCommand(state, encodeCommand(command)).state;
      committedState = state;
      keeper.stateChanged();
    },
    /** Another node's command committed, not yet applied here (appliesLater). */
    commitElsewhere(command: Command) {
      committedState = applyCommand(committedState, encodeCommand(command)).state;
    },
    /** appliesLater: this node applies what was committed. */
    catchUp() {
      state = committedState;
      keeper.stateChanged();
    },
  };
}

/** A session opened elsewhere or earlier, as the state would hold it. */
const sessionCreated = (
  session: string,
  node: string,
  ttlMs: number,
  lockDelayMs: number,
): Command => ({
  type: "session_create",
  session,
  name: "app",
  node,
  ttlMs,
  lockDelayMs,
  checks: [],
  by: `sessions@${node}`,
  atMs: T0,
});

const ends = (committed: Command[]) =>
  committed.flatMap((command) =>
    command.type === "session_destroy" ? [`${command.session} ${command.reason}`] : [],
  );

describe("the session keeper", () => {
  test("a session whose client keeps writing lives on; once it stops, the TTL ends it", async () => {
    const h = harness();
    const opened = await h.keeper.open({ name: "app", ttlMs: 1000, lockDelayMs: 500, checks: [] });
    assert.deepEqual(opened, { ok: true, session: "s1" });
    assert.equal((await h.keeper.acquire("s1", "leader")).ok, true);
    for (let t = 800; t <= 4000; t += 800) {
      h.runTo(T0 + t);
      h.keeper.renew("s1");
    }
    assert.deepEqual(ends(h.committed), []);
    h.runTo(T0 + 4000 + 999);
    await h.settle();
    assert.deepEqual(ends(h.committed), []);
    h.runTo(T0 + 4000 + 1200);
    await h.settle();
    assert.deepEqual(ends(h.committed), ["s1 ttl"]);
    assert.deepEqual(h.events, [
      { type: "lock_lost", key: "leader", session: "s1" },
      { type: "session_lost", session: "s1", reason: "ttl" },
    ]);
    const lock = h.state().locks?.leader;
    assert.ok(lock !== undefined && "freeAtMs" in lock);
  });

  test("a restarted agent gives its node's sessions a full TTL from when it sees them", async () => {
    const h = harness();
    h.runTo(T0 + 60_000);
    h.apply(sessionCreated("old", "alpha", 2000, 0));
    h.runTo(T0 + 61_900);
    await h.settle();
    assert.deepEqual(ends(h.committed), []);
    h.runTo(T0 + 62_200);
    await h.settle();
    assert.deepEqual(ends(h.committed), ["old ttl"]);
  });

  test("a check the session is bound to fails here: the session ends; an open bound to a failing or unknown check is refused", async () => {
    const h = harness();
    await h.keeper.open({ name: "app", ttlMs: 10_000, lockDelayMs: 0, checks: ["app"] });
    h.keeper.checkTransition("app", "failing");
    await h.settle();
    assert.deepEqual(ends(h.committed), ["s1 check_failing"]);
    h.verdicts.set("app", "failing");
    for (const [check, why] of [
      ["app", /check app is failing on alpha/],
      ["nope", /no check nope runs on alpha/],
    ] as const) {
      const refused = await h.keeper.open({
        name: "x",
        ttlMs: 1000,
        lockDelayMs: 0,
        checks: [check],
      });
      assert.match(refused.ok ? "" : refused.error, why);
    }
  });

  test("the leader ends the sessions of a node membership holds dead; a follower does not", async () => {
    for (const leader of [true, false]) {
      const h = harness({ leader, dead: ["gamma"] });
      h.apply(sessionCreated("far", "gamma", 60_000, 1000));
      h.runTo(T0 + 500);
      await h.settle();
      assert.deepEqual(ends(h.committed), leader ? ["far node_dead"] : []);
    }
  });

  test("the leader ends the sessions of a node it never heard once it stayed unheard for their TTL (10 s at least)", async () => {
    const h = harness({ leader: true, unheard: ["gamma"] });
    h.apply(sessionCreated("far", "gamma", 15_000, 0));
    h.runTo(T0 + 15_000);
    await h.settle();
    assert.deepEqual(ends(h.committed), []);
    h.runTo(T0 + 15_400);
    await h.settle();
    assert.deepEqual(ends(h.committed), ["far node_dead"]);
  });

  test("an acquire refused says whether the lock is held or in its lock-delay, and until when", async () => {
    const h = harness();
    await h.keeper.open({ name: "a", ttlMs: 1000, lockDelayMs: 3000, checks: [] });
    await h.keeper.open({ name: "b", ttlMs: 60_000, lockDelayMs: 0, checks: [] });
    await h.keeper.acquire("s1", "leader");
    const held = await h.keeper.acquire("s2", "leader");
    assert.deepEqual(held.ok ? null : [held.code, held.holder], ["held", "s1"]);
    h.runTo(T0 + 1200);
    await h.settle();
    const delayed = await h.keeper.acquire("s2", "leader");
    const end = h.state().sessionEnds?.at(-1);
    assert.equal(end?.reason, "ttl");
    assert.deepEqual(delayed.ok ? null : [delayed.code, delayed.freeAtMs], [
      "lock_delay",
      end.atMs + 3000,
    ]);
  });

  test("a lock-delay is waited out on this node's clock: a skewed clock elsewhere does not shorten it", async () => {
    // A session of beta's ends by beta's clock, 10 s behind alpha's: by the state's times its
    // 3 s lock-delay was over long ago when alpha, the acquirer, applies the end.
    const h = harness({ driftRatio: 0.02 });
    const betaClockMs = T0 - 10_000;
    h.apply(sessionCreated("b1", "beta", 60_000, 3000));
    h.apply({
      type: "lock_acquire",
      key: "leader",
      session: "b1",
      by: "sessions@beta",
      atMs: betaClockMs,
    });
    await h.keeper.open({ name: "a", ttlMs: 60_000, lockDelayMs: 0, checks: [] });
    h.runTo(T0 + 500);
    h.apply({
      type: "session_destroy",
      session: "b1",
      reason: "ttl",
      by: "sessions@beta",
      atMs: betaClockMs + 500,
    });
    const endedHereMs = T0 + 500;
    h.runTo(T0 + 1000);
    const early = await h.keeper.acquire("s1", "leader");
    assert.deepEqual(early.ok ? null : [early.code, early.freeAtMs], [
      "lock_delay",
      endedHereMs + 3000 * 1.02,
    ]);
    h.runTo(endedHereMs + 3000);
    assert.equal(
      (await h.keeper.acquire("s1", "leader")).ok,
      false,
      "the drift bound stretches it",
    );
    h.runTo(endedHereMs + 3060);
    assert.equal((await h.keeper.acquire("s1", "leader")).ok, true);
    assert.equal(h.state().locks?.leader && "session" in h.state().locks!.leader!, true);
  });

  test("an end this agent applies late (or finds at its start) is waited out in full from then", async () => {
    const h = harness();
    h.apply(sessionCreated("b1", "beta", 60_000, 3000));
    h.apply({ type: "lock_acquire", key: "leader", session: "b1", by: "sessions@beta", atMs: T0 });
    h.apply({
      type: "session_destroy",
      session: "b1",
      reason: "node_dead",
      by: "sessions@gamma",
      atMs: T0 - 60_000,
    });
    await h.keeper.open({ name: "a", ttlMs: 60_000, lockDelayMs: 0, checks: [] });
    h.runTo(T0 + 2999);
    assert.equal((await h.keeper.acquire("s1", "leader")).ok, false);
    h.runTo(T0 + 3000);
    assert.equal((await h.keeper.acquire("s1", "leader")).ok, true);
  });

  test("on a follower, a commit is answered once this node applied it: an acquire right after an open finds the session", async () => {
    const h = harness({ appliesLater: true });
    let opened: unknown;
    const opening = h.keeper
      .open({ name: "a", ttlMs: 60_000, lockDelayMs: 0, checks: [] })
      .then((result) => {
        opened = result;
      });
    await h.settle();
    assert.equal(opened, undefined, "not answered before this node applied the session");
    h.catchUp();
    await opening;
    assert.deepEqual(opened, { ok: true, session: "s1" });
    const acquiring = h.keeper.acquire("s1", "leader");
    await h.settle();
    h.catchUp();
    assert.equal((await acquiring).ok, true);
  });

  test("on a follower a heartbeat behind: a lock freed elsewhere is acquired, not refused from the stale view; a refusal names the holder once applied here", async () => {
    const h = harness({ appliesLater: true });
    h.apply(sessionCreated("b1", "beta", 60_000, 0));
    h.apply({ type: "lock_acquire", key: "leader", session: "b1", by: "sessions@beta", atMs: T0 });
    const opening = h.keeper.open({ name: "a", ttlMs: 60_000, lockDelayMs: 0, checks: [] });
    await h.settle();
    h.catchUp();
    await opening;
    const destroyed: Command = {
      type: "session_destroy",
      session: "b1",
      reason: "client",
      by: "sessions@beta",
      atMs: T0,
    };
    h.commitElsewhere(destroyed);
    const acquiring = h.keeper.acquire("s1", "leader");
    await h.settle();
    h.catchUp();
    assert.deepEqual(await acquiring, { ok: true, atMs: T0 });

    // The other way: this node still sees the lock free while the leader has it held.
    h.commitElsewhere(sessionCreated("b2", "beta", 60_000, 0));
    h.commitElsewhere({
      type: "lock_acquire",
      key: "other",
      session: "b2",
      by: "sessions@beta",
      atMs: T0,
    });
    const refused = h.keeper.acquire("s1", "other");
    await h.settle();
    h.catchUp();
    const answer = await refused;
    assert.deepEqual(answer.ok ? null : [answer.code, answer.holder], ["held", "b2"]);
  });
});
