/**
 * A promotable copy's monitor reads its replication offset with its clone's command (a real
 * /bin/sh): the copy's parameters and clone environment are there, and a command that fails,
 * hangs or prints nothing leaves the offset unknown, with why, without failing the monitor.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import type { ReplicationOffsetSpec } from "../../src/resource-model/replication-offset.js";
import { Executor } from "../../src/resources/executor/executor.js";
import type { OperationResult } from "../../src/resources/executor/operation.js";
import { ChildProcessRunner } from "../../src/resources/executor/process-runner.js";
import { steppingClock, TempDir } from "./support.js";

describe("the replication offset read after a monitor", () => {
  const dir = new TempDir();
  after(() => dir.remove());
  // Running as a replica unless the file "down" exists.
  const agent = dir.script(
    "replica.sh",
    [
      'case "$1" in',
      `  monitor) [ -e "${dir.file("down")}" ] && exit 7; exit 0 ;;`,
      "  *) exit 0 ;;",
      "esac",
    ].join("\n"),
  );
  const executor = new Executor({
    clock: steppingClock(),
    runner: new ChildProcessRunner({ killGraceMs: 100 }),
  });
  const monitor = (replicationOffset?: ReplicationOffsetSpec): Promise<OperationResult> =>
    executor.run("db:1", {
      operation: "monitor",
      agent: { kind: "exec", name: agent },
      params: { port: "6380" },
      timeoutMs: 5_000,
      environment: { OCF_RESKEY_CRM_meta_clone: "1" },
      ...(replicationOffset === undefined ? {} : { replicationOffset }),
    });

  test("read with the copy's parameters and clone environment, through the pattern", async () => {
    const result = await monitor({
      command:
        'printf "role:slave\\nmaster_repl_offset:%s%s\\n" "$OCF_RESKEY_port" "$OCF_RESKEY_CRM_meta_clone"',
      pattern: "^master_repl_offset:(\\d+)",
      timeoutMs: 5_000,
    });
    assert.equal(result.outcome, "running");
    assert.equal(result.replicationOffset, 63801);
    assert.equal(result.replicationOffsetProblem, undefined);
  });

  test("a command that fails, hangs or prints no offset: unknown, and why; the copy runs", async () => {
    const failing = await monitor({ command: "echo no socket >&2; exit 3", timeoutMs: 5_000 });
    assert.equal(failing.outcome, "running");
    assert.equal(failing.replicationOffset, undefined);
    assert.equal(failing.replicationOffsetProblem, "exited with 3: no socket");
    const hanging = await monitor({ command: "exec sleep 30", timeoutMs: 200 });
    assert.equal(hanging.outcome, "running");
    assert.equal(hanging.replicationOffsetProblem, "did not finish within 200 ms");
    const wordy = await monitor({ command: "echo offset unknown", timeoutMs: 5_000 });
    assert.match(wordy.replicationOffsetProblem ?? "", /"offset unknown" is not an offset/);
  });

  test("not read for a copy that is not running, nor without a command", async () => {
    assert.equal((await monitor()).replicationOffset, undefined);
    writeFileSync(dir.file("down"), "");
    const stopped = await monitor({ command: "echo 5", timeoutMs: 5_000 });
    assert.equal(stopped.outcome, "not_running");
    assert.equal(stopped.replicationOffset, undefined);
    assert.equal(stopped.replicationOffsetProblem, undefined);
  });
});
