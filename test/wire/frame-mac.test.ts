import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { encodeMessage } from "../../src/wire/codec.js";
import { FrameMac } from "../../src/wire/frame-mac.js";
import { MAC_BYTES } from "../../src/wire/message.js";
import { keyring, peerHeader } from "./fixtures.js";

// RFC 4231 §4: test cases 1, 2 (a key shorter than the hash), 6 (a key longer than a block).
const RFC_4231_CASES = [
  {
    key: Buffer.alloc(20, 0x0b),
    data: Buffer.from("Hi There"),
    mac: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
  },
  {
    key: Buffer.from("Jefe"),
    data: Buffer.from("what do ya want for nothing?"),
    mac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  },
  {
    key: Buffer.alloc(131, 0xaa),
    data: Buffer.from("Test Using Larger Than Block-Size Key - Hash Key First"),
    mac: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
  },
];

test("FrameMac gives the RFC 4231 HMAC-SHA256 test vectors", () => {
  for (const { key, data, mac } of RFC_4231_CASES) {
    assert.equal(new FrameMac(key).digest(data).toString("hex"), mac);
  }
});

test("FrameMac equals createHmac for any key and message, call after call", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 200 }),
      fc.array(fc.uint8Array({ minLength: 0, maxLength: 4000 }), { minLength: 1, maxLength: 4 }),
      (key, messages) => {
        const frameMac = new FrameMac(key);
        for (const message of messages) {
          const expected = createHmac("sha256", key).update(message).digest();
          assert.deepEqual(frameMac.digest(message), expected);
        }
      },
    ),
  );
});

test("a frame's MAC is HMAC-SHA256 under the derived MAC key over everything before it", () => {
  const ring = keyring([1]);
  const frame = encodeMessage(peerHeader(), Buffer.from("payload"), ring, { encrypt: false });
  const macOffset = frame.length - MAC_BYTES;
  const expected = createHmac("sha256", ring.signingKeys().mac)
    .update(frame.subarray(0, macOffset))
    .digest();
  assert.deepEqual(frame.subarray(macOffset), expected);
});
