import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { controlGet } from "../../src/control/client.js";
import type { AgentStatus } from "../../src/control/status-reply.js";
import { LocalCluster } from "../../src/demo/local-cluster.js";
import { runLocalVigil } from "../support/local-takeover.js";
import { removeTestDir } from "../support/remove-dir.js";
import { waitFor } from "../support/wait.js";

const _run = promisify(execFile);
/** Resources here must be harmless on a shared host: the marker agent only touches files. */
const MARKER = resolve("examples/agents/marker");

/** Three real agents on loopback agreeing through Raft over their heartbeat links. */
describe("coordination on loopback", () => {
  let dir: string;
  let cluster: LocalCluster;

  const vigil = runLocalVigil;
  const coordination = async (name: string) => {
    const status: AgentStatus = await cluster.status(name);
    if (status.coordination === null) throw new Error(`${name} has no coordination status`);
    return status.coordination;
  };
  /** The leader every running node agrees on, once they all agree. */
  const agreedLeader = (names: readonly string[]) =>
    waitFor(`${names.join(", ")} to agree on one leader`, async () => {
      const views = await Promise.all(names.map(coordination));
      const leaders = new Set(views.map((view) => view.leaderId));
      const leaderId = views[0]?.leaderId ?? null;
      if (leaders.size !== 1 || leaderId === null) return undefined;
      const leaderView = views.find((view) => view.id === leaderId);
      if (leaderView?.role !== "leader") return undefined;
      if (views.filter((view) => view.role === "leader").length !== 1) return undefined;
      return { leaderId, term: leaderView.term };
    });
  const nameOf = (id: number) => cluster.names[id - 1]!;
  const showOn = async (name: string) =>
    JSON.parse(
      (await vigil("config", "show", "--json", "--socket", cluster.socketPath(name))).stdout,
    ) as {
      text: string;
      configurationVersion: number;
    };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-coordination-"));
    cluster = await LocalCluster.create({ nodes: 3, dir, profile: "default" });
    for (const name of cluster.names) await cluster.start(name);
  });

  after(async () => {
    await cluster?.stopAll();
    await removeTestDir(dir);
  });

  test("one leader is elected and every node reports it, with quorum", async () => {
    const { leaderId } = await agreedLeader(cluster.names);
    // Right after the election the leader's first entry may still be on its way to a quorum.
    const view = await waitFor("the leader to commit its first entry with a quorum", async () => {
      const current = await coordination(nameOf(leaderId));
      return current.commitIndex >= 1 && current.votesPresent >= 2 ? current : undefined;
    });
    assert.equal(view.votesNeeded, 2);
    assert.equal(view.role, "leader");
  });

  test("idle Raft traffic rides on the heartbeats, both ways; second copies are dropped on arrival", async () => {
    const { leaderId } = await agreedLeader(cluster.names);
    const leader = nameOf(leaderId);
    const follower = cluster.names.find((name) => name !== leader)!;
    const counters = async (name: string) => {
      const status: AgentStatus = await cluster.status(name);
      if (status.clusterTransport === null) throw new Error(`${name} has no transport counters`);
      return status.clusterTransport;
    };
    // Past the election's own traffic (the first entry, followers catching up): idle from here.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const [leaderBefore, followerBefore] = [await counters(leader), await counters(follower)];
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const [leaderAfter, followerAfter] = [await counters(leader), await counters(follower)];
    const delta = (key: "sent" | "attached" | "received" | "duplicates") => ({
      leader: leaderAfter[key] - leaderBefore[key],
      follower: followerAfter[key] - followerBefore[key],
    });
    const [attached, alone] = [delta("attached"), delta("sent")];
    const report = JSON.stringify({ attached, alone });
    // ~20 appends to each of 2 followers in 2 s, ~20 answers from each; the odd one may go alone
    // (a step in flight, or the follower's heartbeats not yet in step with the leader's).
    assert.ok(attached.leader >= 20, report);
    assert.ok(alone.leader * 4 < attached.leader, report);
    assert.ok(attached.follower >= 10, report);
    assert.ok(alone.follower * 4 < attached.follower, report);
    // Each message arrives on both links: one copy is delivered, the other dropped.
    const [received, duplicates] = [delta("received"), delta("duplicates")];
    assert.ok(received.follower >= 10, JSON.stringify({ received, duplicates }));
    assert.ok(
      duplicates.follower >= received.follower / 2,
      JSON.stringify({ received, duplicates }),
    );
  });

  test("config apply on a follower commits everywhere; a stale base version is refused", async () => {
    const { leaderId } = await agreedLeader(cluster.names);
    const follower = cluster.names.find((name) => name !== nameOf(leaderId))!;
    const file = join(dir, "resources.yaml");
    await writeFile(
      file,
      `resources:\n  web: { agent: "exec:${MARKER}", params: { statedir: ${dir}, note: one } }\n`,
    );
    const applied = await vigil("config", "apply", file, "--socket", cluster.socketPath(follower));
    assert.equal(applied.code, 0, applied.stderr);
    for (const name of cluster.names) {
      const shown = await waitFor(`${name} to show the applied config`, async () => {
        const reply = await showOn(name);
        return reply.text.includes("note: one") ? reply : undefined;
      });
      // Probes and other runtime changes come first: the configuration's version is whatever
      // the state's version was when it committed, the same on every node.
      assert.ok(shown.configurationVersion >= 1);
    }
    await writeFile(
      file,
      `resources:\n  web: { agent: "exec:${MARKER}", params: { statedir: ${dir}, note: two } }\n`,
    );
    const stale = await vigil(
      "config",
      "apply",
      file,
      "--base-version",
      "0",
      "--socket",
      cluster.socketPath(follower),
    );
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /config is at version \d+, your change was based on version 0/);
    assert.match(stale.stderr, /v\d+ config apply/);
  });

  test("config apply refuses a document with broken references, pointing at the line", async () => {
    const file = join(dir, "broken.yaml");
    await writeFile(
      file,
      "resources:\n  web: { agent: vip }\ngroups:\n  stack: [web, db]\nconstraints:\n  - location: { resource: stack, node: node9, score: 100 }\n",
    );
    const result = await vigil("config", "apply", file, "--socket", cluster.socketPath("alpha"));
    assert.equal(result.code, 2);
    assert.match(result.stderr, /broken\.yaml:4:\d+: groups\.stack\[1\]: no resource named db/);
    assert.match(
      result.stderr,
      /broken\.yaml:6:\d+: constraints\[0\]\.location\.node: no node named node9/,
    );
  });

  test("kill -9 of the leader: a new leader, with the committed configuration intact", async () => {
    const before = await agreedLeader(cluster.names);
    const victim = nameOf(before.leaderId);
    await cluster.signal(victim, "SIGKILL");
    const survivors = cluster.names.filter((name) => name !== victim);
    const after = await agreedLeader(survivors);
    assert.notEqual(after.leaderId, before.leaderId);
    assert.ok(after.term > before.term);
    for (const name of survivors) assert.match((await showOn(name)).text, /note: one/);
  });

  test("the old leader restarts from its state directory and rejoins as a follower without an election", async () => {
    const down = cluster.names.find((name) => !cluster.isRunning(name))!;
    const before = await agreedLeader(cluster.names.filter((name) => name !== down));
    await cluster.start(down);
    const view = await waitFor(`${down} to follow the leader`, async () => {
      const c = await coordination(down).catch(() => undefined);
      return c?.leaderId === before.leaderId && c.role === "follower" ? c : undefined;
    });
    // Pre-vote kept the rejoining node from dragging the cluster into a new term.
    assert.equal(view.term, before.term);
    assert.equal((await agreedLeader(cluster.names)).term, before.term);
    assert.match((await showOn(down)).text, /note: one/);
  });

  test("vigil node remove / add change the voting membership one node at a time", async () => {
    const { leaderId } = await agreedLeader(cluster.names);
    const target = cluster.names.find((name) => name !== nameOf(leaderId))!;
    const via = cluster.names.find((name) => name !== target)!;
    const removed = await vigil("node", "remove", target, "--socket", cluster.socketPath(via));
    assert.equal(removed.code, 0, removed.stderr);
    const members = async () =>
      (await coordination(nameOf(leaderId))).membership.members.map((m) => m.id).sort();
    assert.equal((await members()).length, 2);
    const again = await vigil("node", "remove", target, "--socket", cluster.socketPath(via));
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is not a voting member/);
    const added = await vigil("node", "add", target, "--socket", cluster.socketPath(via));
    assert.equal(added.code, 0, added.stderr);
    assert.deepEqual(await members(), [1, 2, 3]);
    const unknown = await vigil("node", "add", "zulu", "--socket", cluster.socketPath(via));
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no node named zulu/);
  });

  test("vigil explain and vigil simulate read the committed configuration and change nothing", async () => {
    const file = join(dir, "placed.yaml");
    await writeFile(
      file,
      `resources:\n  web: { agent: "exec:${MARKER}", params: { statedir: ${dir} } }\nconstraints:\n  - location: { id: prefer-alpha, resource: web, node: alpha, score: 100 }\n`,
    );
    const applied = await vigil("config", "apply", file, "--socket", cluster.socketPath("beta"));
    assert.equal(applied.code, 0, applied.stderr);
    const socket = cluster.socketPath("alpha");
    await waitFor("alpha to have the placed configuration", async () =>
      (await showOn("alpha")).text.includes("prefer-alpha") ? true : undefined,
    );
    const explained = await vigil("explain", "web", "--socket", socket);
    assert.equal(explained.code, 0, explained.stderr);
    assert.match(explained.stdout, /web\s+alpha\s+100\s+.*prefer-alpha/);
    const simulated = await vigil("simulate", "--standby", "alpha", "--json", "--socket", socket);
    assert.equal(simulated.code, 0, simulated.stderr);
    const output = JSON.parse(simulated.stdout) as {
      placement: Record<string, Array<{ node: string }>>;
    };
    assert.equal(output.placement.web?.length, 1);
    assert.notEqual(output.placement.web?.[0]?.node, "alpha");
    const bad = await vigil("simulate", "--fail", "zulu", "--socket", socket);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /no node named zulu/);
  });

  test("vigil node standby / online and vigil maintenance on / off are committed cluster-wide", async () => {
    const socket = cluster.socketPath("gamma");
    const standby = await vigil("node", "standby", "beta", "--socket", socket);
    assert.equal(standby.code, 0, standby.stderr);
    await waitFor("alpha to see beta in standby", async () => {
      const explained = await vigil("explain", "web", "--socket", cluster.socketPath("alpha"));
      return /web\s+beta\s+-INFINITY\s+.*standby/.test(explained.stdout) ? true : undefined;
    });
    const maintenance = await vigil("maintenance", "on", "--socket", socket);
    assert.equal(maintenance.code, 0, maintenance.stderr);
    await waitFor("maintenance on everywhere", async () => {
      const state = await controlGet<{ maintenance: boolean }>(
        cluster.socketPath("alpha"),
        "/v1/state",
      );
      return state.maintenance ? true : undefined;
    });
    assert.equal((await vigil("node", "online", "beta", "--socket", socket)).code, 0);
    assert.equal((await vigil("maintenance", "off", "--socket", socket)).code, 0);
    const bad = await vigil("maintenance", "maybe", "--socket", socket);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /takes on or off/);
    const cleanup = await vigil("resource", "cleanup", "web", "--socket", socket);
    assert.equal(cleanup.code, 1);
    assert.match(cleanup.stderr, /no fail counts are recorded for web/);
    const unknown = await vigil("node", "standby", "zulu", "--socket", socket);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no node named zulu/);
  });
});
