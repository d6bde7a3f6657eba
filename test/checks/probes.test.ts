import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { realProbe } from "../../src/checks/probes.js";
import type { CheckSpec } from "../../src/resource-model/checks-schema.js";
import { ChildProcessRunner } from "../../src/resources/executor/process-runner.js";

const probe = realProbe(new ChildProcessRunner({ killGraceMs: 100 }));
const base = { name: "c", interval_ms: 1000, timeout_ms: 300, rise: 1, fall: 1, attribute: "a" };
const spec = (kind: Partial<CheckSpec>): CheckSpec => ({ ...base, ...kind }) as CheckSpec;
const http = (url: string, more: Record<string, unknown> = {}) =>
  spec({ http: { url, method: "GET", tls_verify: true, ...more } as CheckSpec["http"] });

describe("health check probes against real services", () => {
  let dir: string;
  let httpServer: Server;
  let httpUrl: string;
  let tcpPort: number;
  let silentPort: number;
  const tcpServers: Array<ReturnType<typeof createTcpServer>> = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-probes-"));
    httpServer = createHttpServer((request, response) => {
      if (request.url === "/hang") return;
      if (request.url === "/down") {
        response.statusCode = 503;
        response.end("maintenance");
        return;
      }
      response.end("status: ok\n");
    });
    await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
    httpUrl = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
    // Answers PONG to PING; the other one accepts and never says anything.
    const answering = createTcpServer((socket) => {
      socket.on("data", (data) => {
        if (data.toString().startsWith("PING")) socket.write("+PONG\r\n");
        if (data.toString().startsWith("HOSTILE")) socket.end(`${"a".repeat(60)}!`);
      });
    });
    const silent = createTcpServer(() => {});
    for (const server of [answering, silent]) {
      tcpServers.push(server);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    }
    tcpPort = (answering.address() as AddressInfo).port;
    silentPort = (silent.address() as AddressInfo).port;
  });

  after(async () => {
    httpServer.closeAllConnections();
    httpServer.close();
    for (const server of tcpServers) server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("http: status and body decide; a hung server fails at the timeout", async () => {
    assert.equal((await probe(http(`${httpUrl}/`), {})).ok, true);
    assert.equal((await probe(http(`${httpUrl}/`, { body: "status: ok" }), {})).ok, true);
    const wrongBody = await probe(http(`${httpUrl}/`, { body: "^healthy$" }), {});
    assert.equal(wrongBody.ok, false);
    assert.match(wrongBody.detail, /does not match/);
    assert.deepEqual(await probe(http(`${httpUrl}/down`), {}), {
      ok: false,
      detail: `${httpUrl}/down answered 503`,
    });
    assert.equal((await probe(http(`${httpUrl}/down`, { status: [503] }), {})).ok, true);
    const started = Date.now();
    const hung = await probe(http(`${httpUrl}/hang`), {});
    assert.deepEqual(hung, { ok: false, detail: `${httpUrl}/hang did not answer within 300 ms` });
    assert.ok(Date.now() - started < 3000);
    assert.equal((await probe(http("http://127.0.0.1:1/"), {})).ok, false);
  });

  test("tcp: a connection, or an exchange; silence fails at the timeout", async () => {
    assert.equal((await probe(spec({ tcp: { host: "127.0.0.1", port: tcpPort } }), {})).ok, true);
    const exchange = spec({
      tcp: { host: "127.0.0.1", port: tcpPort, send: "PING\r\n", expect: "^\\+PONG" },
    });
    assert.equal((await probe(exchange, {})).ok, true);
    const silent = spec({
      tcp: { host: "127.0.0.1", port: silentPort, send: "PING\r\n", expect: "PONG" },
    });
    assert.deepEqual(await probe(silent, {}), {
      ok: false,
      detail: `127.0.0.1:${silentPort}: no matching answer within 300 ms`,
    });
    assert.equal((await probe(spec({ tcp: { host: "127.0.0.1", port: 1 } }), {})).ok, false);
  });

  test("a pattern that would backtrack for hours on a hostile answer is matched in linear time", async () => {
    // With a backtracking engine, /(a+)+b/ against sixty a's takes about 2^60 steps.
    const hostile = spec({
      tcp: { host: "127.0.0.1", port: tcpPort, send: "HOSTILE\r\n", expect: "(a+)+b" },
    });
    assert.deepEqual(await probe(hostile, {}), {
      ok: false,
      detail: `127.0.0.1:${tcpPort} closed without an answer matching /(a+)+b/`,
    });
  });

  test("exec: exit 0 passes; the check's variables are given; a hang is killed", async () => {
    const file = join(dir, "check");
    await writeFile(
      file,
      '#!/bin/sh\n[ "$VIGIL_NODE" = alpha ] || { echo "not alpha" >&2; exit 1; }\n',
    );
    await chmod(file, 0o755);
    assert.equal((await probe(spec({ exec: file }), { VIGIL_NODE: "alpha" })).ok, true);
    assert.deepEqual(await probe(spec({ exec: file }), { VIGIL_NODE: "beta" }), {
      ok: false,
      detail: `${file}: exit code 1: not alpha`,
    });
    const hang = join(dir, "hang");
    await writeFile(hang, "#!/bin/sh\nsleep 30\n");
    await chmod(hang, 0o755);
    assert.deepEqual(await probe(spec({ exec: hang }), {}), {
      ok: false,
      detail: `${hang} did not finish within 300 ms`,
    });
  });
});
