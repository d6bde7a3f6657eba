/**
 * The load-balancing director on test hosts (network namespaces): three Vigil nodes that may
 * direct, the group [VIP, virtual service], three real servers with weights 3, 2 and 1 and a
 * sorry server (lab clients answering HTTP with their name), and a client that counts who
 * answers its requests, each on a new connection. Asserted: the spread follows the weights; a
 * real server whose check fails gets no new connection once the director has reprogrammed, and
 * some again after rise; with every real server failing the sorry server answers; after the
 * director's host is powered off another host directs, with the same spread.
 *
 * Clients and real servers share link 0's subnet, so a real server would answer the client
 * directly, from its own address, and the client would drop the answer: the service
 * masquerades (the real servers see the director's address and answer it, and it undoes both
 * translations). The real servers' replies need no route through a floating address then.
 */
import assert from "node:assert/strict";
import { rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { createLab, type Lab, type LabHost, labTestOptions } from "../lab/index.js";
import { LabCluster } from "../support/lab-cluster.js";
import {
  anyState,
  applyDocument,
  groupNode,
  hostIndexOf,
  VIP_PREFIX_LENGTH,
  vipOf,
} from "../support/takeover-lab.js";
import { waitFor } from "../support/wait.js";

const here = import.meta.dirname;
const REAL_SERVER = resolve(here, "../support/real-server.mjs");
const CLIENT = resolve(here, "../support/lvs-client.mjs");
const HELD_CLIENT = resolve(here, "../support/lvs-held-connection.mjs");
const options = labTestOptions(["nft"]);

const MEMBERS = ["lvs-ip", "lvs"] as const;
const TABLE = "vigil-lvs-lvs";
const SERVICE_PORT = 80;
const SERVER_PORT = 8080;
const WEIGHTS = [3, 2, 1] as const;
const NAMES = ["rs1", "rs2", "rs3"] as const;
const CHECK = { interval_ms: 400, timeout_ms: 300, rise: 2, fall: 2 } as const;
/** Requests per count: a multiple of the weights' sum (6), so each share is a whole number. */
const REQUESTS = 60;

interface Counted {
  answers: Record<string, number>;
  seenFrom: Record<string, number>;
  failures: Record<string, number>;
}

describe("load-balancing director across test hosts", options, () => {
  let lab: Lab;
  let cluster: LabCluster;
  let vip: string;
  let client: LabHost;
  let realServers: LabHost[];
  const downFile = (name: string) => join(lab.dir, `${name}.down`);

  before(async () => {
    lab = await createLab({ hosts: 3, links: 2, clients: 5 });
    vip = vipOf(lab);
    const [first, ...servers] = lab.clients;
    client = first!;
    realServers = servers.slice(0, 3);
    const sorry = servers[3]!;
    for (const host of lab.hosts) {
      // The director forwards; a one-armed director must not tell clients to go around it.
      await host.exec("sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
      await host.exec("sysctl", ["-qw", "net.ipv4.conf.all.send_redirects=0"]);
      await host.exec("sysctl", ["-qw", `net.ipv4.conf.${host.device(0)}.send_redirects=0`]);
    }
    [...realServers, sorry].forEach((host, index) => {
      const name = NAMES[index] ?? "sorry";
      host.spawn(process.execPath, [REAL_SERVER, name, String(SERVER_PORT), downFile(name)]);
    });
    cluster = await LabCluster.create(lab);
    await cluster.startAll();
    await cluster.waitAllUp();
    await apply({
      resources: {
        "lvs-ip": {
          agent: "vip",
          params: { address: `${vip}/${VIP_PREFIX_LENGTH}`, interface: lab.host(0).device(0) },
          operations: { monitor: { interval_ms: 500 } },
        },
      },
      virtual_services: {
        lvs: {
          vip: "lvs-ip",
          port: SERVICE_PORT,
          scheduler: "wrr",
          masquerade: true,
          backend: "nftables",
          real_servers: realServers.map((host, index) => ({
            address: host.address(0),
            port: SERVER_PORT,
            weight: WEIGHTS[index],
            check: NAMES[index],
          })),
          sorry_server: { address: sorry.address(0), port: SERVER_PORT },
          operations: { monitor: { interval_ms: 1000 } },
        },
      },
      groups: { web: [...MEMBERS] },
      checks: Object.fromEntries(
        realServers.map((host, index) => [
          NAMES[index],
          { http: { url: `http://${host.address(0)}:${SERVER_PORT}/health` }, ...CHECK },
        ]),
      ),
    });
  });

  after(async () => {
    await lab?.teardown();
  });

  /** `vigil config apply` through a running agent, again while there is no leader yet. */
  async function apply(document: Record<string, unknown>): Promise<void> {
    await waitFor(
      "the document to be applied",
      async () => {
        const via = lab.hosts.findIndex((_, host) => cluster.agent(host) !== undefined);
        try {
          await applyDocument(cluster, via, document);
          return true;
        } catch (error) {
          if (/try again/.test((error as Error).message)) return undefined;
          throw error;
        }
      },
      { timeoutMs: 30_000 },
    );
  }

  async function director(accept: (host: number) => boolean = () => true): Promise<number> {
    const node = await waitFor(
      "the virtual service to run, settled, on one host",
      async () => {
        const node = groupNode(await anyState(cluster), MEMBERS);
        return node !== undefined && accept(hostIndexOf(node)) ? node : undefined;
      },
      { timeoutMs: 30_000 },
    );
    return hostIndexOf(node);
  }

  /** The director's table as nft lists it on `host` ("" when it has none). */
  async function table(host: number): Promise<string> {
    return (await lab.host(host).exec("nft", ["list", "table", "ip", TABLE])).stdout;
  }

  /** Waits until the director's table on `host` satisfies `check` (what it forwards to). */
  async function programmed(host: number, what: string, check: (table: string) => boolean) {
    await waitFor(`the director's table on h${host + 1} to ${what}`, async () =>
      check(await table(host)) ? true : undefined,
    );
  }

  /**
   * The client's answers to `requests` new connections, counted while the director's table on
   * `host` says `what` from the first request to the last: a check that flapped on a loaded
   * machine (a try past its timeout) would reprogram it midway and mix two spreads in one count.
   */
  async function count(
    host: number,
    what: string,
    expected: (table: string) => boolean,
    requests = REQUESTS,
  ): Promise<Counted> {
    for (let attempt = 1; ; attempt++) {
      await programmed(host, what, expected);
      const before = await table(host);
      const done = await client.exec(
        process.execPath,
        [CLIENT, vip, String(SERVICE_PORT), String(requests)],
        { timeoutMs: 60_000 },
      );
      assert.equal(done.code, 0, `the client failed: ${done.stderr}`);
      if ((await table(host)) === before || attempt === 5)
        return JSON.parse(done.stdout) as Counted;
    }
  }

  /** Each server's answers are its share of `requests` by weight, within a tenth of them. */
  function assertSpread(counted: Counted, shares: Record<string, number>, requests = REQUESTS) {
    assert.deepEqual(counted.failures, {}, `failed requests: ${JSON.stringify(counted)}`);
    const total = Object.values(shares).reduce((a, b) => a + b, 0);
    assert.deepEqual(
      Object.keys(counted.answers).sort(),
      Object.keys(shares).sort(),
      `answered by: ${JSON.stringify(counted.answers)}`,
    );
    for (const [name, share] of Object.entries(shares)) {
      const expected = (requests * share) / total;
      const got = counted.answers[name] ?? 0;
      assert.ok(
        Math.abs(got - expected) <= requests / 10,
        `${name} answered ${got} of ${requests}, expected about ${expected}: ${JSON.stringify(counted.answers)}`,
      );
    }
  }

  const addressOf = (index: number) => realServers[index]!.address(0).replaceAll(".", "\\.");
  /** The table forwards to exactly these real servers (by index), in a map or alone. */
  const forwardsTo =
    (...indices: number[]) =>
    (t: string) =>
      [0, 1, 2].every(
        (i) => new RegExp(`${addressOf(i)}( \\. |:)${SERVER_PORT}`).test(t) === indices.includes(i),
      );
  const EVERY = "forward to every real server";
  const ALL = forwardsTo(0, 1, 2);

  test("new connections are spread by weight, and the real servers see the director's address", async () => {
    const host = await director();
    const counted = await count(host, EVERY, ALL);
    assertSpread(counted, { rs1: 3, rs2: 2, rs3: 1 });
    assert.deepEqual(Object.keys(counted.seenFrom), [lab.host(host).address(0)]);
  });

  test("a real server failing its check gets no new connections; after rise it gets its share again", async (context) => {
    const host = await director();
    await programmed(host, EVERY, ALL);
    const failedAt = Date.now();
    await writeFile(downFile("rs1"), "");
    await programmed(host, "leave rs1 out", forwardsTo(1, 2));
    context.diagnostic(
      `rs1 left the table ${Date.now() - failedAt} ms after its check began failing (fall × interval = ${CHECK.fall * CHECK.interval_ms} ms)`,
    );
    assertSpread(await count(host, "leave rs1 out", forwardsTo(1, 2)), { rs2: 2, rs3: 1 });

    const backAt = Date.now();
    await rm(downFile("rs1"));
    await programmed(host, "take rs1 back", ALL);
    context.diagnostic(
      `rs1 was back ${Date.now() - backAt} ms after its check passed again (rise × interval = ${CHECK.rise * CHECK.interval_ms} ms)`,
    );
    assertSpread(await count(host, EVERY, ALL), { rs1: 3, rs2: 2, rs3: 1 });
  });

  test("an established connection stays with its real server when that server leaves the table", async () => {
    const host = await director();
    await programmed(host, EVERY, ALL);
    const go = join(lab.dir, "held-connection.go");
    const held = client.spawn(process.execPath, [HELD_CLIENT, vip, String(SERVICE_PORT), go]);
    const first = (await held.waitForLine(/^first /, 10_000, "stdout")).split(" ")[1] ?? "";
    const index = NAMES.indexOf(first as (typeof NAMES)[number]);
    assert.ok(index >= 0, `the first answer came from ${first}`);
    const others = [0, 1, 2].filter((i) => i !== index);
    await writeFile(downFile(first), "");
    try {
      await programmed(host, `leave ${first} out`, forwardsTo(...others));
      await writeFile(go, "");
      const second = await held.waitForLine(/^second /, 10_000, "stdout");
      assert.equal(second, `second ${first} reused=true`);
      // New connections meanwhile go to the others only.
      const counted = await count(host, `leave ${first} out`, forwardsTo(...others), 12);
      assert.equal(counted.answers[first], undefined);
    } finally {
      await rm(downFile(first), { force: true });
    }
    await programmed(host, `take ${first} back`, ALL);
  });

  test("every real server failing: the sorry server answers; back to the real servers after", async () => {
    const host = await director();
    const sorry = new RegExp(
      `dnat to ${lab.clients[4]!.address(0).replaceAll(".", "\\.")}:${SERVER_PORT}`,
    );
    for (const name of NAMES) await writeFile(downFile(name), "");
    try {
      const counted = await count(
        host,
        "forward to the sorry server alone",
        (t) => sorry.test(t),
        20,
      );
      assert.deepEqual(counted.answers, { sorry: 20 }, JSON.stringify(counted));
    } finally {
      for (const name of NAMES) await rm(downFile(name), { force: true });
    }
    assertSpread(await count(host, EVERY, ALL), { rs1: 3, rs2: 2, rs3: 1 });
  });

  test("the director's host powered off: another host directs, with the same spread", async () => {
    const old = await director();
    await lab.powerOff(old);
    const next = await director((host) => host !== old);
    const counted = await count(next, EVERY, ALL);
    assertSpread(counted, { rs1: 3, rs2: 2, rs3: 1 });
    assert.deepEqual(Object.keys(counted.seenFrom), [lab.host(next).address(0)]);
    // The old director's table died with its host; the third host never had one.
    for (const host of lab.hosts.keys())
      if (host !== old && host !== next) assert.equal(await table(host), "");
  });
});
