import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { type AddressInfo, createServer, type Server } from "node:net";
import { after, before, describe, test } from "node:test";
import { probeTarget } from "../../src/connectivity/probes.js";

async function listen<S extends Server | HttpServer>(server: S): Promise<number> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

/** A port that was just free: a server bound it, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  server.close();
  await once(server, "close");
  return port;
}

describe("real probes", () => {
  const sockets = createServer((socket) => socket.end());
  const web = createHttpServer((request, response) => {
    if (request.url === "/hang") return; // never answers
    const status = Number(request.url?.slice(1)) || 200;
    response.writeHead(status, { "content-type": "text/plain" }).end("x".repeat(100_000));
  });
  let tcpPort = 0;
  let httpPort = 0;
  let deadPort = 0;

  before(async () => {
    tcpPort = await listen(sockets);
    httpPort = await listen(web);
    deadPort = await closedPort();
  });
  after(() => {
    sockets.close();
    web.closeAllConnections();
    web.close();
  });

  test("tcp: up when something listens, down on a closed port or a bad address", async () => {
    assert.equal(await probeTarget({ tcp: `127.0.0.1:${tcpPort}` }, 1_000), true);
    assert.equal(await probeTarget({ tcp: `127.0.0.1:${deadPort}` }, 1_000), false);
    assert.equal(await probeTarget({ tcp: "127.0.0.1:0" }, 1_000), false);
    assert.equal(await probeTarget({ tcp: "no-such-host.invalid:80" }, 1_000), false);
  });

  test("http: up on any status below 500, down on a 5xx, a closed port or a timeout", async () => {
    const url = (path: string) => `http://127.0.0.1:${httpPort}${path}`;
    assert.equal(await probeTarget({ http: url("/200") }, 1_000), true);
    assert.equal(await probeTarget({ http: url("/404") }, 1_000), true);
    assert.equal(await probeTarget({ http: url("/302") }, 1_000), true, "redirects not followed");
    assert.equal(await probeTarget({ http: url("/503") }, 1_000), false);
    assert.equal(await probeTarget({ http: url("/500") }, 1_000), false);
    assert.equal(await probeTarget({ http: `http://127.0.0.1:${deadPort}/` }, 1_000), false);
    const startedAt = performance.now();
    assert.equal(await probeTarget({ http: url("/hang") }, 200), false);
    const tookMs = performance.now() - startedAt;
    assert.ok(tookMs >= 150 && tookMs < 1_500, `a hanging server is given up on (${tookMs} ms)`);
  });

  test("icmp: 127.0.0.1 answers", async () => {
    assert.equal(await probeTarget({ icmp: "127.0.0.1" }, 1_000), true);
    assert.equal(await probeTarget({ icmp: "no-such-host.invalid" }, 1_000), false);
  });

  test("an aborted signal makes any probe answer false without throwing", async () => {
    const aborted = AbortSignal.abort();
    assert.equal(await probeTarget({ tcp: `127.0.0.1:${tcpPort}` }, 1_000, aborted), false);
    assert.equal(await probeTarget({ icmp: "127.0.0.1" }, 1_000, aborted), false);
    assert.equal(
      await probeTarget({ http: `http://127.0.0.1:${httpPort}/200` }, 1_000, aborted),
      false,
    );
    // Aborted while waiting: the hanging request ends with the signal, long before its timeout.
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const startedAt = performance.now();
    const up = await probeTarget(
      { http: `http://127.0.0.1:${httpPort}/hang` },
      5_000,
      controller.signal,
    );
    assert.equal(up, false);
    assert.ok(performance.now() - startedAt < 2_000);
  });

  test("never throws, whatever the target", async () => {
    assert.equal(await probeTarget({ http: "file:///etc/passwd" }, 500), false);
    assert.equal(await probeTarget({ icmp: "-f" }, 500), false, "not taken as an option");
    assert.equal(await probeTarget({} as never, 500), false);
  });
});
