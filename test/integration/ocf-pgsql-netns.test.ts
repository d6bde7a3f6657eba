import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { appendFile, chmod, chown, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  PACEMAKER_SHIMS_DIR,
  pacemakerShimEnvironment,
} from "../../src/pacemaker/shim-environment.js";
import type { ClusterState } from "../../src/state/types.js";
import { type Lab, labTestOptions, withLab } from "../lab/index.js";
import { LabCluster } from "../support/lab-cluster.js";
import { onePromoted } from "../support/promoted.js";
import { runVigil, VIP_PREFIX_LENGTH, vipOf } from "../support/takeover-lab.js";
import { waitFor } from "../support/wait.js";

const PGSQL_AGENT = "/usr/lib/ocf/resource.d/heartbeat/pgsql";
const HOSTS = [0, 1, 2] as const;
// Every agent operation runs Pacemaker's commands as processes (the pgsql agent, dozens a monitor), and
// the agent wants three equal readings of every node's WAL location before a copy may be promoted.
const WAIT = { timeoutMs: 180_000, intervalMs: 250 };

/**
 * Debian's unmodified ocf:heartbeat:pgsql in its replication mode (rep_mode=async), as its
 * Pacemaker users run it: PostgreSQL from Debian on three test hosts, each copy with its own data
 * directory (`params_on`), the replicas streaming from the primary through a VIP that follows the
 * promoted copy (master_ip). With three nodes in async mode the agent refuses to guess which
 * replica is newest: when the primary is gone, every replica's monitor publishes its WAL
 * location (`crm_attribute -l reboot -n pgsql-xlog-loc`), reads every node's, and only the one
 * holding the newest, on three reads in a row, gives itself a promotion score
 * (`crm_attribute -p`). The others stay at -INFINITY, which the primary's monitor gave them.
 *
 * Link 1 carries the cluster's heartbeats while link 0 (PostgreSQL's, the VIP's) of one replica
 * is cut: that replica falls behind while it still counts as streaming (the primary's walsender
 * notices a silent peer only after wal_sender_timeout), so only the offsets tell the replicas
 * apart when the primary's host dies.
 */
describe(
  "ocf:heartbeat:pgsql (unmodified) as a promotable clone across test hosts",
  pgsqlOptions(),
  () => {
    test("the primary's host dies: the replica with the newest WAL is promoted, not the one that fell behind, and every acknowledged row is there", async () => {
      await withLab({ hosts: 3, links: 2 }, async (lab) => {
        const bin = postgresBin();
        const vip = vipOf(lab);
        const cluster = await LabCluster.create(lab, { profile: "default" });
        const name = (host: number) => cluster.name(host);
        const address = (host: number) => lab.host(host).address(0);
        const stateOn = (host: number) => cluster.state(host);
        const psql = async (host: number, sql: string, at = address(host)) => {
          const result = await lab
            .host(host)
            .exec(
              "runuser",
              [
                "-u",
                "postgres",
                "--",
                "psql",
                "-h",
                at,
                "-U",
                "postgres",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
              ],
              { timeoutMs: 10_000 },
            );
          if (result.code !== 0) throw new Error(`psql on host ${host}: ${result.stderr.trim()}`);
          return result.stdout.trim();
        };
        const primaryIn = (state: ClusterState) => {
          const node = onePromoted(state, "pgsql-ha");
          return HOSTS.find((host) => name(host) === node);
        };

        const dirs = await prepareData(lab, cluster, bin);
        await cluster.startAllProbed();
        await applyPgsql(lab, cluster, bin, vip, dirs);
        const primary = await waitFor(
          "one promoted copy",
          async () => primaryIn(await stateOn(0)),
          WAIT,
        );
        const replicas = HOSTS.filter((host) => host !== primary);
        await waitFor(
          "both replicas to stream from the primary",
          async () => {
            const rows = await psql(
              primary,
              "select count(*) from pg_stat_replication where state = 'streaming'",
            ).catch(() => "0");
            return rows === "2" ? true : undefined;
          },
          WAIT,
        );
        // The agent promotes only a replica its primary last saw streaming (its data status, a
        // node attribute the primary's monitor keeps): as an operator checks `crm_mon -A`.
        await waitFor(
          "the primary's monitor to record both replicas streaming",
          async () => {
            const state = await stateOn(primary);
            return replicas.every(
              (host) =>
                state.nodes[name(host)]?.attributes?.["pgsql-data-status"] === "STREAMING|ASYNC",
            )
              ? true
              : undefined;
          },
          WAIT,
        );
        await psql(primary, "create table t (id int primary key, v text)", vip);
        await psql(primary, "insert into t select g, 'before' from generate_series(1, 100) g", vip);

        // The replica named first falls behind: had the offsets not counted, the tie between
        // equal scores would not have been broken by data.
        const [behind, ahead] = [...replicas].sort((a, b) => name(a).localeCompare(name(b))) as [
          number,
          number,
        ];
        await waitFor(
          `${name(behind)} to have the first rows`,
          async () =>
            (await psql(behind, "select count(*) from t").catch(() => "")) === "100"
              ? true
              : undefined,
          WAIT,
        );
        await lab.cutLink(behind, 0);
        await psql(
          primary,
          "insert into t select g, 'after' from generate_series(101, 200) g",
          vip,
        );
        await waitFor(
          `${name(ahead)} to have every row`,
          async () =>
            (await psql(ahead, "select count(*) from t").catch(() => "")) === "200"
              ? true
              : undefined,
          WAIT,
        );

        // Its own server still answers it (over loopback): it has only the first rows.
        assert.equal(await psql(behind, "select count(*) from t"), "100");
        await lab.powerOff(primary);
        const next = await waitFor(
          "a replica to be promoted",
          async () => {
            const found = primaryIn(await stateOn(ahead));
            return found !== undefined && found !== primary ? found : undefined;
          },
          WAIT,
        ).catch(async (error: Error) => {
          const seen = await Promise.all(replicas.map((host) => whatTheAgentsSee(cluster, host)));
          throw new Error(`${error.message}\n${seen.join("\n")}`);
        });
        assert.equal(
          next,
          ahead,
          `${name(ahead)} holds the newest WAL and must be the one promoted`,
        );
        assert.equal(await psql(ahead, "select pg_is_in_recovery()"), "f");
        assert.equal(await psql(ahead, "select count(*) from t", vip), "200");
      });
    });
  },
);

/** `vigil status` and the crm_mon XML the agents read, as the node `host` answers them. */
async function whatTheAgentsSee(cluster: LabCluster, host: number): Promise<string> {
  const socket = cluster.socketPath(host);
  const status = await runVigil(["status", "--socket", socket]).catch((e: Error) => e.message);
  const shim = join(PACEMAKER_SHIMS_DIR, "crm_mon");
  let crmMon: string;
  try {
    crmMon = execFileSync(shim, ["-1", "--output-as=xml"], {
      env: {
        ...process.env,
        ...pacemakerShimEnvironment({
          socketPath: socket,
          nodeName: cluster.name(host),
          basePath: process.env.PATH ?? "",
          refusalsFile: "/dev/null",
        }),
      },
    }).toString();
  } catch (error) {
    crmMon = (error as Error).message;
  }
  return `vigil status on ${cluster.name(host)}:\n${status}\ncrm_mon there:\n${crmMon}`;
}

function pgsqlOptions(): { skip?: string } {
  const lab = labTestOptions(["psql", "runuser"]);
  if (lab.skip !== undefined) return lab;
  if (!existsSync(PGSQL_AGENT)) {
    return { skip: `${PGSQL_AGENT} is not installed (apt-get install resource-agents)` };
  }
  try {
    postgresBin();
    execFileSync("getent", ["passwd", "postgres"]);
  } catch {
    return { skip: "PostgreSQL is not installed (apt-get install postgresql)" };
  }
  return {};
}

/** The newest installed PostgreSQL's programs (Debian keeps pg_ctl out of PATH). */
function postgresBin(): string {
  const versions = readdirSync("/usr/lib/postgresql")
    .filter((version) => existsSync(join("/usr/lib/postgresql", version, "bin", "pg_ctl")))
    .sort((a, b) => Number(b) - Number(a));
  if (versions[0] === undefined) throw new Error("no PostgreSQL under /usr/lib/postgresql");
  return join("/usr/lib/postgresql", versions[0], "bin");
}

interface NodeDirs {
  pgdata: string;
  tmpdir: string;
  socketdir: string;
  logfile: string;
}

/**
 * The data as a DBA sets it up before handing it to the cluster: a primary's cluster initialized
 * on the first host, each other host's a base backup of it; every node its own directories.
 */
async function prepareData(lab: Lab, cluster: LabCluster, bin: string): Promise<NodeDirs[]> {
  const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
  await chmod(lab.dir, 0o755);
  const root = join(lab.dir, "pgsql");
  await mkdir(root);
  await chmod(root, 0o755);
  const dirs: NodeDirs[] = [];
  for (const host of HOSTS) {
    const base = join(root, cluster.name(host));
    const node: NodeDirs = {
      pgdata: join(base, "data"),
      tmpdir: join(base, "tmp"),
      socketdir: join(base, "run"),
      logfile: join(base, "postgresql.log"),
    };
    await mkdir(base);
    for (const dir of [node.pgdata, node.tmpdir, node.socketdir]) await mkdir(dir);
    await writeFile(node.logfile, "");
    for (const path of [base, node.pgdata, node.tmpdir, node.socketdir, node.logfile])
      await chown(path, uid, gid);
    await chmod(node.pgdata, 0o700);
    dirs.push(node);
  }
  const asPostgres = async (host: number, program: string, args: readonly string[]) => {
    const result = await lab
      .host(host)
      .exec("runuser", ["-u", "postgres", "--", join(bin, program), ...args], {
        timeoutMs: 60_000,
      });
    if (result.code !== 0)
      throw new Error(
        `${program} on host ${host}: ${result.stderr.trim() || result.stdout.trim()}`,
      );
  };
  const first = dirs[0]!;
  await asPostgres(0, "initdb", ["-D", first.pgdata, "-A", "trust", "-U", "postgres"]);
  await appendFile(
    join(first.pgdata, "postgresql.conf"),
    [
      "listen_addresses = '*'",
      "port = 5432",
      "wal_level = replica",
      "max_wal_senders = 10",
      "hot_standby = on",
      "wal_keep_size = 128MB",
      "wal_receiver_status_interval = 1s",
      "wal_retrieve_retry_interval = 1s",
      "restart_after_crash = off",
      "",
    ].join("\n"),
  );
  await appendFile(
    join(first.pgdata, "pg_hba.conf"),
    "host all all 198.18.0.0/15 trust\nhost replication all 198.18.0.0/15 trust\n",
  );
  await setSocketDir(first);
  await asPostgres(0, "pg_ctl", ["-D", first.pgdata, "-l", first.logfile, "-w", "start"]);
  try {
    for (const host of HOSTS.slice(1)) {
      const node = dirs[host]!;
      await asPostgres(host, "pg_basebackup", [
        "-h",
        lab.host(0).address(0),
        "-U",
        "postgres",
        "-D",
        node.pgdata,
        "-X",
        "stream",
        "-c",
        "fast",
      ]);
      await setSocketDir(node);
    }
  } finally {
    await asPostgres(0, "pg_ctl", ["-D", first.pgdata, "-m", "fast", "-w", "stop"]);
  }
  return dirs;
}

/** Each node's server listens on its own unix socket (the hosts share one filesystem). */
async function setSocketDir(node: NodeDirs): Promise<void> {
  await appendFile(
    join(node.pgdata, "postgresql.conf"),
    `unix_socket_directories = '${node.socketdir}'\n`,
  );
}

async function applyPgsql(
  lab: Lab,
  cluster: LabCluster,
  bin: string,
  vip: string,
  dirs: readonly NodeDirs[],
): Promise<void> {
  const nodes = HOSTS.map((host) => cluster.name(host));
  const document = join(lab.dir, "ocf-pgsql.yaml");
  await writeFile(
    document,
    [
      "resources:",
      "  pgsql:",
      '    agent: "ocf:heartbeat:pgsql"',
      "    params:",
      `      pgctl: ${join(bin, "pg_ctl")}`,
      "      psql: /usr/bin/psql",
      "      rep_mode: async",
      `      node_list: "${nodes.join(" ")}"`,
      `      master_ip: ${vip}`,
      "      repuser: postgres",
      '      primary_conninfo_opt: "keepalives_idle=60 keepalives_interval=5 keepalives_count=5"',
      "      stop_escalate: 10",
      "    params_on:",
      ...nodes.map((node, index) => {
        const dir = dirs[index]!;
        return `      ${node}: { pgdata: "${dir.pgdata}", tmpdir: "${dir.tmpdir}", socketdir: "${dir.socketdir}", logfile: "${dir.logfile}" }`;
      }),
      "    operations:",
      "      start: { timeout_ms: 60000 }",
      "      stop: { timeout_ms: 60000 }",
      "      promote: { timeout_ms: 60000 }",
      "      demote: { timeout_ms: 60000 }",
      "      notify: { timeout_ms: 60000 }",
      "      monitor: { interval_ms: 2000, timeout_ms: 30000 }",
      "  pgsql-ip:",
      "    agent: vip",
      `    params: { address: ${vip}/${VIP_PREFIX_LENGTH} }`,
      "clones:",
      "  pgsql-ha: { of: pgsql, promotable: true, promoted_max: 1, notify: true }",
      "constraints:",
      "  - colocation: { resource: pgsql-ip, with: pgsql-ha, with_role: promoted }",
      "  - order: { first: pgsql-ha, first_action: promote, then: pgsql-ip }",
      "",
    ].join("\n"),
  );
  await runVigil(["config", "apply", document, "--socket", cluster.socketPath(0)]);
}
