import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeMessage, MAX_ENCRYPTED_PLAINTEXT_BYTES } from "../../src/wire/codec.js";
import { FLAG_ENCRYPTED, MessageType } from "../../src/wire/message.js";
import { OutboundSequencer } from "../../src/wire/outbound.js";
import { SENT_HEARTBEATS_REMEMBERED } from "../../src/wire/sent-heartbeats.js";
import { CLUSTER_ID, KNOWN_NODE_IDS, keyring, LOCAL_NODE_ID, PEER_NODE_ID } from "./fixtures.js";

const INCARNATION = 1_700_000_000_123;
const receiverRing = keyring([1, 2]);

function open(frame: Buffer) {
  const decoded = decodeMessage(frame, {
    clusterId: CLUSTER_ID,
    localNodeId: LOCAL_NODE_ID,
    isKnownNode: (id) => KNOWN_NODE_IDS.has(id),
    keyring: receiverRing,
  });
  assert.ok(decoded.ok, decoded.ok ? "" : decoded.reason);
  return decoded.message;
}

function sequencer(encrypt: boolean, ring = keyring([1])): OutboundSequencer {
  return new OutboundSequencer({
    clusterId: CLUSTER_ID,
    senderId: PEER_NODE_ID,
    incarnation: INCARNATION,
    keyring: ring,
    encrypt,
  });
}

test("sequence numbers start at 1 and go up by one per frame, whatever the type", () => {
  const outbound = sequencer(false);
  const types = [MessageType.Heartbeat, MessageType.Heartbeat, MessageType.Leave];
  types.forEach((type, index) => {
    const message = open(outbound.next(type, new Uint8Array(0), 5_000 + index));
    assert.deepEqual(message.header, {
      clusterId: CLUSTER_ID,
      senderId: PEER_NODE_ID,
      incarnation: INCARNATION,
      seq: index + 1,
      sentAtUs: 5_000 + index,
      type,
    });
  });
});

test("the encrypt option decides the flag, and the payload comes back either way", () => {
  for (const encrypt of [false, true]) {
    const frame = sequencer(encrypt).next(MessageType.Heartbeat, Buffer.from("abc"), 1);
    assert.equal((frame[4]! & FLAG_ENCRYPTED) !== 0, encrypt);
    assert.equal(Buffer.from(open(frame).payload).toString(), "abc");
  }
});

test("a new keyring signs from the next frame on, and the sequence carries on", () => {
  const outbound = sequencer(false, keyring([1]));
  const before = outbound.next(MessageType.Heartbeat, new Uint8Array(0), 1);
  outbound.setKeyring(keyring([1, 2]));
  const after = outbound.next(MessageType.Heartbeat, new Uint8Array(0), 2);
  assert.equal(before[5], 1);
  assert.equal(after[5], 2);
  assert.equal(open(after).header.seq, 2);
});

test("a refused call uses up no sequence number", () => {
  const outbound = sequencer(true);
  assert.throws(
    () =>
      outbound.next(MessageType.Heartbeat, new Uint8Array(MAX_ENCRYPTED_PLAINTEXT_BYTES + 1), 1),
    RangeError,
  );
  assert.throws(() => outbound.next(MessageType.Heartbeat, new Uint8Array(0), -1), /sentAtUs/);
  assert.equal(open(outbound.next(MessageType.Heartbeat, new Uint8Array(0), 1)).header.seq, 1);
});

test("construction refuses identities outside the wire format's ranges", () => {
  const base = {
    clusterId: CLUSTER_ID,
    senderId: PEER_NODE_ID,
    incarnation: INCARNATION,
    keyring: keyring([1]),
    encrypt: false,
  };
  assert.throws(
    () => new OutboundSequencer({ ...base, senderId: 0 }),
    /senderId must be a node id/,
  );
  assert.throws(() => new OutboundSequencer({ ...base, clusterId: 2 ** 32 }), /clusterId/);
  assert.throws(() => new OutboundSequencer({ ...base, incarnation: -1 }), /incarnation/);
});

test("the sequencer remembers its recent heartbeats, exactly, and nothing else it sent", () => {
  const outbound = sequencer(false);
  outbound.next(MessageType.Heartbeat, new Uint8Array(0), 1_000);
  outbound.next(MessageType.Cluster, new Uint8Array(1), 2_000);
  assert.equal(outbound.sentHeartbeat(1, 1_000), true);
  assert.equal(outbound.sentHeartbeat(1, 1_001), false, "another send time");
  assert.equal(outbound.sentHeartbeat(2, 2_000), false, "not a heartbeat");
  assert.equal(outbound.sentHeartbeat(3, 1_000), false, "never sent");
  // Older heartbeats are forgotten once SENT_HEARTBEATS_REMEMBERED newer ones went out.
  for (let index = 0; index < SENT_HEARTBEATS_REMEMBERED; index++)
    outbound.next(MessageType.Heartbeat, new Uint8Array(0), 3_000 + index);
  assert.equal(outbound.sentHeartbeat(1, 1_000), false);
  assert.equal(outbound.sentHeartbeat(3, 3_000), true);
});
