import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  array,
  bulk,
  DEFAULT_RESP_LIMITS,
  encodeResp,
  errorReply,
  integer,
  RespRequestReader,
  simple,
} from "../../src/sentinel/resp.js";

/** A command as clients send it: an array of bulk strings. */
function request(args: readonly string[]): Buffer {
  return Buffer.from(
    `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join("")}`,
  );
}

/** Reads `bytes` in chunks cut at `cuts` (offsets), collecting every command and the error. */
function readInChunks(bytes: Buffer, cuts: readonly number[], reader = new RespRequestReader()) {
  const commands: string[][] = [];
  let error: string | null = null;
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...points, bytes.length]) {
    const result = reader.push(bytes.subarray(from, to));
    commands.push(...result.commands);
    error ??= result.error;
    from = to;
  }
  return { commands, error };
}

const argument = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom("", "\r\n", "*3", "$-1", "a b", "\n"),
);

describe("RESP2 replies", () => {
  test("every type as Redis writes it", () => {
    const text = (value: Parameters<typeof encodeResp>[0]) => encodeResp(value).toString();
    assert.equal(text(simple("PONG")), "+PONG\r\n");
    assert.equal(text(errorReply("ERR bad\r\nthing")), "-ERR bad thing\r\n");
    assert.equal(text(integer(42)), ":42\r\n");
    assert.equal(text(bulk("héllo")), "$6\r\nhéllo\r\n");
    assert.equal(text(bulk(null)), "$-1\r\n");
    assert.equal(text(array(null)), "*-1\r\n");
    assert.equal(text(array([bulk("a"), array([integer(1)])])), "*2\r\n$1\r\na\r\n*1\r\n:1\r\n");
  });
});

describe("RESP2 requests", () => {
  test("arrays of bulk strings, inline commands, empty lines and empty arrays", () => {
    const reader = new RespRequestReader();
    const bytes = Buffer.concat([
      request(["SENTINEL", "get-master-addr-by-name", "mymaster"]),
      Buffer.from("PING\r\n\r\n  info   sentinel \n*0\r\n*-1\r\n"),
      request(["QUIT"]),
    ]);
    assert.deepEqual(reader.push(bytes), {
      commands: [
        ["SENTINEL", "get-master-addr-by-name", "mymaster"],
        ["PING"],
        ["info", "sentinel"],
        ["QUIT"],
      ],
      error: null,
    });
  });

  test("any commands, cut into chunks anywhere, read back the same", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(argument, { minLength: 1, maxLength: 6 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (commands, cuts) => {
          const bytes = Buffer.concat(commands.map(request));
          assert.deepEqual(readInChunks(bytes, cuts), { commands, error: null });
        },
      ),
    );
  });

  test("a byte at a time reads the same as all at once", () => {
    const bytes = Buffer.concat([
      request(["SUBSCRIBE", "+switch-master"]),
      Buffer.from("PING\r\n"),
    ]);
    const cuts = Array.from({ length: bytes.length }, (_, i) => i);
    assert.deepEqual(readInChunks(bytes, cuts).commands, [
      ["SUBSCRIBE", "+switch-master"],
      ["PING"],
    ]);
  });

  test("hostile input gets Redis's protocol error, and nothing more is read after it", () => {
    const cases: Array<[string, string]> = [
      ["*99999999\r\n", "ERR Protocol error: invalid multibulk length"],
      ["*x\r\n", "ERR Protocol error: invalid multibulk length"],
      ["*1\r\n$999999999\r\n", "ERR Protocol error: invalid bulk length"],
      ["*1\r\n$-5\r\n", "ERR Protocol error: invalid bulk length"],
      ["*1\r\n:5\r\n", "ERR Protocol error: expected '$', got ':'"],
      ["*1\r\n$3\r\nabcXY", "ERR Protocol error: expected CRLF after a bulk string"],
      [
        `${"x".repeat(DEFAULT_RESP_LIMITS.maxInlineBytes + 1)}`,
        "ERR Protocol error: too big inline request",
      ],
      [
        `*1\r\n$${"9".repeat(DEFAULT_RESP_LIMITS.maxInlineBytes + 1)}`,
        "ERR Protocol error: too big bulk count string",
      ],
    ];
    for (const [input, error] of cases) {
      const reader = new RespRequestReader();
      const first = reader.push(Buffer.concat([Buffer.from("PING\r\n"), Buffer.from(input)]));
      assert.deepEqual(first, { commands: [["PING"]], error }, JSON.stringify(input.slice(0, 40)));
      assert.deepEqual(reader.push(Buffer.from("PING\r\n")), { commands: [], error });
    }
  });

  test("a request larger than the bound is refused before it is all held", () => {
    const limits = { ...DEFAULT_RESP_LIMITS, maxPendingBytes: 1000, maxBulkBytes: 600 };
    const reader = new RespRequestReader(limits);
    const first = Buffer.from(`*2\r\n$600\r\n${"w".repeat(600)}\r\n`);
    assert.deepEqual(reader.push(first), { commands: [], error: null });
    // The second argument would make the request 1234 bytes: refused at its length line.
    assert.deepEqual(reader.push(Buffer.from(`$600\r\n${"w".repeat(10)}`)), {
      commands: [],
      error: "ERR Protocol error: too big request",
    });
  });

  test("random bytes never throw: commands, then at most one protocol error", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 64 }),
            fc
              .constantFrom("*", "$", "\r\n", "*2\r\n", "$5\r\n", "-1", "99999999999")
              .map((t) => Buffer.from(t)),
          ),
          { maxLength: 30 },
        ),
        (chunks) => {
          const reader = new RespRequestReader();
          let error: string | null = null;
          for (const chunk of chunks) {
            const result = reader.push(chunk);
            if (error !== null) assert.deepEqual(result, { commands: [], error });
            error = result.error;
            for (const command of result.commands) assert.ok(command.length > 0);
          }
        },
      ),
    );
  });
});
