// CommandSpec.stdin, added to ChildProcessRunner for fence agents (which read their parameters on
// stdin).
import assert from "node:assert/strict";
import { test } from "node:test";
import { ChildProcessRunner } from "../../src/resources/executor/process-runner.js";

const runner = new ChildProcessRunner({ killGraceMs: 300 });

test("stdin is written to the command and then closed", async () => {
  const input = "ip=10.0.0.5\npassword=p w=x\naction=reboot\nplug=3\n";
  const outcome = await runner.run({ file: "cat", args: [], stdin: input, timeoutMs: 10_000 });
  assert.equal(outcome.exitCode, 0);
  assert.equal(outcome.timedOut, false);
  // cat only ends at end of file: the pipe was closed after the input.
  assert.equal(outcome.stdout, input);
});

test("empty stdin is an empty stream, not /dev/null", async () => {
  const outcome = await runner.run({
    file: "sh",
    args: ["-c", "wc -c; readlink /proc/self/fd/0"],
    stdin: "",
    timeoutMs: 10_000,
  });
  assert.equal(outcome.exitCode, 0);
  const [count, fd0] = outcome.stdout.trim().split("\n");
  assert.equal(count?.trim(), "0");
  // libuv's "pipe" is a socket pair.
  assert.match(fd0 ?? "", /^(pipe|socket):/);
});

test("without stdin, the command's stdin is still /dev/null", async () => {
  const outcome = await runner.run({
    file: "readlink",
    args: ["/proc/self/fd/0"],
    timeoutMs: 10_000,
  });
  assert.equal(outcome.exitCode, 0);
  assert.equal(outcome.stdout.trim(), "/dev/null");
});

test("a command that exits without reading a large input is no error", async () => {
  const input = "x".repeat(4 * 1024 * 1024);
  const outcome = await runner.run({ file: "true", args: [], stdin: input, timeoutMs: 10_000 });
  assert.equal(outcome.exitCode, 0);
  assert.equal(outcome.spawnError, undefined);
});

test("a command that cannot start, with stdin, reports the spawn error", async () => {
  const outcome = await runner.run({
    file: "/nonexistent/fence_agent",
    args: [],
    stdin: "action=off\n",
    timeoutMs: 10_000,
  });
  assert.equal(outcome.exitCode, null);
  assert.equal(outcome.spawnError?.code, "ENOENT");
});

test("a command that never reads stdin still times out and is killed", async () => {
  const outcome = await runner.run({
    file: "sleep",
    args: ["30"],
    stdin: "y".repeat(1024 * 1024),
    timeoutMs: 200,
  });
  assert.equal(outcome.timedOut, true);
  assert.equal(outcome.exitCode, null);
});
