import assert from "node:assert/strict";
import { test } from "node:test";
import { parseConfigText } from "../../src/config/load.js";
import { sentinelListenOf } from "../../src/config/sentinel-schema.js";
import { sentinelServices } from "../../src/sentinel/sentinel-listener.js";
import { configErrorOf, issueAt, replaceOnce, VALID_YAML } from "./helpers.js";

const withSentinel = (sentinel: string) => `${VALID_YAML}sentinel: ${sentinel}\n`;

test("the Sentinel protocol is off by default", () => {
  const config = parseConfigText(VALID_YAML, "test.yaml");
  assert.equal(config.sentinel, undefined);
  assert.equal(sentinelListenOf(config, config.nodes[0]!), null);
});

test("sentinel: Sentinel's port by default, each node's address on the first link, or given", () => {
  const config = parseConfigText(
    withSentinel(
      "{ services: { mymaster: { resource: redis-ha, addresses: { gamma: 198.18.1.3 } } } }",
    ),
    "test.yaml",
  );
  assert.deepEqual(sentinelListenOf(config, config.nodes[0]!), { host: "0.0.0.0", port: 26379 });
  assert.deepEqual(sentinelServices(config, config.sentinel!), [
    {
      name: "mymaster",
      resource: "redis-ha",
      port: 6379,
      addresses: { alpha: "198.18.0.1", beta: "198.18.0.2", gamma: "198.18.1.3" },
    },
  ]);
  const listening = (listen: string) =>
    sentinelListenOf(
      parseConfigText(withSentinel(`{ listen: "${listen}", services: {} }`), "test.yaml"),
      {},
    );
  assert.deepEqual(listening("127.0.0.1"), { host: "127.0.0.1", port: 26379 });
  assert.deepEqual(listening("[::1]"), { host: "::1", port: 26379 });
  assert.deepEqual(listening("198.18.0.1:26400"), { host: "198.18.0.1", port: 26400 });
  const own = parseConfigText(
    replaceOnce(
      withSentinel("{ services: {} }"),
      "    name: beta\n",
      '    name: beta\n    sentinel_listen: "127.0.0.2:26380"\n',
    ),
    "test.yaml",
  );
  assert.deepEqual(sentinelListenOf(own, own.nodes[1]!), { host: "127.0.0.2", port: 26380 });
});

test("mistakes name their key: address, link, node, a node with no address, master name", () => {
  assert.match(
    issueAt(configErrorOf(withSentinel('{ listen: "localhost", services: {} }')), "sentinel.listen")
      .message,
    /^expected ADDR or ADDR:PORT with a numeric address/,
  );
  assert.equal(
    issueAt(
      configErrorOf(withSentinel("{ services: { m: { resource: r, link: ring9 } } }")),
      "sentinel.services.m.link",
    ).message,
    "no link ring9: expected one of ring0, ring1",
  );
  assert.equal(
    issueAt(
      configErrorOf(
        withSentinel("{ services: { m: { resource: r, addresses: { delta: 198.18.0.4 } } } }"),
      ),
      "sentinel.services.m.addresses.delta",
    ).message,
    "no node delta: expected one of alpha, beta, gamma",
  );
  const noAddress = configErrorOf(
    withSentinel("{ services: { m: { resource: r, link: ring1 } } }"),
  );
  assert.deepEqual(
    noAddress.issues
      .filter((issue) => issue.keyPath === "sentinel.services.m.addresses")
      .map((issue) => issue.message.split(" to serve")[0]),
    [
      "node alpha has no address on link ring1",
      "node beta has no address on link ring1",
      "node gamma has no address on link ring1",
    ],
  );
  assert.ok(
    configErrorOf(withSentinel("{ services: { 'my master': { resource: r } } }")).issues.some(
      (issue) => /expected a master name such as mymaster/.test(issue.message),
    ),
  );
  assert.match(
    issueAt(
      configErrorOf(withSentinel("{ services: { m: { resource: r, port: 0 } } }")),
      "sentinel.services.m.port",
    ).message,
    /^expected at least 1 \(got 0\)$/,
  );
});

test("a node's own sentinel_listen only with the Sentinel protocol on", () => {
  const text = replaceOnce(
    VALID_YAML,
    "    name: beta\n",
    '    name: beta\n    sentinel_listen: "127.0.0.1:26380"\n',
  );
  assert.match(
    issueAt(configErrorOf(text), "nodes[1].sentinel_listen").message,
    /^node beta sets sentinel_listen, but the Sentinel protocol is off: add a sentinel section/,
  );
});
