import assert from "node:assert/strict";
import { ConfigError, type ConfigIssue, parseConfigText } from "../../src/config/load.js";

/** A valid three-node file; tests replace pieces of it to break one thing at a time. */
export const VALID_YAML = `cluster:
  name: test-cluster
nodes:
  - id: 1
    name: alpha
    links:
      ring0: { address: 198.18.0.1 }
      ring1: { interface: eth1 }
  - id: 2
    name: beta
    links:
      ring0: { address: 198.18.0.2 }
      ring1: { interface: eth1 }
  - id: 3
    name: gamma
    links:
      ring0: { address: 198.18.0.3 }
      ring1: { interface: eth1 }
links:
  - name: ring0
    type: ucast
  - name: ring1
    type: mcast
    group: 239.255.42.1
`;

/** The ConfigError parsing `text` throws (the test fails if it parses). */
export function configErrorOf(text: string, sourceName = "test.yaml"): ConfigError {
  try {
    parseConfigText(text, sourceName);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected the configuration to be rejected");
}

/** The single issue whose key path is `keyPath`, failing the test unless there is exactly one. */
export function issueAt(error: ConfigError, keyPath: string): ConfigIssue {
  const matching = error.issues.filter((issue) => issue.keyPath === keyPath);
  assert.equal(matching.length, 1, `expected one issue at ${keyPath}, got:\n${error.message}`);
  return matching[0]!;
}

export function replaceOnce(text: string, search: string, replacement: string): string {
  assert.ok(text.includes(search), `test setup: ${JSON.stringify(search)} not in the text`);
  return text.replace(search, replacement);
}
