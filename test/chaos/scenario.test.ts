import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  describeStep,
  firstSteps,
  kindOf,
  LONG_PAUSE_MS,
  SHORT_PAUSE_MAX_MS,
  type Step,
} from "./scenario.js";

const SEEDS = Array.from({ length: 200 }, (_, i) => i + 1);

function everyStep(options: { longPauses?: boolean } = {}): Step[] {
  return SEEDS.flatMap((seed) => firstSteps(seed, 40, options));
}

describe("chaos schedule", () => {
  test("a seed always gives the same steps; another seed others", () => {
    assert.deepEqual(firstSteps(7, 30), firstSteps(7, 30));
    assert.notDeepEqual(firstSteps(7, 30), firstSteps(8, 30));
    // A longer run starts with the shorter run's steps: --steps K replays a --minutes run.
    assert.deepEqual(firstSteps(7, 50).slice(0, 30), firstSteps(7, 30));
    assert.deepEqual(
      firstSteps(7, 10).map((s) => s.index),
      Array.from({ length: 10 }, (_, i) => i + 1),
    );
  });

  test("every kind of fault comes up", () => {
    const kinds = new Set(everyStep().map((s) => kindOf(s.fault)));
    assert.deepEqual(
      [...kinds].sort(),
      [
        "agent-kill",
        "isolate",
        "leader-kill",
        "link-cut",
        "long-pause",
        "loss",
        "one-way-cut",
        "pause",
        "power-off",
      ].sort(),
    );
  });

  test("one host at a time: one target per step, light background loss only elsewhere", () => {
    for (const step of everyStep()) {
      const f = step.fault;
      if (f.kind !== "leader-kill") {
        if (f.target.role === "host") assert.ok(f.target.index >= 0 && f.target.index <= 2);
      }
      // A power-off of the leader is a leader-kill; a power-off step never names the leader.
      if (f.kind === "power-off") assert.notEqual(f.target.role, "leader");
      if (step.background !== null) {
        assert.ok([0, 1].includes(step.background.otherPick), describeStep(step));
        assert.ok(step.background.percent >= 5 && step.background.percent <= 15);
        assert.ok([0, 1].includes(step.background.link));
      }
      assert.ok(step.holdMs >= 100 && step.holdMs <= 6_000, describeStep(step));
      assert.ok(step.settleMs >= 500 && step.settleMs <= 2_000);
      assert.ok(step.phaseMs >= 0 && step.phaseMs <= 300);
    }
  });

  test("pauses: short ones stay under the follower lease; long ones unless left out", () => {
    const without = everyStep({ longPauses: false });
    for (const step of without) {
      if (step.fault.kind !== "pause") continue;
      assert.equal(step.fault.long, false);
      assert.ok(step.holdMs <= SHORT_PAUSE_MAX_MS, describeStep(step));
    }
    const withLong = everyStep().filter((s) => s.fault.kind === "pause" && s.fault.long);
    assert.ok(withLong.length > 0);
    for (const step of withLong) {
      assert.ok(step.holdMs >= LONG_PAUSE_MS.min && step.holdMs <= LONG_PAUSE_MS.max);
    }
  });

  test("links, directions and loss stay in range", () => {
    for (const step of everyStep()) {
      const f = step.fault;
      if (f.kind === "link-cut") assert.ok([0, 1].includes(f.link));
      if (f.kind === "one-way-cut" || f.kind === "loss") {
        assert.ok(f.links === "all" || [0, 1].includes(f.links));
      }
      if (f.kind === "loss") {
        assert.ok(f.percent >= 5 && f.percent <= (f.links === "all" ? 30 : 40), describeStep(step));
      }
      if (step.configDuring !== null) assert.ok(step.holdMs >= 1_500);
    }
  });

  test("describeStep names the step, the fault and the hold", () => {
    const [step] = firstSteps(81, 1);
    assert.match(describeStep(step!), /^step 1: .+ for \d+ ms/);
  });

  test("two-node mode: two hosts, every kind of fault, partitions included", () => {
    const steps = SEEDS.flatMap((seed) => firstSteps(seed, 40, { twoNode: true }));
    const kinds = new Set(steps.map((s) => kindOf(s.fault)));
    for (const kind of [
      "agent-kill",
      "isolate",
      "leader-kill",
      "long-pause",
      "link-cut",
      "loss",
      "one-way-cut",
      "pause",
      "power-off",
    ])
      assert.ok(kinds.has(kind as never), kind);
    for (const step of steps) {
      const f = step.fault;
      if (f.kind !== "leader-kill" && f.target.role === "host")
        assert.ok(f.target.index === 0 || f.target.index === 1, describeStep(step));
      // The only other host is the first of the others.
      if (step.background !== null) assert.equal(step.background.otherPick, 0);
    }
    assert.deepEqual(firstSteps(7, 30, { twoNode: true }), firstSteps(7, 30, { twoNode: true }));
  });
});
