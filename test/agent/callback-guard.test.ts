import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { CallbackGuard } from "../../src/agent/callback-guard.js";
import { InvariantError } from "../../src/invariant/invariant-error.js";
import { createLogger } from "../../src/log/logger.js";

function guardWithLog() {
  const lines: Array<Record<string, unknown>> = [];
  const broken: string[] = [];
  let nowMs = 0;
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n"))
        if (line !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const guard = new CallbackGuard({
    logger: createLogger({ level: "info", pretty: false, destination }),
    nowMs: () => nowMs,
    onInvariantBroken: (where, error) => broken.push(`${where}: ${error.message}`),
  });
  return { guard, lines, broken, advance: (ms: number) => (nowMs += ms) };
}

test("an ordinary exception is contained: counted per callback, logged with its stack at most every 10 s", () => {
  const { guard, lines, broken, advance } = guardWithLog();
  const failing = guard.wrap("ring0 frame", (size: number) => {
    throw new RangeError(`frame of ${size} bytes`);
  });
  for (let i = 0; i < 5; i++) failing(7);
  assert.deepEqual(guard.failures(), { "ring0 frame": 5 });
  assert.equal(lines.length, 1, "one line for five identical failures");
  assert.equal(lines[0]!.where, "ring0 frame");
  assert.match((lines[0]!.err as { stack: string }).stack, /RangeError: frame of 7 bytes\n\s+at /);
  advance(10_000);
  failing(7);
  assert.equal(lines.length, 2);
  assert.equal(lines[1]!.suppressed, 4);
  assert.deepEqual(broken, []);
});

test("a broken invariant is not contained: the agent is told to stop, and it is logged as fatal", () => {
  const { guard, lines, broken } = guardWithLog();
  guard.wrap("heartbeat send timer", () => {
    throw new InvariantError("log append at 7 does not follow last index 5");
  })();
  assert.deepEqual(broken, ["heartbeat send timer: log append at 7 does not follow last index 5"]);
  assert.deepEqual(guard.failures(), {});
  assert.equal(lines[0]!.level, 60);
  assert.equal(lines[0]!.msg, "invariant broken; stopping the agent");
});
