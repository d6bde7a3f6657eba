import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  fragmentMessage,
  MAX_FRAGMENT_DATA_BYTES,
  Reassembler,
} from "../../src/transport/fragments.js";
import { MAX_ENCRYPTED_PLAINTEXT_BYTES } from "../../src/wire/codec.js";

describe("fragments", () => {
  test("any message survives fragmentation, shuffling and duplication", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: MAX_FRAGMENT_DATA_BYTES * 5 + 17 }),
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (bytes, messageId, order) => {
          const fragments = fragmentMessage(2, messageId, bytes);
          for (const fragment of fragments)
            assert.ok(fragment.length <= MAX_ENCRYPTED_PLAINTEXT_BYTES);
          // Deliver in a shuffled order with duplicates, then whatever is still missing.
          const sequence = [...order.map((n) => n % fragments.length), ...fragments.keys()];
          const reassembler = new Reassembler(2, 5000);
          let result: Buffer | null = null;
          for (const index of sequence) {
            const outcome = reassembler.accept(0, 1, 7, fragments[index]!);
            assert.notEqual(outcome.kind, "malformed");
            if (outcome.kind === "complete") {
              assert.equal(result, null, "a message completes once");
              result = outcome.bytes;
              break;
            }
          }
          assert.deepEqual(result, Buffer.from(bytes));
          assert.equal(reassembler.pendingCount(), 0);
        },
      ),
    );
  });

  test("fragments for another node are not reassembled", () => {
    const reassembler = new Reassembler(3, 5000);
    const [fragment] = fragmentMessage(2, 1, Buffer.from("hello"));
    assert.equal(reassembler.accept(0, 1, 7, fragment!).kind, "not_for_us");
  });

  test("malformed headers and inconsistent fragments are refused, never thrown", () => {
    const reassembler = new Reassembler(2, 5000);
    assert.equal(reassembler.accept(0, 1, 7, Buffer.alloc(3)).kind, "malformed");
    const bad = Buffer.alloc(12);
    bad.writeUInt16BE(2, 0);
    bad.writeUInt16BE(5, 6); // index 5 of count 2
    bad.writeUInt16BE(2, 8);
    assert.equal(reassembler.accept(0, 1, 7, bad).kind, "malformed");
    const fragments = fragmentMessage(2, 9, Buffer.alloc(MAX_FRAGMENT_DATA_BYTES * 2));
    // A short middle fragment cannot be part of a real message.
    const short = Buffer.from(fragments[0]!.subarray(0, 20));
    assert.equal(reassembler.accept(0, 1, 7, short).kind, "malformed");
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        reassembler.accept(0, 1, 7, bytes);
      }),
    );
  });

  test("incomplete messages expire, and a sender cannot pile up partial messages", () => {
    const reassembler = new Reassembler(2, 1000);
    for (let id = 0; id < 100; id++) {
      const [first] = fragmentMessage(2, id, Buffer.alloc(MAX_FRAGMENT_DATA_BYTES * 2));
      reassembler.accept(0, 1, 7, first!);
    }
    assert.ok(reassembler.pendingCount() <= 64);
    reassembler.expire(1001);
    assert.equal(reassembler.pendingCount(), 0);
  });

  test("a message that arrives on several links is delivered once per sender run", () => {
    const reassembler = new Reassembler(2, 5000);
    const deliver = (incarnation: number, messageId: number) =>
      reassembler.accept(0, 1, incarnation, fragmentMessage(2, messageId, Buffer.from("m"))[0]!)
        .kind;
    assert.equal(deliver(7, 5), "complete");
    assert.equal(deliver(7, 5), "duplicate");
    // Out of order within the window: each id once.
    assert.equal(deliver(7, 3), "complete");
    assert.equal(deliver(7, 3), "duplicate");
    // The same id from the sender's next run is a new message.
    assert.equal(deliver(8, 5), "complete");
    assert.equal(deliver(8, 5), "duplicate");
    // Ids wrap after 2^32: still one delivery each on both sides of the wrap.
    for (const id of [0xffff_fffe, 0xffff_ffff, 1, 2]) {
      assert.equal(deliver(9, id), "complete", `id ${id}`);
      assert.equal(deliver(9, id), "duplicate", `id ${id} again`);
    }
  });

  test("a fragmented message is delivered once, however many copies of its fragments arrive", () => {
    const reassembler = new Reassembler(2, 5000);
    const fragments = fragmentMessage(2, 40, Buffer.alloc(MAX_FRAGMENT_DATA_BYTES + 10, 1));
    const kinds = [...fragments, ...fragments].map(
      (fragment) => reassembler.accept(0, 1, 7, fragment).kind,
    );
    assert.deepEqual(kinds, ["pending", "complete", "duplicate", "duplicate"]);
    assert.equal(reassembler.pendingCount(), 0);
  });

  test("a message too large for the transport is refused with its size", () => {
    assert.throws(
      () => fragmentMessage(2, 1, Buffer.alloc(17 * 1024 * 1024)),
      /too large for the cluster transport/,
    );
  });
});
