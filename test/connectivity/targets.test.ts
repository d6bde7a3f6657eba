import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseHostPort } from "../../src/config/host-port.js";
import {
  describeChange,
  describeTarget,
  diffRounds,
  isNoteworthy,
} from "../../src/connectivity/targets.js";

describe("connectivity targets", () => {
  test("names each kind of target", () => {
    assert.equal(describeTarget({ icmp: "10.0.0.1" }), "icmp:10.0.0.1");
    assert.equal(describeTarget({ tcp: "db:5432" }), "tcp:db:5432");
    assert.equal(describeTarget({ http: "http://10.0.0.1/health" }), "http://10.0.0.1/health");
  });

  test("splits host:port at the last colon, unwrapping IPv6 brackets", () => {
    assert.deepEqual(parseHostPort("10.0.0.1:80"), { host: "10.0.0.1", port: 80 });
    assert.deepEqual(parseHostPort("[::1]:8080"), { host: "::1", port: 8080 });
    assert.deepEqual(parseHostPort("gw.example:65535"), { host: "gw.example", port: 65_535 });
    for (const bad of ["10.0.0.1", ":80", "host:0", "host:65536", "host:8a", "[]:80"])
      assert.equal(parseHostPort(bad), null, bad);
  });
});

describe("diffing rounds", () => {
  const names = ["a", "b", "c"];

  test("the first round names every target that answers and every one that does not", () => {
    const change = diffRounds(names, null, [true, false, true]);
    assert.deepEqual(change, {
      first: true,
      previousReachable: null,
      reachable: 2,
      total: 3,
      wentUp: ["a", "c"],
      wentDown: ["b"],
    });
    assert.equal(isNoteworthy(change), true);
    assert.equal(describeChange(change), "connectivity 2 of 3 targets reachable; unreachable: b");
  });

  test("a round like the previous one is not noteworthy", () => {
    const change = diffRounds(names, [true, false, true], [true, false, true]);
    assert.deepEqual(change.wentUp, []);
    assert.deepEqual(change.wentDown, []);
    assert.equal(change.previousReachable, 2);
    assert.equal(isNoteworthy(change), false);
  });

  test("names the targets that went down and up", () => {
    const down = diffRounds(names, [true, true, true], [true, false, false]);
    assert.deepEqual([down.wentUp, down.wentDown], [[], ["b", "c"]]);
    assert.equal(describeChange(down), "connectivity 3 -> 1 of 3 targets reachable; down: b, c");
    const swap = diffRounds(names, [true, false, true], [false, true, true]);
    assert.equal(isNoteworthy(swap), true, "same count, different targets");
    assert.equal(describeChange(swap), "connectivity 2 of 3 targets reachable; down: a; up: b");
  });

  test("matches targets by position, so duplicate names are fine", () => {
    const change = diffRounds(["x", "x"], [true, false], [false, true]);
    assert.deepEqual([change.wentUp, change.wentDown], [["x"], ["x"]]);
  });
});
