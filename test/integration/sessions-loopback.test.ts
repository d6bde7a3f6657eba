import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { after, before, describe, test } from "node:test";
import { connect, type VigilClient } from "../../src/client/index.js";
import { freeUdpPorts, LocalCluster } from "../../src/demo/local-cluster.js";
import { assertTakenAfterLockDelay, Contender } from "../support/election-contender.js";
import { enableApi, OPERATE_TOKEN, READ_TOKEN } from "../support/local-api.js";
import { echoResourceLines, runLocalVigil, stopProbedCluster } from "../support/local-takeover.js";
import { waitFor } from "../support/wait.js";

/**
 * Sessions and locks on three real agents on loopback, with the client package and the
 * leader-election example (examples/leader-election.mjs, run as a separate process so that it
 * can be paused): a lock goes to one client only, over the control socket or the API; a watch
 * follows a resource that moves; a bad client is disconnected; a holder paused past its TTL loses the lock to another only after the
 * lock-delay, and learns it lost its session when it wakes. A holder's node dying:
 * sessions-netns.test.ts.
 */

describe("sessions and locks on loopback", () => {
  let dir: string;
  let cluster: LocalCluster;
  const clients: VigilClient[] = [];
  const contenders: Contender[] = [];

  const state = (node = "alpha") => cluster.state(node);
  const contender = (node: string, key: string, ttlMs: number, lockDelayMs: number) => {
    const started = new Contender(cluster.socketPath(node), key, ttlMs, lockDelayMs);
    contenders.push(started);
    return started;
  };

  let apiUrls: Map<string, string>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-sessions-"));
    cluster = await LocalCluster.create({ nodes: 3, dir, profile: "default" });
    apiUrls = await enableApi(cluster, dir);
    for (const name of cluster.names) await cluster.start(name);
    await waitFor("every node to have probed", async () => {
      const applied = await state();
      return cluster.names.every((name) => applied.agents[name] !== undefined) ? true : undefined;
    });
  });

  after(async () => {
    for (const client of clients) client.close();
    for (const started of contenders) started.kill();
    await stopProbedCluster(dir, cluster);
  });

  test("two clients compete for a lock: one gets it, the other is told who holds it", async () => {
    const first = connect({ socket: cluster.socketPath("alpha") });
    const second = connect({ socket: cluster.socketPath("beta") });
    clients.push(first, second);
    const firstSession = await first.openSession({ name: "first", ttlMs: 5000, lockDelayMs: 1000 });
    const secondSession = await second.openSession({ name: "second", ttlMs: 5000 });
    const won = await first.acquire("compete");
    const lost = await second.acquire("compete");
    assert.equal(won.acquired, true);
    assert.equal(lost.acquired, false);
    assert.equal(lost.acquired ? "" : lost.code, "held");
    assert.equal(lost.acquired ? "" : lost.holder, firstSession);
    // Every node applies the same: gamma, which took part in neither, once it has caught up.
    const committed = await waitFor("gamma to apply the acquire", async () => {
      const applied = await state("gamma");
      return applied.locks?.compete === undefined ? undefined : applied;
    });
    assert.deepEqual(committed.locks?.compete, {
      session: firstSession,
      acquiredAtMs: won.acquired ? won.atMs : 0,
    });
    assert.equal(committed.sessions?.[secondSession]?.node, "beta");
    const list = await runLocalVigil("lock", "list", "--socket", cluster.socketPath("gamma"));
    assert.match(list.stdout, new RegExp(`^compete +held by ${firstSession} +first on alpha`, "m"));
    const sessions = await runLocalVigil("session", "list", "--socket", cluster.socketPath("beta"));
    assert.match(sessions.stdout, new RegExp(`^${secondSession} +second +beta +5000 ms`, "m"));
    const status = await runLocalVigil("status", "--socket", cluster.socketPath("beta"));
    assert.match(
      status.stdout,
      /^Sessions: 2 open \(1 on this node, 1 connected here\), 1 lock held/m,
    );
    // A client's destroy frees its locks at once.
    await first.destroy();
    const taken = await second.acquire("compete");
    assert.equal(taken.acquired, true);
    await second.destroy();
  });

  test("over the API: an operate token opens a session; a read token is refused (403)", async () => {
    const { hostname, port } = new URL(apiUrls.get("beta") ?? "");
    const operator = connect({ host: hostname, port: Number(port), token: OPERATE_TOKEN });
    clients.push(operator);
    const session = await operator.openSession({ name: "over-api", ttlMs: 5000 });
    assert.equal((await operator.acquire("api-lock")).acquired, true);
    assert.equal((await state("beta")).sessions?.[session]?.node, "beta");
    await operator.destroy();
    const reader = connect({ host: hostname, port: Number(port), token: READ_TOKEN });
    clients.push(reader);
    const refused = await new Promise<string>((resolve) =>
      reader.once("reconnecting", ({ reason }) => resolve(reason)),
    );
    reader.close();
    assert.match(refused, /refused \(403\).*needs an operate token/);
  });

  test("a watch tells where a resource runs, and again when it moves", async () => {
    const [port] = (await freeUdpPorts(1)) as [number];
    await cluster.applyResources(
      "alpha",
      ["resources:", ...echoResourceLines(dir, port), ""].join("\n"),
    );
    const watcher = connect({ socket: cluster.socketPath("gamma") });
    clients.push(watcher);
    const moves: Array<string | null> = [];
    watcher.on("primaryMoved", ({ resource, node }) => {
      if (resource === "echo") moves.push(node);
    });
    await watcher.watch("echo");
    const first = await waitFor("echo to run somewhere", () => moves.find((node) => node !== null));
    const target = cluster.names.find((name) => name !== first) ?? "";
    const moved = await runLocalVigil(
      "resource",
      "move",
      "echo",
      target,
      "--socket",
      cluster.socketPath("alpha"),
    );
    assert.equal(moved.code, 0, moved.stderr);
    await waitFor(`a primaryMoved to ${target}`, () =>
      moves.at(-1) === target ? true : undefined,
    );
    const committed = await state("gamma");
    assert.equal(committed.resources.echo?.[target]?.active, "started");
  });

  test("a bad client is answered with an error and disconnected; the agent carries on", async () => {
    const socket = await new Promise<Duplex>((resolve, reject) => {
      const upgrade = request({
        socketPath: cluster.socketPath("alpha"),
        path: "/v1/session",
        headers: { connection: "Upgrade", upgrade: "vigil-session" },
      });
      upgrade.on("upgrade", (_response, upgraded: Duplex) => resolve(upgraded));
      upgrade.on("response", (response) => reject(new Error(`no upgrade: ${response.statusCode}`)));
      upgrade.on("error", reject);
      upgrade.end();
    });
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      answer += chunk;
    });
    const closed = new Promise((resolve) => socket.on("close", resolve));
    socket.write(`${JSON.stringify({ op: "acquire", id: 1, key: "../../etc" })}\n`);
    await closed;
    const lines = answer
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    assert.equal(lines.at(-1).op, "error");
    assert.match(lines.at(-1).error, /key: expected a lock key/);
    assert.equal((await cluster.status("alpha")).node.name, "alpha");
  });

  test("the holder is paused past its TTL: the lock goes to the other only after the lock-delay, and the holder learns it lost it when it wakes", async () => {
    const ttlMs = 2000;
    const lockDelayMs = 3000;
    const holder = contender("beta", "pause", ttlMs, lockDelayMs);
    const lead = await holder.wait("the holder to lead", (line) => line.event === "leader");
    const other = contender("alpha", "pause", ttlMs, lockDelayMs);
    await other.wait("the other to be refused", (line) => line.code === "held");
    holder.child.kill("SIGSTOP");
    const took = await other.wait("the other to lead", (line) => line.event === "leader");
    assertTakenAfterLockDelay(await state("beta"), {
      key: "pause",
      lost: lead.session ?? "",
      winner: took.session ?? "",
      reason: "ttl",
      lockDelayMs,
    });
    const seen = holder.lines.length;
    holder.child.kill("SIGCONT");
    const lostLine = await holder.wait(
      "the woken holder to learn it lost its session",
      (line) => line.event === "sessionLost",
      seen,
    );
    assert.equal(lostLine.session, lead.session);
    // It competes again with a new session, and is refused: the other holds the lock.
    const refused = await holder.wait(
      "the woken holder to be refused",
      (line) => line.event === "follower" && line.code === "held",
      seen,
    );
    assert.ok(refused.atMs >= lostLine.atMs);
    const afterWake = holder.lines.slice(seen);
    assert.ok(
      afterWake.every((line) => line.event !== "leader"),
      JSON.stringify(afterWake),
    );
  });
});
