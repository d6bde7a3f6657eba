import assert from "node:assert/strict";
import { test } from "node:test";
import { TIMING_PROFILES } from "../../src/config/schema.js";

test("timing profiles keep deadtime above two keepalives", () => {
  for (const profile of Object.values(TIMING_PROFILES)) {
    assert.ok(profile.deadtime_ms > 2 * profile.keepalive_ms);
  }
});
