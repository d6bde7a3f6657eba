import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, open, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { controlGet } from "../../src/control/client.js";
import { LocalCluster } from "../../src/demo/local-cluster.js";
import type { ClusterState } from "../../src/state/types.js";
import { apiRequest } from "../support/http.js";
import { enableApi, freeTcpPorts, READ_TOKEN } from "../support/local-api.js";
import { removeTestDir } from "../support/remove-dir.js";
import { waitFor } from "../support/wait.js";

const PROMETHEUS = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"].find((path) =>
  existsSync(path),
);

interface QueryResult {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * A real Prometheus server (Debian's package) scraping three real agents' GET /metrics on
 * loopback with a read token, and this repository's alerting rules loaded: every node is up as
 * every agent sees it; after a SIGKILL of one agent the others report it dead, and the
 * VigilNodeDead rule picks it up.
 */
describe("Prometheus scraping a three-node cluster", {
  skip: PROMETHEUS === undefined && "prometheus is not installed (apt-get install prometheus)",
}, () => {
  let dir: string;
  let cluster: LocalCluster;
  let prometheus: ChildProcess | undefined;
  let prometheusUrl: string;
  const targets = new Map<string, string>();

  const query = async (promql: string): Promise<QueryResult[]> => {
    const reply = await apiRequest(
      `${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`,
    );
    const body = reply.json as { status: string; data: { result: QueryResult[] } };
    assert.equal(body.status, "success", reply.text);
    return body.data.result;
  };
  /** name → value of `promql` over the series scraped from `observer`'s agent. */
  const seenBy = async (observer: string, promql: string) =>
    new Map(
      (await query(promql))
        .filter((result) => result.metric.instance === targets.get(observer))
        .map((result) => [result.metric.node ?? "", Number(result.value[1])]),
    );

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-prometheus-"));
    cluster = await LocalCluster.create({ nodes: 3, dir, profile: "default" });
    const urls = await enableApi(cluster, dir);
    for (const [name, url] of urls) targets.set(name, new URL(url).host);
    const tokenFile = join(dir, "prometheus-token");
    await writeFile(tokenFile, READ_TOKEN, { mode: 0o600 });
    const [port] = (await freeTcpPorts(1)) as [number];
    prometheusUrl = `http://127.0.0.1:${port}`;
    const configFile = join(dir, "prometheus.yml");
    await writeFile(
      configFile,
      stringify({
        global: { scrape_interval: "1s", evaluation_interval: "1s" },
        rule_files: [resolve("examples/prometheus/alerts.yml")],
        scrape_configs: [
          {
            job_name: "vigil",
            authorization: { type: "Bearer", credentials_file: tokenFile },
            static_configs: [{ targets: [...targets.values()] }],
          },
        ],
      }),
    );
    for (const name of cluster.names) await cluster.start(name);
    await waitFor("every node to have probed", async () => {
      const state = await controlGet<ClusterState>(cluster.socketPath("alpha"), "/v1/state");
      return cluster.names.every((name) => state.agents[name] !== undefined) ? true : undefined;
    });
    const log = await open(join(dir, "prometheus.log"), "a");
    prometheus = spawn(
      PROMETHEUS!,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, "prometheus-data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", log.fd, log.fd] },
    );
    await log.close();
    await waitFor(
      "Prometheus to answer",
      async () =>
        (await apiRequest(`${prometheusUrl}/-/ready`)).status === 200 ? true : undefined,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  });

  after(async () => {
    // Killed by its PID only: nothing else named prometheus on this machine is touched.
    if (prometheus?.pid !== undefined && prometheus.exitCode === null) {
      const exited = new Promise((done) => prometheus?.once("exit", done));
      process.kill(prometheus.pid, "SIGKILL");
      await exited;
    }
    await cluster?.stopAll();
    await removeTestDir(dir);
  });

  test("every agent is scraped and sees all three nodes up", async () => {
    await waitFor(
      "every target to be up and to report every node up",
      async () => {
        const up = await query('up{job="vigil"} == 1');
        if (up.length !== 3) return undefined;
        for (const observer of cluster.names) {
          const nodes = await seenBy(observer, "vigil_node_up");
          if (!cluster.names.every((name) => nodes.get(name) === 1)) return undefined;
        }
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const leaders = await query("vigil_raft_is_leader == 1");
    assert.equal(leaders.length, 1, "one leader in the cluster");
  });

  test("after a SIGKILL of gamma's agent, the others report it dead, and the alert rule fires", async () => {
    await cluster.signal("gamma", "SIGKILL");
    for (const observer of ["alpha", "beta"]) {
      await waitFor(
        `${observer} to report gamma dead through Prometheus`,
        async () => {
          const dead = await seenBy(observer, 'vigil_node_state{state="dead"}');
          const up = await seenBy(observer, "vigil_node_up");
          return dead.get("gamma") === 1 && up.get("gamma") === 0 ? true : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
    }
    const down = await query(`up{instance="${targets.get("gamma")}"}`);
    assert.equal(down[0]?.value[1], "0", "gamma's agent no longer answers scrapes");
    await waitFor(
      "VigilNodeDead about gamma to be pending or firing",
      async () => {
        const reply = await apiRequest(`${prometheusUrl}/api/v1/alerts`);
        const alerts = (
          reply.json as {
            data: { alerts: Array<{ labels: Record<string, string>; state: string }> };
          }
        ).data.alerts;
        return alerts.some(
          (alert) => alert.labels.alertname === "VigilNodeDead" && alert.labels.node === "gamma",
        )
          ? true
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const log = await readFile(join(dir, "prometheus.log"), "utf8");
    assert.doesNotMatch(log, /level=error/, log);
  });
});
