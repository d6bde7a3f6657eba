import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createDetector } from "../../src/membership/create-detector.js";
import { FixedDetector } from "../../src/membership/fixed-detector.js";
import { TIMING } from "./harness.js";

describe("fixed detector", () => {
  test("is down and never changes before the first heartbeat", () => {
    const detector = new FixedDetector(TIMING);
    assert.equal(detector.state(0), "down");
    assert.equal(detector.nextChangeAtMs(0), Number.POSITIVE_INFINITY);
    assert.equal(detector.suspicion(5000), 0);
  });

  test("late strictly after warntime, down strictly after deadtime", () => {
    const detector = createDetector({ type: "fixed" }, TIMING);
    detector.heard(1000);
    assert.equal(detector.state(1000), "up");
    assert.equal(detector.state(1400), "up");
    assert.equal(detector.state(1400.001), "late");
    assert.equal(detector.state(1900), "late");
    assert.equal(detector.state(1900.001), "down");
    assert.equal(detector.state(1_000_000), "down");
  });

  test("nextChangeAtMs names the exact boundaries", () => {
    const detector = new FixedDetector(TIMING);
    detector.heard(1000);
    assert.equal(detector.nextChangeAtMs(1000), 1400);
    assert.equal(detector.nextChangeAtMs(1400), 1400);
    assert.equal(detector.nextChangeAtMs(1400.5), 1900);
    assert.equal(detector.nextChangeAtMs(1900), 1900);
    assert.equal(detector.nextChangeAtMs(1900.5), Number.POSITIVE_INFINITY);
    detector.heard(1950);
    assert.equal(detector.state(1950), "up");
    assert.equal(detector.nextChangeAtMs(1950), 2350);
  });

  test("suspicion is silence over deadtime", () => {
    const detector = new FixedDetector(TIMING);
    detector.heard(1000);
    assert.equal(detector.suspicion(1450), 0.5);
    assert.equal(detector.suspicion(1900), 1);
  });

  test("a warntime at or past deadtime means no late phase", () => {
    const detector = new FixedDetector({ ...TIMING, warntime_ms: 900 });
    detector.heard(0);
    assert.equal(detector.state(899), "up");
    assert.equal(detector.nextChangeAtMs(0), 900);
    assert.equal(detector.state(900.5), "down");
  });

  test("rebase restarts the silence; reset forgets the peer", () => {
    const detector = new FixedDetector(TIMING);
    detector.rebase(10); // never heard: nothing to rebase
    assert.equal(detector.state(10), "down");
    detector.heard(0);
    detector.rebase(5000);
    assert.equal(detector.state(5000), "up");
    assert.equal(detector.state(5900), "late");
    assert.equal(detector.state(5900.5), "down");
    detector.reset();
    assert.equal(detector.state(5000), "down");
  });
});
