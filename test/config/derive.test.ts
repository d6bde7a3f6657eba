import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { deriveClusterId, resolveTiming } from "../../src/config/derive.js";
import { parseConfigText } from "../../src/config/load.js";
import { FOLLOWER_LEASE_SPARE_MS, TIMING_PROFILES } from "../../src/config/schema.js";
import { replaceOnce, VALID_YAML } from "./helpers.js";

test("without a timing section the default profile applies", () => {
  const { timing } = parseConfigText(VALID_YAML, "t.yaml");
  assert.deepEqual(timing, {
    profile: "default",
    keepalive_ms: 100,
    warntime_ms: 400,
    deadtime_ms: 900,
    initdead_ms: 10_000,
  });
});

test("a profile supplies every knob and explicit knobs override it", () => {
  const { timing } = parseConfigText(
    `${VALID_YAML}timing:\n  profile: fast\n  deadtime_ms: 300\n`,
    "t.yaml",
  );
  assert.deepEqual(timing, {
    profile: "fast",
    keepalive_ms: 25,
    warntime_ms: 100,
    deadtime_ms: 300,
    initdead_ms: 5_000,
  });
});

test("resolveTiming uses the named profile's values", () => {
  assert.deepEqual(resolveTiming({ profile: "fast" }), {
    profile: "fast",
    ...TIMING_PROFILES.fast,
  });
});

test("the cluster id is the first four bytes of SHA-256(name), big-endian", () => {
  const expected = createHash("sha256").update("test-cluster").digest().readUInt32BE(0);
  assert.equal(parseConfigText(VALID_YAML, "t.yaml").clusterId, expected);
  // Pinned so that a change to the derivation (which would split running clusters) is noticed.
  assert.equal(deriveClusterId("prod-db"), 672232103);
  assert.equal(deriveClusterId("test-cluster"), deriveClusterId("test-cluster"));
  assert.notEqual(deriveClusterId("test-cluster"), deriveClusterId("test-cluster2"));
});

test("an explicit cluster.id is used as is", () => {
  const config = parseConfigText(
    replaceOnce(VALID_YAML, "  name: test-cluster\n", "  name: test-cluster\n  id: 77\n"),
    "t.yaml",
  );
  assert.equal(config.clusterId, 77);
});

test("a follower's lease outlasts the longest election after its leader died, for every profile and for longer elections", () => {
  for (const profile of ["default", "fast"] as const) {
    const { timing, coordination } = parseConfigText(
      `${VALID_YAML}timing:\n  profile: ${profile}\n`,
      "t.yaml",
    );
    assert.ok(
      coordination.follower_lease_ms >=
        timing.keepalive_ms + coordination.election_timeout_max_ms + FOLLOWER_LEASE_SPARE_MS,
      `${profile}: follower lease ${coordination.follower_lease_ms}, election up to ${coordination.election_timeout_max_ms}`,
    );
  }
  // Longer elections alone: the follower lease the profile gives grows with them.
  const { coordination } = parseConfigText(
    `${VALID_YAML}coordination:\n  election_timeout_min_ms: 1500\n  election_timeout_max_ms: 2000\n`,
    "t.yaml",
  );
  assert.equal(coordination.follower_lease_ms, 100 + 2000 + FOLLOWER_LEASE_SPARE_MS + 100);
});
