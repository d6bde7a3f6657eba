import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32c } from "../../src/storage/crc32c.js";

test("crc32c matches the published check values", () => {
  assert.equal(crc32c(Buffer.from("123456789", "ascii")), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  // RFC 3720 (iSCSI) appendix B.4: 32 bytes of zeros, then of 0xff.
  assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
});

test("crc32c can be computed in pieces", () => {
  const whole = Buffer.from("the quick brown fox jumps over the lazy dog", "ascii");
  assert.equal(crc32c(whole.subarray(10), crc32c(whole.subarray(0, 10))), crc32c(whole));
});
