/**
 * Durations given on the command line are bounded where they are read, far below the 2^31 − 1 ms
 * past which Node fires a timer after 1 ms, and a value past the bound names its option.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseHangMs } from "../../src/cli/commands/guard.js";
import { parseTimeoutSeconds } from "../../src/cli/commands/resource.js";
import { parseIntervalMs } from "../../src/cli/refresh.js";

const OVERFLOWING_MS = String(2 ** 31);

test("vigil resource restart --timeout: at most a day", () => {
  assert.equal(parseTimeoutSeconds("86400"), 86_400_000);
  for (const bad of ["86401", "99999999999", "1e300"])
    assert.throws(() => parseTimeoutSeconds(bad), /--timeout takes .* at most 86400 \(a day\)/);
});

test("vigil guard --hang-ms (the agent's): at most 600000", () => {
  assert.equal(parseHangMs("300000"), 300_000);
  for (const bad of ["600001", OVERFLOWING_MS, "999999999", "0", "1.5"])
    assert.throws(() => parseHangMs(bad), /--hang-ms needs a whole number of ms from 1 to 600000/);
});

test("vigil status --watch and vigil events --follow --interval-ms: at most an hour", () => {
  assert.throws(() => parseIntervalMs(OVERFLOWING_MS), /--interval-ms takes .* to 3600000/);
});
