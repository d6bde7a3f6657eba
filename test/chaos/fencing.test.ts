import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  FENCE_EXPECTED_WITHIN_MS,
  fenceExpectation,
  judgeFences,
  parseFenceLog,
  TWO_NODE_DELAYED,
  TWO_NODE_FENCE_DELAY_MS,
  twoNodeFenceExpectation,
} from "./fencing.js";
import { firstSteps, kindOf } from "./scenario.js";
import type { FenceRecord, StepResult } from "./types.js";

const LONG = FENCE_EXPECTED_WITHIN_MS + 500;
const HELD = ["service-echo", "service-ip"];

function stepResult(overrides: Partial<StepResult> = {}): StepResult {
  const [step] = firstSteps(7, 1);
  return {
    step: step!,
    description: "step 1: test",
    kind: kindOf(step!.fault),
    target: "h1",
    groupBefore: "h1",
    groupAfter: "h2",
    startedAtMs: 1_000,
    faultAtMs: 2_000,
    healAtMs: 2_000 + LONG,
    backAtMs: null,
    backAfterHealMs: null,
    unavailabilityMs: null,
    outage: null,
    configChanges: [],
    targetHeld: HELD,
    fenceExpectation: {
      expected: true,
      reason: `isolated for ${LONG} ms`,
      node: "h1",
      lost: true,
      withinMs: FENCE_EXPECTED_WITHIN_MS,
    },
    fences: [],
    notes: [],
    failures: [],
    aborted: false,
    endedAtMs: 20_000,
    ...overrides,
  };
}

function fence(overrides: Partial<FenceRecord> = {}): FenceRecord {
  return {
    node: "h1",
    calledAtMs: 2_880,
    atMs: 2_910,
    step: 1,
    fault: "isolate",
    target: "h1",
    afterFaultMs: 910,
    phase: "during the fault",
    by: "policy@h2",
    ...overrides,
  };
}

describe("chaos fencing mode", () => {
  test("fence_lab's log: begin and end lines; anything else is skipped", () => {
    const lines = parseFenceLog(
      [
        "1700000000000 reboot vgabc12-h0 begin",
        "1700000000030 reboot vgabc12-h0 exit=0",
        "1700000001000 monitor - exit=0",
        "garbage",
        "1700000002000 off vgabc12-h2 exit=1",
        "",
      ].join("\n"),
    );
    assert.deepEqual(lines, [
      { atMs: 1700000000000, action: "reboot", plug: "vgabc12-h0", begin: true },
      { atMs: 1700000000030, action: "reboot", plug: "vgabc12-h0", begin: false, exit: 0 },
      { atMs: 1700000001000, action: "monitor", plug: "-", begin: false, exit: 0 },
      { atMs: 1700000002000, action: "off", plug: "vgabc12-h2", begin: false, exit: 1 },
    ]);
  });

  test("a fault that makes a resource holder unheard long enough expects a fence", () => {
    const target = { role: "host", index: 0 } as const;
    for (const fault of [
      { kind: "power-off", target },
      { kind: "leader-kill" },
      { kind: "isolate", target },
      { kind: "agent-kill", target },
      { kind: "pause", target, long: true },
      { kind: "one-way-cut", target, links: "all", direction: "out" },
      { kind: "one-way-cut", target, links: "all", direction: "in" },
    ] as const) {
      assert.equal(fenceExpectation(fault, LONG, HELD, "h1").expected, true, fault.kind);
      // Held nothing: nothing to recover, so nothing to fence for.
      const empty = fenceExpectation(fault, LONG, [], "h1");
      assert.equal(empty.expected, false);
      assert.match(empty.reason, /held no resources/);
      // Back before it could be judged lost and fenced.
      const short = fenceExpectation(fault, FENCE_EXPECTED_WITHIN_MS - 1, HELD, "h1");
      assert.equal(short.expected, false);
      assert.match(short.reason, /may be back/);
    }
    for (const fault of [
      { kind: "link-cut", target, link: 0 },
      { kind: "one-way-cut", target, links: 1, direction: "out" },
      { kind: "one-way-cut", target, links: 0, direction: "in" },
      { kind: "loss", target, links: "all", percent: 30, direction: "both" },
      { kind: "pause", target, long: false },
    ] as const) {
      const expectation = fenceExpectation(fault, LONG, HELD, "h1");
      assert.equal(expectation.expected, false, fault.kind);
      assert.match(expectation.reason, /still hear it/);
    }
  });

  test("an expected fence in time is a note; missing or late, a failure", () => {
    const inTime = judgeFences(stepResult({ fences: [fence()] }));
    assert.deepEqual(inTime.failures, []);
    assert.equal(inTime.notes.length, 1);
    assert.match(
      inTime.notes[0]!,
      /fenced h1 910 ms after the fault \(during the fault, by policy@h2\)/,
    );

    const missing = judgeFences(stepResult());
    assert.equal(missing.failures.length, 1);
    assert.match(missing.failures[0]!, /fencing expected .* not fenced within .* \(not at all\)/);

    const lateMs = FENCE_EXPECTED_WITHIN_MS + 1;
    const late = judgeFences(stepResult({ fences: [fence({ afterFaultMs: lateMs })] }));
    assert.equal(late.failures.length, 1);
    assert.match(late.failures[0]!, new RegExp(`only ${lateMs} ms after it`));
  });

  test("a fence nobody expected: a note for the target, a failure for any other host", () => {
    const unexpected = {
      expected: false,
      reason: "isolated for 1200 ms only",
      node: "h1",
      lost: true,
      withinMs: FENCE_EXPECTED_WITHIN_MS,
    };
    const target = judgeFences(
      stepResult({ fenceExpectation: unexpected, fences: [fence({ phase: "after the heal" })] }),
    );
    assert.deepEqual(target.failures, []);
    assert.match(target.notes[0]!, /not expected: isolated for 1200 ms only/);

    const bystander = judgeFences(
      stepResult({ fenceExpectation: unexpected, fences: [fence({ node: "h3", by: null })] }),
    );
    assert.equal(bystander.failures.length, 1);
    assert.match(bystander.failures[0]!, /fenced h3 .*not recorded by the cluster.*did not touch/);

    const beforeFault = judgeFences(stepResult({ fences: [fence({ phase: "before the fault" })] }));
    assert.equal(beforeFault.failures.length, 1);
  });

  test("two-node mode: whoever the peer stops hearing is fenced, held or not", () => {
    assert.equal(TWO_NODE_DELAYED, "h1");
    const VERY_LONG = FENCE_EXPECTED_WITHIN_MS + TWO_NODE_FENCE_DELAY_MS + 500;
    const h1 = { role: "host", index: 0 } as const;
    const h2 = { role: "host", index: 1 } as const;
    const cases = [
      // The target itself is lost to its peer.
      [{ kind: "power-off", target: h2 }, "h2", "h1", "h2"],
      [{ kind: "leader-kill" }, "h1", "h2", "h1"],
      [{ kind: "agent-kill", target: h2 }, "h2", "h1", "h2"],
      [{ kind: "agent-kill", target: h1 }, "h1", "h2", "h1"],
      [{ kind: "pause", target: h1, long: true }, "h1", "h2", "h1"],
      [{ kind: "one-way-cut", target: h2, links: "all", direction: "out" }, "h2", "h1", "h2"],
      // An inbound cut: the target hears nothing and fences its peer.
      [{ kind: "one-way-cut", target: h1, links: "all", direction: "in" }, "h1", "h2", "h2"],
      // A partition: both fence; h1's delay makes h2 the one shot, whichever was "isolated".
      [{ kind: "isolate", target: h1 }, "h1", "h2", "h2"],
      [{ kind: "isolate", target: h2 }, "h2", "h1", "h2"],
    ] as const;
    for (const [fault, target, peer, fenced] of cases) {
      const expectation = twoNodeFenceExpectation(fault, VERY_LONG, target, peer);
      assert.equal(expectation.expected, true, `${fault.kind} of ${target}`);
      assert.equal(expectation.node, fenced, `${fault.kind} of ${target}`);
      assert.equal(expectation.lost, true);
      // h1 is shot only after its fence delay.
      assert.equal(
        expectation.withinMs,
        FENCE_EXPECTED_WITHIN_MS + (fenced === "h1" ? TWO_NODE_FENCE_DELAY_MS : 0),
      );
      const short = twoNodeFenceExpectation(fault, expectation.withinMs - 1, target, peer);
      assert.equal(short.expected, false);
      assert.equal(
        short.node,
        fenced,
        "a short fault may still get that host, and only it, fenced",
      );
    }
    for (const fault of [
      { kind: "link-cut", target: h1, link: 0 },
      { kind: "one-way-cut", target: h1, links: 1, direction: "in" },
      { kind: "loss", target: h1, links: "all", percent: 30, direction: "both" },
      { kind: "pause", target: h1, long: false },
    ] as const) {
      const expectation = twoNodeFenceExpectation(fault, VERY_LONG, "h1", "h2");
      assert.equal(expectation.expected, false, fault.kind);
      assert.equal(expectation.lost, false);
    }
  });

  test("two-node mode: after a partition, a fence of h1 is a failure and h2's is the expected one", () => {
    const hold = FENCE_EXPECTED_WITHIN_MS + 500;
    const partition = twoNodeFenceExpectation(
      { kind: "isolate", target: { role: "host", index: 0 } },
      hold,
      "h1",
      "h2",
    );
    const base = { target: "h1", healAtMs: 2_000 + hold, fenceExpectation: partition };
    const right = judgeFences(
      stepResult({ ...base, fences: [fence({ node: "h2", by: "policy@h1" })] }),
    );
    assert.deepEqual(right.failures, []);
    const wrong = judgeFences(stepResult({ ...base, fences: [fence({ node: "h1" })] }));
    assert.equal(wrong.failures.length, 2, wrong.failures.join(" | "));
    assert.match(wrong.failures[0]!, /fenced h1 .*did not get lost \(only h2 may be/);
    assert.match(wrong.failures[1]!, /fencing expected of h2 .*not at all/);
  });
});
