import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { open, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { LocalCluster } from "../../src/demo/local-cluster.js";
import { HAPROXY, haproxyConfig, upServers } from "../support/haproxy-lab.js";
import { apiRequest } from "../support/http.js";
import { echoRunsOn, freeTcpPorts, READ_TOKEN, startApiCluster } from "../support/local-api.js";
import {
  applyEchoService,
  runLocalVigil,
  stopProbedCluster,
  whoServes,
} from "../support/local-takeover.js";
import { waitFor } from "../support/wait.js";

/**
 * A real HAProxy (Debian's package) in front of three real agents on loopback, its health check
 * asking each node's GET /v1/health/echo/running with a read token: only the node that runs the
 * service is UP, and after that node's agent is killed HAProxy follows the failover on its own.
 */
describe("HAProxy following a failover through the health endpoints", {
  skip: HAPROXY === undefined && "haproxy is not installed (apt-get install haproxy)",
}, () => {
  let dir: string;
  let cluster: LocalCluster;
  let haproxy: ChildProcess | undefined;
  let servicePort: number;
  let frontPort: number;
  let statsSocket: string;
  let apis: Map<string, string>;

  const upNodes = () => upServers(statsSocket, "nodes");
  const runningOn = (via: string) => echoRunsOn(cluster, via);

  before(async () => {
    ({ dir, cluster, apis } = await startApiCluster("vigil-haproxy-"));
    [servicePort, frontPort] = (await freeTcpPorts(2)) as [number, number];
    const applied = await applyEchoService(dir, servicePort, cluster.socketPath("alpha"));
    assert.equal(applied.code, 0, applied.stderr);
    statsSocket = join(dir, "haproxy.sock");
    const config = join(dir, "haproxy.cfg");
    await writeFile(
      config,
      haproxyConfig({
        statsSocket,
        defaults: ["timeout connect 1s", "timeout client 5s", "timeout server 5s"],
        bind: `127.0.0.1:${frontPort}`,
        backend: "nodes",
        checkUri: "/v1/health/echo/running",
        serverDefaults: "inter 200ms fall 1 rise 1",
        servers: cluster.names.map(
          (name) =>
            `${name} 127.0.0.1:${servicePort} check port ${new URL(apis.get(name) ?? "").port}`,
        ),
      }),
    );
    const log = await open(join(dir, "haproxy.log"), "a");
    haproxy = spawn(HAPROXY as string, ["-f", config, "-db"], {
      stdio: ["ignore", log.fd, log.fd],
    });
    await log.close();
    await waitFor("HAProxy's runtime API", async () =>
      existsSync(statsSocket) ? true : undefined,
    );
  });

  after(async () => {
    if (haproxy?.pid !== undefined && haproxy.exitCode === null) {
      const exited = new Promise((resolve) => haproxy?.once("exit", resolve));
      haproxy.kill("SIGKILL");
      await exited;
    }
    await stopProbedCluster(dir, cluster);
  });

  test("the health endpoints answer 200 only where the resource runs, and say where it runs", async () => {
    const node = await waitFor("echo to run on one node", () => runningOn("alpha"));
    for (const name of cluster.names) {
      const reply = await apiRequest(`${apis.get(name)}/v1/health/echo/running`, {
        token: READ_TOKEN,
      });
      assert.equal(reply.status, name === node ? 200 : 503, `${name}: ${reply.text}`);
      if (name !== node) assert.match(reply.text, new RegExp(`on ${node}`));
    }
    const unpromoted = await apiRequest(`${apis.get(node)}/v1/health/echo/primary`, {
      token: READ_TOKEN,
    });
    assert.equal(unpromoted.status, 503, "echo is not promotable: no primary anywhere");
    const unknown = await apiRequest(`${apis.get(node)}/v1/health/nope/running`, {
      token: READ_TOKEN,
    });
    assert.equal(unknown.status, 404);
    assert.equal((await apiRequest(`${apis.get(node)}/v1/health/echo/running`)).status, 401);
    const where = await runLocalVigil("where", "echo", "--socket", cluster.socketPath("beta"));
    assert.equal(where.code, 0, where.stderr);
    assert.match(where.stdout, new RegExp(`^echo +${node} +started$`, "m"));
  });

  test("HAProxy sends clients to the node that runs the service, and follows its failover", async () => {
    const node = await waitFor("echo to run on one node", () => runningOn("alpha"));
    await waitFor(`HAProxy to have only ${node} UP`, async () => {
      const up = await upNodes();
      return up.length === 1 && up[0] === node ? true : undefined;
    });
    assert.equal(await whoServes(frontPort), node);
    await cluster.signal(node, "SIGKILL");
    const survivor = cluster.names.find((name) => name !== node) as string;
    const next = await waitFor(
      "echo to run on a survivor",
      async () => {
        const now = await runningOn(survivor).catch(() => undefined);
        return now !== undefined && now !== node ? now : undefined;
      },
      { timeoutMs: 30_000 },
    );
    await waitFor(`HAProxy to have only ${next} UP`, async () => {
      const up = await upNodes();
      return up.length === 1 && up[0] === next ? true : undefined;
    });
    assert.equal(await whoServes(frontPort), next);
  });
});
