import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { PassThrough } from "node:stream";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../../src/log/logger.js";
import type { SentinelWorld } from "../../src/sentinel/sentinel-replies.js";
import { SentinelServer } from "../../src/sentinel/sentinel-server.js";

const WORLD: SentinelWorld = {
  runId: "a".repeat(40),
  services: () => [
    {
      name: "mymaster",
      master: { node: "alpha", ip: "127.0.0.11", port: 6379, down: false },
      replicas: [],
    },
  ],
  lastMaster: () => null,
  epoch: () => 0,
  sentinels: () => [],
  downAfterMs: 900,
};

/** A raw client: what it received, and whether the server closed it. */
function client(port: number): { socket: Socket; received: () => string; closed: Promise<void> } {
  const socket = connect({ host: "127.0.0.1", port });
  let text = "";
  socket.on("data", (chunk) => {
    text += chunk.toString();
  });
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return { socket, received: () => text, closed };
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** Real sockets on loopback, a fixed world: what reaches a client, and what a bad one gets. */
describe("the Sentinel-protocol listener", () => {
  let server: SentinelServer;
  let port: number;
  const failures: string[] = [];

  before(async () => {
    server = await SentinelServer.start({
      listen: { host: "127.0.0.1", port: 0 },
      world: WORLD,
      logger: createLogger({ level: "error", pretty: false, destination: new PassThrough() }),
      wrap:
        (where, callback) =>
        (...args) => {
          try {
            callback(...args);
          } catch (error) {
            failures.push(`${where}: ${(error as Error).message}`);
          }
        },
    });
    port = server.address().port;
  });

  after(() => server.close());

  test("a command split across writes is answered once complete; QUIT closes", async () => {
    const c = client(port);
    const request = "*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name\r\n$8\r\nmymaster\r\n";
    c.socket.write(request.slice(0, 7));
    await new Promise((resolve) => setTimeout(resolve, 30));
    c.socket.write(request.slice(7, 40));
    c.socket.write(`${request.slice(40)}PING\r\nQUIT\r\n`);
    await c.closed;
    assert.equal(c.received(), "*2\r\n$10\r\n127.0.0.11\r\n$4\r\n6379\r\n+PONG\r\n+OK\r\n");
  });

  test("a protocol error gets Redis's error and a closed connection; other clients are served", async () => {
    const bad = client(port);
    const good = client(port);
    bad.socket.write("PING\r\n*1\r\n$999999999\r\n");
    await bad.closed;
    assert.equal(bad.received(), "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n");
    good.socket.write("PING\r\n");
    await until("the good client's PONG", () => good.received() === "+PONG\r\n");
    good.socket.destroy();
    assert.deepEqual(failures, []);
  });

  test("a published message reaches the subscribers of its channel only", async () => {
    const subscriber = client(port);
    const other = client(port);
    subscriber.socket.write("SUBSCRIBE +switch-master\r\n");
    other.socket.write("SUBSCRIBE +sdown\r\n");
    await until("both subscribed", () => subscriber.received() !== "" && other.received() !== "");
    const text = "mymaster 127.0.0.11 6379 127.0.0.12 6379";
    assert.equal(server.publish("+switch-master", text), 1);
    await until("the message", () => subscriber.received().includes("message"));
    assert.equal(
      subscriber.received(),
      `*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master\r\n$${text.length}\r\n${text}\r\n`,
    );
    assert.equal(other.received(), "*3\r\n$9\r\nsubscribe\r\n$6\r\n+sdown\r\n:1\r\n");
    subscriber.socket.destroy();
    other.socket.destroy();
  });
});

test("a listen address in use is refused naming the key to change", async () => {
  const first = await SentinelServer.start({
    listen: { host: "127.0.0.1", port: 0 },
    world: WORLD,
    logger: createLogger({ level: "error", pretty: false, destination: new PassThrough() }),
    wrap: (_where, callback) => callback,
  });
  const { port } = first.address();
  try {
    await assert.rejects(
      SentinelServer.start({
        listen: { host: "127.0.0.1", port },
        world: WORLD,
        logger: createLogger({ level: "error", pretty: false, destination: new PassThrough() }),
        wrap: (_where, callback) => callback,
      }),
      new RegExp(
        `^Error: the Sentinel-protocol listener cannot listen on 127\\.0\\.0\\.1:${port}: listen EADDRINUSE.*\\(sentinel\\.listen, or this node's sentinel_listen\\)$`,
      ),
    );
  } finally {
    await first.close();
  }
});
