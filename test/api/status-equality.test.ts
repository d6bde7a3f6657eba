import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ApiServer } from "../../src/api/server.js";
import type { Route } from "../../src/control/route.js";
import { ControlServer } from "../../src/control/server.js";
import { apiRequest } from "../support/http.js";
import { runLocalVigil } from "../support/local-takeover.js";

const TOKEN = "r".repeat(40);

test("`vigil status --json` prints exactly what GET /v1/status of the API returns", async () => {
  const dir = await mkdtemp(join(tmpdir(), "vigil-status-json-"));
  // One reply, as the agent composes it (status and resources): both servers get the same routes.
  const reply = {
    cluster: { name: "demo", id: 7 },
    node: { id: 1, name: "alpha", incarnation: 3, startedAtMs: 1 },
    nodes: [{ id: 2, name: "beta", state: "up", links: [] }],
    resources: {
      state: { web: { beta: { target: "started", active: "started" } } },
      local: [],
      leader: null,
    },
  };
  const routes: Record<string, Route> = { "GET /v1/status": () => reply };
  const control = await ControlServer.listen(join(dir, "control.sock"), routes);
  const api = await ApiServer.start({
    listen: { host: "127.0.0.1", port: 0 },
    tokens: [{ role: "read", name: "t", token: TOKEN }],
    routes,
    onRefused: () => {},
    onOperate: () => {},
  });
  try {
    const cli = await runLocalVigil("status", "--json", "--socket", join(dir, "control.sock"));
    assert.equal(cli.code, 0, cli.stderr);
    const fromApi = await apiRequest(`${api.url()}/v1/status`, { token: TOKEN });
    assert.equal(fromApi.status, 200);
    assert.deepEqual(JSON.parse(cli.stdout), reply);
    assert.deepEqual(fromApi.json, JSON.parse(cli.stdout));
  } finally {
    await api.close();
    await control.close();
    await rm(dir, { recursive: true, force: true });
  }
});
