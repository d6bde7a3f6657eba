import assert from "node:assert/strict";
import { test } from "node:test";
import { parseConfigText } from "../../src/config/load.js";
import { configErrorOf, issueAt, replaceOnce, VALID_YAML } from "./helpers.js";

test("duplicate node ids and names name the earlier node", () => {
  const text = replaceOnce(replaceOnce(VALID_YAML, "id: 3", "id: 2"), "name: gamma", "name: alpha");
  const error = configErrorOf(text);
  const id = issueAt(error, "nodes[2].id");
  assert.equal(id.line, 14);
  assert.equal(
    id.message,
    "node id 2 is already used by nodes[1] (beta); every node needs its own id",
  );
  const name = issueAt(error, "nodes[2].name");
  assert.equal(name.line, 15);
  assert.equal(
    name.message,
    "node name alpha is already used by nodes[0]; every node needs its own name",
  );
});

test("duplicate link names are rejected", () => {
  const error = configErrorOf(replaceOnce(VALID_YAML, "  - name: ring1\n", "  - name: ring0\n"));
  assert.match(
    issueAt(error, "links[1].name").message,
    /link name ring0 is already used by links\[0\]/,
  );
  assert.equal(issueAt(error, "links[1].name").line, 22);
});

test("a node's link must be declared in links", () => {
  const error = configErrorOf(
    replaceOnce(
      VALID_YAML,
      "      ring1: { interface: eth1 }\n  - id: 3",
      "      ring2: { interface: eth1 }\n  - id: 3",
    ),
  );
  const issue = issueAt(error, "nodes[1].links.ring2");
  assert.deepEqual([issue.line, issue.column], [13, 7]);
  assert.equal(issue.message, "no link named ring2 in links (declared: ring0, ring1)");
  assert.match(
    error.message,
    /^test\.yaml:13:7: nodes\[1\]\.links\.ring2: no link named ring2 in links \(declared: ring0, ring1\)$/m,
  );
});

test("a link no node attaches to is an error", () => {
  const error = configErrorOf(`${VALID_YAML}  - name: ring9\n    type: bcast\n`);
  const issue = issueAt(error, "links[2]");
  assert.equal(issue.line, 25);
  assert.match(issue.message, /^no node is attached to link ring9/);
});

test("a node attached to no link is an error", () => {
  const text = replaceOnce(
    VALID_YAML,
    "    links:\n      ring0: { address: 198.18.0.3 }\n      ring1: { interface: eth1 }\n",
    "    links: {}\n",
  );
  const issue = issueAt(configErrorOf(text), "nodes[2].links");
  assert.equal(issue.line, 16);
  assert.match(issue.message, /node gamma is attached to no link/);
});

test("a ucast link needs every attached node's address", () => {
  const error = configErrorOf(
    replaceOnce(VALID_YAML, "ring0: { address: 198.18.0.2 }", "ring0: { port: 700 }"),
  );
  const issue = issueAt(error, "nodes[1].links.ring0");
  assert.equal(issue.line, 12);
  assert.equal(
    issue.message,
    "node beta needs an address on ucast link ring0: peers send their heartbeats to it",
  );
});

test("an mcast link needs an interface or an address, and its group must be multicast", () => {
  const text = replaceOnce(
    replaceOnce(VALID_YAML, "ring1: { interface: eth1 }\n  - id: 2", "ring1: {}\n  - id: 2"),
    "group: 239.255.42.1",
    "group: 198.18.9.1",
  );
  const error = configErrorOf(text);
  assert.match(
    issueAt(error, "nodes[0].links.ring1").message,
    /node alpha needs an interface or an address on mcast link ring1/,
  );
  assert.equal(issueAt(error, "nodes[0].links.ring1").line, 8);
  const group = issueAt(error, "links[1].group");
  assert.equal(group.line, 24);
  assert.equal(
    group.message,
    'expected a multicast group in 224.0.0.0/4 such as 239.255.42.1 (got "198.18.9.1")',
  );
});

test("an mcast node with only an address is accepted", () => {
  const config = parseConfigText(
    replaceOnce(VALID_YAML, "ring1: { interface: eth1 }", "ring1: { address: 198.19.0.1 }"),
    "t.yaml",
  );
  assert.equal(config.nodes[0]!.links.ring1!.address, "198.19.0.1");
});

test("a bcast link needs each node's interface", () => {
  const text = `${VALID_YAML}  - name: ring2\n    type: bcast\n`.replace(
    "      ring1: { interface: eth1 }\n  - id: 2",
    "      ring1: { interface: eth1 }\n      ring2: { address: 198.18.1.1 }\n  - id: 2",
  );
  const issue = issueAt(configErrorOf(text), "nodes[0].links.ring2");
  assert.equal(issue.line, 9);
  assert.match(
    issue.message,
    /needs an interface on bcast link ring2: heartbeats go to that interface's broadcast address/,
  );
});

test("a serial link needs a device, takes no address, and joins exactly two nodes", () => {
  const text = `${VALID_YAML}  - name: serial0\n    type: serial\n`
    .replace(
      "      ring1: { interface: eth1 }\n  - id: 2",
      "      ring1: { interface: eth1 }\n      serial0: { device: /dev/ttyS0 }\n  - id: 2",
    )
    .replace(
      "      ring1: { interface: eth1 }\n  - id: 3",
      "      ring1: { interface: eth1 }\n      serial0: { address: 198.18.0.2 }\n  - id: 3",
    )
    .replace(
      "      ring0: { address: 198.18.0.3 }\n",
      "      ring0: { address: 198.18.0.3 }\n      serial0: { device: /dev/ttyUSB0 }\n",
    );
  const error = configErrorOf(text);
  const beta = error.issues.filter((issue) => issue.keyPath === "nodes[1].links.serial0");
  assert.deepEqual(
    beta.map((issue) => [issue.line, issue.message]),
    [
      [15, "node beta needs a device on serial link serial0, such as /dev/ttyS0"],
      [
        15,
        "address is not used by serial link serial0 (only by ucast, mcast and bcast links); remove it",
      ],
    ],
  );
  const link = issueAt(error, "links[2]");
  assert.equal(link.line, 28);
  assert.equal(
    link.message,
    "serial link serial0 is attached by 3 nodes (alpha, beta, gamma); a serial line connects exactly two",
  );
});

test("two nodes with one address and port on a ucast link are rejected; another port is fine", () => {
  const error = configErrorOf(
    replaceOnce(VALID_YAML, "address: 198.18.0.3", "address: 198.18.0.1"),
  );
  const issue = issueAt(error, "nodes[2].links.ring0.address");
  assert.equal(issue.line, 17);
  assert.equal(
    issue.message,
    "198.18.0.1:694 is already node alpha's endpoint on ucast link ring0; give each node its own address or port",
  );
  const config = parseConfigText(
    replaceOnce(VALID_YAML, "address: 198.18.0.3", "address: 198.18.0.1, port: 695"),
    "t.yaml",
  );
  assert.equal(config.nodes[2]!.links.ring0!.port, 695);
});

test("timing relations are checked after the profile is applied", () => {
  const error = configErrorOf(`${VALID_YAML}timing:\n  keepalive_ms: 100\n  deadtime_ms: 150\n`);
  const deadtime = error.issues.filter((issue) => issue.keyPath === "timing.deadtime_ms");
  assert.deepEqual(
    deadtime.map((issue) => [issue.line, issue.message]),
    [
      [
        27,
        "warntime_ms (400, from profile default) must be less than deadtime_ms (150): the late-heartbeat warning has to come before the node is declared dead",
      ],
      [
        27,
        "deadtime_ms (150) must be at least twice keepalive_ms (100) so one lost heartbeat cannot kill a node",
      ],
    ],
  );
  assert.match(
    error.message,
    /^test\.yaml:27:16: timing\.deadtime_ms: deadtime_ms \(150\) must be at least twice keepalive_ms \(100\)/m,
  );
});

test("a keepalive not below the warntime blames the knob the file sets", () => {
  const issue = issueAt(
    configErrorOf(`${VALID_YAML}timing:\n  keepalive_ms: 400\n  deadtime_ms: 1000\n`),
    "timing.keepalive_ms",
  );
  assert.equal(issue.line, 26);
  assert.equal(
    issue.message,
    "keepalive_ms (400) must be less than warntime_ms (400, from profile default): otherwise every heartbeat would be reported late",
  );
});

test("initdead shorter than deadtime is rejected", () => {
  const issue = issueAt(
    configErrorOf(`${VALID_YAML}timing:\n  profile: fast\n  initdead_ms: 200\n`),
    "timing.initdead_ms",
  );
  assert.equal(issue.line, 27);
  assert.match(
    issue.message,
    /^initdead_ms \(200\) must be at least deadtime_ms \(250, from profile fast\)/,
  );
});

test("phi_warn must stay below phi_threshold", () => {
  const issue = issueAt(
    configErrorOf(`${VALID_YAML}detector:\n  type: phi\n  phi_threshold: 4\n  phi_warn: 5\n`),
    "detector.phi_warn",
  );
  assert.equal(issue.line, 28);
  assert.equal(
    issue.message,
    "phi_warn (5) must be less than phi_threshold (4): a heartbeat must be reported late before its link is declared down",
  );
});
