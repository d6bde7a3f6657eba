import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type ClusterMessage,
  decodeClusterMessage,
  encodeClusterMessage,
} from "../../src/coordination/cluster-message.js";

const decode = (value: unknown) => decodeClusterMessage(Buffer.from(JSON.stringify(value)));

test("every kind of cluster message comes back as it was sent", () => {
  const messages: ClusterMessage[] = [
    {
      kind: "raft",
      message: {
        type: "append_entries",
        term: 3,
        prevLogIndex: 7,
        prevLogTerm: 2,
        entries: [{ index: 8, term: 3, body: { kind: "command", payload: "x" } }],
        leaderCommit: 7,
        sentAtMs: 1234.5,
      },
    },
    {
      kind: "raft",
      message: { type: "append_response", term: 3, success: true, matchIndex: 8, echoSentAtMs: 1 },
    },
    { kind: "forward", requestId: 9, proposal: { kind: "command", payload: "{}" } },
    { kind: "forward", requestId: 10, proposal: { kind: "membership", action: "add", nodeId: 4 } },
    { kind: "forward_result", requestId: 9, result: { ok: true, index: 8, version: 2 } },
    {
      kind: "forward_result",
      requestId: 9,
      result: { ok: false, code: "no_leader", error: "no", leaderId: null },
    },
  ];
  for (const message of messages) {
    assert.deepEqual(decodeClusterMessage(encodeClusterMessage(message)), { ok: true, message });
  }
});

test("a broken Raft message is refused with the core's own account of what is wrong", () => {
  const append = {
    type: "append_entries",
    term: 3,
    prevLogIndex: 7,
    prevLogTerm: 2,
    entries: [],
    leaderCommit: 7,
    sentAtMs: 1,
  };
  assert.deepEqual(decode({ kind: "raft", message: { ...append, prevLogTerm: 4 } }), {
    ok: false,
    error: "message: append_entries.prevLogTerm must be a count no greater than term",
  });
  assert.deepEqual(decode({ kind: "raft", message: { ...append, term: -1 } }), {
    ok: false,
    error: "message: term must be a non-negative integer, got -1",
  });
  assert.deepEqual(decode({ kind: "raft", message: { ...append, type: "gossip" } }), {
    ok: false,
    error: 'message: unknown message type "gossip"',
  });
  const entries = [{ index: 9, term: 3, body: { kind: "noop" } }];
  assert.match(
    (decode({ kind: "raft", message: { ...append, entries } }) as { error: string }).error,
    /append_entries: .*8/,
    "an entry that does not follow prevLogIndex",
  );
});

test("anything else that is not a cluster message is refused, never thrown", () => {
  assert.deepEqual(decodeClusterMessage(Buffer.from("{nope")), { ok: false, error: "not JSON" });
  for (const value of [
    null,
    42,
    [],
    { kind: "raft" },
    { kind: "raft", message: [] },
    { kind: "raft", message: { type: "vote" }, extra: 1 },
    { kind: "gossip" },
    { kind: "forward", requestId: -1, proposal: { kind: "command", payload: "" } },
    { kind: "forward_result", requestId: 1, result: { ok: true } },
  ]) {
    const decoded = decode(value);
    assert.equal(decoded.ok, false, JSON.stringify(value));
  }
});
