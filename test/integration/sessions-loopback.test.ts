import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { after, before, describe, test } from "node:test";
import { connect, type VigilClient } from "../../src/client/index.js";
import { LocalCluster } from "../../src/demo/local-cluster.js";
import type { ClusterState, SessionEnd } from "../../src/state/types.js";
import { enableApi, OPERATE_TOKEN, READ_TOKEN } from "../support/local-api.js";
import { runLocalVigil, stopProbedCluster } from "../support/local-takeover.js";
import { waitFor } from "../support/wait.js";

/**
 * Sessions and locks on three real agents on loopback, with the client package and the
 * leader-election example (examples/leader-election.mjs, run as a separate process so that it
 * can be paused or outlive its agent): a lock goes to one client only; a holder whose node dies
 * loses its session and the lock goes to another only after the lock-delay; a holder paused
 * past its TTL likewise, and learns it lost the session when it wakes.
 */

interface ElectionLine {
  event: string;
  atMs: number;
  session?: string;
  code?: string;
  reason?: string;
  acquiredAtMs?: number;
}

/** One copy of the example, its stdout read line by line. */
class Contender {
  readonly lines: ElectionLine[] = [];
  readonly child: ChildProcess;

  constructor(socket: string, key: string, ttlMs: number, lockDelayMs: number) {
    this.child = spawn(
      process.execPath,
      [
        "examples/leader-election.mjs",
        "--socket",
        socket,
        "--key",
        key,
        "--ttl-ms",
        String(ttlMs),
        "--lock-delay-ms",
        String(lockDelayMs),
        "--retry-ms",
        "100",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let pending = "";
    this.child.stdout?.setEncoding("utf8");
    this.child.stdout?.on("data", (chunk: string) => {
      const parts = (pending + chunk).split("\n");
      pending = parts.pop() ?? "";
      for (const part of parts) if (part !== "") this.lines.push(JSON.parse(part) as ElectionLine);
    });
  }

  wait(what: string, match: (line: ElectionLine) => boolean, from = 0): Promise<ElectionLine> {
    return waitFor(what, () => this.lines.slice(from).find(match), { timeoutMs: 30_000 });
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

describe("sessions and locks on loopback", () => {
  let dir: string;
  let cluster: LocalCluster;
  const clients: VigilClient[] = [];
  const contenders: Contender[] = [];

  const state = (node = "alpha") => cluster.state(node);
  const endOf = (s: ClusterState, session: string): SessionEnd | undefined =>
    s.sessionEnds?.find((end) => end.session === session);
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
    for (const started of contenders) {
      started.child.kill("SIGCONT");
      started.kill();
    }
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

  test("the holder's node dies: its session ends (node_dead) within its TTL, and the lock goes to the other client only after the lock-delay", async () => {
    const ttlMs = 8000;
    const lockDelayMs = 2000;
    const holder = contender("gamma", "node-death", ttlMs, lockDelayMs);
    const lead = await holder.wait("the holder to lead", (line) => line.event === "leader");
    const other = contender("alpha", "node-death", ttlMs, lockDelayMs);
    await other.wait("the other to be refused", (line) => line.code === "held");
    const killedAtMs = Date.now();
    await cluster.signal("gamma", "SIGKILL");
    const took = await other.wait("the other to lead", (line) => line.event === "leader");
    const committed = await state("alpha");
    const end = endOf(committed, lead.session ?? "");
    assert.equal(end?.reason, "node_dead");
    assert.ok(end.atMs - killedAtMs < ttlMs, `ended ${end.atMs - killedAtMs} ms after the kill`);
    const lock = committed.locks?.["node-death"];
    assert.ok(lock !== undefined && "session" in lock && lock.session === took.session);
    assert.ok(
      lock.acquiredAtMs >= end.atMs + lockDelayMs,
      `acquired at ${lock.acquiredAtMs}, the session ended at ${end.atMs}`,
    );
    // The holder, cut off from its agent, stops believing it leads.
    await holder.wait("the holder to learn it lost its session", (l) => l.event === "sessionLost");
    holder.kill();
    other.kill();
    await cluster.start("gamma");
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
    const committed = await state("beta");
    const end = endOf(committed, lead.session ?? "");
    assert.equal(end?.reason, "ttl");
    const lock = committed.locks?.pause;
    assert.ok(lock !== undefined && "session" in lock && lock.session === took.session);
    assert.ok(
      lock.acquiredAtMs >= end.atMs + lockDelayMs,
      `acquired at ${lock.acquiredAtMs}, the session ended at ${end.atMs}`,
    );
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
