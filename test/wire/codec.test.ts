import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  type DecodeContext,
  decodeMessage,
  ENCRYPTION_OVERHEAD_BYTES,
  encodeMessage,
  MAX_ENCRYPTED_PLAINTEXT_BYTES,
} from "../../src/wire/codec.js";
import { Keyring } from "../../src/wire/keyring.js";
import {
  type DecodeResult,
  HEADER_BYTES,
  MAC_BYTES,
  MAX_FRAME_BYTES,
  MAX_PAYLOAD_BYTES,
  type RejectReason,
  WIRE_MAGIC,
  WIRE_VERSION,
} from "../../src/wire/message.js";
import {
  arbHeader,
  CLUSTER_ID,
  KNOWN_NODE_IDS,
  keyring,
  LOCAL_NODE_ID,
  PEER_NODE_ID,
  peerFrame,
  type peerHeader,
} from "./fixtures.js";

function context(ring: Keyring): DecodeContext {
  return {
    clusterId: CLUSTER_ID,
    localNodeId: LOCAL_NODE_ID,
    isKnownNode: (id) => KNOWN_NODE_IDS.has(id),
    keyring: ring,
  };
}

function reasonOf(result: DecodeResult): RejectReason | "ok" {
  return result.ok ? "ok" : result.reason;
}

const receiverRing = keyring([1, 2]);

test("any header and payload survive encode then decode, plaintext or encrypted", () => {
  fc.assert(
    fc.property(
      arbHeader,
      fc.boolean(),
      fc.constantFrom(1, 2),
      fc.uint8Array({ maxLength: MAX_ENCRYPTED_PLAINTEXT_BYTES }),
      fc.nat({ max: MAX_PAYLOAD_BYTES - MAX_ENCRYPTED_PLAINTEXT_BYTES }),
      (header, encrypt, signKeyId, payloadStart, extraPlaintextBytes) => {
        // Plaintext frames may carry up to MAX_PAYLOAD_BYTES: pad some of them up to that.
        const payload = encrypt
          ? payloadStart
          : Buffer.concat([payloadStart, Buffer.alloc(extraPlaintextBytes, 0xa5)]).subarray(
              0,
              MAX_PAYLOAD_BYTES,
            );
        const frame = encodeMessage(header, payload, keyring([signKeyId]), { encrypt });
        const overhead = encrypt ? ENCRYPTION_OVERHEAD_BYTES : 0;
        assert.equal(frame.length, HEADER_BYTES + payload.length + overhead + MAC_BYTES);
        assert.equal(frame[5], signKeyId);
        const decoded = decodeMessage(frame, {
          clusterId: header.clusterId,
          localNodeId: header.senderId === 1 ? 2 : 1,
          isKnownNode: () => true,
          keyring: receiverRing,
        });
        assert.ok(decoded.ok, `refused: ${reasonOf(decoded)}`);
        assert.deepEqual(decoded.message.header, { ...header });
        assert.deepEqual(Buffer.from(decoded.message.payload), Buffer.from(payload));
      },
    ),
    { numRuns: 300 },
  );
});

test("an encrypted payload does not appear in clear on the wire", () => {
  const payload = Buffer.from("the quick brown fox jumps over the lazy dog", "utf8");
  const frame = peerFrame(receiverRing, {}, payload, true);
  assert.equal(frame.indexOf(payload.subarray(0, 8)), -1);
  const decoded = decodeMessage(frame, context(receiverRing));
  assert.ok(decoded.ok);
  assert.equal(Buffer.from(decoded.message.payload).toString("utf8"), payload.toString("utf8"));
});

test("key rotation: a ring holding keys 1 and 2 accepts frames signed with either", () => {
  for (const encrypt of [false, true]) {
    const payload = Buffer.from([1, 2, 3, 4]);
    const oldSender = peerFrame(keyring([1]), {}, payload, encrypt);
    const pinnedSender = peerFrame(keyring([1, 2], 1), {}, payload, encrypt);
    const newSender = peerFrame(keyring([1, 2]), {}, payload, encrypt);
    assert.equal(oldSender[5], 1);
    assert.equal(pinnedSender[5], 1);
    assert.equal(newSender[5], 2, "without a pin the newest key signs");
    for (const frame of [oldSender, pinnedSender, newSender]) {
      assert.equal(reasonOf(decodeMessage(frame, context(receiverRing))), "ok");
    }
    // A node that already dropped key 1 refuses what is still signed with it, and vice versa.
    assert.equal(reasonOf(decodeMessage(oldSender, context(keyring([2])))), "unknown_key");
    assert.equal(reasonOf(decodeMessage(newSender, context(keyring([1])))), "unknown_key");
  }
});

test("a frame signed with a different secret under a held key id is refused as bad_mac", () => {
  const impostorRing = new Keyring([{ id: 2, secret: Buffer.alloc(32, 0x99) }]);
  for (const encrypt of [false, true]) {
    const forged = peerFrame(impostorRing, {}, new Uint8Array(8), encrypt);
    assert.equal(reasonOf(decodeMessage(forged, context(receiverRing))), "bad_mac");
  }
});

test("random bytes never decode and never throw", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: MAX_FRAME_BYTES + 200 }), (bytes) => {
      assert.equal(decodeMessage(bytes, context(receiverRing)).ok, false);
    }),
    { numRuns: 2000 },
  );
});

test("random bytes behind a plausible header reach the MAC check and fail it", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: HEADER_BYTES + MAC_BYTES, maxLength: MAX_FRAME_BYTES }),
      fc.constantFrom(1, 2),
      (bytes, keyId) => {
        const frame = Buffer.from(bytes);
        frame.writeUInt16BE(WIRE_MAGIC, 0);
        frame[2] = WIRE_VERSION;
        frame[5] = keyId;
        frame.writeUInt32BE(CLUSTER_ID, 6);
        frame.writeUInt16BE(PEER_NODE_ID, 10);
        frame.writeUInt16BE(frame.length - HEADER_BYTES - MAC_BYTES, 36);
        assert.equal(reasonOf(decodeMessage(frame, context(receiverRing))), "bad_mac");
      },
    ),
    { numRuns: 1000 },
  );
});

/** Which refusals a flipped bit may cause, by the header field it lands in. */
function allowedReasonsForFlip(byteIndex: number, frameLength: number): RejectReason[] {
  if (byteIndex < 2) return ["bad_magic"];
  if (byteIndex === 2) return ["unsupported_version"];
  if (byteIndex === 5) return ["unknown_key", "bad_mac"];
  if (byteIndex >= 6 && byteIndex < 10) return ["wrong_cluster"];
  if (byteIndex === 10 || byteIndex === 11)
    return ["malformed", "from_self", "unknown_node", "bad_mac"];
  if (byteIndex === 36 || byteIndex === 37) return ["truncated", "malformed"];
  assert.ok(byteIndex < frameLength);
  // Type, flags, incarnation, seq, timestamp, payload and the MAC itself: only the MAC can tell.
  return ["bad_mac"];
}

test("every single-bit flip of a valid frame is refused, for the reason its field implies", () => {
  for (const encrypt of [false, true]) {
    const frame = peerFrame(receiverRing, { seq: 42 }, Buffer.from("heartbeat payload"), encrypt);
    assert.equal(reasonOf(decodeMessage(frame, context(receiverRing))), "ok");
    for (let bit = 0; bit < frame.length * 8; bit++) {
      const flipped = Buffer.from(frame);
      flipped[bit >>> 3]! ^= 1 << (bit & 7);
      const reason = reasonOf(decodeMessage(flipped, context(receiverRing)));
      const allowed = allowedReasonsForFlip(bit >>> 3, frame.length);
      assert.ok(
        allowed.includes(reason as RejectReason),
        `bit ${bit} (byte ${bit >>> 3}, encrypt ${encrypt}): got ${reason}, expected one of ${allowed.join(", ")}`,
      );
    }
  }
});

test("a flipped bit in any frame, of any size, is refused", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: MAX_ENCRYPTED_PLAINTEXT_BYTES }),
      fc.boolean(),
      fc.nat(),
      (payload, encrypt, bitSeed) => {
        const frame = peerFrame(receiverRing, {}, payload, encrypt);
        const bit = bitSeed % (frame.length * 8);
        frame[bit >>> 3]! ^= 1 << (bit & 7);
        assert.equal(decodeMessage(frame, context(receiverRing)).ok, false);
      },
    ),
    { numRuns: 500 },
  );
});

test("a frame cut short at any length is refused as truncated", () => {
  for (const encrypt of [false, true]) {
    const frame = peerFrame(receiverRing, {}, Buffer.alloc(100, 7), encrypt);
    for (let length = 0; length < frame.length; length++) {
      const reason = reasonOf(decodeMessage(frame.subarray(0, length), context(receiverRing)));
      assert.equal(reason, "truncated", `cut at ${length} of ${frame.length}`);
    }
  }
});

test("trailing bytes make a frame malformed, or oversized past the frame limit", () => {
  const frame = peerFrame(receiverRing, {}, Buffer.alloc(1200, 7));
  for (let extra = 1; extra <= 300; extra++) {
    const extended = Buffer.concat([frame, Buffer.alloc(extra, 0)]);
    const expected = extended.length > MAX_FRAME_BYTES ? "oversized" : "malformed";
    assert.equal(reasonOf(decodeMessage(extended, context(receiverRing))), expected);
  }
});

test("the largest payload fills a frame exactly; anything bigger is refused", () => {
  const full = peerFrame(receiverRing, {}, Buffer.alloc(MAX_PAYLOAD_BYTES, 1));
  assert.equal(full.length, MAX_FRAME_BYTES);
  assert.equal(reasonOf(decodeMessage(full, context(receiverRing))), "ok");
  const fullEncrypted = peerFrame(
    receiverRing,
    {},
    Buffer.alloc(MAX_ENCRYPTED_PLAINTEXT_BYTES, 1),
    true,
  );
  assert.equal(fullEncrypted.length, MAX_FRAME_BYTES);
  assert.equal(reasonOf(decodeMessage(fullEncrypted, context(receiverRing))), "ok");
  assert.equal(
    reasonOf(decodeMessage(Buffer.concat([full, Buffer.from([0])]), context(receiverRing))),
    "oversized",
  );
  assert.throws(
    () => peerFrame(receiverRing, {}, Buffer.alloc(MAX_PAYLOAD_BYTES + 1)),
    /payload of 1331 bytes does not fit one frame/,
  );
  assert.throws(
    () => peerFrame(receiverRing, {}, Buffer.alloc(MAX_ENCRYPTED_PLAINTEXT_BYTES + 1), true),
    /when encrypted/,
  );
});

test("encoding refuses header fields out of range with a RangeError naming the field", () => {
  const payload = new Uint8Array(0);
  const cases: Array<[Partial<ReturnType<typeof peerHeader>>, RegExp]> = [
    [{ senderId: 0 }, /senderId must be a node id/],
    [{ senderId: 65536 }, /senderId must be a node id/],
    [{ clusterId: -1 }, /clusterId must be a u32/],
    [{ incarnation: Number.MAX_SAFE_INTEGER + 1 }, /incarnation must be a safe u64/],
    [{ seq: 1.5 }, /seq must be a safe u64/],
    [{ sentAtUs: -1 }, /sentAtUs must be a safe u64/],
    [{ type: 9 as never }, /type must be a MessageType/],
  ];
  for (const [overrides, message] of cases) {
    assert.throws(() => peerFrame(receiverRing, overrides, payload), RangeError);
    assert.throws(() => peerFrame(receiverRing, overrides, payload), message);
  }
});
