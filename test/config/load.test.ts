import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError, loadConfigFile, parseConfigText } from "../../src/config/load.js";
import { configErrorOf, issueAt, replaceOnce, VALID_YAML } from "./helpers.js";

test("a valid file parses with defaults filled in", () => {
  const config = parseConfigText(VALID_YAML, "test.yaml");
  assert.deepEqual(
    config.nodes.map((node) => node.name),
    ["alpha", "beta", "gamma"],
  );
  assert.deepEqual(config.links[0], { name: "ring0", type: "ucast", port: 694 });
  assert.deepEqual(config.links[1], {
    name: "ring1",
    type: "mcast",
    group: "239.255.42.1",
    port: 694,
    ttl: 1,
    loopback: false,
  });
  assert.deepEqual(config.detector, { type: "fixed" });
  assert.deepEqual(config.keys, { file: "/etc/vigil/authkeys", encrypt: false });
  assert.equal(config.state_dir, "/var/lib/vigil");
  assert.equal(config.control.socket, "/run/vigil/vigil.sock");
  assert.equal(config.log.level, "info");
  assert.deepEqual(config.scheduling, { nice: -10 });
});

test("scheduling.nice is a niceness, -20 to 19", () => {
  const error = configErrorOf(`${VALID_YAML}scheduling:\n  nice: -21\n`);
  assert.equal(issueAt(error, "scheduling.nice").message, "expected at least -20 (got -21)");
  assert.equal(
    parseConfigText(`${VALID_YAML}scheduling:\n  nice: 0\n`, "test.yaml").scheduling.nice,
    0,
  );
});

test("a missing file is a ConfigError naming the path", async () => {
  const path = join(tmpdir(), "vigil-no-such-dir-4711", "vigil.yaml");
  await assert.rejects(loadConfigFile(path), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.message, `cannot read config file ${path}: no such file`);
    return true;
  });
});

test("loadConfigFile reports problems with the file's path", async () => {
  const dir = await mkdtemp(join(tmpdir(), "vigil-config-test-"));
  try {
    const path = join(dir, "vigil.yaml");
    await writeFile(path, replaceOnce(VALID_YAML, "id: 2", "id: two"));
    await assert.rejects(loadConfigFile(path), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(
        error.message,
        new RegExp(`^${path}:9:9: nodes\\[1\\]\\.id: expected a number \\(got "two"\\)$`, "m"),
      );
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("YAML syntax errors carry file, line and column", () => {
  const error = configErrorOf("cluster:\n  name: x\nnodes: [1, 2\nlinks: y\n", "bad.yaml");
  assert.ok(error.issues.length >= 1);
  assert.equal(error.issues[0]!.file, "bad.yaml");
  assert.equal(error.issues[0]!.line, 4);
  assert.match(error.message, /^bad\.yaml:4:1: YAML syntax: /m);
});

test("a key written twice is a YAML error at the second occurrence", () => {
  const error = configErrorOf(`${VALID_YAML}cluster:\n  name: other\n`);
  assert.equal(error.issues.length, 1);
  assert.match(error.message, /^test\.yaml:25:1: YAML syntax: Map keys must be unique$/m);
});

test("an empty file says what is expected", () => {
  const error = configErrorOf("# nothing yet\n");
  assert.match(
    error.message,
    /test\.yaml:1:1: the file is empty; expected a mapping with cluster, nodes and links/,
  );
});

test("schema errors point at the offending value and say what was expected and got", () => {
  const text = replaceOnce(
    replaceOnce(VALID_YAML, "address: 198.18.0.2", "address: 198.18.0.300"),
    "    type: ucast",
    "    type: ucastx",
  );
  const error = configErrorOf(text);
  const address = issueAt(error, "nodes[1].links.ring0.address");
  assert.deepEqual([address.line, address.column], [12, 25]);
  assert.equal(address.message, 'expected an IPv4 address such as 198.18.0.1 (got "198.18.0.300")');
  const type = issueAt(error, "links[0].type");
  assert.equal(type.line, 21);
  assert.equal(type.message, 'expected one of ucast, mcast, bcast, serial (got "ucastx")');
  assert.match(
    error.message,
    /^test\.yaml:12:25: nodes\[1\]\.links\.ring0\.address: expected an IPv4 address/m,
  );
});

test("every schema error is reported, not just the first", () => {
  const text = replaceOnce(
    replaceOnce(VALID_YAML, "id: 1", 'id: "1"'),
    "    group: 239.255.42.1\n",
    "    group: 239.255.42.1\n    ttl: 0\ntiming:\n  keepalive_ms: 2.5\n",
  );
  const error = configErrorOf(text);
  assert.equal(error.issues.length, 3);
  assert.equal(
    issueAt(error, "nodes[0].id").message,
    'expected a number (got "1"; write numbers without quotes)',
  );
  assert.equal(issueAt(error, "links[1].ttl").message, "expected at least 1 (got 0)");
  assert.equal(issueAt(error, "links[1].ttl").line, 25);
  assert.equal(issueAt(error, "timing.keepalive_ms").message, "expected a whole number (got 2.5)");
  assert.equal(issueAt(error, "timing.keepalive_ms").line, 27);
  assert.match(error.message, /\(3 problems\)/);
});

test("a missing required key points at the mapping that lacks it", () => {
  const error = configErrorOf(replaceOnce(VALID_YAML, "    group: 239.255.42.1\n", ""));
  const group = issueAt(error, "links[1].group");
  assert.deepEqual([group.line, group.column], [22, 5]);
  assert.match(
    group.message,
    /^expected an IPv4 multicast group such as 239\.255\.42\.1 \(got nothing: the key is missing\)$/,
  );
});

test("an unknown key suggests the closest allowed key and points at the key", () => {
  const error = configErrorOf(`${VALID_YAML}timing:\n  deadtime: 900\n`);
  const issue = issueAt(error, "timing.deadtime");
  assert.deepEqual([issue.line, issue.column], [26, 3]);
  assert.equal(issue.message, "unknown key 'deadtime'; did you mean 'deadtime_ms'?");
  assert.match(
    error.message,
    /^test\.yaml:26:3: timing\.deadtime: unknown key 'deadtime'; did you mean 'deadtime_ms'\?$/m,
  );
});

test("an unknown key with no close match lists the allowed keys", () => {
  const error = configErrorOf(
    replaceOnce(
      VALID_YAML,
      "ring0: { address: 198.18.0.1 }",
      "ring0: { address: 198.18.0.1, color: red }",
    ),
  );
  assert.equal(
    issueAt(error, "nodes[0].links.ring0.color").message,
    "unknown key 'color'; allowed here: address, port, interface, device",
  );
});

test("unknown keys in several places are all reported, each with its own suggestion", () => {
  const text = replaceOnce(
    replaceOnce(VALID_YAML, "    type: ucast\n", "    type: ucast\n    prot: 695\n"),
    "  name: test-cluster\n",
    "  name: test-cluster\n  idd: 5\n",
  );
  const error = configErrorOf(text);
  assert.equal(issueAt(error, "cluster.idd").message, "unknown key 'idd'; did you mean 'id'?");
  assert.equal(issueAt(error, "cluster.idd").line, 3);
  assert.equal(issueAt(error, "links[0].prot").message, "unknown key 'prot'; did you mean 'port'?");
  assert.equal(issueAt(error, "links[0].prot").line, 23);
});

test("issues are listed in file order", () => {
  const text = `${replaceOnce(VALID_YAML, "name: beta", "name: be ta")}log:\n  levle: info\n`;
  const error = configErrorOf(text);
  const lines = error.issues.map((issue) => issue.line);
  assert.deepEqual(
    lines,
    [...lines].sort((a, b) => a - b),
  );
  assert.equal(error.issues.length, 2);
});
