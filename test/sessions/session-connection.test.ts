import assert from "node:assert/strict";
import { Duplex, PassThrough } from "node:stream";
import { describe, test } from "node:test";
import { createLogger } from "../../src/log/logger.js";
import { primaryNode } from "../../src/sessions/primary.js";
import { LineSplitter, MAX_LINE_BYTES, parseClientLine } from "../../src/sessions/protocol.js";
import { SessionConnection } from "../../src/sessions/session-connection.js";
import { SessionKeeper } from "../../src/sessions/session-keeper.js";
import { type ClusterState, initialState } from "../../src/state/index.js";
import { VirtualTime } from "../coordination/virtual-time.js";

const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);

/** A socket's stand-in: what the connection writes is kept, what the client sends is pushed. */
function fakeSocket() {
  const written: string[] = [];
  let ended = false;
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk.toString("utf8"));
      done();
    },
    final(done) {
      ended = true;
      done();
    },
  });
  const lines = () =>
    written
      .join("")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    socket,
    lines,
    send: (text: string) => socket.push(Buffer.from(text)),
    ended: () => ended,
  };
}

function withResource(state: ClusterState, cells: Record<string, "promoted" | "unpromoted">) {
  return {
    ...state,
    resources: {
      "db:0": { ...Object.fromEntries(Object.entries(cells).map(([n, r]) => [n, { active: r }])) },
    },
    config: { ...state.config, document: { resources: { db: { clone: {} } } } },
  } as ClusterState;
}

function connection(state: () => ClusterState) {
  const time = new VirtualTime(T0);
  const keeper = new SessionKeeper({
    nodeName: "alpha",
    clock: time,
    timers: time,
    logger: createLogger({ level: "error", pretty: false, destination: new PassThrough() }),
    state,
    submit: async () => ({ ok: false, code: "no_leader", error: "no leader" }),
    isLeader: () => false,
    livenessOf: () => "up",
    checkVerdict: () => null,
    driftRatio: 0,
  });
  const fake = fakeSocket();
  let closed = false;
  const conn = new SessionConnection(
    fake.socket,
    { keeper, clock: time, timers: time, state, pingEveryMs: 1000, silentCloseMs: 60_000 },
    () => {
      closed = true;
    },
  );
  return { ...fake, conn, time, closed: () => closed };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("a session connection", () => {
  test("a watch says where the primary runs now, then each time it moves", async () => {
    let state = withResource(initialState(), { alpha: "promoted", beta: "unpromoted" });
    const c = connection(() => state);
    c.send(`${JSON.stringify({ op: "watch", id: 7, resource: "db" })}\n`);
    await settle();
    state = withResource(state, { alpha: "unpromoted", beta: "promoted" });
    c.conn.stateChanged();
    c.conn.stateChanged();
    assert.deepEqual(c.lines(), [
      { op: "event", type: "primary_moved", resource: "db", node: "alpha" },
      { op: "result", id: 7, ok: true },
      { op: "event", type: "primary_moved", resource: "db", node: "beta" },
    ]);
    c.conn.close();
  });

  test("requests before a session are refused; the agent pings when it has written nothing for a while", async () => {
    const c = connection(() => initialState());
    c.send(`${JSON.stringify({ op: "acquire", id: 1, key: "leader" })}\n`);
    await settle();
    c.time.fireNext();
    assert.deepEqual(c.lines(), [
      {
        op: "result",
        id: 1,
        ok: false,
        code: "no_session",
        error: "open or resume a session first",
      },
      { op: "ping" },
    ]);
    c.conn.close();
  });

  test("a line longer than the protocol allows, or not JSON, is answered with an error and the connection closed", async () => {
    for (const bad of ["x".repeat(MAX_LINE_BYTES + 10), "not json\n"]) {
      const c = connection(() => initialState());
      c.send(bad);
      await settle();
      assert.equal(c.lines().at(-1)?.op, "error");
      assert.equal(c.closed(), true);
    }
  });
});

describe("the session protocol", () => {
  test("lines are cut at newlines, across chunks; an over-long one is an overflow", () => {
    const splitter = new LineSplitter(10);
    assert.deepEqual(splitter.push('{"a"'), { lines: [], overflow: false });
    assert.deepEqual(splitter.push(':1}\r\n\n{"b":2}\n'), {
      lines: ['{"a":1}', '{"b":2}'],
      overflow: false,
    });
    assert.equal(splitter.push("01234567890").overflow, true);
  });

  test("a message is checked field by field", () => {
    assert.deepEqual(parseClientLine('{"op":"ping"}'), { ok: true, message: { op: "ping" } });
    const open = parseClientLine('{"op":"open","id":1,"name":"a","ttl_ms":1000}');
    assert.deepEqual(open.ok ? open.message : null, {
      op: "open",
      id: 1,
      name: "a",
      ttl_ms: 1000,
      lock_delay_ms: 15_000,
      checks: [],
    });
    const bad = parseClientLine('{"op":"open","id":1,"name":"a","ttl_ms":1}');
    assert.match(bad.ok ? "" : bad.error, /ttl_ms: expected a TTL of at least 500 ms/);
    const unknown = parseClientLine('{"op":"steal","id":1}');
    assert.match(unknown.ok ? "" : unknown.error, /expected "op" to be one of open, resume/);
  });

  test("the primary: the promoted copy's node, else the one started copy's; null when none or ambiguous", () => {
    const state = withResource(initialState(), { alpha: "unpromoted", beta: "promoted" });
    assert.equal(primaryNode(state, "db"), "beta");
    assert.equal(primaryNode(withResource(initialState(), { alpha: "unpromoted" }), "db"), null);
    assert.equal(primaryNode(initialState(), "web"), null);
  });
});
