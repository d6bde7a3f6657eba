import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import type { RawConfig } from "../../src/config/schema.js";
import { LocalCluster } from "../../src/demo/local-cluster.js";
import { waitFor } from "./wait.js";

export const READ_TOKEN = "read-token-0123456789abcdef0123456789abcdef";
export const OPERATE_TOKEN = "operate-token-0123456789abcdef0123456789abcdef";

/** Ports free on 127.0.0.1 now (TCP). */
export async function freeTcpPorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => {
      const server = createServer();
      return new Promise<typeof server>((resolve) =>
        server.listen(0, "127.0.0.1", () => resolve(server)),
      );
    }),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/**
 * Turns the API on in a LocalCluster's configuration (before its agents start): each node on
 * its own loopback port (nodes[].api_listen), a tokens file with one read and one operate token.
 * Returns each node's API URL.
 */
export async function enableApi(cluster: LocalCluster, dir: string): Promise<Map<string, string>> {
  const ports = await freeTcpPorts(cluster.names.length);
  const tokensFile = join(dir, "api-tokens");
  await writeFile(
    tokensFile,
    `# role name token\nread prometheus ${READ_TOKEN}\noperate ops ${OPERATE_TOKEN}\n`,
    { mode: 0o600 },
  );
  const config = parse(await readFile(cluster.configPath, "utf8")) as RawConfig;
  config.api = { listen: `127.0.0.1:${ports[0]}`, tokens_file: tokensFile };
  config.nodes.forEach((node, index) => {
    node.api_listen = `127.0.0.1:${ports[index]}`;
  });
  await writeFile(cluster.configPath, stringify(config), { mode: 0o600 });
  return new Map(cluster.names.map((name, index) => [name, `http://127.0.0.1:${ports[index]}`]));
}

/**
 * Three agents on loopback in a fresh directory with the API on (enableApi), started, and every
 * node's probe recorded: ready for a resources document. Stop them with stopProbedCluster.
 */
export async function startApiCluster(prefix: string) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const cluster = await LocalCluster.create({ nodes: 3, dir, profile: "default" });
  const apis = await enableApi(cluster, dir);
  for (const name of cluster.names) await cluster.start(name);
  await waitFor("every node to have probed", async () => {
    const state = await cluster.state("alpha").catch(() => undefined);
    return cluster.names.every((name) => state?.agents[name] !== undefined) ? true : undefined;
  });
  return { dir, cluster, apis };
}

/** The node that runs the resource `echo` (started), by `via`'s state; undefined unless one. */
export async function echoRunsOn(cluster: LocalCluster, via: string): Promise<string | undefined> {
  const state = await cluster.state(via);
  const cells = Object.entries(state.resources.echo ?? {});
  return cells.length === 1 && cells[0]?.[1].active === "started" ? cells[0][0] : undefined;
}
