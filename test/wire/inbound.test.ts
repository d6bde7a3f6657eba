import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { GCM_NONCE_BYTES } from "../../src/wire/codec.js";
import { encodeHeartbeatPayload, encodeLeavePayload } from "../../src/wire/heartbeat.js";
import {
  InboundFilter,
  type InboundFilterOptions,
  type InboundResult,
} from "../../src/wire/inbound.js";
import type { Keyring } from "../../src/wire/keyring.js";
import {
  HEADER_BYTES,
  type HeartbeatPayload,
  MAX_FRAME_BYTES,
  MessageType,
  REJECT_REASONS,
  type RejectReason,
} from "../../src/wire/message.js";
import { OutboundSequencer } from "../../src/wire/outbound.js";
import { REPLAY_WINDOW_SEQS } from "../../src/wire/replay-guard.js";
import {
  CLUSTER_ID,
  KNOWN_NODE_IDS,
  keyring,
  LOCAL_NODE_ID,
  PEER_NODE_ID,
  peerFrame,
  resign,
} from "./fixtures.js";

const HEARTBEAT: HeartbeatPayload = {
  linkSeq: 1,
  keepaliveMs: 100,
  echoes: [{ peerId: LOCAL_NODE_ID, seq: 9, sentAtUs: 1_000, heldUs: 50 }],
};
const heartbeatBytes = encodeHeartbeatPayload(HEARTBEAT);

function filter(
  ring: Keyring = keyring([1, 2]),
  restart: Pick<InboundFilterOptions, "carriedOver" | "sentHeartbeat"> = {},
): InboundFilter {
  return new InboundFilter({
    clusterId: CLUSTER_ID,
    localNodeId: LOCAL_NODE_ID,
    isKnownNode: (id) => KNOWN_NODE_IDS.has(id),
    keyring: ring,
    ...restart,
  });
}

function zeroCounts(): Record<RejectReason, number> {
  return Object.fromEntries(REJECT_REASONS.map((reason) => [reason, 0])) as Record<
    RejectReason,
    number
  >;
}

function reasonOf(result: InboundResult): RejectReason | "ok" {
  return result.ok ? "ok" : result.reason;
}

function heartbeatFrame(ring: Keyring, seq: number, encrypt = false, incarnation = 100): Buffer {
  return peerFrame(ring, { seq, incarnation }, heartbeatBytes, encrypt);
}

test("a fresh filter reports every reason at zero", () => {
  const inbound = filter();
  assert.deepEqual(inbound.rejectCounts(), zeroCounts());
  assert.equal(inbound.acceptedCount(), 0);
});

test("a heartbeat is accepted with its payload decoded; a Leave with none", () => {
  const ring = keyring([1, 2]);
  const inbound = filter(ring);
  for (const encrypt of [false, true]) {
    const result = inbound.accept(heartbeatFrame(ring, encrypt ? 2 : 1, encrypt));
    assert.ok(result.ok);
    assert.deepEqual(result.heartbeat, HEARTBEAT);
    assert.equal(result.message.header.senderId, PEER_NODE_ID);
  }
  const leave = inbound.accept(
    peerFrame(ring, { seq: 3, incarnation: 100, type: MessageType.Leave }, encodeLeavePayload()),
  );
  assert.ok(leave.ok);
  assert.equal(leave.heartbeat, null);
  assert.equal(leave.message.header.type, MessageType.Leave);
  assert.equal(inbound.acceptedCount(), 3);
  assert.deepEqual(inbound.rejectCounts(), zeroCounts());
});

/** Frames that are authentic (signed with the real key) but wrong inside. */
function authenticButBroken(ring: Keyring): Array<[string, Buffer]> {
  const unknownType = heartbeatFrame(ring, 50);
  unknownType[3] = 9;
  const unknownFlag = heartbeatFrame(ring, 51);
  unknownFlag[4] = 0x80;
  const unsafeSeq = heartbeatFrame(ring, 52);
  unsafeSeq.writeUInt32BE(0xffff_ffff, 20);
  const tinyEncrypted = peerFrame(ring, { seq: 53, incarnation: 100 }, new Uint8Array(4));
  tinyEncrypted[4] = 0x01; // claims encryption, but 4 bytes cannot hold a nonce and a tag
  return [
    ["unknown message type", resign(unknownType, ring)],
    ["unknown flag bit", resign(unknownFlag, ring)],
    ["seq past 2^53", resign(unsafeSeq, ring)],
    ["encrypted payload shorter than nonce + tag", resign(tinyEncrypted, ring)],
    [
      "heartbeat payload that does not decode",
      peerFrame(ring, { seq: 54, incarnation: 100 }, new Uint8Array(3)),
    ],
    [
      "leave with a payload",
      peerFrame(ring, { seq: 55, incarnation: 100, type: MessageType.Leave }, new Uint8Array(1)),
    ],
  ];
}

test("each reject reason comes from its own targeted frame and is counted once", () => {
  const ring = keyring([1, 2]);
  // Node 3's run 40 was heard before this node restarted.
  const inbound = filter(ring, {
    carriedOver: { kind: "known", bySender: new Map([[3, 40]]) },
  });
  const valid = heartbeatFrame(ring, 10);
  const expectReason = (reason: RejectReason, bytes: Uint8Array, what: string) =>
    assert.equal(reasonOf(inbound.accept(bytes)), reason, what);

  expectReason("truncated", valid.subarray(0, 40), "cut inside the header");
  expectReason("oversized", Buffer.alloc(MAX_FRAME_BYTES + 1), "one byte past the frame limit");
  const badMagic = Buffer.from(valid);
  badMagic[0] = 0x58;
  expectReason("bad_magic", badMagic, "not a Vigil frame");
  const version2 = Buffer.from(valid);
  version2[2] = 2;
  expectReason("unsupported_version", version2, "a future version");
  expectReason("malformed", Buffer.concat([valid, Buffer.from([0])]), "a trailing byte");
  expectReason("wrong_cluster", peerFrame(ring, { clusterId: CLUSTER_ID + 1 }), "other cluster");
  expectReason("unknown_node", peerFrame(ring, { senderId: 9 }), "node not in the config");
  expectReason("from_self", peerFrame(ring, { senderId: LOCAL_NODE_ID }), "our own broadcast");
  expectReason("unknown_key", heartbeatFrame(keyring([5]), 11), "signed with key 5");
  const badMac = Buffer.from(valid);
  badMac[badMac.length - 1]! ^= 0x01;
  expectReason("bad_mac", badMac, "one MAC bit flipped");
  // Only a holder of the MAC key could do this: tamper with the ciphertext and sign again.
  const tamperedCiphertext = heartbeatFrame(ring, 12, true);
  tamperedCiphertext[HEADER_BYTES + GCM_NONCE_BYTES]! ^= 0x01;
  expectReason("decrypt_failed", resign(tamperedCiphertext, ring), "ciphertext changed, re-signed");

  assert.equal(reasonOf(inbound.accept(valid)), "ok");
  expectReason("replayed", valid, "the same frame again");
  assert.equal(reasonOf(inbound.accept(heartbeatFrame(ring, 10 + REPLAY_WINDOW_SEQS + 1))), "ok");
  expectReason("stale_sequence", heartbeatFrame(ring, 9), "below the window");
  assert.equal(reasonOf(inbound.accept(heartbeatFrame(ring, 1, false, 101))), "ok");
  expectReason("stale_incarnation", heartbeatFrame(ring, 5000, false, 100), "before the restart");
  expectReason(
    "unproven_fresh",
    peerFrame(ring, { senderId: 3, seq: 7, incarnation: 40 }, heartbeatBytes),
    "a run heard before this node restarted, echoing nothing of this run",
  );

  const expected = Object.fromEntries(REJECT_REASONS.map((reason) => [reason, 1]));
  assert.deepEqual(inbound.rejectCounts(), expected);
  assert.equal(inbound.acceptedCount(), 3);
});

test("authentic frames with a broken inside are malformed, and do not use up their seq", () => {
  const ring = keyring([1, 2]);
  const inbound = filter(ring);
  const cases = authenticButBroken(ring);
  for (const [what, frame] of cases)
    assert.equal(reasonOf(inbound.accept(frame)), "malformed", what);
  assert.equal(inbound.rejectCounts().malformed, cases.length);
  // A refused frame never moves the window: the good frames with those seqs still get in.
  for (let seq = 50; seq <= 55; seq++) {
    assert.equal(reasonOf(inbound.accept(heartbeatFrame(ring, seq))), "ok", `seq ${seq}`);
  }
});

test("a failing isKnownNode callback is counted as malformed, never thrown", () => {
  const ring = keyring([1]);
  const inbound = new InboundFilter({
    clusterId: CLUSTER_ID,
    localNodeId: LOCAL_NODE_ID,
    isKnownNode: () => {
      throw new Error("membership table unavailable");
    },
    keyring: ring,
  });
  assert.equal(reasonOf(inbound.accept(heartbeatFrame(ring, 1))), "malformed");
  assert.equal(inbound.rejectCounts().malformed, 1);
});

test("garbage and forgeries are all refused and all counted; the real frame still gets in", () => {
  const ring = keyring([1, 2]);
  const inbound = filter(ring);
  const original = heartbeatFrame(ring, 77, true);
  let attempts = 0;
  for (let bit = 0; bit < original.length * 8; bit++) {
    const flipped = Buffer.from(original);
    flipped[bit >>> 3]! ^= 1 << (bit & 7);
    assert.equal(inbound.accept(flipped).ok, false, `bit ${bit}`);
    attempts++;
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: MAX_FRAME_BYTES + 100 }), (bytes) => {
      assert.equal(inbound.accept(bytes).ok, false);
      attempts++;
    }),
    { numRuns: 1000 },
  );
  const counted = Object.values(inbound.rejectCounts()).reduce((sum, count) => sum + count, 0);
  assert.equal(counted, attempts);
  assert.equal(inbound.acceptedCount(), 0);
  assert.equal(reasonOf(inbound.accept(original)), "ok");
});

test("a sender's frames over three links, interleaved and duplicated, are each taken once", () => {
  const ring = keyring([1]);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat({ max: 2 }), fc.boolean()), { minLength: 1, maxLength: 300 }),
      (schedule) => {
        const inbound = filter(ring);
        const outbound = new OutboundSequencer({
          clusterId: CLUSTER_ID,
          senderId: PEER_NODE_ID,
          incarnation: 100,
          keyring: ring,
          encrypt: true,
        });
        // One frame per link per heartbeat, as the agent sends them.
        const links: Buffer[][] = [[], [], []];
        for (let beat = 0; beat < 60; beat++) {
          for (const link of links)
            link.push(outbound.next(MessageType.Heartbeat, heartbeatBytes, beat));
        }
        const sent = links.reduce((sum, link) => sum + link.length, 0);
        let duplicates = 0;
        for (const [pick, duplicate] of schedule) {
          const link = links[pick]!.length > 0 ? links[pick]! : links.find((l) => l.length > 0);
          if (link === undefined) break;
          const frame = link.shift()!;
          assert.equal(reasonOf(inbound.accept(frame)), "ok");
          if (duplicate) {
            assert.equal(reasonOf(inbound.accept(frame)), "replayed");
            duplicates++;
          }
        }
        for (const link of links) for (const frame of link) assert.ok(inbound.accept(frame).ok);
        assert.equal(inbound.acceptedCount(), sent);
        assert.equal(inbound.rejectCounts().replayed, duplicates);
      },
    ),
    { numRuns: 50 },
  );
});

test("setKeyring: after a rotation drops key 1, frames signed with it are refused", () => {
  const inbound = filter(keyring([1]));
  assert.equal(reasonOf(inbound.accept(heartbeatFrame(keyring([1]), 1))), "ok");
  inbound.setKeyring(keyring([1, 2]));
  assert.equal(reasonOf(inbound.accept(heartbeatFrame(keyring([1, 2]), 2))), "ok");
  inbound.setKeyring(keyring([2]));
  assert.equal(reasonOf(inbound.accept(heartbeatFrame(keyring([1]), 3))), "unknown_key");
  // The replay state survived the key change: seq 2 is still known.
  assert.equal(reasonOf(inbound.accept(heartbeatFrame(keyring([2]), 2))), "replayed");
});

test("construction refuses a local node id outside 1..65535", () => {
  assert.throws(
    () =>
      new InboundFilter({
        clusterId: CLUSTER_ID,
        localNodeId: 0,
        isKnownNode: () => true,
        keyring: keyring([1]),
      }),
    /localNodeId must be a node id/,
  );
});

/** The receiver's own sequencer: what its heartbeats were, so a peer's echo can be checked. */
function localSequencer(ring: Keyring): OutboundSequencer {
  return new OutboundSequencer({
    clusterId: CLUSTER_ID,
    senderId: LOCAL_NODE_ID,
    incarnation: 500,
    keyring: ring,
    encrypt: false,
  });
}

function echoing(echo: { peerId: number; seq: number; sentAtUs: number }): Uint8Array {
  return encodeHeartbeatPayload({ ...HEARTBEAT, echoes: [{ ...echo, heldUs: 10 }] });
}

test("after a restart, the peer's run heard before is taken up from a heartbeat echoing this run", () => {
  const ring = keyring([1, 2]);
  const local = localSequencer(ring);
  const inbound = filter(ring, {
    carriedOver: { kind: "known", bySender: new Map([[PEER_NODE_ID, 100]]) },
    sentHeartbeat: (seq, sentAtUs) => local.sentHeartbeat(seq, sentAtUs),
  });
  local.next(MessageType.Heartbeat, heartbeatBytes, 7_000_000);
  local.next(MessageType.Cluster, new Uint8Array(1), 7_000_050);
  const frame = (seq: number, payload: Uint8Array, type: MessageType = MessageType.Heartbeat) =>
    peerFrame(ring, { seq, incarnation: 100, type }, payload);

  // Captured before the restart: echoes of the previous run, a Leave, coordination traffic.
  const captured = [
    frame(40, echoing({ peerId: LOCAL_NODE_ID, seq: 1, sentAtUs: 6_000_000 })),
    frame(41, encodeLeavePayload(), MessageType.Leave),
    frame(42, new Uint8Array(3), MessageType.Cluster),
  ];
  for (const bytes of captured) assert.equal(reasonOf(inbound.accept(bytes)), "unproven_fresh");
  // Echoes that are not of this run's heartbeats prove nothing: addressed to another node, of a
  // frame that was not a heartbeat, or with the right seq but another send time.
  for (const echo of [
    { peerId: 3, seq: 1, sentAtUs: 7_000_000 },
    { peerId: LOCAL_NODE_ID, seq: 2, sentAtUs: 7_000_050 },
    { peerId: LOCAL_NODE_ID, seq: 1, sentAtUs: 7_000_001 },
  ]) {
    assert.equal(reasonOf(inbound.accept(frame(50, echoing(echo)))), "unproven_fresh");
  }
  const proof = frame(60, echoing({ peerId: LOCAL_NODE_ID, seq: 1, sentAtUs: 7_000_000 }));
  assert.equal(reasonOf(inbound.accept(proof)), "ok");
  assert.equal(reasonOf(inbound.accept(frame(61, encodeLeavePayload(), MessageType.Leave))), "ok");
  // Everything sent before the proof stays refused: it may be a capture.
  for (const bytes of captured) assert.equal(reasonOf(inbound.accept(bytes)), "unproven_fresh");
  assert.equal(reasonOf(inbound.accept(proof)), "replayed");
  assert.equal(inbound.rejectCounts().unproven_fresh, 9);
  assert.equal(inbound.acceptedCount(), 2);
});
