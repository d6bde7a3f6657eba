import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { after, before, describe, test } from "node:test";
import { connect, type VigilClientEvents } from "../../src/client/index.js";

/**
 * The client against a stand-in agent on a Unix socket that accepts the upgrade, records what
 * the client writes and answers only what a test tells it to: the idle timers' effects on a real
 * connection (a heartbeat on writer-idle, a reconnect on reader-idle, a session given up once
 * nothing could be written for its TTL).
 */
describe("the client's long connection", () => {
  let dir: string;
  let server: Server;
  const sockets: Duplex[] = [];
  const received: Array<Record<string, unknown>> = [];
  let answer: (message: Record<string, unknown>, socket: Duplex) => void = () => {};

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-client-"));
    server = createServer();
    server.on("upgrade", (_request: IncomingMessage, socket: Duplex) => {
      sockets.push(socket);
      socket.write(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: vigil-session\r\nConnection: Upgrade\r\n\r\n",
      );
      let pending = "";
      socket.on("data", (chunk: Buffer) => {
        const parts = (pending + chunk.toString("utf8")).split("\n");
        pending = parts.pop() ?? "";
        for (const part of parts) {
          const message = JSON.parse(part) as Record<string, unknown>;
          received.push(message);
          answer(message, socket);
        }
      });
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(join(dir, "agent.sock"), resolve));
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  test("writer-idle sends heartbeats; a silent agent is left on reader-idle and dialled again after a jittered backoff", {
    timeout: 20_000,
  }, async () => {
    const client = connect({
      socket: join(dir, "agent.sock"),
      idle: { readerIdleMs: 400, writerIdleMs: 100 },
      backoff: { baseMs: 200, maxMs: 1000 },
      random: () => 0.5,
    });
    const reconnecting = await new Promise<VigilClientEvents["reconnecting"][0]>((resolve) =>
      client.once("reconnecting", resolve),
    );
    assert.deepEqual(reconnecting, {
      attempt: 1,
      delayMs: 150,
      reason: "nothing heard from the agent for 400 ms",
    });
    assert.ok(received.filter((m) => m.op === "ping").length >= 2, JSON.stringify(received));
    await new Promise<void>((resolve) => client.once("connected", () => resolve()));
    client.close();
  });

  test("a client that could write nothing for its session's TTL gives the session and its locks up", {
    timeout: 20_000,
  }, async () => {
    answer = (message, socket) => {
      if (message.op === "open")
        socket.write(
          `${JSON.stringify({ op: "result", id: message.id, ok: true, session: "s1" })}\n`,
        );
      if (message.op === "acquire")
        socket.write(`${JSON.stringify({ op: "result", id: message.id, ok: true, at_ms: 1 })}\n`);
      // Then the agent goes away: every later connection is refused.
      if (message.op === "acquire") server.close();
    };
    const client = connect({
      socket: join(dir, "agent.sock"),
      idle: { readerIdleMs: 300, writerIdleMs: 100 },
      backoff: { baseMs: 50, maxMs: 100 },
    });
    const lost: string[] = [];
    client.on("lockLost", ({ key }) => lost.push(`lock ${key}`));
    const sessionLost = new Promise<VigilClientEvents["sessionLost"][0]>((resolve) =>
      client.once("sessionLost", resolve),
    );
    await client.openSession({ name: "t", ttlMs: 1000 });
    assert.equal((await client.acquire("leader")).acquired, true);
    assert.deepEqual(client.heldLocks(), ["leader"]);
    for (const socket of sockets) socket.destroy();
    assert.deepEqual(await sessionLost, { session: "s1", reason: "ttl_elapsed_here" });
    assert.deepEqual(lost, ["lock leader"]);
    assert.deepEqual(client.heldLocks(), []);
    assert.equal(client.session, null);
    client.close();
  });
});
