import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse } from "yaml";
import type { RawConfig } from "../../src/config/schema.js";
import type { AgentStatus } from "../../src/control/status-reply.js";
import { LOCAL_LINKS, LocalCluster } from "../../src/demo/local-cluster.js";
import { MessageType } from "../../src/wire/message.js";
import { removeTestDir } from "../support/remove-dir.js";
import { waitFor } from "../support/wait.js";

// Header offsets of the wire format (src/wire/message.ts): the spy only sorts what it captured.
const OFF_TYPE = 3;
const OFF_SENDER = 10;
const BETA_ID = 2;

interface Captured {
  link: string;
  bytes: Buffer;
}

/**
 * An attacker on the network: it owns the ports of a configured node that never runs (gamma),
 * so the agents send it the very frames they send each other, and it can send any of them to
 * any agent again later.
 */
class Spy {
  private readonly sockets = new Map<string, Socket>();
  private captured: Captured[] = [];

  static async bind(ports: Record<string, number>): Promise<Spy> {
    const spy = new Spy();
    for (const [link, port] of Object.entries(ports)) {
      const socket = createSocket("udp4");
      socket.on("message", (bytes) => spy.captured.push({ link, bytes }));
      await new Promise<void>((resolve) => socket.bind(port, "127.0.0.1", resolve));
      spy.sockets.set(link, socket);
    }
    return spy;
  }

  clear(): void {
    this.captured = [];
  }

  framesOf(senderId: number, type: MessageType): Captured[] {
    return this.captured.filter(
      ({ bytes }) => bytes.readUInt16BE(OFF_SENDER) === senderId && bytes[OFF_TYPE] === type,
    );
  }

  async replay(frames: readonly Captured[], ports: Record<string, number>): Promise<void> {
    for (const { link, bytes } of frames) {
      const socket = this.sockets.get(link)!;
      await new Promise<void>((resolve, reject) =>
        socket.send(bytes, ports[link], "127.0.0.1", (error) =>
          error ? reject(error) : resolve(),
        ),
      );
      // Paced like the heartbeats were, so the detector would have every chance to see them.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): void {
    for (const socket of this.sockets.values()) socket.close();
  }
}

/**
 * Frames an agent accepted before it restarted, sent to it again after the restart: a peer's
 * Leave must not mark the live peer left, and a powered-off peer's heartbeats must not bring it
 * up. Two real agents on loopback (alpha, beta) and the spy in gamma's place.
 */
describe("frames replayed at a restarted agent", () => {
  let dir: string;
  let cluster: LocalCluster;
  let spy: Spy;
  let alphaPorts: Record<string, number>;

  const beta = (status: AgentStatus) => status.nodes.find((node) => node.name === "beta")!;
  const waitUntil = (what: string, check: (s: AgentStatus) => boolean) =>
    waitFor(`alpha to see ${what}`, async () => {
      const status = await cluster.status("alpha");
      return check(status) ? status : undefined;
    });
  /**
   * A run older than the one alpha recorded is stale; the recorded one is unproven. Which one
   * beta's old run is depends on whether alpha's record of beta's new run was on disk before
   * the kill (a write of milliseconds, longer on a loaded machine): both refuse it.
   */
  const refusedAsOld = (status: AgentStatus) =>
    status.rejects.stale_incarnation + status.rejects.unproven_fresh;
  const restartAlpha = async () => {
    const before = (await cluster.status("alpha")).node.incarnation;
    await cluster.signal("alpha", "SIGKILL");
    await cluster.start("alpha");
    return waitUntil("its new run answer", (s) => s.node.incarnation > before);
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-replay-"));
    cluster = await LocalCluster.create({ nodes: 3, dir, profile: "default" });
    const config = parse(await readFile(cluster.configPath, "utf8")) as RawConfig;
    const portsOf = (name: string) => {
      const node = config.nodes.find((candidate) => candidate.name === name)!;
      return Object.fromEntries(
        LOCAL_LINKS.map((link) => [link, (node.links[link] as { port: number }).port]),
      );
    };
    alphaPorts = portsOf("alpha");
    spy = await Spy.bind(portsOf("gamma"));
    await cluster.start("alpha");
    await cluster.start("beta");
    await waitUntil("beta up", (s) => beta(s).state === "up");
  });

  after(async () => {
    await cluster?.stopAll();
    spy?.close();
    await removeTestDir(dir);
  });

  test("a peer's Leave replayed after the restart: the live peer is not marked left", async () => {
    spy.clear();
    await cluster.signal("beta", "SIGTERM");
    // Sent before beta exited, but the spy's socket may be read after the exit is noticed.
    const leaves = await waitFor("the spy to capture beta's Leave on every link", () => {
      const frames = spy.framesOf(BETA_ID, MessageType.Leave);
      return frames.length >= 2 ? frames : undefined;
    });
    const oldRun = beta(await waitUntil("beta left", (s) => beta(s).state === "left")).incarnation!;
    await cluster.start("beta");
    await waitUntil("beta's new run up", (s) => (beta(s).incarnation ?? 0) > oldRun);
    // Paused, so the restarted alpha hears nothing of beta before the replay arrives.
    await cluster.signal("beta", "SIGSTOP");
    try {
      await restartAlpha();
      await spy.replay(leaves, alphaPorts);
      const status = await waitUntil(
        "every replayed Leave refused or taken",
        (s) => refusedAsOld(s) >= leaves.length || (s.eventCounts.node_left ?? 0) > 0,
      );
      assert.equal(status.eventCounts.node_left ?? 0, 0, "no node_left after the replay");
      assert.notEqual(beta(status).state, "left");
      assert.equal(refusedAsOld(status), leaves.length);
    } finally {
      await cluster.signal("beta", "SIGCONT");
    }
    // The run alpha heard before its restart is taken up again once a frame proves it fresh.
    const status = await waitUntil("beta up again", (s) => beta(s).state === "up");
    assert.ok((beta(status).incarnation ?? 0) > oldRun);
  });

  test("a powered-off peer's heartbeats replayed after the restart: it does not come up", async () => {
    spy.clear();
    await waitFor("the spy to capture beta's heartbeats", () =>
      spy.framesOf(BETA_ID, MessageType.Heartbeat).length >= 20 ? true : undefined,
    );
    await cluster.signal("beta", "SIGKILL");
    const heartbeats = spy.framesOf(BETA_ID, MessageType.Heartbeat);
    await waitUntil("beta dead", (s) => beta(s).state === "dead");
    await restartAlpha();

    const seenUp: string[] = [];
    let replaying = true;
    const watching = (async () => {
      while (replaying) {
        const status = await cluster.status("alpha");
        if (beta(status).state === "up") seenUp.push(`beta up at ${status.nowMs}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    try {
      await spy.replay(heartbeats, alphaPorts);
    } finally {
      replaying = false;
      await watching;
    }
    const status = await waitUntil(
      "every replayed heartbeat refused or taken",
      (s) => s.rejects.unproven_fresh >= heartbeats.length || beta(s).state === "up",
    );
    assert.deepEqual(seenUp, [], "beta never showed up while its capture was replayed");
    assert.notEqual(beta(status).state, "up");
    assert.equal(status.eventCounts.node_up ?? 0, 0, "no node_up in the restarted run");
    assert.equal(status.rejects.unproven_fresh, heartbeats.length);
  });
});
