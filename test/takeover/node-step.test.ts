import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decideForKey, operationsBetween } from "../../src/takeover/node-step.js";

describe("node step: what a node does about one resource", () => {
  test("a start instruction for something not running here starts it", () => {
    assert.deepEqual(
      decideForKey({ cell: { target: "started" }, actual: undefined, definitionChanged: false }),
      { kind: "operate", operations: ["start"], wanted: "started" },
    );
  });

  test("running as told and reported: nothing to do; not reported yet: report", () => {
    const cell = { target: "started" as const, active: "started" as const };
    assert.deepEqual(decideForKey({ cell, actual: "started", definitionChanged: false }), {
      kind: "none",
    });
    assert.deepEqual(
      decideForKey({ cell: { target: "started" }, actual: "started", definitionChanged: false }),
      { kind: "report", active: "started" },
    );
  });

  test("a probe's find without an instruction keeps running until the leader decides", () => {
    assert.deepEqual(
      decideForKey({ cell: { active: "started" }, actual: "started", definitionChanged: false }),
      { kind: "none" },
    );
  });

  test("told to stop: a promoted copy is demoted first; a stopped one reports so the cell goes", () => {
    assert.deepEqual(
      decideForKey({
        cell: { target: "stopped", active: "promoted" },
        actual: "promoted",
        definitionChanged: false,
      }),
      { kind: "operate", operations: ["demote", "stop"], wanted: undefined },
    );
    assert.deepEqual(
      decideForKey({ cell: { target: "stopped" }, actual: undefined, definitionChanged: false }),
      { kind: "report", active: null },
    );
  });

  test("a copy that stopped while its cell says it runs is reported stopped before anything starts", () => {
    for (const role of ["started", "promoted", "unpromoted"] as const) {
      assert.deepEqual(
        decideForKey({
          cell: { target: role, active: role },
          actual: undefined,
          definitionChanged: false,
        }),
        { kind: "report", active: null },
      );
    }
  });

  test("something running here that the state does not know about is reported", () => {
    assert.deepEqual(
      decideForKey({ cell: undefined, actual: "started", definitionChanged: false }),
      {
        kind: "report",
        active: "started",
      },
    );
  });

  test("a failed stop is left alone until cleanup", () => {
    assert.deepEqual(
      decideForKey({
        cell: { target: "stopped", active: "started", stopFailed: true },
        actual: "started",
        definitionChanged: false,
      }),
      { kind: "none" },
    );
  });

  test("a changed definition restarts a running copy that should keep running", () => {
    const cell = { target: "started" as const, active: "started" as const };
    assert.deepEqual(decideForKey({ cell, actual: "started", definitionChanged: true }), {
      kind: "restart",
    });
    assert.deepEqual(
      decideForKey({
        cell: { target: "stopped", active: "started" },
        actual: "started",
        definitionChanged: true,
      }),
      { kind: "operate", operations: ["stop"], wanted: undefined },
    );
  });

  test("a restart for a changed definition waits for this node's probe of it to commit", () => {
    const cell = { target: "started" as const, active: "started" as const };
    const input = { cell, actual: "started" as const, definitionChanged: true };
    assert.deepEqual(decideForKey({ ...input, probePending: true }), { kind: "wait" });
    assert.deepEqual(decideForKey({ ...input, probePending: false }), { kind: "restart" });
    // Only the restart waits: a stop the leader asked for goes ahead.
    assert.deepEqual(
      decideForKey({
        ...input,
        cell: { target: "stopped", active: "started" },
        probePending: true,
      }),
      { kind: "operate", operations: ["stop"], wanted: undefined },
    );
  });

  test("roles: start before promote, demote without stop, unpromoted equals started", () => {
    assert.deepEqual(operationsBetween(undefined, "promoted"), ["start", "promote"]);
    assert.deepEqual(operationsBetween("unpromoted", "promoted"), ["promote"]);
    assert.deepEqual(operationsBetween("promoted", "unpromoted"), ["demote"]);
    assert.deepEqual(
      decideForKey({
        cell: { target: "unpromoted", active: "unpromoted" },
        actual: "unpromoted",
        definitionChanged: false,
      }),
      { kind: "none" },
    );
  });
});
