import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

// npm test's first step on a machine without Debian's packages: one message, at once.
test("without the packages, the test prerequisites check names each one and how to install them", () => {
  const empty = mkdtempSync(join(tmpdir(), "vigil-no-tools-"));
  try {
    const run = spawnSync(process.execPath, ["scripts/test-prerequisites.mjs"], {
      env: { PATH: empty },
      encoding: "utf8",
      timeout: 10_000,
    });
    assert.equal(run.status, 1, run.stderr);
    for (const tool of ["socat", "arping", "redis-server", "redis-cli"]) {
      assert.match(run.stderr, new RegExp(`- ${tool} \\(Debian package `));
    }
    assert.match(run.stderr, /bash \.ci\/run/);
    assert.match(run.stderr, /apt-get install -y --no-install-recommends .*socat/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
