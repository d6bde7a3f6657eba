import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { elapsedAtPhi, PhiAccrualDetector, phiOf } from "../../src/membership/phi-detector.js";
import type { PhiDetectorSettings } from "../../src/membership/timing.js";
import { PHI, TIMING } from "./harness.js";

const CONFIG = PHI as PhiDetectorSettings;
/** A deadtime far away, so that what phi learnt is visible rather than the cap. */
const LONG_DEADTIME = { ...TIMING, deadtime_ms: 60_000 };

/** Heartbeats at the given intervals, starting at 0; returns the last arrival time. */
function feed(detector: PhiAccrualDetector, intervals: readonly number[]): number {
  let nowMs = 0;
  detector.heard(nowMs);
  for (const intervalMs of intervals) {
    nowMs += intervalMs;
    detector.heard(nowMs);
  }
  return nowMs;
}

/** The first whole-ms silence at which state() is down, scanning from lastMs. */
function firstDownAtMs(detector: PhiAccrualDetector, lastMs: number): number {
  for (let nowMs = lastMs; ; nowMs += 0.25) {
    if (detector.state(nowMs) === "down") return nowMs;
  }
}

describe("phi math", () => {
  test("elapsedAtPhi inverts phiOf", () => {
    for (const phi of [0.5, 1, 2, 3, 5, 8, 12, 16]) {
      for (const [meanMs, stdMs] of [
        [300, 50],
        [125, 80],
        [1000, 1],
      ] as const) {
        const elapsedMs = elapsedAtPhi(phi, meanMs, stdMs);
        assert.ok(Math.abs(phiOf(elapsedMs, meanMs, stdMs) - phi) < 1e-9, `phi ${phi}`);
      }
    }
  });

  test("phi is finite and never decreases however long the silence", () => {
    let previous = -1;
    for (let elapsedMs = 0; elapsedMs < 1e13; elapsedMs = elapsedMs * 1.5 + 1) {
      const phi = phiOf(elapsedMs, 300, 50);
      assert.ok(Number.isFinite(phi), `phi(${elapsedMs}) = ${phi}`);
      assert.ok(phi >= previous, `phi decreased at ${elapsedMs}`);
      previous = phi;
    }
    // Where Akka's formula already returns Infinity (about 20 std past the mean), ours still rises.
    assert.ok(phiOf(300 + 30 * 50, 300, 50) < phiOf(300 + 31 * 50, 300, 50));
    assert.ok(phiOf(-1e9, 300, 50) >= 0);
  });
});

describe("phi-accrual detector", () => {
  test("regular heartbeats keep phi low", () => {
    const detector = new PhiAccrualDetector(CONFIG, TIMING);
    const lastMs = feed(detector, Array(100).fill(100));
    assert.ok(detector.suspicion(lastMs + 100) < 1, `phi ${detector.suspicion(lastMs + 100)}`);
    assert.equal(detector.state(lastMs + 100), "up");
    assert.equal(detector.state(lastMs + 250), "up");
  });

  test("silence raises phi monotonically past the threshold; state follows it", () => {
    const detector = new PhiAccrualDetector(CONFIG, LONG_DEADTIME);
    const lastMs = feed(detector, Array(100).fill(100));
    let previous = 0;
    let sawLate = false;
    for (let nowMs = lastMs; nowMs <= lastMs + 2000; nowMs += 5) {
      const phi = detector.suspicion(nowMs);
      assert.ok(phi >= previous, `phi fell at ${nowMs}`);
      previous = phi;
      const state = detector.state(nowMs);
      assert.equal(state, phi > 8 ? "down" : phi > 3 ? "late" : "up", `at +${nowMs - lastMs}`);
      sawLate ||= state === "late";
    }
    assert.ok(previous > 8);
    assert.ok(sawLate);
  });

  test("nextChangeAtMs is when state() flips (within 1 ms)", () => {
    const detector = new PhiAccrualDetector(CONFIG, LONG_DEADTIME);
    const lastMs = feed(detector, [100, 110, 90, 105, 95, 100, 130, 70, 100, 100]);
    const lateAtMs = detector.nextChangeAtMs(lastMs);
    assert.equal(detector.state(lateAtMs - 1), "up");
    assert.equal(detector.state(lateAtMs + 1), "late");
    const downAtMs = detector.nextChangeAtMs(lateAtMs + 1);
    assert.ok(Math.abs(firstDownAtMs(detector, lastMs) - downAtMs) <= 1);
    assert.equal(detector.state(downAtMs - 1), "late");
    assert.equal(detector.state(downAtMs + 1), "down");
    assert.ok(detector.suspicion(downAtMs + 1) > 8);
    assert.equal(detector.nextChangeAtMs(downAtMs + 1), Number.POSITIVE_INFINITY);
  });

  test("a jittery or lossy history raises the tolerance", () => {
    const regular = new PhiAccrualDetector(CONFIG, LONG_DEADTIME);
    feed(regular, Array(100).fill(100));
    const jittery = new PhiAccrualDetector(CONFIG, LONG_DEADTIME);
    feed(
      jittery,
      Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? 20 : 180)),
    );
    // Every 5th heartbeat lost: one interval in four is 200 ms.
    const lossy = new PhiAccrualDetector(CONFIG, LONG_DEADTIME);
    feed(
      lossy,
      Array.from({ length: 100 }, (_, i) => (i % 4 === 3 ? 200 : 100)),
    );
    assert.ok(jittery.downAfter() > regular.downAfter() + 50, `${jittery.downAfter()}`);
    assert.ok(lossy.downAfter() > regular.downAfter() + 20, `${lossy.downAfter()}`);
    // min_std 50 + pause 200 with 100 ms heartbeats: down after ~560 ms of silence.
    assert.ok(regular.downAfter() > 500 && regular.downAfter() < 620, `${regular.downAfter()}`);
  });

  test("bootstraps from the keepalive before two intervals are known", () => {
    const detector = new PhiAccrualDetector(CONFIG, LONG_DEADTIME);
    detector.heard(0);
    // mean = keepalive + pause = 300; std = max(keepalive / 4, min_std) = 50.
    const expectedMs = elapsedAtPhi(8, 300, 50);
    assert.equal(detector.downAfter(), expectedMs);
    assert.equal(detector.nextChangeAtMs(detector.lateAfter() + 1), expectedMs);
    detector.heard(100);
    assert.equal(detector.downAfter(), expectedMs, "one interval is still bootstrap");
  });

  test("the deadtime is a hard cap on the silence tolerated", () => {
    const detector = new PhiAccrualDetector(CONFIG, TIMING);
    const lastMs = feed(
      detector,
      Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? 10 : 800)),
    );
    assert.equal(detector.downAfter(), TIMING.deadtime_ms);
    // So wide a distribution would not even call it late before the cap: straight to down.
    assert.equal(detector.nextChangeAtMs(lastMs), lastMs + 900);
    assert.notEqual(detector.state(lastMs + 900), "down");
    assert.equal(detector.state(lastMs + 900.001), "down");
  });

  test("an outage is not learnt as an inter-arrival interval", () => {
    const detector = new PhiAccrualDetector(CONFIG, TIMING);
    const lastMs = feed(detector, Array(50).fill(100));
    const before = detector.downAfter();
    detector.heard(lastMs + 5000);
    assert.equal(detector.downAfter(), before);
    assert.equal(detector.state(lastMs + 5000), "up");
  });

  test("rebase restarts the silence without learning the gap", () => {
    const detector = new PhiAccrualDetector(CONFIG, TIMING);
    const lastMs = feed(detector, Array(50).fill(100));
    const before = detector.downAfter();
    detector.rebase(lastMs + 400);
    detector.heard(lastMs + 401); // would be a 401 ms interval: must not be learnt
    assert.equal(detector.downAfter(), before);
    detector.reset();
    assert.equal(detector.state(lastMs + 401), "down");
    assert.equal(detector.suspicion(lastMs + 401), 0);
  });
});
