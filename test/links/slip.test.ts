import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  encodeSlipFrame,
  SLIP_END,
  SLIP_ESC,
  SLIP_ESC_END,
  SLIP_ESC_ESC,
  SlipDecoder,
} from "../../src/links/slip.js";
import { MAX_FRAME_BYTES } from "../../src/wire/message.js";

const bytes = (...values: number[]) => Buffer.from(values);

test("encode escapes END and ESC and delimits the frame on both sides", () => {
  assert.deepEqual(
    encodeSlipFrame(bytes(1, SLIP_END, 2, SLIP_ESC, 3)),
    bytes(SLIP_END, 1, SLIP_ESC, SLIP_ESC_END, 2, SLIP_ESC, SLIP_ESC_ESC, 3, SLIP_END),
  );
  assert.deepEqual(encodeSlipFrame(bytes()), bytes(SLIP_END, SLIP_END));
});

test("decode undoes the escapes and skips empty frames between ENDs", () => {
  const decoder = new SlipDecoder();
  const frames = decoder.push(
    bytes(
      SLIP_END,
      SLIP_END,
      7,
      SLIP_ESC,
      SLIP_ESC_END,
      SLIP_ESC,
      SLIP_ESC_ESC,
      SLIP_END,
      SLIP_END,
    ),
  );
  assert.deepEqual(frames, [bytes(7, SLIP_END, SLIP_ESC)]);
  assert.equal(decoder.framingErrorTotal, 0);
});

test("a frame split across chunks, even between ESC and its partner, comes out whole", () => {
  const decoder = new SlipDecoder();
  assert.deepEqual(decoder.push(bytes(SLIP_END, 1, SLIP_ESC)), []);
  assert.deepEqual(decoder.push(bytes(SLIP_ESC_END)), []);
  assert.deepEqual(decoder.push(bytes(2, SLIP_END)), [bytes(1, SLIP_END, 2)]);
});

test("line noise before a frame is flushed by the frame's leading END", () => {
  const decoder = new SlipDecoder();
  const frames = decoder.push(
    Buffer.concat([bytes(0x55, 0xaa, 0x01), encodeSlipFrame(bytes(9, 9))]),
  );
  // The noise becomes a junk frame of its own (the wire filter refuses it); the real one survives.
  assert.deepEqual(frames, [bytes(0x55, 0xaa, 0x01), bytes(9, 9)]);
});

test("a bad escape drops that frame only, counts it, and the next frame decodes", () => {
  const decoder = new SlipDecoder();
  const frames = decoder.push(
    Buffer.concat([bytes(SLIP_END, 1, SLIP_ESC, 0x42, 2, SLIP_END), encodeSlipFrame(bytes(3))]),
  );
  assert.deepEqual(frames, [bytes(3)]);
  assert.deepEqual(decoder.framingErrors, { oversized: 0, bad_escape: 1 });
});

test("END straight after ESC is a truncated escape: dropped and counted", () => {
  const decoder = new SlipDecoder();
  assert.deepEqual(decoder.push(bytes(SLIP_END, 1, SLIP_ESC, SLIP_END)), []);
  assert.equal(decoder.framingErrors.bad_escape, 1);
  assert.deepEqual(decoder.push(encodeSlipFrame(bytes(4))), [bytes(4)]);
});

test("frames longer than MAX_FRAME_BYTES are dropped and counted; the limit itself passes", () => {
  const decoder = new SlipDecoder();
  const atLimit = Buffer.alloc(MAX_FRAME_BYTES, 0x11);
  const overLimit = Buffer.alloc(MAX_FRAME_BYTES + 1, 0x22);
  const frames = decoder.push(
    Buffer.concat([
      encodeSlipFrame(overLimit),
      encodeSlipFrame(atLimit),
      encodeSlipFrame(bytes(5)),
    ]),
  );
  assert.deepEqual(frames, [atLimit, bytes(5)]);
  assert.deepEqual(decoder.framingErrors, { oversized: 1, bad_escape: 0 });
});

test("an endless stream without END stays bounded and costs one oversized frame", () => {
  const decoder = new SlipDecoder(64);
  for (let i = 0; i < 100; i++) assert.deepEqual(decoder.push(Buffer.alloc(1000, 0x33)), []);
  assert.deepEqual(decoder.push(bytes(SLIP_END)), []);
  assert.equal(decoder.framingErrors.oversized, 1);
  assert.deepEqual(decoder.push(encodeSlipFrame(bytes(6))), [bytes(6)]);
});

test("decoder rejects a nonsensical size limit", () => {
  assert.throws(() => new SlipDecoder(0), /maxFrameBytes must be a positive integer/);
});

/** Splits `stream` at the given cut points (any order, duplicates allowed). */
function splitAt(stream: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    chunks.push(stream.subarray(from, point));
    from = point;
  }
  chunks.push(stream.subarray(from));
  return chunks;
}

const frameBytes = fc.uint8Array({ minLength: 1, maxLength: 200 }).map((frame) => {
  // Bias toward the special bytes, which random bytes would hit only ~1% of the time.
  const special = [SLIP_END, SLIP_ESC, SLIP_ESC_END, SLIP_ESC_ESC];
  return Buffer.from(frame.map((b) => (b % 5 === 0 ? (special[b % 4] as number) : b)));
});

test("property: any frame sequence survives encoding and any chunking", () => {
  fc.assert(
    fc.property(
      fc.array(frameBytes, { maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (frames, cuts) => {
        const stream = Buffer.concat(frames.map(encodeSlipFrame));
        const decoder = new SlipDecoder();
        const decoded = splitAt(stream, cuts).flatMap((chunk) => decoder.push(chunk));
        assert.deepEqual(decoded, frames);
        assert.equal(decoder.framingErrorTotal, 0);
      },
    ),
  );
});

test("property: garbage between frames costs at most the garbage, never a real frame", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.uint8Array({ maxLength: 50 }), frameBytes), { maxLength: 15 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (pieces, cuts) => {
        const stream = Buffer.concat(
          pieces.flatMap(([garbage, frame]) => [Buffer.from(garbage), encodeSlipFrame(frame)]),
        );
        const decoder = new SlipDecoder();
        const decoded = splitAt(stream, cuts).flatMap((chunk) => decoder.push(chunk));
        // Every real frame comes out, in order; junk frames may sit between them.
        let next = 0;
        for (const frame of decoded) {
          const expected = pieces[next]?.[1];
          if (expected !== undefined && frame.equals(expected)) next++;
        }
        assert.equal(next, pieces.length);
      },
    ),
  );
});
