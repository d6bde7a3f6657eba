import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { type ApiRequestRecord, ApiServer } from "../../src/api/server.js";
import { parseRequest, runtimeRequestSchema } from "../../src/control/request-schemas.js";
import type { Route } from "../../src/control/route.js";
import { MAX_BODY_BYTES } from "../../src/control/server.js";
import { apiRequest } from "../support/http.js";

const READ = "r".repeat(40);
const OPERATE = "o".repeat(40);
const tokens = [
  { role: "read" as const, name: "grafana", token: READ },
  { role: "operate" as const, name: "alice", token: OPERATE },
];
/** The control routes' own request schema and parser, as the agent hands them to both servers. */
const routes: Record<string, Route> = {
  "GET /v1/status": () => ({ node: "alpha" }),
  "POST /v1/runtime": (body) => ({
    ok: true,
    request: parseRequest(runtimeRequestSchema, body, "runtime"),
  }),
};

/** An upgrade handler that answers 101 and keeps the socket, as the session hub does. */
const held: Duplex[] = [];
function holdUpgrade(_request: IncomingMessage, socket: Duplex) {
  socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n");
  held.push(socket);
}

/** Opens an upgraded connection with `token`; resolves with the socket, or the refusal's status. */
function upgradeWith(url: string, token: string): Promise<Duplex | number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${url}/v1/session`, {
      headers: { connection: "Upgrade", upgrade: "test", authorization: `Bearer ${token}` },
    });
    request.on("upgrade", (_response, socket: Duplex) => resolve(socket));
    request.on("response", (response) => resolve(response.statusCode ?? 0));
    request.on("error", reject);
    request.end();
  });
}

async function startApi(tls?: { cert: string; key: string }) {
  const refused: ApiRequestRecord[] = [];
  const operated: string[] = [];
  const server = await ApiServer.start({
    listen: { host: "127.0.0.1", port: 0 },
    tls,
    tokens,
    routes,
    onRefused: (record) => refused.push(record),
    onOperate: (record) => operated.push(`${record.token} ${record.method} ${record.path}`),
    upgrade: holdUpgrade,
  });
  return { server, refused, operated };
}

describe("the API server over HTTP on loopback", () => {
  let api: Awaited<ReturnType<typeof startApi>>;
  before(async () => {
    api = await startApi();
  });
  after(() => api.server.close());
  const url = (path: string) => `${api.server.url()}${path}`;

  test("no token: 401 with a JSON reason and a bearer challenge, logged", async () => {
    const reply = await apiRequest(url("/v1/status"));
    assert.equal(reply.status, 401);
    assert.deepEqual(reply.json, {
      error: "no bearer token: send the header Authorization: Bearer TOKEN",
    });
    assert.equal(reply.headers["www-authenticate"], 'Bearer realm="vigil"');
    assert.deepEqual(api.refused.at(-1), {
      status: 401,
      method: "GET",
      path: "/v1/status",
      remote: "127.0.0.1",
      token: null,
      reason: "no bearer token: send the header Authorization: Bearer TOKEN",
    });
    const unknown = await apiRequest(url("/v1/status"), { token: "x".repeat(40) });
    assert.deepEqual([unknown.status, unknown.json], [401, { error: "unknown token" }]);
  });

  test("a read token reads, and gets 403 on an operate route", async () => {
    const status = await apiRequest(url("/v1/status"), { token: READ });
    assert.deepEqual([status.status, status.json], [200, { node: "alpha" }]);
    const body = JSON.stringify({ type: "maintenance", enabled: true, by: "t" });
    const refused = await apiRequest(url("/v1/runtime"), { method: "POST", token: READ, body });
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.json, {
      error: "token grafana has the role read; POST needs an operate token",
    });
    assert.equal(api.refused.at(-1)?.token, "grafana");
  });

  test("an operate token reaches the route, whose schema answers 400 naming the field", async () => {
    const body = JSON.stringify({ type: "node_standby", node: "beta", standby: true, by: "alice" });
    const done = await apiRequest(url("/v1/runtime"), { method: "POST", token: OPERATE, body });
    assert.equal(done.status, 200);
    assert.deepEqual((done.json as { request: unknown }).request, JSON.parse(body));
    assert.equal(api.operated.at(-1), "alice POST /v1/runtime");
    const bad = await apiRequest(url("/v1/runtime"), {
      method: "POST",
      token: OPERATE,
      body: JSON.stringify({ type: "node_standby", node: "beta", by: "alice" }),
    });
    assert.equal(bad.status, 400);
    assert.match((bad.json as { error: string }).error, /^bad runtime request: .*standby/);
  });

  test("a body over the limit is refused with 413, unread", async () => {
    const reply = await apiRequest(url("/v1/runtime"), {
      method: "POST",
      token: OPERATE,
      body: Buffer.alloc(MAX_BODY_BYTES + 1, 0x20),
    });
    assert.equal(reply.status, 413);
    assert.deepEqual(reply.json, { error: `request body over ${MAX_BODY_BYTES} bytes` });
  });

  test("an upgrade (a session connection) needs an operate token, and ends when its token is revoked", async () => {
    assert.equal(await upgradeWith(api.server.url(), READ), 403);
    const socket = await upgradeWith(api.server.url(), OPERATE);
    assert.ok(typeof socket !== "number");
    const closed = new Promise((resolve) => socket.on("close", resolve));
    socket.resume();
    assert.equal(api.server.replaceTokens([tokens[0]!]), 1);
    await closed;
    api.server.replaceTokens(tokens);
  });

  test("an unknown route is a 404 for a known token only", async () => {
    assert.equal((await apiRequest(url("/v1/nothing"))).status, 401);
    assert.equal((await apiRequest(url("/v1/nothing"), { token: READ })).status, 404);
  });
});

const OPENSSL = ["/usr/bin/openssl", "/bin/openssl"].find((path) => existsSync(path));

test("with api.tls the API speaks HTTPS", {
  skip: OPENSSL === undefined && "openssl is not installed",
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), "vigil-api-tls-"));
  const cert = join(dir, "api.crt");
  const key = join(dir, "api.key");
  await promisify(execFile)(OPENSSL!, [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    key,
    "-out",
    cert,
    "-days",
    "1",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
  ]);
  const api = await startApi({ cert, key });
  try {
    assert.match(api.server.url(), /^https:\/\/127\.0\.0\.1:\d+$/);
    const reply = await apiRequest(`${api.server.url()}/v1/status`, {
      token: READ,
      ca: await readFile(cert),
    });
    assert.deepEqual([reply.status, reply.json], [200, { node: "alpha" }]);
  } finally {
    await api.server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("unreadable TLS files are an ApiError naming the key", async () => {
  await assert.rejects(startApi({ cert: "/nonexistent/api.crt", key: "/nonexistent/api.key" }), {
    name: "ApiError",
    message: /^api\.tls\.cert: cannot read \/nonexistent\/api\.crt/,
  });
});
