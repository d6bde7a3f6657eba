import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { RawConfig } from "../../src/config/schema.js";
import type { Lab, LabHost } from "../lab/index.js";
import { READ_TOKEN } from "./local-api.js";
import { HOSTS, PORT, readWrites } from "./redis-lab.js";
import { waitFor } from "./wait.js";

export const HAPROXY = ["/usr/sbin/haproxy", "/usr/local/sbin/haproxy"].find((path) =>
  existsSync(path),
);
const OPENSSL = ["/usr/bin/openssl", "/bin/openssl"].find((path) => existsSync(path));
const API_PORT = 9420;
/** HAProxy's frontend for the Redis clients, on the client's own address. */
const FRONT_PORT = 6380;
const REDIS_WRITER = resolve("test/support/redis-writer.mjs");

/**
 * The API section every lab agent gets so that a load balancer on another host can ask its
 * health endpoints: HTTPS (a self-signed certificate made here with openssl, as an operator's
 * own CA would issue) on every address, port 9420, and a read token.
 */
export async function tlsApiConfig(lab: Lab): Promise<Partial<RawConfig>> {
  if (OPENSSL === undefined) throw new Error("openssl is not installed (apt-get install openssl)");
  const cert = join(lab.dir, "api.crt");
  const key = join(lab.dir, "api.key");
  await promisify(execFile)(OPENSSL, [
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"],
    ...["-nodes", "-days", "2", "-subj", "/CN=vigil-lab", "-keyout", key, "-out", cert],
  ]);
  const tokensFile = join(lab.dir, "api-tokens");
  await writeFile(tokensFile, `# role name token\nread haproxy ${READ_TOKEN}\n`, { mode: 0o600 });
  return {
    api: { listen: `0.0.0.0:${API_PORT}`, tls: { cert, key }, tokens_file: tokensFile },
  };
}

/**
 * Debian's HAProxy on `client`, as Patroni deployments run it in front of a database: a TCP
 * frontend for Redis whose backend has every lab host, each checked every 200 ms over HTTPS
 * (certificate not verified: self-signed) at GET /v1/health/RESOURCE/primary, so only the node
 * that runs the promoted copy is UP; a server marked down has its sessions shut, and a
 * connection to a dead server is sent to another.
 */
export async function startHaproxy(lab: Lab, client: LabHost, resource: string) {
  if (HAPROXY === undefined) throw new Error("haproxy is not installed (apt-get install haproxy)");
  const config = join(lab.dir, "haproxy.cfg");
  const statsSocket = join(lab.dir, "haproxy.sock");
  await writeFile(
    config,
    haproxyConfig({
      statsSocket,
      defaults: [
        "timeout connect 500ms",
        "timeout check 500ms",
        "timeout client 30s",
        "timeout server 30s",
        "retries 2",
        "option redispatch",
      ],
      bind: `${client.address(0)}:${FRONT_PORT}`,
      backend: "primary",
      checkUri: `/v1/health/${resource}/primary`,
      serverDefaults: "inter 200ms fall 2 rise 1 on-marked-down shutdown-sessions",
      servers: HOSTS.map(
        (host) =>
          `h${host + 1} ${lab.host(host).address(0)}:${PORT} check port ${API_PORT} check-ssl verify none`,
      ),
    }),
  );
  const haproxy = client.spawn(HAPROXY, ["-f", config, "-db"]);
  await waitFor("HAProxy's runtime API", async () => {
    if (!haproxy.running) throw new Error(`haproxy exited: ${haproxy.exitReport()}`);
    return existsSync(statsSocket) ? true : undefined;
  });
  return {
    haproxy,
    /** The servers HAProxy has UP now. */
    upServers: () => upServers(statsSocket, "primary"),
    front: { host: client.address(0), port: FRONT_PORT },
    async stop() {
      haproxy.kill("SIGTERM");
      await haproxy.exited;
    },
  };
}

/** A Redis writer (redis-writer.mjs) on `client` through HAProxy's frontend; once it has written. */
export async function startHaproxyWriter(
  client: LabHost,
  front: { host: string; port: number },
  log: string,
) {
  const writer = client.spawn(process.execPath, [
    REDIS_WRITER,
    front.host,
    String(front.port),
    log,
  ]);
  const stop = async () => {
    writer.kill("SIGTERM");
    await writer.exited;
  };
  try {
    await waitFor("the writer through HAProxy to write", async () =>
      (await readWrites(log)).some((w) => w.ok) ? true : undefined,
    );
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}; it said:\n${writer.stdout}${writer.stderr}`);
  }
  return { stop };
}

/**
 * An HAProxy configuration as the tests and the bench run it: a TCP frontend on `bind` whose
 * backend checks every server with a GET of `checkUri` (a read token sent), UP on 200 only; the
 * runtime API on `statsSocket`.
 */
export function haproxyConfig(options: {
  statsSocket: string;
  /** `defaults` lines after `mode tcp` (timeouts, retries). */
  defaults: readonly string[];
  bind: string;
  backend: string;
  checkUri: string;
  /** The backend's `default-server` options (check interval, rise, fall). */
  serverDefaults: string;
  /** Each server line after `server`: NAME ADDRESS:PORT and its options. */
  servers: readonly string[];
}): string {
  return [
    "global",
    `  stats socket ${options.statsSocket} mode 600 level admin`,
    "defaults",
    "  mode tcp",
    ...options.defaults.map((line) => `  ${line}`),
    "frontend clients",
    `  bind ${options.bind}`,
    `  default_backend ${options.backend}`,
    `backend ${options.backend}`,
    "  option httpchk",
    `  http-check send meth GET uri ${options.checkUri} hdr Authorization "Bearer ${READ_TOKEN}"`,
    "  http-check expect status 200",
    `  default-server ${options.serverDefaults}`,
    ...options.servers.map((line) => `  server ${line}`),
    "",
  ].join("\n");
}

/** HAProxy's runtime API: one command, its whole answer. */
export function haproxyCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const connection = connect(socket);
    let answer = "";
    connection.on("data", (chunk) => {
      answer += chunk.toString();
    });
    connection.on("end", () => resolve(answer));
    connection.on("error", reject);
    connection.write(`${command}\n`);
  });
}

/** The servers of `backend` HAProxy has UP, by name, sorted (its runtime API's `show stat`). */
export async function upServers(socket: string, backend: string): Promise<string[]> {
  const csv = (await haproxyCommand(socket, "show stat")).trim().split("\n");
  const header = (csv[0] ?? "").replace(/^# /, "").split(",");
  const at = (name: string) => header.indexOf(name);
  return csv
    .slice(1)
    .map((line) => line.split(","))
    .filter((row) => row[at("pxname")] === backend && row[at("svname")] !== "BACKEND")
    .filter((row) => row[at("status")] === "UP")
    .map((row) => row[at("svname")] as string)
    .sort();
}
