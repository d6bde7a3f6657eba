import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  applyCommand,
  type ClusterState,
  type Command,
  type CommandResult,
  encodeCommand,
  initialState,
  LOCKS_PER_SESSION_MAX,
  restoreState,
  serializeState,
} from "../../src/state/index.js";
import { lockRefusal } from "../../src/state/sessions.js";
import { sessionCommandArbitrary } from "./arbitraries.js";

const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);
const by = "agent@alpha";

function run(commands: readonly Command[], start = initialState()) {
  let state = start;
  const results: CommandResult[] = [];
  const states: ClusterState[] = [state];
  for (const command of commands) {
    const applied = applyCommand(state, encodeCommand(command));
    state = applied.state;
    results.push(applied.result);
    states.push(state);
  }
  return { state, results, states };
}

const open = (session: string, atMs = T0, lockDelayMs = 3000): Command => ({
  type: "session_create",
  session,
  name: `app-${session}`,
  node: "alpha",
  ttlMs: 5000,
  lockDelayMs,
  checks: [],
  by,
  atMs,
});
const acquire = (session: string, key: string, atMs = T0): Command => ({
  type: "lock_acquire",
  key,
  session,
  by,
  atMs,
});
const destroy = (
  session: string,
  reason: "client" | "ttl" | "node_dead" | "check_failing",
  atMs: number,
): Command => ({ type: "session_destroy", session, reason, by, atMs });

describe("sessions and locks", () => {
  test("a lock held by one session is refused to another, which is told who holds it", () => {
    const { state, results } = run([open("s1"), open("s2"), acquire("s1", "leader")]);
    assert.deepEqual(state.locks, { leader: { session: "s1", acquiredAtMs: T0 } });
    assert.ok(results.every((result) => result.ok));
    const refused = applyCommand(state, encodeCommand(acquire("s2", "leader", T0 + 1)));
    assert.equal(refused.state, state);
    assert.match(refused.result.ok ? "" : refused.result.error, /held by session s1 \(app-s1\)/);
    assert.equal(lockRefusal(state, "leader", "s2", T0 + 1)?.code, "held");
  });

  test("a session ended by its TTL releases its lock only after its lock-delay, from the ending command's time", () => {
    const { state } = run([
      open("s1"),
      open("s2"),
      acquire("s1", "leader"),
      destroy("s1", "ttl", T0 + 10_000),
    ]);
    assert.equal(state.sessions?.s1, undefined);
    assert.deepEqual(state.locks?.leader, {
      freeAtMs: T0 + 13_000,
      lastSession: "s1",
      reason: "ttl",
      delayMs: 3000,
    });
    assert.deepEqual(state.sessionEnds?.at(-1), {
      session: "s1",
      name: "app-s1",
      node: "alpha",
      reason: "ttl",
      atMs: T0 + 10_000,
    });
    const early = applyCommand(state, encodeCommand(acquire("s2", "leader", T0 + 12_999)));
    assert.equal(early.result.ok, false);
    assert.equal(lockRefusal(state, "leader", "s2", T0 + 12_999)?.code, "lock_delay");
    const onTime = applyCommand(state, encodeCommand(acquire("s2", "leader", T0 + 13_000)));
    assert.equal(onTime.result.ok, true);
    assert.deepEqual(onTime.state.locks?.leader, { session: "s2", acquiredAtMs: T0 + 13_000 });
  });

  test("a session its client destroys frees its locks at once; a release frees one", () => {
    const { state } = run([
      open("s1"),
      acquire("s1", "a"),
      acquire("s1", "b"),
      { type: "lock_release", key: "a", session: "s1", by, atMs: T0 + 1 },
      destroy("s1", "client", T0 + 2),
    ]);
    assert.equal(state.locks, undefined);
    assert.equal(state.sessions, undefined);
  });

  test("refusals name the problem: unknown session, a release by a non-holder, a duplicate id, the bound per session", () => {
    const base = run([open("s1"), open("s2"), acquire("s1", "leader")]).state;
    const refusal = (command: Command) => {
      const applied = applyCommand(base, encodeCommand(command));
      assert.equal(applied.state, base);
      return applied.result.ok ? "" : applied.result.error;
    };
    assert.match(refusal(acquire("nope", "x")), /no session nope/);
    assert.match(
      refusal({ type: "lock_release", key: "leader", session: "s2", by, atMs: T0 }),
      /session s2 does not hold lock leader/,
    );
    assert.match(refusal(open("s1")), /session s1 exists already/);
    assert.match(refusal(destroy("s9", "ttl", T0)), /no session s9/);
    const keys = Array.from({ length: LOCKS_PER_SESSION_MAX }, (_, i) => `k${i}`);
    const full = run(
      keys.map((key) => acquire("s2", key)),
      base,
    ).state;
    const over = applyCommand(full, encodeCommand(acquire("s2", "one-more")));
    assert.match(over.result.ok ? "" : over.result.error, /holds 64 locks already/);
  });

  test("a bad command is refused by field: an over-long key, a TTL below the minimum", () => {
    const base = run([open("s1")]).state;
    const badKey = applyCommand(base, encodeCommand(acquire("s1", "x".repeat(200))));
    assert.match(badKey.result.ok ? "" : badKey.result.error, /key: expected a lock key/);
    const badTtl = applyCommand(base, encodeCommand({ ...open("s2"), ttlMs: 10 } as Command));
    assert.match(badTtl.result.ok ? "" : badTtl.result.error, /ttlMs: expected a TTL of at least/);
  });

  test("property: no acquire ever takes a lock from another session or before its lock-delay; every holder exists; replay and snapshots give the same state", () => {
    fc.assert(
      fc.property(
        fc.array(sessionCommandArbitrary, { minLength: 20, maxLength: 80 }),
        (commands) => {
          const { state, results, states } = run(commands);
          commands.forEach((command, index) => {
            const before = states[index]!;
            const after = states[index + 1]!;
            if (command.type === "lock_acquire" && results[index]!.ok) {
              const previous = before.locks?.[command.key];
              if (previous !== undefined && Object.hasOwn(before.locks!, command.key)) {
                if ("session" in previous) assert.equal(previous.session, command.session);
                else assert.ok(command.atMs >= previous.freeAtMs, "acquired within lock-delay");
              }
            }
            for (const [key, lock] of Object.entries(after.locks ?? {})) {
              if ("session" in lock)
                assert.ok(Object.hasOwn(after.sessions ?? {}, lock.session), `${key}'s holder`);
            }
            if (command.type === "session_destroy" && results[index]!.ok) {
              for (const lock of Object.values(after.locks ?? {}))
                assert.ok(!("session" in lock && lock.session === command.session));
            }
          });
          const replayed = run(commands).state;
          assert.equal(serializeState(replayed), serializeState(state));
          assert.equal(serializeState(restoreState(serializeState(state))), serializeState(state));
        },
      ),
      { numRuns: 300 },
    );
  });
});
