import assert from "node:assert/strict";
import { test } from "node:test";
import { parseConfigText } from "../../src/config/load.js";
import { ControlServer } from "../../src/control/server.js";
import { MAX_ECHOES } from "../../src/wire/heartbeat.js";
import { configErrorOf, issueAt, replaceOnce, VALID_YAML } from "./helpers.js";

/** Values the schema's types allow but that no agent could work with. */

test("a port 0 is refused on a link, on a node's attachment and in a tcp connectivity target", () => {
  const onLink = configErrorOf(replaceOnce(VALID_YAML, "type: ucast", "type: ucast\n    port: 0"));
  assert.equal(issueAt(onLink, "links[0].port").message, "expected at least 1 (got 0)");
  const onNode = configErrorOf(
    replaceOnce(VALID_YAML, "{ address: 198.18.0.1 }", "{ address: 198.18.0.1, port: 0 }"),
  );
  assert.equal(issueAt(onNode, "nodes[0].links.ring0.port").message, "expected at least 1 (got 0)");
  const probe = configErrorOf(`${VALID_YAML}connectivity:\n  targets:\n    - tcp: "db:0"\n`);
  const issue = issueAt(probe, "connectivity.targets[0].tcp");
  assert.equal(issue.message, 'expected host:port with a port in 1..65535 (got "db:0")');
  assert.deepEqual([issue.line, issue.column], [27, 12]);
});

test("state_dir, keys.file and control.socket must be absolute paths", () => {
  const error = configErrorOf(
    `${VALID_YAML}state_dir: var/lib/vigil\nkeys:\n  file: authkeys\ncontrol:\n  socket: vigil.sock\n`,
  );
  assert.equal(
    error.message,
    [
      "invalid configuration test.yaml (3 problems):",
      'test.yaml:25:12: state_dir: expected an absolute path such as /var/lib/vigil (got "var/lib/vigil")',
      'test.yaml:27:9: keys.file: expected an absolute path such as /etc/vigil/authkeys (got "authkeys")',
      'test.yaml:29:11: control.socket: expected an absolute path such as /run/vigil/vigil.sock (got "vigil.sock")',
    ].join("\n"),
  );
});

test("a control socket path longer than a unix socket address holds is refused", () => {
  const longest = `/run/${"s".repeat(107 - "/run/".length)}`;
  assert.equal(
    parseConfigText(`${VALID_YAML}control:\n  socket: ${longest}\n`, "t.yaml").control.socket,
    longest,
  );
  const error = configErrorOf(`${VALID_YAML}control:\n  socket: ${longest}x\n`);
  const issue = issueAt(error, "control.socket");
  assert.match(
    issue.message,
    /^a unix socket path holds at most 107 bytes; this one has 108: choose a shorter path/,
  );
  assert.deepEqual([issue.line, issue.column], [26, 11]);
});

test("vigil agent --socket with a path too long is refused at listen time too", async () => {
  const path = `/tmp/${"s".repeat(120)}.sock`;
  const outcome = await ControlServer.listen(path, {}).catch((error: unknown) => error);
  if (outcome instanceof ControlServer) {
    await outcome.close();
    assert.fail("listened on a path the kernel cannot hold");
  }
  assert.equal((outcome as Error).name, "ControlSocketError");
  assert.equal(
    (outcome as Error).message,
    `control socket ${path}: a unix socket path holds at most 107 bytes; this one has 130: choose a shorter path`,
  );
});

/** A cluster of `count` nodes, all on ucast link ring0, and the first three on ring1 too. */
function clusterOf(count: number): string {
  const nodes = Array.from({ length: count }, (_, index) => {
    const id = index + 1;
    const ring1 = id <= 3 ? `, ring1: { address: 198.19.0.${id} }` : "";
    return `  - { id: ${id}, name: n${id}, links: { ring0: { address: 198.18.0.${id} }${ring1} } }`;
  });
  return `cluster:\n  name: big\nnodes:\n${nodes.join("\n")}\nlinks:\n  - { name: ring0, type: ucast }\n  - { name: ring1, type: ucast }\n`;
}

test("more nodes on one link than a heartbeat can echo is refused at the nodes key", () => {
  const largest = MAX_ECHOES + 1;
  assert.equal(largest, 59, "derived from the wire format: 58 echoes fit one encrypted frame");
  assert.equal(parseConfigText(clusterOf(largest), "big.yaml").nodes.length, largest);
  const error = configErrorOf(clusterOf(64), "big.yaml");
  assert.equal(
    error.message,
    "invalid configuration big.yaml (1 problem):\nbig.yaml:3:1: nodes: 64 nodes are attached to link ring0; a link carries at most 59 (a heartbeat has room to echo 58 peers)",
  );
});

test("a follower lease shorter than a heartbeat and the longest election is refused, naming the knob", () => {
  const error = configErrorOf(
    `${VALID_YAML}coordination:\n  election_timeout_max_ms: 900\n  follower_lease_ms: 1000\n`,
  );
  assert.equal(
    issueAt(error, "coordination.follower_lease_ms").message,
    "follower_lease_ms (1000) must be at least keepalive_ms + election_timeout_max_ms + 50 (1050): a follower's lease was renewed a heartbeat or more before its leader died and must last through the next election, or every follower stops its resources whenever the leader dies",
  );
});
