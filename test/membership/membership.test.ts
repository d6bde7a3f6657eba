import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Membership } from "../../src/membership/membership.js";
import type { MembershipEvent } from "../../src/membership/types.js";
import { FakePeer, LINKS, newMembership, PHI, run, TIMING, types } from "./harness.js";

const bravo = () => new FakePeer(2, 1000);

function deadEvents(events: readonly MembershipEvent[]) {
  return events.filter((event) => event.type === "node_dead");
}

describe("membership table", () => {
  test("a peer heard on any link is up, with both links reported up", () => {
    const membership = newMembership();
    const peer = bravo();
    const events = run(membership, 0, 300, (t) => LINKS.map((link) => peer.heartbeat(link, t)));
    assert.deepEqual(types(events).slice(0, 3), [
      "node_up:2",
      "link_up:2:ring0",
      "link_up:2:ring1",
    ]);
    const [row] = membership.nodes(300);
    assert.equal(row?.state, "up");
    assert.equal(row?.incarnation, 1000);
    assert.deepEqual(
      row?.links.map((link) => [link.link, link.state]),
      [
        ["ring0", "up"],
        ["ring1", "up"],
      ],
    );
  });

  test("silence on every link: dead strictly after deadtime, with late warnings first", () => {
    const membership = newMembership();
    const peer = bravo();
    run(membership, 0, 1000, (t) => LINKS.map((link) => peer.heartbeat(link, t)));
    // Last heartbeat at 1000; tick at 1 ms resolution to find the exact moment.
    const events = run(membership, 1001, 3000, () => [], 1);
    const dead = deadEvents(events);
    assert.equal(dead.length, 1);
    assert.equal(dead[0]?.atMs, 1000 + TIMING.deadtime_ms + 1);
    assert.equal(dead[0]?.type === "node_dead" && dead[0].reason, "timeout");
    const late = events.filter((event) => event.type === "heartbeat_late");
    assert.equal(late.length, 2);
    assert.equal(late[0]?.atMs, 1000 + TIMING.warntime_ms + 1);
  });

  test("one link silent: the peer stays up and only that link goes down", () => {
    const membership = newMembership();
    const peer = bravo();
    run(membership, 0, 1000, (t) => LINKS.map((link) => peer.heartbeat(link, t)));
    const events = run(membership, 1100, 5000, (t) => {
      peer.lose("ring0");
      return [peer.heartbeat("ring1", t)];
    });
    assert.deepEqual(
      types(events).filter((type) => !type.startsWith("heartbeat_late")),
      ["link_down:2:ring0"],
    );
    const [row] = membership.nodes(5000);
    assert.equal(row?.state, "up");
    assert.equal(row?.links[0]?.state, "down");
    assert.equal(row?.links[1]?.state, "up");
  });

  test("20% random loss on both links never kills a live peer (fixed and phi)", () => {
    for (const detector of [{ type: "fixed" } as const, PHI]) {
      const membership = newMembership({ detector });
      const peer = bravo();
      let seed = 42;
      const random = () => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      const events = run(membership, 0, 600_000, (t) =>
        LINKS.flatMap((link) => {
          if (t > 0 && random() < 0.2) {
            peer.lose(link);
            return [];
          }
          return [peer.heartbeat(link, t)];
        }),
      );
      assert.equal(deadEvents(events).length, 0, `false death with ${detector.type} detector`);
      const row = membership.nodes(600_000)[0];
      assert.ok(row !== undefined && row.links[0]!.lossRatio! > 0.1, "loss is measured");
    }
  });

  test("a peer never heard is dead after initdead, not before", () => {
    const membership = newMembership({ startedAtMs: 500 });
    const events = run(membership, 500, 20_000, () => []);
    const dead = deadEvents(events);
    assert.equal(dead.length, 1);
    assert.ok(dead[0]!.atMs > 500 + TIMING.initdead_ms);
    assert.ok(dead[0]!.atMs <= 500 + TIMING.initdead_ms + TIMING.keepalive_ms);
    assert.equal(dead[0]?.type === "node_dead" && dead[0].reason, "never_seen");
  });

  test("liveLinks lists the links a peer is heard on, up before late", () => {
    const membership = newMembership();
    const peer = bravo();
    assert.deepEqual(membership.liveLinks(2), []);
    run(membership, 0, 1000, (t) => LINKS.map((link) => peer.heartbeat(link, t)));
    assert.deepEqual(membership.liveLinks(2), ["ring0", "ring1"]);
    // ring0 goes quiet: late, then down; ring1 keeps going.
    run(membership, 1100, 1500, (t) => [peer.heartbeat("ring1", t)]);
    assert.deepEqual(membership.liveLinks(2), ["ring1", "ring0"]);
    run(membership, 1600, 2500, (t) => [peer.heartbeat("ring1", t)]);
    assert.deepEqual(membership.liveLinks(2), ["ring1"]);
  });

  test("a restarted peer is a new incarnation: old one dead (restarted), new one up", () => {
    const membership = newMembership();
    const peer = bravo();
    run(membership, 0, 1000, (t) => LINKS.map((link) => peer.heartbeat(link, t)));
    peer.restart(2000);
    const events = membership.onHeartbeat(1100, peer.heartbeat("ring0", 1100));
    assert.deepEqual(types(events), ["node_dead:2", "node_up:2"]);
    const [dead, up] = events;
    assert.equal(dead?.type === "node_dead" && dead.reason, "restarted");
    assert.equal(dead?.type === "node_dead" && dead.incarnation, 1000);
    assert.equal(up?.type === "node_up" && up.incarnation, 2000);
    assert.equal(up?.type === "node_up" && up.previousIncarnation, 1000);
    // Stragglers of the old incarnation change nothing.
    const old = new FakePeer(2, 1000);
    assert.deepEqual(membership.onHeartbeat(1110, old.heartbeat("ring1", 1110)), []);
    assert.equal(membership.nodes(1110)[0]?.incarnation, 2000);
  });

  test("a paused peer (same incarnation) is declared dead, then up again when it resumes", () => {
    const membership = newMembership();
    const peer = bravo();
    run(membership, 0, 1000, (t) => LINKS.map((link) => peer.heartbeat(link, t)));
    const paused = run(membership, 1100, 4000, () => []);
    assert.deepEqual(deadEvents(paused).length, 1);
    const resumed = membership.onHeartbeat(4100, peer.heartbeat("ring0", 4100));
    assert.deepEqual(types(resumed), ["node_up:2", "link_up:2:ring0"]);
    assert.equal(membership.nodes(4100)[0]?.state, "up");
  });

  test("leave marks the peer left at once; copies and old heartbeats are ignored", () => {
    const membership = newMembership();
    const peer = bravo();
    run(membership, 0, 1000, (t) => LINKS.map((link) => peer.heartbeat(link, t)));
    assert.deepEqual(types(membership.onLeave(1010, { nodeId: 2, incarnation: 1000 })), [
      "node_left:2",
    ]);
    assert.deepEqual(membership.onLeave(1011, { nodeId: 2, incarnation: 1000 }), []);
    assert.deepEqual(membership.onHeartbeat(1012, peer.heartbeat("ring0", 1012)), []);
    assert.deepEqual(deadEvents(run(membership, 1100, 5000, () => [])), []);
    assert.equal(membership.nodes(5000)[0]?.state, "left");
    peer.restart(3000);
    assert.deepEqual(types(membership.onHeartbeat(5100, peer.heartbeat("ring0", 5100))), [
      "node_up:2",
      "link_up:2:ring0",
    ]);
  });

  test("a stall of this process is reported and does not kill live peers", () => {
    const membership = newMembership();
    const peer = bravo();
    run(membership, 0, 1000, (t) => LINKS.map((link) => peer.heartbeat(link, t)));
    // We were stopped for 5 s: the next thing to run is our tick.
    const afterStall = membership.tick(6000);
    assert.deepEqual(types(afterStall), ["local_stall:"]);
    // The peer's queued heartbeats arrive right after: it stays up throughout.
    const events = run(membership, 6010, 8000, (t) => LINKS.map((link) => peer.heartbeat(link, t)));
    assert.deepEqual(deadEvents(events), []);
    assert.equal(membership.nodes(8000)[0]?.state, "up");
  });

  test("a peer that died during our stall is found one deadtime after we resume", () => {
    const membership = newMembership();
    const peer = bravo();
    run(membership, 0, 1000, (t) => LINKS.map((link) => peer.heartbeat(link, t)));
    membership.tick(6000);
    const events = run(membership, 6001, 9000, () => [], 1);
    const dead = deadEvents(events);
    assert.equal(dead.length, 1);
    assert.equal(dead[0]?.atMs, 6000 + TIMING.deadtime_ms + 1);
  });

  test("nextTickAtMs names the next deadline and is infinite when nothing can change", () => {
    const membership = newMembership({ startedAtMs: 0 });
    assert.equal(membership.nextTickAtMs(0), TIMING.initdead_ms);
    const peer = bravo();
    membership.onHeartbeat(100, peer.heartbeat("ring0", 100));
    assert.equal(membership.nextTickAtMs(100), 100 + TIMING.warntime_ms);
    membership.onLeave(200, { nodeId: 2, incarnation: 1000 });
    assert.equal(membership.nextTickAtMs(200), Number.POSITIVE_INFINITY);
  });

  test("echoes carry the last message heard from each live peer on that link", () => {
    const membership = newMembership();
    const peer = bravo();
    const hb = peer.heartbeat("ring0", 100);
    membership.onHeartbeat(100, hb);
    const echoes = membership.echoesFor("ring0", 130);
    assert.equal(echoes.length, 1);
    assert.equal(echoes[0]?.peerId, 2);
    assert.equal(echoes[0]?.seq, hb.seq);
    assert.equal(echoes[0]?.heldUs, 30_000);
    assert.deepEqual(membership.echoesFor("ring1", 130), []);
  });

  test("refuses duplicate node ids and a local node missing from the config", () => {
    const base = { timing: TIMING, detector: { type: "fixed" } as const, startedAtMs: 0 };
    assert.throws(
      () =>
        new Membership({
          ...base,
          localNodeId: 1,
          nodes: [
            { id: 1, name: "alpha", links: ["ring0"] },
            { id: 1, name: "bravo", links: ["ring0"] },
          ],
        }),
      /node id 1 is used twice/,
    );
    assert.throws(
      () => new Membership({ ...base, localNodeId: 9, nodes: [{ id: 1, name: "a", links: [] }] }),
      /local node id 9 is not among the configured nodes/,
    );
  });
});
