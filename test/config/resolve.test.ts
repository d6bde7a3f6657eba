import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, parseConfigText } from "../../src/config/load.js";
import { findLocalNode } from "../../src/config/resolve.js";
import { replaceOnce, VALID_YAML } from "./helpers.js";

const config = parseConfigText(VALID_YAML, "test.yaml");

test("--node wins over the host name", () => {
  assert.equal(findLocalNode(config, "beta", "alpha").id, 2);
});

test("without --node the full host name is tried, then the part before the first dot", () => {
  assert.equal(findLocalNode(config, undefined, "gamma").id, 3);
  assert.equal(findLocalNode(config, undefined, "gamma.db.example.com").id, 3);
  const dotted = parseConfigText(
    replaceOnce(VALID_YAML, "name: alpha", "name: alpha.example"),
    "t.yaml",
  );
  assert.equal(findLocalNode(dotted, undefined, "alpha.example").id, 1);
});

test("an unknown --node lists the configured nodes", () => {
  assert.throws(
    () => findLocalNode(config, "delta", "alpha"),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(
        error.message,
        "--node delta: no node named delta in the config (nodes: alpha, beta, gamma); use --node NAME with one of those",
      );
      return true;
    },
  );
});

test("an unknown host name suggests --node", () => {
  assert.throws(
    () => findLocalNode(config, undefined, "web1.example.com"),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(
        error.message,
        'this host is called "web1.example.com" or "web1", which is not a node in the config (nodes: alpha, beta, gamma); name the node with --node NAME',
      );
      return true;
    },
  );
});
