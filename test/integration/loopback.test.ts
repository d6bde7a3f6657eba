import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { TIMING_PROFILES } from "../../src/config/schema.js";
import type { AgentStatus } from "../../src/control/status-reply.js";
import { LocalCluster } from "../../src/demo/local-cluster.js";
import type { MembershipEvent } from "../../src/membership/types.js";
import { removeTestDir } from "../support/remove-dir.js";
import { waitFor } from "../support/wait.js";

const TIMING = TIMING_PROFILES.default;

/** Three real agent processes on loopback, two ucast links each: the demo's cluster. */
describe("three agents on loopback", () => {
  let dir: string;
  let cluster: LocalCluster;

  const peerState = (status: AgentStatus, name: string) =>
    status.nodes.find((node) => node.name === name);

  const waitUntil = (observer: string, what: string, check: (s: AgentStatus) => boolean) =>
    waitFor(`${observer} to see ${what}`, async () => {
      const status = await cluster.status(observer);
      return check(status) ? status : undefined;
    });

  const findEvent = <T extends MembershipEvent["type"]>(
    status: AgentStatus,
    type: T,
    match: (event: Extract<MembershipEvent, { type: T }>) => boolean,
  ) =>
    status.recentEvents.find(
      (event): event is Extract<MembershipEvent, { type: T }> =>
        event.type === type && match(event as Extract<MembershipEvent, { type: T }>),
    );

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-loopback-"));
    cluster = await LocalCluster.create({ nodes: 3, dir, profile: "default" });
    for (const name of cluster.names) await cluster.start(name);
    for (const name of cluster.names) {
      await waitUntil(name, "every peer up on both links", (status) =>
        status.nodes.every(
          (node) => node.state === "up" && node.links.every((link) => link.state === "up"),
        ),
      );
    }
  });

  after(async () => {
    await cluster?.stopAll();
    await removeTestDir(dir);
  });

  test("kill -9: the peers declare it dead within deadtime + one interval", async () => {
    const before = await cluster.status("alpha");
    const incarnation = peerState(before, "gamma")?.incarnation;
    await cluster.signal("gamma", "SIGKILL");
    for (const observer of ["alpha", "beta"]) {
      const status = await waitUntil(
        observer,
        "gamma dead",
        (s) => peerState(s, "gamma")?.state === "dead",
      );
      const dead = findEvent(status, "node_dead", (event) => event.name === "gamma");
      assert.ok(dead, `${observer} published node_dead for gamma`);
      assert.equal(dead.reason, "timeout");
      assert.equal(dead.incarnation, incarnation);
      assert.ok(
        dead.silentMs > TIMING.deadtime_ms &&
          dead.silentMs <= TIMING.deadtime_ms + TIMING.keepalive_ms,
        `${observer} declared gamma dead after ${dead.silentMs} ms of silence; expected (${TIMING.deadtime_ms}, ${TIMING.deadtime_ms + TIMING.keepalive_ms}]`,
      );
    }
  });

  test("restart: the peers see a new incarnation come up", async () => {
    const before = peerState(await cluster.status("alpha"), "gamma")?.incarnation;
    assert.ok(before !== null && before !== undefined);
    await cluster.start("gamma");
    const status = await waitUntil("alpha", "gamma up again", (s) => {
      const gamma = peerState(s, "gamma");
      return gamma?.state === "up" && (gamma.incarnation ?? 0) > before;
    });
    const up = findEvent(status, "node_up", (e) => e.name === "gamma" && e.incarnation !== before);
    assert.equal(up?.previousIncarnation, before);
    const gammaView = await waitUntil("gamma", "both peers up", (s) =>
      s.nodes.every((node) => node.state === "up"),
    );
    assert.ok(gammaView.node.incarnation > before);
  });

  test("SIGSTOP: declared dead after the deadtime; SIGCONT: up again, same incarnation", async () => {
    const incarnation = peerState(await cluster.status("alpha"), "beta")?.incarnation;
    const deathsSeenByBeta = (await cluster.status("beta")).eventCounts.node_dead ?? 0;
    await cluster.signal("beta", "SIGSTOP");
    try {
      const status = await waitUntil(
        "alpha",
        "beta dead while paused",
        (s) => peerState(s, "beta")?.state === "dead",
      );
      const dead = findEvent(status, "node_dead", (event) => event.name === "beta");
      assert.equal(dead?.reason, "timeout");
    } finally {
      await cluster.signal("beta", "SIGCONT");
    }
    const status = await waitUntil(
      "alpha",
      "beta up after SIGCONT",
      (s) => peerState(s, "beta")?.state === "up",
    );
    assert.equal(peerState(status, "beta")?.incarnation, incarnation);
    // The paused agent noticed its own stall instead of declaring everyone dead.
    const betaView = await waitUntil("beta", "its peers up", (s) =>
      s.nodes.every((node) => node.state === "up"),
    );
    assert.ok(
      findEvent(betaView, "local_stall", () => true),
      "beta reported a local stall",
    );
    assert.equal(
      betaView.eventCounts.node_dead ?? 0,
      deathsSeenByBeta,
      "beta declared nobody dead because of its own pause",
    );
  });

  test("SIGTERM: the agent says goodbye and the peers mark it left, not dead", async () => {
    await cluster.signal("gamma", "SIGTERM");
    // Without the goodbye, gamma would turn dead after the deadtime; with it, left at once.
    const status = await waitUntil("alpha", "gamma gone", (s) =>
      ["left", "dead"].includes(peerState(s, "gamma")?.state ?? ""),
    );
    assert.equal(peerState(status, "gamma")?.state, "left");
    assert.ok(findEvent(status, "node_left", (e) => e.name === "gamma"));
  });
});
