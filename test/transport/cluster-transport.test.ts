import assert from "node:assert/strict";
import { test } from "node:test";
import type { Link, LinkCounters } from "../../src/links/link.js";
import { ClusterTransport } from "../../src/transport/cluster-transport.js";
import { MAX_FRAGMENT_DATA_BYTES, readFragmentHeader } from "../../src/transport/fragments.js";
import { attachmentCost } from "../../src/wire/heartbeat.js";
import { OutboundSequencer } from "../../src/wire/outbound.js";
import { CLUSTER_ID, keyring } from "../wire/fixtures.js";

/** A link that only records what was sent on it (the transport's own logic is under test). */
class RecordingLink implements Link {
  readonly kind = "ucast" as const;
  readonly sent: Array<{ to: number; frame: Buffer }> = [];
  constructor(readonly name: string) {}
  async open(): Promise<void> {}
  broadcast(): void {}
  sendTo(peerId: number, frame: Buffer): void {
    this.sent.push({ to: peerId, frame });
  }
  counters(): LinkCounters {
    return { framesSent: this.sent.length, framesReceived: 0, sendErrors: 0, framingErrors: 0 };
  }
  async close(): Promise<void> {}
}

function setUp(roomBytes = 1000) {
  const links = [new RecordingLink("a"), new RecordingLink("b")];
  let held = 0;
  const transport = new ClusterTransport({
    localNodeId: 1,
    links,
    outbound: new OutboundSequencer({
      clusterId: CLUSTER_ID,
      senderId: 1,
      incarnation: 5,
      keyring: keyring([1]),
      encrypt: false,
    }),
    liveLinksTo: () => ["a", "b"],
    nowMs: () => 1000,
    attachmentRoomBytes: roomBytes,
    onHeld: () => held++,
  });
  const framesSent = () => links.reduce((sum, link) => sum + link.sent.length, 0);
  return { transport, links, framesSent, heldCalls: () => held };
}

const small = (tag: string) => Buffer.from(`{"m":"${tag}"}`);
const destinations = (attachments: Uint8Array[]) =>
  attachments.map((attachment) => readFragmentHeader(attachment)?.to);

test("messages sent while heartbeats are built ride on them; what does not fit goes alone", () => {
  // Room for exactly two of these (a fragment header of 10 bytes each, then the message).
  const { transport, framesSent } = setUp(
    2 * attachmentCost(Buffer.alloc(10 + small("one").length)),
  );
  const attachments = transport.collect(() => {
    transport.send(2, small("one"), { everyLink: true });
    transport.send(3, small("two"), { everyLink: true });
    transport.send(2, small("three"), { everyLink: true }); // no room left
    transport.send(3, small("four")); // not an every-link message
  });
  assert.deepEqual(destinations(attachments), [2, 3]);
  assert.equal(framesSent(), 2 + 1, "the third on both live links, the fourth on one");
  assert.deepEqual(transport.counters(), { sent: 2, attached: 2, received: 0, duplicates: 0 });
});

test("an answer that may ride is held for the next heartbeats, or released on its own", () => {
  const { transport, links, framesSent, heldCalls } = setUp();
  transport.send(2, small("answer-1"), { everyLink: true, mayRide: true });
  transport.send(2, small("answer-2"), { everyLink: true, mayRide: true });
  assert.equal(framesSent(), 0, "held, not sent");
  assert.equal(heldCalls(), 1, "the agent is told once per batch");
  const attachments = transport.collect(() => {});
  assert.deepEqual(destinations(attachments), [2, 2]);
  assert.deepEqual(
    transport.collect(() => {}),
    [],
    "taken once",
  );

  transport.send(3, small("answer-3"), { everyLink: true, mayRide: true });
  assert.equal(heldCalls(), 2);
  transport.releaseHeld();
  assert.deepEqual(
    links.map((link) => link.sent.map((sent) => sent.to)),
    [[3], [3]],
    "released on every live link",
  );
  transport.releaseHeld();
  assert.equal(framesSent(), 2, "nothing left to release");
});

test("a message of several fragments never rides", () => {
  const { transport, framesSent } = setUp();
  const large = Buffer.alloc(MAX_FRAGMENT_DATA_BYTES + 1, 65);
  transport.send(2, large, { everyLink: true, mayRide: true });
  const attachments = transport.collect(() => transport.send(2, large, { everyLink: true }));
  assert.deepEqual(attachments, []);
  assert.equal(framesSent(), 4, "two fragments, each on one link, twice");
});
