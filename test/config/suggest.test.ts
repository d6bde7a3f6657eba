import assert from "node:assert/strict";
import { test } from "node:test";
import { closestMatch, editDistance } from "../../src/config/suggest.js";

test("edit distance counts insertions, deletions and substitutions", () => {
  assert.equal(editDistance("deadtime", "deadtime_ms"), 3);
  assert.equal(editDistance("prot", "port"), 2);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("same", "same"), 0);
});

test("the closest allowed key is suggested only when it is close", () => {
  const timingKeys = ["profile", "keepalive_ms", "warntime_ms", "deadtime_ms", "initdead_ms"];
  assert.equal(closestMatch("deadtime", timingKeys), "deadtime_ms");
  assert.equal(closestMatch("keepalive", timingKeys), "keepalive_ms");
  assert.equal(closestMatch("Profile", timingKeys), "profile");
  assert.equal(closestMatch("colour", timingKeys), undefined);
});
