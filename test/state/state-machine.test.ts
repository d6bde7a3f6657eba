import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { EntryBody, LogEntry } from "../../src/consensus/types.js";
import {
  type Command,
  type CommandOutcome,
  encodeCommand,
  StateMachine,
  serializeState,
} from "../../src/state/index.js";

const standby = (node: string, on = true): Command => ({
  type: "node_standby",
  node,
  standby: on,
  by: "alice",
  atMs: 0,
});

function command(index: number, term: number, cmd: Command | string): LogEntry {
  return {
    index,
    term,
    body: { kind: "command", payload: typeof cmd === "string" ? cmd : encodeCommand(cmd) },
  };
}

function entry(index: number, term: number, body: EntryBody): LogEntry {
  return { index, term, body };
}

function collect(): { outcomes: CommandOutcome[]; callback: (outcome: CommandOutcome) => void } {
  const outcomes: CommandOutcome[] = [];
  return { outcomes, callback: (outcome) => outcomes.push(outcome) };
}

describe("state machine", () => {
  test("applies commands in order, skipping noop and membership entries but counting their index", () => {
    const machine = new StateMachine();
    assert.equal(machine.apply(entry(1, 1, { kind: "noop" })), null);
    assert.deepEqual(machine.apply(command(2, 1, standby("db1"))), { ok: true, version: 1 });
    assert.equal(
      machine.apply(
        entry(3, 1, {
          kind: "membership",
          membership: { members: [{ id: 1, votes: 1, witness: false }] },
        }),
      ),
      null,
    );
    const refused = machine.apply(command(4, 1, "not json"));
    assert.equal(refused?.ok, false);
    assert.equal(machine.appliedIndex, 4);
    assert.equal(machine.state.version, 1);
    assert.equal(machine.state.nodes.db1?.standby, true);
  });

  test("an entry out of order is an error, and changes nothing", () => {
    const machine = new StateMachine();
    machine.apply(command(1, 1, standby("db1")));
    assert.throws(
      () => machine.apply(command(3, 1, standby("db2"))),
      /applied up to index 1 and was given index 3/,
    );
    assert.throws(() => machine.apply(command(1, 1, standby("db2"))), /given index 1/);
    assert.equal(machine.appliedIndex, 1);
    assert.deepEqual(Object.keys(machine.state.nodes), ["db1"]);
  });

  test("resultAt tells the outcome of the command at an index; forgets the oldest past the bound", () => {
    const machine = new StateMachine({ outcomesKept: 3 });
    machine.apply(command(1, 1, standby("db1")));
    machine.apply(command(2, 1, "{}"));
    machine.apply(entry(3, 1, { kind: "noop" }));
    machine.apply(command(4, 1, standby("db2")));
    assert.equal(machine.resultAt(1), undefined, "forgotten");
    assert.equal(machine.resultAt(2)?.ok, false);
    assert.equal(machine.resultAt(3), undefined, "a noop has no result");
    assert.deepEqual(machine.resultAt(4), { ok: true, version: 2 });
    assert.equal(machine.resultAt(5), undefined, "not applied yet");
  });

  test("a waiter is told its command's result when its index is applied", () => {
    const machine = new StateMachine();
    const first = collect();
    const second = collect();
    machine.waitFor(2, 1, first.callback);
    machine.waitFor(2, 1, second.callback);
    machine.apply(command(1, 1, standby("db1")));
    assert.deepEqual(first.outcomes, []);
    machine.apply(command(2, 1, standby("db2")));
    const expected: CommandOutcome = {
      status: "applied",
      index: 2,
      result: { ok: true, version: 2 },
    };
    assert.deepEqual(first.outcomes, [expected]);
    assert.deepEqual(second.outcomes, [expected]);
    assert.equal(machine.waiting, 0);
  });

  test("a refused command's waiter gets the refusal message", () => {
    const machine = new StateMachine();
    const waiter = collect();
    machine.waitFor(1, 1, waiter.callback);
    machine.apply(
      command(1, 1, {
        type: "node_attribute_unset",
        node: "db1",
        key: "rack",
        by: "alice",
        atMs: 0,
      }),
    );
    assert.deepEqual(waiter.outcomes, [
      {
        status: "applied",
        index: 1,
        result: { ok: false, error: "node db1 has no attribute rack" },
      },
    ]);
  });

  test("a waiter whose index was taken by another term's entry learns it was superseded", () => {
    const machine = new StateMachine();
    const lost = collect();
    const replacedByNoop = collect();
    machine.waitFor(1, 2, lost.callback);
    machine.waitFor(2, 3, replacedByNoop.callback);
    machine.apply(command(1, 3, standby("db1")));
    machine.apply(entry(2, 3, { kind: "noop" }));
    assert.equal(lost.outcomes[0]?.status, "superseded");
    assert.match(
      (lost.outcomes[0] as { reason: string }).reason,
      /index 1 was committed with an entry of term 3, not the proposal of term 2/,
    );
    assert.deepEqual(replacedByNoop.outcomes, [{ status: "committed_entry", index: 2 }]);
  });

  test("waiting for an index already applied answers at once, from memory or as unknown", () => {
    const machine = new StateMachine({ outcomesKept: 1 });
    machine.apply(command(1, 1, standby("db1")));
    machine.apply(command(2, 1, standby("db2")));
    const remembered = collect();
    const forgotten = collect();
    machine.waitFor(2, 1, remembered.callback);
    machine.waitFor(1, 1, forgotten.callback);
    assert.deepEqual(remembered.outcomes, [
      { status: "applied", index: 2, result: { ok: true, version: 2 } },
    ]);
    assert.equal(forgotten.outcomes[0]?.status, "unknown");
    assert.equal(machine.waiting, 0);
  });

  test("a cancelled wait is never answered", () => {
    const machine = new StateMachine();
    const waiter = collect();
    const cancel = machine.waitFor(1, 1, waiter.callback);
    assert.equal(machine.waiting, 1);
    cancel();
    cancel();
    assert.equal(machine.waiting, 0);
    machine.apply(command(1, 1, standby("db1")));
    assert.deepEqual(waiter.outcomes, []);
  });

  test("waiters past the bound are answered unknown at once", () => {
    const machine = new StateMachine({ maxWaiters: 2 });
    const waiters = [collect(), collect(), collect()];
    for (const [i, waiter] of waiters.entries()) machine.waitFor(i + 1, 1, waiter.callback);
    assert.equal(machine.waiting, 2);
    const refused = waiters[2]!.outcomes[0];
    assert.ok(refused?.status === "unknown");
    assert.match(refused.reason, /2 proposals are already waiting/);
  });

  test("a throwing callback does not stop other waiters or the state from advancing", () => {
    const machine = new StateMachine();
    const waiter = collect();
    machine.waitFor(1, 1, () => {
      throw new Error("client gone");
    });
    machine.waitFor(1, 1, waiter.callback);
    assert.throws(() => machine.apply(command(1, 1, standby("db1"))), AggregateError);
    assert.equal(machine.appliedIndex, 1);
    assert.equal(waiter.outcomes[0]?.status, "applied");
  });

  test("a node that was away catches up from a snapshot plus the entries after it", () => {
    const leader = new StateMachine();
    const commands = [standby("db1"), standby("db2"), standby("db1", false), standby("db3")];
    for (const [i, cmd] of commands.slice(0, 3).entries()) leader.apply(command(i + 1, 1, cmd));
    const snapshot = leader.snapshot();

    const returning = new StateMachine();
    returning.apply(command(1, 1, commands[0]!));
    const waitingInSnapshot = collect();
    const waitingAfter = collect();
    returning.waitFor(3, 1, waitingInSnapshot.callback);
    returning.waitFor(4, 1, waitingAfter.callback);
    returning.restore(snapshot, 3);
    assert.equal(returning.appliedIndex, 3);
    assert.equal(waitingInSnapshot.outcomes[0]?.status, "unknown");
    assert.equal(waitingAfter.outcomes.length, 0);

    leader.apply(command(4, 1, commands[3]!));
    returning.apply(command(4, 1, commands[3]!));
    assert.equal(serializeState(returning.state), serializeState(leader.state));
    assert.equal(returning.snapshot(), leader.snapshot());
    assert.equal(waitingAfter.outcomes[0]?.status, "applied");
  });

  test("restoring a snapshot older than what was applied is refused", () => {
    const machine = new StateMachine();
    const snapshot = machine.snapshot();
    machine.apply(command(1, 1, standby("db1")));
    machine.apply(command(2, 1, standby("db2")));
    assert.throws(() => machine.restore(snapshot, 1), /already applied up to 2/);
    assert.equal(machine.state.version, 2);
  });

  test("abandonWaiting answers everyone with the reason", () => {
    const machine = new StateMachine();
    const waiters = [collect(), collect()];
    machine.waitFor(5, 1, waiters[0]!.callback);
    machine.waitFor(9, 1, waiters[1]!.callback);
    machine.abandonWaiting("agent shutting down");
    assert.deepEqual(
      waiters.map((waiter) => waiter.outcomes),
      [
        [{ status: "unknown", index: 5, reason: "agent shutting down" }],
        [{ status: "unknown", index: 9, reason: "agent shutting down" }],
      ],
    );
    assert.equal(machine.waiting, 0);
  });
});
