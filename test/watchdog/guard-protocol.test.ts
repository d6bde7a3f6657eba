import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  formatGuardLine,
  GuardState,
  guardHangMs,
  type HeldResource,
  leaseQuietMs,
  MAX_TIME_MS,
  PAST_LEASE_GRACE_MS,
  parseGuardLine,
  pastLeaseGraceMs,
} from "../../src/watchdog/guard-protocol.js";

describe("guard protocol: parsing lines", () => {
  test("every line starts with its time; lease, idle, alive and bye", () => {
    assert.deepEqual(parseGuardLine("1000.5 lease 1300"), {
      ok: true,
      atMs: 1000.5,
      message: { kind: "lease", untilMs: 1300 },
    });
    assert.deepEqual(parseGuardLine("7 lease 12.5\r"), {
      ok: true,
      atMs: 7,
      message: { kind: "lease", untilMs: 12.5 },
    });
    assert.deepEqual(parseGuardLine("  3 idle "), { ok: true, atMs: 3, message: { kind: "idle" } });
    assert.deepEqual(parseGuardLine("0 bye"), { ok: true, atMs: 0, message: { kind: "bye" } });
    assert.deepEqual(parseGuardLine("4 alive"), { ok: true, atMs: 4, message: { kind: "alive" } });
  });

  test("bad lines are errors, never exceptions", () => {
    for (const line of [
      "",
      "   ",
      "lease 300",
      "idle",
      "5",
      "5 lease",
      "5 lease -5",
      "5 lease 1e3",
      "5 lease abc",
      "5 lease 5 6",
      "5 lease NaN",
      "5 lease Infinity",
      `5 lease ${MAX_TIME_MS * 2}`,
      "-5 idle",
      "5 idle now",
      "5 bye bye",
      "5 LEASE 300",
      "5 hello",
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

  test("property: a formatted line parses back, times to the microsecond, clamped", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e12, max: 1e12, noNaN: true }),
        fc.double({ min: -1e12, max: 1e12, noNaN: true }),
        (at, until) => {
          const line = formatGuardLine(at, { kind: "lease", untilMs: until });
          assert.ok(line.endsWith("\n"));
          const parsed = parseGuardLine(line.slice(0, -1));
          assert.ok(parsed.ok);
          const clamp = (ms: number) => Number(Math.max(0, ms).toFixed(3));
          assert.equal(parsed.atMs, clamp(at));
          assert.deepEqual(parsed.message, { kind: "lease", untilMs: clamp(until) });
        },
      ),
    );
    assert.equal(formatGuardLine(Number.NaN, { kind: "idle" }), "0.000 idle\n");
    assert.equal(formatGuardLine(1, { kind: "bye" }), "1.000 bye\n");
  });
});

/** Says `text` at `now`: stamps it, and turns `lease N` (ms from now) into the lease's end. */
function say(state: GuardState, text: string, now: number) {
  const relative = /^lease (\d+)$/.exec(text);
  return state.input(`${now} ${relative ? `lease ${now + Number(relative[1])}` : text}`, now);
}

const VIP: HeldResource = {
  key: "web-ip",
  agent: { kind: "vip", name: "vip" },
  params: { address: "198.18.0.100/24" },
  timeoutMs: 20_000,
};
const WEB: HeldResource = {
  key: "web",
  agent: { kind: "exec", name: "/usr/local/bin/web" },
  params: {},
  timeoutMs: 5_000,
  environment: { VIGIL_PROMOTED_NODES: "" },
};
const hold = (resource: HeldResource): string => `hold ${JSON.stringify(resource)}`;

describe("guard protocol: hold and drop", () => {
  test("a hold line round-trips; drop takes one key", () => {
    for (const resource of [VIP, WEB]) {
      assert.deepEqual(parseGuardLine(`9 ${hold(resource)}`), {
        ok: true,
        atMs: 9,
        message: { kind: "hold", resource },
      });
    }
    assert.deepEqual(parseGuardLine("9 drop web-ip"), {
      ok: true,
      atMs: 9,
      message: { kind: "drop", key: "web-ip" },
    });
  });

  test("bad holds are errors naming the field", () => {
    const cases: Array<[string, RegExp]> = [
      ["hold", /JSON stop request/],
      ["hold {", /JSON stop request/],
      [`hold ${JSON.stringify({ ...VIP, timeoutMs: 0 })}`, /timeoutMs/],
      [`hold ${JSON.stringify({ ...VIP, demoteTimeoutMs: -1 })}`, /demoteTimeoutMs/],
      [`hold ${JSON.stringify({ ...VIP, agent: { kind: "shell", name: "x" } })}`, /agent\.kind/],
      [`hold ${JSON.stringify({ ...VIP, extra: 1 })}`, /hold: /],
      ["drop", /one resource key/],
      ["drop a b", /one resource key/],
      ["alive now", /takes no argument/],
      [`hold ${"x".repeat(70_000)}`, /at most/],
    ];
    for (const [line, error] of cases) {
      const parsed = parseGuardLine(`1 ${line}`);
      assert.equal(parsed.ok, false, line.slice(0, 80));
      assert.match(!parsed.ok ? parsed.error : "", error, line.slice(0, 80));
    }
  });
});

describe("guard state", () => {
  test("starts idle: no deadline, nothing to fear from silence", () => {
    const state = new GuardState({ hangMs: 500 });
    assert.deepEqual(state.check(0), { kind: "watch", wakeAtMs: null });
    assert.deepEqual(state.check(1e9), { kind: "watch", wakeAtMs: null });
  });

  test("a lease sets the deadline on the guard's clock at receipt; each renewal replaces it", () => {
    const state = new GuardState();
    assert.deepEqual(say(state, "lease 300", 1000), { kind: "watch", wakeAtMs: 1300 });
    assert.deepEqual(state.check(1299), { kind: "watch", wakeAtMs: 1300 });
    assert.deepEqual(say(state, "lease 300", 1100), { kind: "watch", wakeAtMs: 1400 });
    // A shorter renewal shortens it: the agent's latest word counts. The guard looks at 1400:
    // until 200 ms of silence the agent is alive and stops its resources itself.
    assert.deepEqual(say(state, "lease 50", 1200), { kind: "watch", wakeAtMs: 1400 });
    assert.equal(state.deadline, 1250);
  });

  test("the deadline passing without idle releases what is held, newest first; the decision is final", () => {
    const state = new GuardState();
    say(state, hold(VIP), 900);
    say(state, hold(WEB), 950);
    say(state, "lease 300", 1000);
    const release = state.check(1300);
    assert.equal(release.kind, "release");
    assert.ok(release.kind === "release");
    assert.equal(release.cause, "deadline");
    assert.deepEqual(
      release.held.map((resource) => resource.key),
      ["web", "web-ip"],
    );
    // What has not stopped by the lease's end and its grace is fenced.
    assert.equal(release.releaseByMs, 1300 + pastLeaseGraceMs(null));
    assert.deepEqual(state.check(1301), release);
    assert.deepEqual(say(state, "idle", 1302), release);
    assert.deepEqual(say(state, "bye", 1303), release);
    assert.deepEqual(state.eof(1304), release);
  });

  test("a renewal read after the deadline does not rescue the agent", () => {
    const state = new GuardState();
    say(state, "lease 300", 1000);
    const late = say(state, "lease 300", 1400);
    assert.equal(late.kind, "release");
    assert.equal(late.kind === "release" && late.cause, "deadline");
  });

  test("lease 0: resources may run and no lease covers them: release at once", () => {
    const state = new GuardState();
    assert.equal(say(state, "lease 0", 5).kind, "release");
  });

  test("idle clears the deadline and what is held: silence is then harmless", () => {
    const state = new GuardState({ hangMs: 100 });
    say(state, hold(VIP), 1000);
    say(state, "lease 300", 1000);
    assert.deepEqual(say(state, "idle", 1200), { kind: "watch", wakeAtMs: null });
    assert.deepEqual(state.heldKeys, []);
    assert.deepEqual(state.check(1e9), { kind: "watch", wakeAtMs: null });
    // A new lease arms it again.
    assert.deepEqual(say(state, "lease 100", 2e9), { kind: "watch", wakeAtMs: 2e9 + 100 });
    assert.equal(state.check(2e9 + 99).kind, "watch");
    assert.equal(state.check(2e9 + 100).kind, "release");
  });

  test("drop forgets one resource; holding again keeps its place", () => {
    const state = new GuardState();
    say(state, hold(VIP), 0);
    say(state, hold(WEB), 1);
    say(state, hold({ ...VIP, timeoutMs: 1000 }), 2);
    assert.deepEqual(state.heldKeys, ["web-ip", "web"]);
    say(state, "drop web", 3);
    assert.deepEqual(state.heldKeys, ["web-ip"]);
    const gone = state.eof(4);
    assert.ok(gone.kind === "release");
    assert.deepEqual(gone.held, [{ ...VIP, timeoutMs: 1000 }]);
  });

  test("silence for hangMs while holding: the agent hangs; before that, any good line is a sign of life", () => {
    const state = new GuardState({ hangMs: 500 });
    say(state, hold(VIP), 0);
    assert.deepEqual(say(state, "lease 2000", 100), { kind: "watch", wakeAtMs: 600 });
    assert.equal(state.check(599).kind, "watch");
    assert.deepEqual(say(state, "alive", 550), { kind: "watch", wakeAtMs: 1050 });
    // A malformed line says nothing, not even that the agent runs.
    assert.equal(say(state, "garbage", 1000).kind, "watch");
    assert.deepEqual(state.check(1000), { kind: "watch", wakeAtMs: 1050 });
    assert.deepEqual(say(state, "alive", 1000), { kind: "watch", wakeAtMs: 1500 });
    const hung = state.check(1500);
    assert.ok(hung.kind === "release");
    assert.equal(hung.cause, "agent_hung");
    // The stops must be done by the end of the lease announced at 100 (and its grace).
    assert.equal(hung.releaseByMs, 2100 + pastLeaseGraceMs(500));
    assert.match(hung.reason, /nothing heard from the agent for 500 ms while holding web-ip/);
  });

  test("the lease ends while the agent is silent: released then; stops and all end by the lease's end and its grace", () => {
    // The default profile: hang time 500 ms, a leader's lease 450 ms renewed with every line.
    const state = new GuardState({ hangMs: 500 });
    say(state, hold(VIP), 0);
    for (let at = 0; at <= 1000; at += 100) say(state, "lease 450", at);
    // Silent from 1000: the lease ends at 1450, before the hang time would.
    assert.deepEqual(state.check(1100), { kind: "watch", wakeAtMs: 1450 });
    const released = state.check(1450);
    assert.ok(released.kind === "release");
    assert.equal(released.cause, "deadline");
    assert.equal(released.releaseByMs, 1450 + pastLeaseGraceMs(500));
    assert.equal(pastLeaseGraceMs(500), leaseQuietMs(500) + PAST_LEASE_GRACE_MS);
    assert.match(released.reason, /lease ended 0 ms ago and it has been silent for 450 ms/);

    // Silent for less than four fifths of the hang time at the deadline: slow, not hung.
    const slow = new GuardState({ hangMs: 500 });
    say(slow, hold(VIP), 0);
    say(slow, "lease 100", 0);
    assert.deepEqual(slow.check(100), { kind: "watch", wakeAtMs: 400 });
    assert.equal(slow.check(399).kind, "watch");
    assert.equal(slow.check(400).kind, "release");

    // An agent that keeps speaking while its lease runs out is stopping its resources itself,
    // but only until the lease's end and its grace: the leader may start them elsewhere then, so
    // what is still held is released (and, no time being left for stops, fenced), speech or not.
    const speaking = new GuardState({ hangMs: 500 });
    say(speaking, hold(VIP), 0);
    say(speaking, "lease 450", 0);
    for (let at = 100; at <= 900; at += 100) assert.equal(say(speaking, "alive", at).kind, "watch");
    assert.equal(speaking.check(949).kind, "watch");
    const late = speaking.check(950);
    assert.ok(late.kind === "release");
    assert.equal(late.cause, "deadline");
    assert.equal(late.releaseByMs, 950);
    // Had it dropped everything in time (idle), nothing would have happened.
    const stopped = new GuardState({ hangMs: 500 });
    say(stopped, hold(VIP), 0);
    say(stopped, "lease 450", 0);
    for (let at = 100; at <= 500; at += 100) say(stopped, "alive", at);
    assert.deepEqual(say(stopped, "idle", 600), { kind: "watch", wakeAtMs: null });
  });

  test("bye exits, even while holding; nothing is released afterwards", () => {
    const state = new GuardState({ hangMs: 10 });
    say(state, hold(VIP), 1000);
    say(state, "lease 300", 1000);
    const bye = say(state, "bye", 1100);
    assert.equal(bye.kind, "exit");
    assert.equal(bye.kind === "exit" && bye.cause, "bye");
    assert.deepEqual(state.check(1e9), bye);
    assert.deepEqual(state.eof(1e9), bye);
  });

  test("EOF without bye: release at once while guarding (lease or held), plain exit while idle", () => {
    const leased = new GuardState();
    say(leased, "lease 60000", 0);
    const gone = leased.eof(10);
    assert.ok(gone.kind === "release");
    assert.equal(gone.cause, "agent_gone");
    assert.equal(gone.releaseByMs, 60000 + pastLeaseGraceMs(null));

    const holding = new GuardState();
    say(holding, hold(WEB), 0);
    const without = holding.eof(10);
    assert.ok(without.kind === "release");
    assert.deepEqual(without.held, [WEB]);
    assert.equal(without.releaseByMs, null);

    const idle = new GuardState();
    say(idle, "lease 60000", 0);
    say(idle, "idle", 5);
    const exit = idle.eof(10);
    assert.equal(exit.kind, "exit");
    assert.equal(exit.kind === "exit" && exit.cause, "agent_gone_idle");

    assert.equal(new GuardState().eof(0).kind, "exit");
  });

  test("a malformed line is reported and changes nothing else", () => {
    const state = new GuardState();
    say(state, "lease 300", 1000);
    const bad = say(state, "lease forever", 1100);
    assert.equal(bad.kind, "watch");
    assert.equal(bad.kind === "watch" && bad.wakeAtMs, 1300);
    assert.match(bad.error ?? "", /lease needs a time in ms/);
    // It did not renew the lease, nor count as a sign of life.
    assert.equal(state.check(1300).kind, "release");

    const idle = new GuardState();
    assert.deepEqual(say(idle, "garbage", 0), {
      kind: "watch",
      wakeAtMs: null,
      error: 'unknown message "0 garbage"',
    });
  });

  test("property: released at the deadline once silent for four fifths of the hang time (at the latest at the deadline and its grace), or after hangMs of silence while guarding", () => {
    const hangMs = 250;
    const quietMs = leaseQuietMs(hangMs);
    const graceMs = pastLeaseGraceMs(hangMs);
    const step = fc.record({
      gap: fc.integer({ min: 0, max: 400 }),
      line: fc.oneof(
        fc.integer({ min: 0, max: 600 }).map((ms) => `lease ${ms}`),
        fc.constant(hold(VIP)),
        fc.constant("drop web-ip"),
        fc.constant("alive"),
        fc.constant("idle"),
        fc.constant("junk"),
      ),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const state = new GuardState({ hangMs });
        let now = 0;
        // The model: the latest lease's deadline and whether the VIP is held, unless idle came
        // after them; the time of the latest line.
        let deadline: number | null = null;
        let held = false;
        let heard = 0;
        for (const { gap, line } of steps) {
          now += gap;
          const guarding: boolean = deadline !== null || held;
          const due: boolean =
            (deadline !== null &&
              now >= Math.min(Math.max(deadline, heard + quietMs), deadline + graceMs)) ||
            (guarding && now >= heard + hangMs);
          assert.equal(state.check(now).kind === "release", due);
          if (due) return;
          const result = say(state, line, now);
          if (line !== "junk") heard = now;
          if (line.startsWith("lease ")) deadline = now + Number(line.slice(6));
          else if (line.startsWith("hold ")) held = true;
          else if (line === "drop web-ip") held = false;
          else if (line === "idle") {
            deadline = null;
            held = false;
          }
          // Only a lease that has already ended when announced releases on the line itself.
          assert.equal(result.kind, line === "lease 0" ? "release" : "watch");
          if (result.kind === "release") return;
        }
      }),
    );
  });
});

describe("guardHangMs", () => {
  test("half the follower lease", () => {
    assert.equal(guardHangMs(1000), 500);
    assert.equal(guardHangMs(300), 150);
    assert.equal(guardHangMs(1), 1);
  });
});
