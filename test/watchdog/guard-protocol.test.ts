import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  formatGuardLine,
  GuardState,
  MAX_LEASE_MS,
  parseGuardLine,
} from "../../src/watchdog/guard-protocol.js";

describe("lease guard protocol: parsing lines", () => {
  test("lease, idle and bye", () => {
    assert.deepEqual(parseGuardLine("lease 300"), {
      ok: true,
      message: { kind: "lease", remainingMs: 300 },
    });
    assert.deepEqual(parseGuardLine("lease 0"), {
      ok: true,
      message: { kind: "lease", remainingMs: 0 },
    });
    assert.deepEqual(parseGuardLine("lease 12.5\r"), {
      ok: true,
      message: { kind: "lease", remainingMs: 12.5 },
    });
    assert.deepEqual(parseGuardLine("  idle "), { ok: true, message: { kind: "idle" } });
    assert.deepEqual(parseGuardLine("bye"), { ok: true, message: { kind: "bye" } });
  });

  test("bad lines are errors, never exceptions", () => {
    for (const line of [
      "",
      "   ",
      "lease",
      "lease -5",
      "lease 1e3",
      "lease abc",
      "lease 5 6",
      "lease NaN",
      "lease Infinity",
      `lease ${MAX_LEASE_MS + 1}`,
      "idle now",
      "bye bye",
      "LEASE 300",
      "hello",
      "x".repeat(10_000),
      "\u0000",
    ]) {
      const parsed = parseGuardLine(line);
      assert.equal(parsed.ok, false, line);
      assert.ok(!parsed.ok && parsed.error.length > 0 && parsed.error.length < 200, line);
    }
  });

  test("property: the parser never throws", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (line) => {
        parseGuardLine(line);
      }),
    );
  });

  test("property: a formatted lease parses back, rounded down to whole ms and clamped", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e12, max: 1e12, noNaN: true }), (ms) => {
        const line = formatGuardLine({ kind: "lease", remainingMs: ms });
        assert.ok(line.endsWith("\n"));
        const parsed = parseGuardLine(line.slice(0, -1));
        assert.ok(parsed.ok);
        const expected = Math.min(MAX_LEASE_MS, Math.max(0, Math.floor(ms)));
        assert.deepEqual(parsed.message, { kind: "lease", remainingMs: expected });
      }),
    );
    assert.equal(formatGuardLine({ kind: "lease", remainingMs: Number.NaN }), "lease 0\n");
    assert.equal(formatGuardLine({ kind: "idle" }), "idle\n");
    assert.equal(formatGuardLine({ kind: "bye" }), "bye\n");
  });
});

describe("lease guard state", () => {
  test("starts idle: no deadline, nothing to fear from silence", () => {
    const state = new GuardState();
    assert.deepEqual(state.check(0), { kind: "watch", deadlineMs: null });
    assert.deepEqual(state.check(1e9), { kind: "watch", deadlineMs: null });
  });

  test("a lease sets the deadline on the guard's clock at receipt; each renewal replaces it", () => {
    const state = new GuardState();
    assert.deepEqual(state.input("lease 300", 1000), { kind: "watch", deadlineMs: 1300 });
    assert.deepEqual(state.check(1299), { kind: "watch", deadlineMs: 1300 });
    assert.deepEqual(state.input("lease 300", 1100), { kind: "watch", deadlineMs: 1400 });
    // A shorter renewal shortens it: the agent's latest word counts.
    assert.deepEqual(state.input("lease 50", 1200), { kind: "watch", deadlineMs: 1250 });
    assert.equal(state.deadline, 1250);
  });

  test("the deadline passing without idle fences, and the decision is final", () => {
    const state = new GuardState();
    state.input("lease 300", 1000);
    const fence = state.check(1300);
    assert.equal(fence.kind, "fence");
    assert.equal(fence.kind === "fence" && fence.cause, "deadline");
    assert.deepEqual(state.check(1301), fence);
    assert.deepEqual(state.input("idle", 1302), fence);
    assert.deepEqual(state.input("bye", 1303), fence);
    assert.deepEqual(state.eof(1304), fence);
  });

  test("a renewal read after the deadline does not rescue the agent", () => {
    const state = new GuardState();
    state.input("lease 300", 1000);
    const late = state.input("lease 300", 1400);
    assert.equal(late.kind, "fence");
    assert.equal(late.kind === "fence" && late.cause, "deadline");
  });

  test("lease 0: resources may run and no lease covers them: fence at once", () => {
    const state = new GuardState();
    assert.equal(state.input("lease 0", 5).kind, "fence");
  });

  test("idle clears the deadline: silence is then harmless", () => {
    const state = new GuardState();
    state.input("lease 300", 1000);
    assert.deepEqual(state.input("idle", 1200), { kind: "watch", deadlineMs: null });
    assert.deepEqual(state.check(1e9), { kind: "watch", deadlineMs: null });
    // A new lease arms it again.
    assert.deepEqual(state.input("lease 100", 2000), { kind: "watch", deadlineMs: 2100 });
    assert.equal(state.check(2100).kind, "fence");
  });

  test("bye exits, even while holding a lease; nothing is fenced afterwards", () => {
    const state = new GuardState();
    state.input("lease 300", 1000);
    const bye = state.input("bye", 1100);
    assert.equal(bye.kind, "exit");
    assert.equal(bye.kind === "exit" && bye.cause, "bye");
    assert.deepEqual(state.check(1e9), bye);
    assert.deepEqual(state.eof(1e9), bye);
  });

  test("EOF without bye: fence at once while a deadline is set, plain exit while idle", () => {
    const holding = new GuardState();
    holding.input("lease 60000", 0);
    const fence = holding.eof(10);
    assert.equal(fence.kind, "fence");
    assert.equal(fence.kind === "fence" && fence.cause, "agent_gone");

    const idle = new GuardState();
    idle.input("lease 60000", 0);
    idle.input("idle", 5);
    const exit = idle.eof(10);
    assert.equal(exit.kind, "exit");
    assert.equal(exit.kind === "exit" && exit.cause, "agent_gone_idle");

    assert.equal(new GuardState().eof(0).kind, "exit");
  });

  test("a malformed line is reported and changes nothing", () => {
    const state = new GuardState();
    state.input("lease 300", 1000);
    const bad = state.input("lease forever", 1100);
    assert.equal(bad.kind, "watch");
    assert.equal(bad.kind === "watch" && bad.deadlineMs, 1300);
    assert.match(bad.error ?? "", /non-negative number/);
    // It did not renew the lease.
    assert.equal(state.check(1300).kind, "fence");

    const idle = new GuardState();
    assert.deepEqual(idle.input("garbage", 0), {
      kind: "watch",
      deadlineMs: null,
      error: 'unknown message "garbage"',
    });
  });

  test("property: fenced exactly when the time passes the latest lease's deadline without idle", () => {
    const step = fc.record({
      gap: fc.integer({ min: 0, max: 500 }),
      line: fc.oneof(
        fc.integer({ min: 0, max: 600 }).map((ms) => `lease ${ms}`),
        fc.constant("idle"),
        fc.constant("junk"),
      ),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const state = new GuardState();
        let now = 0;
        // The model: the deadline of the latest good lease line, unless idle came after it.
        let deadline: number | null = null;
        for (const { gap, line } of steps) {
          now += gap;
          const shouldFence: boolean = deadline !== null && now >= deadline;
          assert.equal(state.check(now).kind === "fence", shouldFence);
          if (shouldFence) return;
          const result = state.input(line, now);
          if (line.startsWith("lease ")) deadline = now + Number(line.slice(6));
          else if (line === "idle") deadline = null;
          assert.equal(result.kind, deadline !== null && now >= deadline ? "fence" : "watch");
          if (result.kind === "watch") assert.equal(result.deadlineMs, deadline);
          if (result.kind === "fence") return;
        }
      }),
    );
  });
});
