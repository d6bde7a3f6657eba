import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfigFile } from "../../src/config/load.js";

const EXAMPLES_DIR = join(import.meta.dirname, "..", "..", "examples");
const examples = readdirSync(EXAMPLES_DIR).filter((name) => name.endsWith(".yaml"));

test("there are example configurations to check", () => {
  assert.ok(examples.includes("vigil.yaml"), `examples found: ${examples.join(", ")}`);
  assert.ok(examples.length >= 2);
});

for (const name of examples) {
  test(`examples/${name} is a valid configuration`, async () => {
    const config = await loadConfigFile(join(EXAMPLES_DIR, name));
    assert.ok(config.nodes.length >= 2);
    assert.ok(config.links.length >= 2, "examples show redundant links");
    assert.ok(config.clusterId >= 1);
  });
}

test("examples/vigil.yaml: three nodes over ucast and mcast with the default profile", async () => {
  const config = await loadConfigFile(join(EXAMPLES_DIR, "vigil.yaml"));
  assert.deepEqual(
    config.nodes.map((node) => node.name),
    ["db1", "db2", "db3"],
  );
  assert.deepEqual(
    config.links.map((link) => link.type),
    ["ucast", "mcast"],
  );
  assert.equal(config.timing.deadtime_ms, 900);
});

test("examples/two-links.yaml: ucast plus serial, a witness, phi detector, initdead override", async () => {
  const config = await loadConfigFile(join(EXAMPLES_DIR, "two-links.yaml"));
  assert.deepEqual(
    config.links.map((link) => link.type),
    ["ucast", "serial", "ucast"],
  );
  assert.deepEqual(
    config.nodes.map((node) => node.witness),
    [false, false, true],
  );
  assert.deepEqual(config.timing, {
    profile: "default",
    keepalive_ms: 100,
    warntime_ms: 400,
    deadtime_ms: 900,
    initdead_ms: 30_000,
  });
  assert.equal(config.detector.type, "phi");
  assert.equal(config.clusterId, 4242);
});

test("examples/two-node.yaml: two nodes, no witness, fencing with a delay: two-node mode", async () => {
  const config = await loadConfigFile(join(EXAMPLES_DIR, "two-node.yaml"));
  assert.deepEqual(
    config.nodes.map((node) => [node.name, node.witness]),
    [
      ["db1", false],
      ["db2", false],
    ],
  );
  assert.equal(config.twoNode, true);
  assert.equal(config.no_quorum_policy, "freeze");
  assert.deepEqual(config.fencing.delay_ms, { db1: 5000 });
});
