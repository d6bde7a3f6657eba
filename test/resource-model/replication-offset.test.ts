/**
 * A promotable clone's replication_offset: how it is written (and refused), and how the offset
 * is read from its command's output.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkResourceDocument } from "../../src/resource-check/check-document.js";
import { parseReplicationOffset } from "../../src/resource-model/replication-offset.js";

const NODES = ["db1", "db2", "db3"];

function documentWith(clone: Record<string, unknown>) {
  return {
    resources: { redis: { agent: "ocf:heartbeat:redis" } },
    clones: { "redis-ha": { of: "redis", promotable: true, ...clone } },
  };
}

function problemsOf(clone: Record<string, unknown>): string[] {
  return checkResourceDocument(documentWith(clone), NODES).problems.map(
    (p) => `${p.path.join(".")}: ${p.message}`,
  );
}

describe("replication_offset as written", () => {
  test("a command and a pattern with a group become the clone's spec, 10 s by default", () => {
    const { model, problems } = checkResourceDocument(
      documentWith({
        replication_offset: {
          command: 'redis-cli -s "$OCF_RESKEY_rundir/redis.sock" info replication',
          pattern: "^master_repl_offset:(\\d+)",
        },
      }),
      NODES,
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(model?.clones["redis-ha"]?.replicationOffset, {
      command: 'redis-cli -s "$OCF_RESKEY_rundir/redis.sock" info replication',
      pattern: "^master_repl_offset:(\\d+)",
      timeoutMs: 10_000,
    });
  });

  test("refused, saying where and why", () => {
    const at = "clones.redis-ha.replication_offset";
    assert.deepEqual(problemsOf({ replication_offset: { command: "  " } }), [
      `${at}.command: expected the command that prints this copy's replication offset`,
    ]);
    assert.deepEqual(problemsOf({ replication_offset: { command: "x", pattern: "offset:\\d+" } }), [
      `${at}.pattern: the pattern needs a group around the offset, e.g. ^master_repl_offset:(\\d+)`,
    ]);
    const [invalid] = problemsOf({ replication_offset: { command: "x", pattern: "(\\d+" } });
    assert.match(
      invalid ?? "",
      /^clones\.redis-ha\.replication_offset\.pattern: not a regular expression: /,
    );
    assert.deepEqual(problemsOf({ replication_offset: { command: "x", timeout_ms: 0 } }), [
      `${at}.timeout_ms: expected a positive number of milliseconds (at least 1)`,
    ]);
    assert.deepEqual(problemsOf({ promotable: false, replication_offset: { command: "x" } }), [
      `${at}: only a promotable clone's copies are ranked by replication offset: add promotable: true, or drop replication_offset`,
    ]);
  });
});

describe("parseReplicationOffset", () => {
  const INFO =
    "# Replication\r\nrole:slave\r\nmaster_repl_offset:48213\r\nslave_repl_offset:48213\r\n";

  test("the whole output, or the pattern's first group on any line", () => {
    assert.equal(parseReplicationOffset("  1234\n"), 1234);
    assert.equal(parseReplicationOffset(INFO, "^master_repl_offset:(\\d+)"), 48213);
    assert.equal(parseReplicationOffset("0\n"), 0);
  });

  test("PostgreSQL's WAL locations compare as the positions they are", () => {
    assert.equal(parseReplicationOffset("0/3000060"), 0x3000060);
    assert.equal(parseReplicationOffset("16/B374D848"), 0x16 * 2 ** 32 + 0xb374d848);
    assert.ok(
      (parseReplicationOffset("1/0") as number) > (parseReplicationOffset("0/FFFFFFFF") as number),
    );
  });

  test("no offset: a reason, never a number", () => {
    assert.equal(parseReplicationOffset(""), "the command printed no offset");
    assert.equal(
      parseReplicationOffset(INFO, "^repl_backlog_size:(\\d+)"),
      "the output does not match ^repl_backlog_size:(\\d+)",
    );
    assert.match(parseReplicationOffset("-5") as string, /"-5" is not an offset/);
    assert.match(parseReplicationOffset("12.5") as string, /is not an offset/);
    assert.equal(
      parseReplicationOffset("99999999999999999"),
      "offset 99999999999999999 is too large",
    );
  });
});
