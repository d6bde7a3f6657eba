import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import { DASHBOARD_DIR, DashboardAssets } from "../../src/api/dashboard-assets.js";
import { ApiServer } from "../../src/api/server.js";
import { DEFAULT_FEED, StatusFeed } from "../../src/api/status-feed.js";
import type { StatusReply } from "../../src/control/status-reply.js";
import { initialState } from "../../src/state/serialize.js";
import { apiRequest } from "../support/http.js";
import { waitFor } from "../support/wait.js";

const READ = "r".repeat(40);
const OPERATE = "o".repeat(40);
const COMPILED = new URL("../../dist/api/dashboard-assets.js", import.meta.url);

const status = {
  cluster: { name: "demo", id: 7 },
  node: { id: 1, name: "alpha", incarnation: 1, startedAtMs: 0 },
  nowMs: 5_000,
  nodes: [],
  coordination: null,
  recentEvents: [],
  callbackFailures: {},
  resources: null,
} as unknown as StatusReply;

/** The first `count` events of GET /v1/stream, by name, then the connection is closed. */
function readEvents(url: string, token: string, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const names: string[] = [];
    const call = request(url, { headers: { authorization: `Bearer ${token}` } }, (response) => {
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers["content-type"]), /^text\/event-stream/);
      let buffer = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        buffer += chunk;
        for (const match of buffer.matchAll(/^event: (\w+)\ndata: .*\n\n/gm)) names.push(match[1]!);
        buffer = buffer.slice(buffer.lastIndexOf("\n\n") + 2);
        if (names.length >= count) {
          call.destroy();
          resolve(names.slice(0, count));
        }
      });
    });
    call.on("error", (error) => {
      if (names.length < count) reject(error);
    });
    call.end();
  });
}

/** A stream held open: the names of its events so far, and when the server ended it. */
function holdStream(url: string, token: string) {
  const names: string[] = [];
  let ended = false;
  const call = request(url, { headers: { authorization: `Bearer ${token}` } });
  const closed = new Promise<void>((resolve, reject) => {
    call.on("response", (response) => {
      assert.equal(response.statusCode, 200);
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        for (const match of chunk.matchAll(/^event: (\w+)$/gm)) names.push(match[1]!);
      });
      response.on("end", () => {
        ended = true;
        resolve();
      });
    });
    call.on("error", reject);
  });
  call.end();
  return { names, closed, ended: () => ended, close: () => call.destroy() };
}

/**
 * An API with the dashboard and a live feed of a fixed status (grafana reads, alice operates),
 * started before the enclosing describe's tests and closed after them.
 */
function dashboardApi() {
  let started: { server: ApiServer; feed: StatusFeed } | undefined;
  const get = () => {
    assert.ok(started, "the API starts in before()");
    return started;
  };
  before(async () => {
    const feed = new StatusFeed(
      { status: () => status, state: () => initialState() },
      { ...DEFAULT_FEED, wrap: (_name, callback) => callback },
    );
    feed.start();
    const server = await ApiServer.start({
      listen: { host: "127.0.0.1", port: 0 },
      tokens: [
        { role: "read", name: "grafana", token: READ },
        { role: "operate", name: "alice", token: OPERATE },
      ],
      routes: { "GET /v1/status": () => status },
      onRefused: () => {},
      onOperate: () => {},
      dashboard: await DashboardAssets.load(),
      feed,
    });
    started = { server, feed };
  });
  after(async () => {
    started?.feed.stop();
    await started?.server.close();
  });
  return {
    server: () => get().server,
    feed: () => get().feed,
    url: (path: string) => `${get().server.url()}${path}`,
  };
}

describe("the dashboard on the API listener", () => {
  const api = dashboardApi();
  const url = api.url;

  test("its files without a token, with headers that keep other sites out", async () => {
    const index = await apiRequest(url("/"));
    assert.equal(index.status, 200);
    assert.match(index.text, /<script type="module" src="js\/main.js">/);
    assert.match(String(index.headers["content-security-policy"]), /default-src 'self'/);
    assert.equal(index.headers["x-content-type-options"], "nosniff");
    const style = await apiRequest(url("/style.css"));
    assert.match(String(style.headers["content-type"]), /^text\/css/);
    const module = await apiRequest(url("/js/views/nodes.js"));
    assert.equal(module.status, 200);
  });

  test("nothing but its files: no other path on disk, no data without a token", async () => {
    for (const path of ["/../package.json", "/%2e%2e/package.json", "/js/../../package.json"]) {
      assert.notEqual((await apiRequest(url(path))).status, 200, path);
    }
    assert.equal((await apiRequest(url("/v1/status"))).status, 401);
    assert.equal((await apiRequest(url("/v1/stream"))).status, 401);
    assert.equal((await apiRequest(url("/v1/whoami"))).status, 401);
  });

  test("GET /v1/whoami: the token's name and role", async () => {
    const read = await apiRequest(url("/v1/whoami"), { token: READ });
    assert.deepEqual(read.json, { name: "grafana", role: "read" });
    const operate = await apiRequest(url("/v1/whoami"), { token: OPERATE });
    assert.deepEqual(operate.json, { name: "alice", role: "operate" });
  });

  test("GET /v1/stream with a read token: history, status, heartbeats, state, then status again", async () => {
    const names = await readEvents(url("/v1/stream"), READ, 5);
    assert.deepEqual(names.slice(0, 4), ["history", "status", "heartbeats", "state"]);
    assert.equal(names[4], "status");
    // The server notices the closed stream.
    for (let tries = 0; api.feed().watchers > 0 && tries < 100; tries++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(api.feed().watchers, 0);
  });

  test("the compiled agent finds the same files (dist/api is two folders below the root too)", {
    skip: existsSync(COMPILED) ? false : "not built: run npm run build",
  }, async () => {
    const compiled = (await import(COMPILED.href)) as { DASHBOARD_DIR: string };
    assert.equal(compiled.DASHBOARD_DIR, DASHBOARD_DIR);
    assert.ok(existsSync(`${compiled.DASHBOARD_DIR}index.html`));
  });
});

describe("tokens replaced while the API runs (SIGHUP)", () => {
  const api = dashboardApi();
  const url = api.url;

  test("the new tokens count at once; a removed token's open stream is ended, others go on", async () => {
    const NEW_READ = "n".repeat(40);
    const revoked = holdStream(url("/v1/stream"), READ);
    const kept = holdStream(url("/v1/stream"), OPERATE);
    await waitFor("both streams to start", () =>
      revoked.names.length > 0 && kept.names.length > 0 ? true : undefined,
    );

    const ended = api.server().replaceTokens([
      { role: "operate", name: "alice", token: OPERATE },
      { role: "read", name: "prometheus", token: NEW_READ },
    ]);
    assert.equal(ended, 1);
    await revoked.closed;
    const before = kept.names.length;
    await waitFor("the kept stream's next event", () =>
      kept.names.length > before ? true : undefined,
    );
    assert.equal(kept.ended(), false);
    kept.close();

    const removed = await apiRequest(url("/v1/whoami"), { token: READ });
    assert.deepEqual([removed.status, removed.json], [401, { error: "unknown token" }]);
    assert.equal((await apiRequest(url("/v1/stream"), { token: READ })).status, 401);
    const added = await apiRequest(url("/v1/whoami"), { token: NEW_READ });
    assert.deepEqual(added.json, { name: "prometheus", role: "read" });
    const operate = await apiRequest(url("/v1/whoami"), { token: OPERATE });
    assert.deepEqual(operate.json, { name: "alice", role: "operate" });
  });
});
