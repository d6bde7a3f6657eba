import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { controlGet } from "../../src/control/client.js";
import type { StatusReply } from "../../src/control/status-reply.js";
import { LocalCluster } from "../../src/demo/local-cluster.js";
import type { ClusterState } from "../../src/state/types.js";
import { apiRequest } from "../support/http.js";
import { enableApi, OPERATE_TOKEN, READ_TOKEN } from "../support/local-api.js";
import { runLocalVigil } from "../support/local-takeover.js";
import { removeTestDir } from "../support/remove-dir.js";
import { waitFor } from "../support/wait.js";

/** Three real agents on loopback with the API on: tokens, roles, and the control routes behind them. */
describe("the network API of real agents", () => {
  let dir: string;
  let cluster: LocalCluster;
  let urls: Map<string, string>;
  const url = (name: string, path: string) => `${urls.get(name)}${path}`;
  const stateOf = (name: string) => controlGet<ClusterState>(cluster.socketPath(name), "/v1/state");

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-api-"));
    cluster = await LocalCluster.create({ nodes: 3, dir, profile: "default" });
    urls = await enableApi(cluster, dir);
    for (const name of cluster.names) await cluster.start(name);
    await waitFor("every node to have probed", async () => {
      const state = await stateOf("alpha");
      return cluster.names.every((name) => state.agents[name] !== undefined) ? true : undefined;
    });
  });

  after(async () => {
    await cluster?.stopAll();
    await removeTestDir(dir);
  });

  test("without a token: 401 with a JSON reason, and the agent logs the refusal", async () => {
    const reply = await apiRequest(url("alpha", "/v1/status"));
    assert.equal(reply.status, 401);
    assert.deepEqual(reply.json, {
      error: "no bearer token: send the header Authorization: Bearer TOKEN",
    });
    const log = await waitFor("the refusal in alpha's log", async () => {
      const text = await readFile(cluster.logPath("alpha"), "utf8");
      return text.includes("API request refused") ? text : undefined;
    });
    assert.match(log, /API listening without TLS, on loopback only/);
  });

  test("a read token reads GET /v1/status: what `vigil status --json` prints", async () => {
    const reply = await apiRequest(url("beta", "/v1/status"), { token: READ_TOKEN });
    assert.equal(reply.status, 200);
    const fromApi = reply.json as StatusReply;
    const cli = await runLocalVigil("status", "--json", "--socket", cluster.socketPath("beta"));
    assert.equal(cli.code, 0, cli.stderr);
    const fromCli = JSON.parse(cli.stdout) as StatusReply;
    // Taken a moment apart, so clocks and counters differ; the shape and the facts do not.
    assert.deepEqual(Object.keys(fromApi).sort(), Object.keys(fromCli).sort());
    assert.deepEqual(fromApi.node, fromCli.node);
    assert.deepEqual(fromApi.cluster, fromCli.cluster);
    assert.ok(fromApi.resources !== null, "the agent composes the resources into its status");
    assert.deepEqual(fromApi.resources, fromCli.resources);
    assert.equal(fromApi.node.name, "beta");
  });

  test("a read token reads /metrics: every node up as each agent sees it", async () => {
    for (const name of cluster.names) {
      const text = await waitFor(`${name}'s metrics to show every node up`, async () => {
        const reply = await apiRequest(url(name, "/metrics"), { token: READ_TOKEN });
        assert.equal(reply.status, 200);
        return cluster.names.every((node) => reply.text.includes(`vigil_node_up{node="${node}"} 1`))
          ? reply.text
          : undefined;
      });
      assert.match(text, /^vigil_raft_term [1-9]/m);
      assert.match(text, /^vigil_quorum_votes_needed 2$/m);
      // No fence yet: every node's cluster-wide count is there, at 0.
      assert.match(text, /^vigil_cluster_fences_total\{node="gamma",result="failure"\} 0$/m);
      assert.match(text, /^process_resident_memory_bytes \d+/m);
    }
  });

  test("a read token asks GET /v1/simulate: what `vigil simulate --json` prints; a bad query is a 400", async () => {
    const reply = await apiRequest(url("alpha", "/v1/simulate?standby=beta&fail=gamma"), {
      token: READ_TOKEN,
    });
    assert.equal(reply.status, 200, reply.text);
    const cli = await runLocalVigil(
      "simulate",
      "--standby",
      "beta",
      "--fail",
      "gamma",
      "--json",
      "--socket",
      cluster.socketPath("alpha"),
    );
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(reply.json, JSON.parse(cli.stdout));
    assert.deepEqual((reply.json as { change: unknown }).change, {
      failNode: "gamma",
      standbyNode: "beta",
    });
    const bad = await apiRequest(url("alpha", "/v1/simulate?fail=zulu"), { token: READ_TOKEN });
    assert.equal(bad.status, 400);
    assert.match(
      (bad.json as { error: string }).error,
      /^query parameter fail: no node named zulu/,
    );
  });

  test("a read token reads GET /v1/events: the answering node's view, after an id on", async () => {
    const reply = await apiRequest(url("gamma", "/v1/events"), { token: READ_TOKEN });
    assert.equal(reply.status, 200, reply.text);
    const { answeredBy, events } = reply.json as {
      answeredBy: string;
      events: Array<{ id: string; source: string; kind: string }>;
    };
    assert.equal(answeredBy, "gamma");
    assert.ok(events.some((event) => event.kind === "node_up" && event.source === "gamma"));
    const middle = events[Math.floor(events.length / 2)];
    assert.ok(middle);
    const later = await apiRequest(
      url("gamma", `/v1/events?${new URLSearchParams({ after: middle.id })}`),
      { token: READ_TOKEN },
    );
    const after = (later.json as { events: Array<{ id: string }> }).events.map((e) => e.id);
    assert.deepEqual(
      after.slice(0, events.length - events.indexOf(middle) - 1),
      events.slice(events.indexOf(middle) + 1).map((event) => event.id),
    );
  });

  test("a read token cannot operate (403); an operate token puts a node in standby", async () => {
    const body = (standby: boolean) =>
      JSON.stringify({ type: "node_standby", node: "gamma", standby, by: "api-test" });
    const refused = await apiRequest(url("alpha", "/v1/runtime"), {
      method: "POST",
      token: READ_TOKEN,
      body: body(true),
    });
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.json, {
      error: "token prometheus has the role read; POST needs an operate token",
    });
    assert.notEqual((await stateOf("alpha")).nodes.gamma?.standby, true);

    // Through a follower or the leader alike: the route forwards to the leader.
    const done = await apiRequest(url("beta", "/v1/runtime"), {
      method: "POST",
      token: OPERATE_TOKEN,
      body: body(true),
    });
    assert.equal(done.status, 200, done.text);
    assert.equal((done.json as { ok: boolean }).ok, true);
    for (const name of cluster.names) {
      await waitFor(`${name} to apply gamma's standby`, async () =>
        (await stateOf(name)).nodes.gamma?.standby === true ? true : undefined,
      );
    }
    const metrics = await apiRequest(url("gamma", "/metrics"), { token: READ_TOKEN });
    assert.match(metrics.text, /^vigil_node_standby\{node="gamma"\} 1$/m);
    const log = await readFile(cluster.logPath("beta"), "utf8");
    assert.match(log, /"token":"ops".*API request/);

    const bad = await apiRequest(url("alpha", "/v1/runtime"), {
      method: "POST",
      token: OPERATE_TOKEN,
      body: JSON.stringify({ type: "node_standby", node: "nobody", standby: true, by: "t" }),
    });
    assert.equal(bad.status, 404);
    assert.match((bad.json as { error: string }).error, /^no node named nobody/);
  });
});
