import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  decodeMessage,
  encodeMessage,
  MAX_ENCRYPTED_PLAINTEXT_BYTES,
} from "../../src/wire/codec.js";
import {
  attachmentCost,
  attachmentRoom,
  decodeHeartbeatPayload,
  encodeHeartbeatPayload,
  encodeLeavePayload,
  heartbeatPayloadBytes,
  isLeavePayload,
  MAX_ECHOES,
} from "../../src/wire/heartbeat.js";
import type { Echo, HeartbeatPayload } from "../../src/wire/message.js";
import { CLUSTER_ID, KNOWN_NODE_IDS, keyring, LOCAL_NODE_ID, peerHeader } from "./fixtures.js";

const arbEcho: fc.Arbitrary<Echo> = fc
  .record({
    peerId: fc.integer({ min: 1, max: 0xffff }),
    seq: fc.maxSafeNat(),
    sentAtUs: fc.maxSafeNat(),
    heldUs: fc.integer({ min: 0, max: 0xffff_ffff }),
  })
  .map((echo) => ({ ...echo }));

const arbHeartbeat = (maxEchoes: number): fc.Arbitrary<HeartbeatPayload> =>
  fc
    .record({
      linkSeq: fc.integer({ min: 0, max: 0xffff_ffff }),
      keepaliveMs: fc.integer({ min: 0, max: 0xffff }),
      echoes: fc.array(arbEcho, { maxLength: maxEchoes }),
    })
    .map((payload) => ({ ...payload }));

test("heartbeat payloads survive encode then decode", () => {
  fc.assert(
    fc.property(arbHeartbeat(MAX_ECHOES), (payload) => {
      const bytes = encodeHeartbeatPayload(payload);
      assert.equal(bytes.length, heartbeatPayloadBytes(payload.echoes.length));
      assert.deepEqual(decodeHeartbeatPayload(bytes), payload);
    }),
    { numRuns: 300 },
  );
});

test("a heartbeat with the most echoes fits an encrypted frame and comes back whole", () => {
  const echoes = Array.from({ length: MAX_ECHOES }, (_, index) => ({
    peerId: index + 1,
    seq: Number.MAX_SAFE_INTEGER - index,
    sentAtUs: 1_700_000_000_000_000 + index,
    heldUs: 0xffff_ffff - index,
  }));
  const payload: HeartbeatPayload = { linkSeq: 0xffff_ffff, keepaliveMs: 0xffff, echoes };
  const bytes = encodeHeartbeatPayload(payload);
  assert.ok(bytes.length <= MAX_ENCRYPTED_PLAINTEXT_BYTES);
  assert.ok(heartbeatPayloadBytes(MAX_ECHOES + 1) > MAX_ENCRYPTED_PLAINTEXT_BYTES);
  const ring = keyring([1]);
  const frame = encodeMessage(peerHeader(), bytes, ring, { encrypt: true });
  const decoded = decodeMessage(frame, {
    clusterId: CLUSTER_ID,
    localNodeId: LOCAL_NODE_ID,
    isKnownNode: (id) => KNOWN_NODE_IDS.has(id),
    keyring: ring,
  });
  assert.ok(decoded.ok);
  assert.deepEqual(decodeHeartbeatPayload(decoded.message.payload), payload);
});

test("one echo more than MAX_ECHOES is a caller's bug", () => {
  const echo = { peerId: 1, seq: 1, sentAtUs: 1, heldUs: 1 };
  assert.throws(
    () =>
      encodeHeartbeatPayload({
        linkSeq: 1,
        keepaliveMs: 100,
        echoes: Array.from({ length: MAX_ECHOES + 1 }, () => echo),
      }),
    new RegExp(`at most ${MAX_ECHOES} echoes`),
  );
});

test("linkSeq wraps modulo 2^32 and held times are clamped into a u32", () => {
  const bytes = encodeHeartbeatPayload({
    linkSeq: 2 ** 32 + 5,
    keepaliveMs: 100,
    echoes: [
      { peerId: 2, seq: 1, sentAtUs: 1, heldUs: -30.4 },
      { peerId: 3, seq: 1, sentAtUs: 1, heldUs: 2 ** 40 },
      { peerId: 4, seq: 1, sentAtUs: 1, heldUs: 12.6 },
    ],
  });
  const decoded = decodeHeartbeatPayload(bytes);
  assert.equal(decoded?.linkSeq, 5);
  assert.deepEqual(
    decoded?.echoes.map((echo) => echo.heldUs),
    [0, 0xffff_ffff, 13],
  );
});

test("encoding refuses fields out of range, naming the field", () => {
  const ok = { linkSeq: 1, keepaliveMs: 100, echoes: [] as Echo[] };
  const echo = { peerId: 2, seq: 1, sentAtUs: 1, heldUs: 1 };
  assert.throws(() => encodeHeartbeatPayload({ ...ok, linkSeq: -1 }), /linkSeq must be/);
  assert.throws(() => encodeHeartbeatPayload({ ...ok, keepaliveMs: 70000 }), /keepaliveMs/);
  assert.throws(
    () => encodeHeartbeatPayload({ ...ok, echoes: [{ ...echo, peerId: 0 }] }),
    /echo peerId must be a node id/,
  );
  assert.throws(
    () => encodeHeartbeatPayload({ ...ok, echoes: [{ ...echo, seq: 2 ** 53 }] }),
    /echo seq must be a safe u64/,
  );
  assert.throws(
    () => encodeHeartbeatPayload({ ...ok, echoes: [{ ...echo, heldUs: Number.NaN }] }),
    /heldUs must be a number/,
  );
});

test("decoding refuses anything but exactly one well-formed payload", () => {
  const oneEcho = Buffer.from(
    encodeHeartbeatPayload({
      linkSeq: 9,
      keepaliveMs: 100,
      echoes: [{ peerId: 2, seq: 3, sentAtUs: 4, heldUs: 5 }],
    }),
  );
  assert.notEqual(decodeHeartbeatPayload(oneEcho), null);
  assert.equal(decodeHeartbeatPayload(new Uint8Array(0)), null, "empty");
  assert.equal(decodeHeartbeatPayload(oneEcho.subarray(0, 6)), null, "shorter than fixed part");
  assert.equal(decodeHeartbeatPayload(oneEcho.subarray(0, oneEcho.length - 1)), null, "cut echo");
  assert.equal(decodeHeartbeatPayload(Buffer.concat([oneEcho, Buffer.from([0])])), null, "extra");
  const countTooHigh = Buffer.from(oneEcho);
  countTooHigh[6] = 2;
  assert.equal(decodeHeartbeatPayload(countTooHigh), null, "count says two echoes");
  const peerZero = Buffer.from(oneEcho);
  peerZero.writeUInt16BE(0, 7);
  assert.equal(decodeHeartbeatPayload(peerZero), null, "echo for node 0");
  const unsafeSeq = Buffer.from(oneEcho);
  unsafeSeq.writeUInt32BE(0xffff_ffff, 9);
  assert.equal(decodeHeartbeatPayload(unsafeSeq), null, "echo seq past 2^53");
});

test("decoding random bytes never throws", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1400 }), (bytes) => {
      const decoded = decodeHeartbeatPayload(bytes);
      if (decoded !== null)
        assert.equal(
          bytes.length,
          heartbeatPayloadBytes(decoded.echoes.length, decoded.attachments ?? []),
        );
    }),
    { numRuns: 1000 },
  );
});

const arbAttachments = fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), {
  minLength: 1,
  maxLength: 4,
});

test("heartbeats with attachments survive encode then decode; without, the layout is unchanged", () => {
  fc.assert(
    fc.property(arbHeartbeat(8), arbAttachments, (payload, attachments) => {
      const plain = encodeHeartbeatPayload(payload);
      const bytes = encodeHeartbeatPayload({ ...payload, attachments });
      assert.deepEqual(bytes.subarray(0, plain.length), plain);
      const decoded = decodeHeartbeatPayload(bytes);
      assert.deepEqual(decoded?.echoes, payload.echoes);
      assert.deepEqual(
        decoded?.attachments?.map((attachment) => Buffer.from(attachment)),
        attachments.map((attachment) => Buffer.from(attachment)),
      );
      assert.equal(encodeHeartbeatPayload({ ...payload, attachments: [] }).length, plain.length);
    }),
    { numRuns: 300 },
  );
});

test("attachments filling attachmentRoom fit an encrypted frame; one byte more is a caller's bug", () => {
  const echoes = Array.from({ length: 4 }, (_, index) => ({
    peerId: index + 2,
    seq: 1,
    sentAtUs: 1,
    heldUs: 1,
  }));
  const room = attachmentRoom(echoes.length);
  const first = new Uint8Array(300).fill(7);
  const second = new Uint8Array(room - attachmentCost(first) - 2).fill(9);
  const withAttachments = (attachments: Uint8Array[]) =>
    encodeHeartbeatPayload({ linkSeq: 1, keepaliveMs: 100, echoes, attachments });
  const bytes = withAttachments([first, second]);
  assert.equal(bytes.length, MAX_ENCRYPTED_PLAINTEXT_BYTES);
  assert.equal(decodeHeartbeatPayload(bytes)?.attachments?.length, 2);
  const tooBig = new Uint8Array(second.length + 1);
  assert.throws(() => withAttachments([first, tooBig]), /must fit one encrypted frame/);
  assert.throws(() => withAttachments([new Uint8Array(0)]), /must not be empty/);
});

test("decoding refuses a broken attachment section", () => {
  const base = {
    linkSeq: 9,
    keepaliveMs: 100,
    echoes: [{ peerId: 2, seq: 3, sentAtUs: 4, heldUs: 5 }],
  };
  const plainLength = encodeHeartbeatPayload(base).length;
  const good = Buffer.from(
    encodeHeartbeatPayload({ ...base, attachments: [Buffer.from("ab"), Buffer.from("c")] }),
  );
  assert.equal(decodeHeartbeatPayload(good)?.attachments?.length, 2);
  const zeroCount = Buffer.from(good);
  zeroCount[plainLength] = 0;
  assert.equal(decodeHeartbeatPayload(zeroCount), null, "a section that says no attachments");
  const countTooHigh = Buffer.from(good);
  countTooHigh[plainLength] = 3;
  assert.equal(decodeHeartbeatPayload(countTooHigh), null, "count says three");
  const emptyOne = Buffer.from(good);
  emptyOne.writeUInt16BE(0, plainLength + 1);
  assert.equal(decodeHeartbeatPayload(emptyOne), null, "an empty attachment");
  const lengthPastEnd = Buffer.from(good);
  lengthPastEnd.writeUInt16BE(500, plainLength + 1);
  assert.equal(decodeHeartbeatPayload(lengthPastEnd), null, "length past the end");
  assert.equal(decodeHeartbeatPayload(good.subarray(0, good.length - 1)), null, "cut short");
  assert.equal(decodeHeartbeatPayload(Buffer.concat([good, Buffer.from([1])])), null, "extra");
});

test("a Leave payload is what encodeLeavePayload makes, and nothing else", () => {
  assert.equal(isLeavePayload(encodeLeavePayload()), true);
  assert.equal(isLeavePayload(new Uint8Array(0)), true);
  assert.equal(isLeavePayload(new Uint8Array(1)), false);
});
