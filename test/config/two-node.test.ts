import assert from "node:assert/strict";
import { test } from "node:test";
import { parseConfigText } from "../../src/config/load.js";
import { configErrorOf, issueAt, VALID_YAML } from "./helpers.js";

/** VALID_YAML without gamma: two nodes, no witness. */
const TWO_NODES = VALID_YAML.replace(/ {2}- id: 3\n {4}name: gamma\n {4}links:\n(?: {6}.*\n)+/, "");

const FENCING = `fencing:
  devices:
    ipmi-alpha: { agent: fence_ipmilan, params: { ip: 198.18.9.1 }, targets: { alpha: "" } }
    ipmi-beta: { agent: fence_ipmilan, params: { ip: 198.18.9.2 }, targets: { beta: "" } }
`;

test("two nodes without a witness or fencing are refused, naming both ways out", () => {
  assert.ok(!TWO_NODES.includes("gamma"), "test setup: gamma removed");
  const issue = issueAt(configErrorOf(TWO_NODES), "nodes");
  assert.match(issue.message, /two-node cluster \(alpha, beta\)/);
  assert.match(issue.message, /add a witness node/);
  assert.match(issue.message, /or configure fencing/);
});

test("two-node mode with fencing needs a fence delay for one node, so both are not shot", () => {
  const issue = issueAt(configErrorOf(TWO_NODES + FENCING), "fencing.delay_ms");
  assert.match(issue.message, /would fence each other at the same moment/);
  assert.match(issue.message, /delay_ms: \{ alpha: 5000 \}/);
});

test("two-node mode with fencing and a delay: accepted, freeze unless a policy is set", () => {
  const text = `${TWO_NODES}${FENCING}  delay_ms: { alpha: 5000 }\n`;
  const config = parseConfigText(text, "test.yaml");
  assert.equal(config.twoNode, true);
  assert.equal(config.no_quorum_policy, "freeze");
  const stopping = parseConfigText(`${text}no_quorum_policy: stop\n`, "test.yaml");
  assert.equal(stopping.no_quorum_policy, "stop", "an explicit policy is kept");
});

test("three nodes are never two-node mode; the default policy stays stop", () => {
  const config = parseConfigText(VALID_YAML, "test.yaml");
  assert.equal(config.twoNode, false);
  assert.equal(config.no_quorum_policy, "stop");
  const fenced = parseConfigText(
    `${VALID_YAML}${FENCING}    ipmi-gamma: { agent: fence_ipmilan, params: { ip: 198.18.9.3 }, targets: { gamma: "" } }\n`,
    "test.yaml",
  );
  assert.equal(fenced.twoNode, false);
  assert.equal(fenced.no_quorum_policy, "stop");
});
