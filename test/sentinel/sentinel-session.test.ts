import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { encodeResp, type RespValue } from "../../src/sentinel/resp.js";
import type { SentinelWorld } from "../../src/sentinel/sentinel-replies.js";
import { globMatches, SentinelSession } from "../../src/sentinel/sentinel-session.js";
import type { Instance, ServiceView } from "../../src/sentinel/sentinel-view.js";

const at = (node: string, ip: string, down = false): Instance => ({ node, ip, port: 6379, down });

function world(master: Instance | null = at("alpha", "198.18.0.1")): SentinelWorld {
  const view: ServiceView = {
    name: "mymaster",
    master,
    replicas: [at("beta", "198.18.0.2"), at("gamma", "198.18.0.3", true)],
  };
  return {
    runId: "a".repeat(40),
    services: () => [view],
    lastMaster: () => at("alpha", "198.18.0.1"),
    epoch: () => 2,
    sentinels: () => [
      { node: "beta", ip: "198.18.0.2", port: 26379, runId: "b".repeat(40), down: false },
      { node: "gamma", ip: "198.18.0.3", port: 26379, runId: "c".repeat(40), down: true },
    ],
    downAfterMs: 900,
  };
}

/** A reply as a client library hands it over: strings, numbers, nulls, arrays, errors thrown as text. */
function plain(value: RespValue): unknown {
  switch (value.kind) {
    case "simple":
      return value.text;
    case "error":
      return { error: value.text };
    case "integer":
      return value.value;
    case "bulk":
      return value.text;
    case "array":
      return value.items === null ? null : value.items.map(plain);
  }
}

const ask = (session: SentinelSession, ...args: string[]) => {
  const answer = session.handle(args);
  assert.equal(answer.replies.length, 1, `one reply to ${args.join(" ")}`);
  return plain(answer.replies[0]!);
};
/** Sentinel's flat key/value list as redis-py's pairs_to_dict reads it. */
const fields = (reply: unknown) => {
  const list = reply as string[];
  return Object.fromEntries(list.flatMap((item, i) => (i % 2 === 0 ? [[item, list[i + 1]]] : [])));
};

describe("Sentinel commands", () => {
  test("PING, ECHO, ROLE, QUIT", () => {
    const session = new SentinelSession(world(), 7);
    assert.equal(ask(session, "PING"), "PONG");
    assert.equal(ask(session, "ping", "hi"), "hi");
    assert.equal(ask(session, "ECHO", "x"), "x");
    assert.deepEqual(ask(session, "ROLE"), ["sentinel", ["mymaster"]]);
    assert.deepEqual(session.handle(["QUIT"]), {
      replies: [{ kind: "simple", text: "OK" }],
      close: true,
    });
  });

  test("get-master-addr-by-name: the master's address and port, nil when none serves or the name is unknown", () => {
    assert.deepEqual(
      ask(new SentinelSession(world(), 1), "SENTINEL", "get-master-addr-by-name", "mymaster"),
      ["198.18.0.1", "6379"],
    );
    assert.equal(
      ask(new SentinelSession(world(), 1), "sentinel", "GET-MASTER-ADDR-BY-NAME", "other"),
      null,
    );
    assert.equal(
      ask(new SentinelSession(world(null), 1), "SENTINEL", "get-master-addr-by-name", "mymaster"),
      null,
    );
    assert.equal(
      ask(
        new SentinelSession(world(at("alpha", "198.18.0.1", true)), 1),
        "SENTINEL",
        "get-master-addr-by-name",
        "mymaster",
      ),
      null,
    );
  });

  test("masters and master: the flat form redis-py's Sentinel checks (flags, num-other-sentinels, ip, port)", () => {
    const session = new SentinelSession(world(), 1);
    const masters = ask(session, "SENTINEL", "MASTERS") as unknown[];
    assert.equal(masters.length, 1);
    const master = fields(masters[0]);
    assert.deepEqual(master, fields(ask(session, "SENTINEL", "master", "mymaster")));
    assert.equal(master.name, "mymaster");
    assert.equal(master.ip, "198.18.0.1");
    assert.equal(master.port, "6379");
    assert.equal(master.flags, "master");
    assert.equal(master["num-slaves"], "2");
    assert.equal(master["num-other-sentinels"], "2");
    assert.equal(master.quorum, "2");
    assert.equal(master["config-epoch"], "2");
    // Between masters: the last one, flagged down, so that a client does not take it.
    const between = fields(
      ask(new SentinelSession(world(null), 1), "SENTINEL", "master", "mymaster"),
    );
    assert.equal(between.ip, "198.18.0.1");
    assert.equal(between.flags, "master,s_down,o_down");
    assert.deepEqual(ask(session, "SENTINEL", "master", "other"), {
      error: "ERR No such master with that name",
    });
  });

  test("replicas (and slaves) and sentinels, with their down flags", () => {
    const session = new SentinelSession(world(), 1);
    const replicas = (ask(session, "SENTINEL", "replicas", "mymaster") as unknown[]).map(fields);
    assert.deepEqual(
      ask(session, "SENTINEL", "slaves", "mymaster"),
      ask(session, "SENTINEL", "replicas", "mymaster"),
    );
    assert.deepEqual(
      replicas.map((r) => [
        r.name,
        r.ip,
        r.port,
        r.flags,
        r["master-host"],
        r["master-link-status"],
      ]),
      [
        ["198.18.0.2:6379", "198.18.0.2", "6379", "slave", "198.18.0.1", "ok"],
        ["198.18.0.3:6379", "198.18.0.3", "6379", "slave,s_down", "198.18.0.1", "ok"],
      ],
    );
    const sentinels = (ask(session, "SENTINEL", "sentinels", "mymaster") as unknown[]).map(fields);
    assert.deepEqual(
      sentinels.map((s) => [s.ip, s.port, s.runid, s.flags]),
      [
        ["198.18.0.2", "26379", "b".repeat(40), "sentinel"],
        ["198.18.0.3", "26379", "c".repeat(40), "sentinel,s_down,disconnected"],
      ],
    );
    assert.equal(ask(session, "SENTINEL", "myid"), "a".repeat(40));
  });

  test("errors in Redis's words: unknown commands and subcommands, wrong arity, what Vigil decides itself", () => {
    const session = new SentinelSession(world(), 1);
    assert.deepEqual(ask(session, "FLUSHALL", "a", "b"), {
      error: "ERR unknown command 'FLUSHALL', with args beginning with: 'a' 'b' ",
    });
    assert.deepEqual(ask(session, "SENTINEL", "nope"), {
      error: "ERR unknown subcommand 'nope'. Try SENTINEL HELP.",
    });
    assert.deepEqual(ask(session, "SENTINEL", "master"), {
      error: "ERR wrong number of arguments for 'sentinel|master' command",
    });
    assert.match(
      (ask(session, "SENTINEL", "failover", "mymaster") as { error: string }).error,
      /vigil resource move/,
    );
  });

  test("HELLO: RESP2 only (ioredis falls back on NOPROTO); CLIENT names", () => {
    const session = new SentinelSession(world(), 9);
    assert.deepEqual(ask(session, "HELLO", "3"), {
      error: "NOPROTO sorry, this protocol version is not supported.",
    });
    const hello = ask(session, "HELLO", "2", "SETNAME", "app-1") as unknown[];
    assert.deepEqual(hello.slice(0, 8), [
      "server",
      "redis",
      "version",
      "7.0.0",
      "proto",
      2,
      "id",
      9,
    ]);
    assert.equal(ask(session, "CLIENT", "GETNAME"), "app-1");
    assert.equal(ask(session, "CLIENT", "SETNAME", "other"), "OK");
    assert.equal(ask(session, "client", "getname"), "other");
    assert.equal(ask(session, "CLIENT", "SETINFO", "LIB-NAME", "redis-py"), "OK");
    assert.deepEqual(ask(session, "CLIENT", "SETNAME", "bad name"), {
      error: "ERR Client names cannot contain spaces, newlines or special characters.",
    });
  });

  test("SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE: the replies and messages of subscribed mode", () => {
    const session = new SentinelSession(world(), 1);
    assert.deepEqual(session.handle(["SUBSCRIBE", "+switch-master", "+sdown"]).replies.map(plain), [
      ["subscribe", "+switch-master", 1],
      ["subscribe", "+sdown", 2],
    ]);
    assert.deepEqual(ask(session, "SENTINEL", "masters"), {
      error:
        "ERR Can't execute 'sentinel': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
    });
    assert.deepEqual(ask(session, "PING"), ["pong", ""]);
    const text = "mymaster 198.18.0.1 6379 198.18.0.2 6379";
    assert.deepEqual(session.messages("+switch-master", text).map(plain), [
      ["message", "+switch-master", text],
    ]);
    assert.deepEqual(session.messages("+odown", "x"), []);
    assert.deepEqual(ask(session, "PSUBSCRIBE", "*"), ["psubscribe", "*", 3]);
    assert.deepEqual(session.messages("+odown", "x").map(plain), [
      ["pmessage", "*", "+odown", "x"],
    ]);
    // Subscribed to the channel and to a pattern that matches it: both messages, as Redis sends.
    assert.deepEqual(session.messages("+switch-master", text).map(plain), [
      ["message", "+switch-master", text],
      ["pmessage", "*", "+switch-master", text],
    ]);
    assert.deepEqual(session.handle(["UNSUBSCRIBE"]).replies.map(plain), [
      ["unsubscribe", "+switch-master", 2],
      ["unsubscribe", "+sdown", 1],
    ]);
    assert.deepEqual(ask(session, "PUNSUBSCRIBE", "*"), ["punsubscribe", "*", 0]);
    assert.deepEqual(session.messages("+switch-master", text), []);
    assert.equal(ask(session, "PING"), "PONG");
  });

  test("subscriptions per connection are bounded", () => {
    const session = new SentinelSession(world(), 1);
    const channels = Array.from({ length: 70 }, (_, i) => `c${i}`);
    const replies = session.handle(["SUBSCRIBE", ...channels]).replies.map(plain);
    assert.deepEqual(replies[63], ["subscribe", "c63", 64]);
    assert.deepEqual(replies[64], { error: "ERR at most 64 channels and patterns per connection" });
  });

  test("any command a client sends gets replies, never an exception", () => {
    const word = fc.oneof(
      fc.constantFrom(
        "SENTINEL",
        "sentinel",
        "CLIENT",
        "HELLO",
        "SUBSCRIBE",
        "PSUBSCRIBE",
        "UNSUBSCRIBE",
        "PING",
        "ROLE",
        "INFO",
        "masters",
        "master",
        "mymaster",
        "setname",
        "3",
        "2",
        "*",
        "",
      ),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(word, { minLength: 1, maxLength: 6 }), { maxLength: 20 }),
        (commands) => {
          const session = new SentinelSession(world(), 1);
          for (const command of commands) {
            const answer = session.handle(command);
            assert.ok(answer.replies.length >= 1);
            for (const reply of answer.replies) encodeResp(reply);
          }
        },
      ),
    );
  });
});

describe("PSUBSCRIBE's globs", () => {
  test("match as a reference matcher does on small inputs", () => {
    const literal = (char: string) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
    const reference = (pattern: string, text: string) => {
      let source = "";
      for (let i = 0; i < pattern.length; i++) {
        const char = pattern[i]!;
        if (char === "*") source += "[\\s\\S]*";
        else if (char === "?") source += "[\\s\\S]";
        else if (char === "\\" && i + 1 < pattern.length) source += literal(pattern[++i]!);
        else source += literal(char);
      }
      return new RegExp(`^${source}$`).test(text);
    };
    const alphabet = fc.string({
      unit: fc.constantFrom("a", "b", "*", "?", "\\", "+"),
      maxLength: 8,
    });
    fc.assert(
      fc.property(
        alphabet,
        fc.string({ unit: fc.constantFrom("a", "b", "*", "+"), maxLength: 8 }),
        (pattern, text) => {
          assert.equal(
            globMatches(pattern, text),
            reference(pattern, text),
            `${pattern} ~ ${text}`,
          );
        },
      ),
    );
  });

  test("a pattern of many stars is answered at once (no backtracking)", () => {
    assert.equal(globMatches(`${"*a".repeat(5000)}b`, "+switch-master"), false);
    assert.equal(globMatches("+switch-*", "+switch-master"), true);
  });
});
